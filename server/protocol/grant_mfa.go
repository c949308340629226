package protocol

import (
	"context"
	"strings"

	"github.com/twinid/twinid/server/oauth2"
)

// mfaOTP completes an API login that answered mfa_required (Auth0's mfa-otp and
// mfa-recovery-code grants): the mfa_token with a TOTP or recovery code of its customer.
type mfaOTP struct{}

// check: mfa_token and the code are required.
func (mfaOTP) check(tr *tokenRequest) error {
	if tr.MFAToken == "" {
		return oauth2.InvalidRequest("mfa_token is required")
	}
	if tr.OTP == "" {
		if tr.GrantType == oauth2.GrantMFARecoveryCode {
			return oauth2.InvalidRequest("recovery_code is required")
		}
		return oauth2.InvalidRequest("otp is required")
	}
	return nil
}

// auth: the client of the login, by any of its methods (its client token, as at login).
func (mfaOTP) auth() clientAuth { return anyClientAuth }

// issue checks the code against the token's customer (bound to the authenticated client),
// spends the token, and issues what the login would have, with the completed amr.
func (mfaOTP) issue(ctx context.Context, e *Endpoints, in grantInput) (*tokenResult, error) {
	t, c, err := e.Login.FinishMFA(ctx, in.acct, in.client.ClientID, in.tr.MFAToken, in.tr.OTP)
	if err != nil {
		return nil, err
	}
	return e.userTokens(ctx, in.acct, c, t.ClientID, t.Audience, strings.Fields(t.Scopes), t.Refresh, strings.Fields(t.AMR))
}
