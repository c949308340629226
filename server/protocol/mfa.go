package protocol

import (
	"context"
	"slices"
	"strings"

	"github.com/twinid/twinid/server/login"
	"github.com/twinid/twinid/store"
)

// secondFactor says whether a password login of c through a client must give a second
// factor (the account's mfa policy tightened by the client's, clientMFA), and which types c
// can give.
// Under required, a customer without a factor is due too, with no type to give.
func (e *Endpoints) secondFactor(ctx context.Context, acct *store.Account, clientMFA string, c *store.Customer) (bool, []string, error) {
	policy := login.Policy(acct, clientMFA)
	if policy == login.MFAOff {
		return false, nil, nil
	}
	all, err := e.Login.FactorTypes(ctx, acct, c)
	if err != nil {
		return false, nil, err
	}
	// Passkeys need a browser: the API offers the others.
	types := slices.DeleteFunc(slices.Clone(all), func(t string) bool { return t == login.TypeWebAuthn })
	return len(all) > 0 || policy == login.MFARequired, types, nil
}

// pendingLogin is what an mfa_token carries: the tokens the login will issue once the
// second factor passes.
func pendingLogin(acct *store.Account, clientID string, c *store.Customer, audience string, scopes []string, refresh bool) *store.MFAToken {
	return &store.MFAToken{AID: acct.AID, ClientID: clientID, CustomerID: c.ID, Audience: audience,
		Scopes: strings.Join(scopes, " "), Refresh: refresh, AMR: login.AMRPassword}
}
