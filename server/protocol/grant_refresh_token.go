package protocol

import (
	"context"
	"slices"
	"strings"

	"github.com/twinid/twinid/server/oauth2"
	"github.com/twinid/twinid/server/tokens"
)

// refreshToken exchanges and rotates a refresh token (RFC 6749 §6). The new access token
// keeps the OpenID scopes of the sign-in and the API scopes the customer still holds.
type refreshToken struct{}

// check: refresh_token is required (RFC 6749 §6).
func (refreshToken) check(tr *tokenRequest) error {
	if tr.RefreshToken == "" {
		return oauth2.InvalidRequest("refresh_token is required")
	}
	return nil
}

// auth: the client the refresh token was issued to, by any of its methods.
func (refreshToken) auth() clientAuth { return anyClientAuth }

// issue rotates the token and issues an access token with the scopes still held.
func (refreshToken) issue(ctx context.Context, e *Endpoints, in grantInput) (*tokenResult, error) {
	rot, err := e.Tokens.Rotate(ctx, in.acct, in.set, in.tr.RefreshToken, in.client.ClientID)
	if err != nil {
		return nil, err
	}
	old := rot.Old
	scopes := []string{}
	for _, sc := range strings.Fields(old.Scopes) {
		// OpenID scopes came from the sign-in itself; API scopes only while the customer holds them.
		if slices.Contains(rot.CustomerScopes, sc) || tokens.IsOIDCScope(sc) {
			scopes = append(scopes, sc)
		}
	}
	tok, err := e.Tokens.Issue(ctx, in.acct, in.set, tokens.Access{Sub: old.CustomerID, ClientID: old.ClientID, Audience: old.Audience, Scopes: scopes})
	if err != nil {
		return nil, err
	}
	return &tokenResult{access: tok.Token, lifetime: in.set.AccessTokenLifetime, scopes: scopes, refresh: rot.Next}, nil
}
