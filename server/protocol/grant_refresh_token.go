package protocol

import (
	"context"
	"slices"
	"strings"

	"github.com/twinid/twinid/server/oauth2"
	"github.com/twinid/twinid/server/tokens"
	"github.com/twinid/twinid/store"
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

// issue rotates the token and issues an access token with the scopes that are still held:
// OpenID scopes came from the sign-in itself; an API scope needs the customer to hold it and
// a grant of the client for the audience to carry it, as at login, so withdrawing either
// narrows the next token. A scope parameter may narrow the token, never widen it (RFC 6749
// §6); the successor keeps the family's scope.
func (refreshToken) issue(ctx context.Context, e *Endpoints, in grantInput) (*tokenResult, error) {
	requested := strings.Fields(in.tr.Scope)
	rot, err := e.Tokens.Rotate(ctx, in.acct, in.set, in.tr.RefreshToken, in.client.ClientID, func(old *store.RefreshToken) error {
		granted := strings.Fields(old.Scopes)
		for _, sc := range requested {
			if !slices.Contains(granted, sc) {
				return oauth2.InvalidScope("the requested scope exceeds the scope granted with the refresh token")
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	old := rot.Old
	want := strings.Fields(old.Scopes)
	if len(requested) > 0 {
		want = requested
	}
	grants := in.client.GrantsFor(old.Audience, "")
	scopes := []string{}
	for _, sc := range want {
		held := slices.Contains(rot.CustomerScopes, sc) &&
			slices.ContainsFunc(grants, func(g store.Grant) bool { return slices.Contains(g.Scopes, sc) })
		if (tokens.IsOIDCScope(sc) || held) && !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	tok, err := e.Tokens.Issue(ctx, in.acct, in.set, tokens.Access{Sub: old.CustomerID, ClientID: old.ClientID, Audience: old.Audience,
		FamilyID: old.FamilyID, Scopes: scopes, AMR: strings.Fields(old.AMR)})
	if err != nil {
		return nil, err
	}
	return &tokenResult{access: tok.Token, lifetime: in.set.AccessTokenLifetime, scopes: scopes, refresh: rot.Next}, nil
}
