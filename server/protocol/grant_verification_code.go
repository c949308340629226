package protocol

import (
	"context"
	"time"

	"github.com/twinid/twinid/server/oauth2"
	"github.com/twinid/twinid/server/tokens"
)

// verificationCode redeems an emailed verification code (password reset or invitation) for
// a short-lived token that can only set the customer's password (see createToken in
// openapi/openapi.yaml).
type verificationCode struct{}

// check: the code is redeemed in issue, behind the code-guess throttle.
func (verificationCode) check(*tokenRequest) error { return nil }

// auth: any method; issue requires a client that may log customers in.
func (verificationCode) auth() clientAuth { return anyClientAuth }

// issue redeems the emailed code for a token that can only set the password.
func (verificationCode) issue(ctx context.Context, e *Endpoints, in grantInput) (*tokenResult, error) {
	if !in.client.loginCapable() {
		return nil, oauth2.UnauthorizedClient("the client needs the scope " + scopeUsers)
	}
	c, err := e.Login.Redeem(ctx, in.acct, in.tr.Email, in.tr.Type, in.tr.VerificationCode, in.tr.Remote)
	if err != nil {
		return nil, err
	}
	scopes := []string{scopeSetPassword}
	tok, err := e.Tokens.Issue(ctx, in.acct, in.set, tokens.Access{Sub: c.ID, ClientID: in.client.ClientID,
		Audience: authAudience, Scopes: scopes, Lifetime: setPasswordTTL})
	if err != nil {
		return nil, err
	}
	return &tokenResult{access: tok.Token, lifetime: int(setPasswordTTL / time.Second), scopes: scopes}, nil
}
