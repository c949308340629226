package protocol

import (
	"context"
	"slices"
	"strings"

	"github.com/twinid/twinid/server/login"
	"github.com/twinid/twinid/server/oauth2"
	"github.com/twinid/twinid/store"
)

// password is the resource owner password grant (RFC 6749 §4.3), for confidential clients
// holding a grant of type password for the audience only.
type password struct{}

// check: the credentials are checked in issue, behind the login throttles.
func (password) check(*tokenRequest) error { return nil }

// auth: any method; issue refuses public clients.
func (password) auth() clientAuth { return anyClientAuth }

// issue checks the customer's password and issues for the audience of a password grant.
func (password) issue(ctx context.Context, e *Endpoints, in grantInput) (*tokenResult, error) {
	ac, tr := in.client, in.tr
	var pw []store.Grant
	for _, g := range ac.Grants {
		if g.GrantType == store.GrantPassword {
			pw = append(pw, g)
		}
	}
	if ac.public || len(pw) == 0 {
		return nil, oauth2.UnauthorizedClient("this client may not use the password grant")
	}
	audience := tr.Audience
	if audience == "" && len(pw) == 1 {
		audience = pw[0].Audience
	}
	grants := ac.GrantsFor(audience, store.GrantPassword)
	if len(grants) == 0 {
		return nil, oauth2.UnauthorizedClient("this client holds no password grant for the requested audience")
	}
	identType := "email"
	if strings.HasPrefix(strings.TrimSpace(tr.Username), "+") {
		identType = "phone_number"
	}
	c, err := e.Login.Check(ctx, in.acct, login.Request{Type: tr.Type, IdentType: identType, Ident: tr.Username,
		Password: tr.Password, Remote: tr.Remote, ClientID: ac.ClientID})
	if err != nil {
		return nil, err
	}
	// The password grant has no second step: a customer who must give a second factor
	// signs in through /customers/login (or the hosted pages).
	if due, _, err := e.secondFactor(ctx, in.acct, ac.MFA, c); err != nil || due {
		if err != nil {
			return nil, err
		}
		return nil, oauth2.InvalidGrant("this customer must give a second factor: sign in with /customers/login")
	}
	withRefresh := slices.ContainsFunc(grants, func(g store.Grant) bool { return slices.Contains(g.Scopes, scopeRefresh) })
	return e.userTokens(ctx, in.acct, c, ac.ClientID, audience, userScopes(grants, c), withRefresh, []string{login.AMRPassword})
}
