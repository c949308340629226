package protocol

import (
	"context"
	"net/http"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/account"
	"github.com/twinid/twinid/server/oauth2"
)

// grantFor picks the grant of the request; nil with an error for none.
func grantFor(tr *tokenRequest) (grant, error) {
	switch tr.GrantType {
	case oauth2.GrantClientCredentials:
		return clientCredentials{}, nil
	case oauth2.GrantRefreshToken:
		return refreshToken{}, nil
	case oauth2.GrantPassword:
		return password{}, nil
	case oauth2.GrantMFAOTP, oauth2.GrantMFARecoveryCode:
		return mfaOTP{}, nil
	case oauth2.GrantAuthorizationCode:
		// The customer API's emailed codes share the grant type with the browser's codes.
		if tr.VerificationCode != "" {
			return verificationCode{}, nil
		}
		if tr.Code == "" {
			return nil, oauth2.InvalidRequest("verification_code (or code) is required")
		}
		return authorizationCode{}, nil
	case "":
		return nil, oauth2.InvalidRequest("grant_type is required")
	}
	return nil, oauth2.ErrUnsupportedGrantType.WithDescription("unknown grant_type")
}

// CreateToken implements the token endpoint.
func (e *Endpoints) CreateToken(ctx context.Context, req gen.CreateTokenRequestObject) (_ gen.CreateTokenResponseObject, err error) {
	defer mapped(&err)
	acct, r, remote, err := e.request(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	tr := parseTokenRequest(r, remote)
	if tr.GrantType == "" && tr.Token != "" {
		if err := e.revoke(ctx, acct, tr.Request, remote); err != nil {
			return nil, err
		}
		return revokedOnTokenEndpoint{}, nil
	}
	g, err := grantFor(tr)
	if err != nil {
		return nil, err
	}
	if err := g.check(tr); err != nil {
		return nil, err
	}
	var ac *authedClient
	if g.auth() == secretOnly {
		cc, err := e.Clients.Authenticate(ctx, acct.AID, tr.ClientID, tr.ClientSecret, remote)
		if err != nil {
			return nil, err
		}
		ac = &authedClient{Client: cc}
	} else if ac, err = e.clientFor(ctx, acct.AID, tr.Request, remote); err != nil {
		return nil, err
	}
	res, err := g.issue(ctx, e, grantInput{acct: acct, set: account.Effective(acct), tr: tr, client: ac})
	if err != nil {
		return nil, err
	}
	e.Metrics.Tokens.WithLabelValues(tr.GrantType).Inc()
	return res, nil
}

// revokedOnTokenEndpoint answers a revocation sent to the token endpoint: 200, empty.
type revokedOnTokenEndpoint struct{}

// VisitCreateTokenResponse writes the empty 200, never cached.
func (revokedOnTokenEndpoint) VisitCreateTokenResponse(w http.ResponseWriter) error {
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	return nil
}
