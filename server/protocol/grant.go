package protocol

import (
	"context"
	"slices"
	"strings"

	"github.com/twinid/twinid/server/account"
	"github.com/twinid/twinid/server/oauth2"
	"github.com/twinid/twinid/server/tokens"
	"github.com/twinid/twinid/store"
)

// tokenRequest is a token request parsed once into named fields (RFC 6749 §4, §6; the
// customer API's verification codes; RFC 7636 §4.5).
type tokenRequest struct {
	*oauth2.Request
	GrantType, Scope, Audience string
	RefreshToken               string
	Username, Password, Type   string
	Code, RedirectURI          string
	CodeVerifier               string
	MFAToken, OTP              string
	VerificationCode, Email    string
	// Token is a token to revoke (Dintero: {"token": ...} on the token endpoint).
	Token  string
	Remote string
}

// parseTokenRequest names the token endpoint's parameters once; grants read fields, never
// raw keys. verification_code is trimmed because people paste it from an email.
func parseTokenRequest(r *oauth2.Request, remote string) *tokenRequest {
	tr := &tokenRequest{Request: r, Remote: remote,
		GrantType: r.Get("grant_type"), Scope: r.Get("scope"), Audience: r.Get("audience"),
		RefreshToken: r.Get("refresh_token"), Username: r.Get("username"), Password: r.Get("password"),
		Type: r.Get("type"), Code: r.Get("code"), RedirectURI: r.Get("redirect_uri"),
		CodeVerifier: r.Get("code_verifier"), VerificationCode: strings.TrimSpace(r.Get("verification_code")),
		Email: r.Get("email"), Token: r.Get("token"), MFAToken: r.Get("mfa_token"), OTP: r.Get("otp")}
	if tr.GrantType == oauth2.GrantMFARecoveryCode {
		tr.OTP = r.Get("recovery_code")
	}
	return tr
}

// clientAuth is how the client of a grant must authenticate.
type clientAuth int

const (
	// anyClientAuth: a secret, a client token of the account, or a public client's id.
	anyClientAuth clientAuth = iota
	// secretOnly: the client's secret (client_credentials mints the client token itself).
	secretOnly
)

// grant is one grant type of the token endpoint. The endpoint runs the shared steps in
// order, so no grant can skip one: check the grant's parameters, authenticate the client,
// then issue (the grant checks what the client holds and resolves the scopes), count, and
// write the response.
type grant interface {
	check(tr *tokenRequest) error
	auth() clientAuth
	issue(ctx context.Context, e *Endpoints, g grantInput) (*tokenResult, error)
}

// grantInput is what a grant works on.
type grantInput struct {
	acct   *store.Account
	set    store.AccountSettings
	tr     *tokenRequest
	client *authedClient
}

// tokenResult is what a grant produced.
type tokenResult struct {
	access   string
	lifetime int
	scopes   []string
	refresh  string
	idToken  string
	limit    *rateHeaders
}

// rateHeaders are the RateLimit-* values of a client_credentials answer.
type rateHeaders struct{ limit, remaining, reset int }

// userTokens issues a customer's access token and, when asked, a new refresh family first,
// so the access token names the family and ends with it.
func (e *Endpoints) userTokens(ctx context.Context, acct *store.Account, c *store.Customer, clientID, audience string, scopes []string, withRefresh bool, amr []string) (*tokenResult, error) {
	set := account.Effective(acct)
	refresh, familyID := "", ""
	if withRefresh {
		var err error
		if refresh, familyID, err = e.Tokens.NewFamily(ctx, acct, set, tokens.Family{CustomerID: c.ID, ClientID: clientID, Audience: audience, Scopes: scopes, AMR: amr}); err != nil {
			return nil, err
		}
	}
	tok, err := e.Tokens.Issue(ctx, acct, set, tokens.Access{Sub: c.ID, ClientID: clientID, Audience: audience, FamilyID: familyID, Scopes: scopes, AMR: amr})
	if err != nil {
		return nil, err
	}
	return &tokenResult{access: tok.Token, lifetime: set.AccessTokenLifetime, scopes: scopes, refresh: refresh}, nil
}

// userScopes are the scopes of the client's grants for the audience that the customer holds.
func userScopes(grants []store.Grant, c *store.Customer) []string {
	out := []string{}
	for _, g := range grants {
		for _, sc := range g.Scopes {
			if slices.Contains(c.Scopes, sc) && !slices.Contains(out, sc) {
				out = append(out, sc)
			}
		}
	}
	return out
}
