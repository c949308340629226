package login

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/store"
)

// MFATokenLifetime is how long an mfa_token waits for its second factor.
const MFATokenLifetime = 5 * time.Minute

// MFATokenPrefix starts every mfa_token (secret scanners).
const MFATokenPrefix = "twmfa_"

// ErrMFAToken: the mfa_token is unknown, of another client, expired or used.
var ErrMFAToken = errors.New("the mfa_token is not valid, expired, used, or of another client")

// StartMFA stores t (what the login will issue once the second factor passes) under a new
// single-use mfa_token and answers the token.
func (l *Login) StartMFA(ctx context.Context, t *store.MFAToken) (string, error) {
	v, err := keys.NewSecret()
	if err != nil {
		return "", err
	}
	value := MFATokenPrefix + strings.TrimPrefix(v, keys.SecretPrefix)
	t.ID, t.Hash = keys.NewID(), l.keyring.HashSecret(value)
	t.ExpiresMS = l.now().Add(MFATokenLifetime).UnixMilli()
	return value, l.store.MFATokens().Create(ctx, t)
}

// FinishMFA completes an API login: the mfa_token must be clientID's, live and unused, and
// code a second factor of the token's customer (CheckOTP: throttled, once per step). The
// token is spent only by a right code, so a typo can be corrected within its lifetime; of
// racing right codes one wins. It answers the token with its AMR completed.
func (l *Login) FinishMFA(ctx context.Context, acct *store.Account, clientID, token, code string) (*store.MFAToken, *store.Customer, error) {
	t, err := l.store.MFATokens().Get(ctx, acct.AID, l.keyring.HashSecret(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrMFAToken
	}
	if err != nil {
		return nil, nil, err
	}
	if t.ClientID != clientID || t.UsedMS != 0 || l.now().UnixMilli() >= t.ExpiresMS {
		return nil, nil, ErrMFAToken
	}
	c, err := l.store.Customers().Get(ctx, acct.AID, t.CustomerID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrMFAToken
	}
	if err != nil {
		return nil, nil, err
	}
	if c.Status != store.CustomerActive {
		return nil, nil, ErrBadCredentials
	}
	amr, err := l.CheckOTP(ctx, acct, c, code, "")
	if err != nil {
		return nil, nil, err
	}
	if err := l.store.MFATokens().Use(ctx, t.ID, l.now()); err != nil {
		if errors.Is(err, store.ErrUsed) {
			return nil, nil, ErrMFAToken
		}
		return nil, nil, err
	}
	t.AMR = strings.Join(WithMFA(strings.Fields(t.AMR), amr), " ")
	return t, c, nil
}

// WithMFA is the methods of a sign-in that passed its second step: methods, then each of
// added and mfa that is not among them yet, in that order.
func WithMFA(methods []string, added ...string) []string {
	// Clipped, so that mfa never lands in the spare room of the caller's slice.
	for _, m := range append(slices.Clip(added), AMRMFA) {
		if !slices.Contains(methods, m) {
			methods = append(methods, m)
		}
	}
	return methods
}
