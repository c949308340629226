package protocol

import (
	"context"
	"errors"
	"strings"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/oauth2"
	"github.com/twinid/twinid/server/tokens"
	"github.com/twinid/twinid/store"
)

// revoke revokes a refresh token (its whole family) or an access token of the client.
// Anything else, including another client's token, is answered 200 without effect
// (RFC 7009 §2.2).
func (e *Endpoints) revoke(ctx context.Context, acct *store.Account, r *oauth2.Request, remote string) error {
	ac, err := e.clientFor(ctx, acct.AID, r, remote)
	if err != nil {
		return err
	}
	value := r.Get("token")
	if value == "" {
		return oauth2.InvalidRequest("token is required")
	}
	if strings.HasPrefix(value, tokens.RefreshPrefix) {
		return e.Tokens.RevokeRefresh(ctx, acct.AID, value, ac.ClientID)
	}
	c, err := e.Tokens.Verify(ctx, value)
	if err != nil || c.AID != acct.AID || c.ClientID != ac.ClientID || c.JTI == "" {
		return nil
	}
	return e.Store.Tokens().RevokeAccess(ctx, acct.AID, c.JTI, c.Exp)
}

// RevokeToken implements POST .../auth/revoke (RFC 7009).
func (e *Endpoints) RevokeToken(ctx context.Context, req gen.RevokeTokenRequestObject) (_ gen.RevokeTokenResponseObject, err error) {
	defer mapped(&err)
	acct, r, remote, err := e.request(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	if err := e.revoke(ctx, acct, r, remote); err != nil {
		return nil, err
	}
	return gen.RevokeToken200Response{}, nil
}

// IntrospectToken implements POST .../auth/introspect (RFC 7662) for confidential clients.
func (e *Endpoints) IntrospectToken(ctx context.Context, req gen.IntrospectTokenRequestObject) (_ gen.IntrospectTokenResponseObject, err error) {
	defer mapped(&err)
	acct, r, remote, err := e.request(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	if r.Bearer != "" || r.ClientSecret == "" {
		return nil, oauth2.ErrInvalidClient
	}
	if _, err := e.Clients.Authenticate(ctx, acct.AID, r.ClientID, r.ClientSecret, remote); err != nil {
		return nil, err
	}
	value := r.Get("token")
	if value == "" {
		return nil, oauth2.InvalidRequest("token is required")
	}
	out, err := e.introspect(ctx, acct, value)
	if err != nil {
		return nil, err
	}
	noStore := "no-store"
	return gen.IntrospectToken200JSONResponse{Body: out, Headers: gen.IntrospectToken200ResponseHeaders{CacheControl: &noStore}}, nil
}

// introspect answers RFC 7662 §2.2 for a token of the account: refresh tokens by their keyed
// hash, access tokens by signature, revocation and their customer's state; anything else
// is {"active": false}, never an error.
func (e *Endpoints) introspect(ctx context.Context, acct *store.Account, value string) (gen.IntrospectionResponse, error) {
	inactive := gen.IntrospectionResponse{Active: false}
	now := e.Now()
	iss := e.Accounts.Issuer(acct.AID)
	if strings.HasPrefix(value, tokens.RefreshPrefix) {
		rt, err := e.Tokens.Refresh(ctx, acct.AID, value)
		if errors.Is(err, store.ErrNotFound) {
			return inactive, nil
		}
		if err != nil {
			return inactive, err
		}
		if rt.RevokedMS != 0 || rt.RotatedMS != 0 || now.UnixMilli() >= rt.IdleUntilMS || now.UnixMilli() >= rt.UntilMS {
			return inactive, nil
		}
		if ok, err := e.customerActive(ctx, acct.AID, rt.CustomerID); err != nil || !ok {
			return inactive, err
		}
		typ := gen.IntrospectionResponseTokenType("refresh_token")
		exp, iat := int(min(rt.IdleUntilMS, rt.UntilMS)/1000), int(rt.CreatedMS/1000)
		return gen.IntrospectionResponse{Active: true, TokenType: &typ, Scope: &rt.Scopes, ClientID: &rt.ClientID,
			Sub: &rt.CustomerID, Aud: &rt.Audience, Iss: &iss, Exp: &exp, Iat: &iat, Aid: &acct.AID}, nil
	}
	c, err := e.Tokens.Verify(ctx, value)
	if err != nil {
		if tokens.IsInvalid(err) {
			return inactive, nil
		}
		return inactive, err
	}
	if c.AID != acct.AID {
		return inactive, nil
	}
	if _, err := e.Tokens.Standing(ctx, c); err != nil {
		if tokens.IsInvalid(err) {
			return inactive, nil
		}
		return inactive, err
	}
	typ := gen.IntrospectionResponseTokenType("access_token")
	scope, aud := strings.Join(c.Scopes, " "), strings.Join(c.Aud, " ")
	exp, iat := int(c.Exp.Unix()), int(c.Iat.Unix())
	return gen.IntrospectionResponse{Active: true, TokenType: &typ, Scope: &scope, ClientID: &c.ClientID, Sub: &c.Sub,
		Aud: &aud, Iss: &iss, Exp: &exp, Iat: &iat, Jti: &c.JTI, Aid: &acct.AID}, nil
}

// customerActive reports whether the customer may still sign in (a deleted one may not).
func (e *Endpoints) customerActive(ctx context.Context, aid, id string) (bool, error) {
	c, err := e.Store.Customers().Get(ctx, aid, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return c.Status == store.CustomerActive, nil
}
