package tokens

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"time"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/audit"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/store"
)

// RefreshPrefix starts every refresh token (secret scanners; revocation tells them apart
// from JWTs).
const RefreshPrefix = "twrt_"

// Why a refresh exchange is refused; the text is the description the client sees.
var (
	ErrRefreshInvalid     = errors.New("the refresh token is not valid")
	ErrRefreshOtherClient = errors.New("the refresh token was issued to another client")
	ErrRefreshExpired     = errors.New("the refresh token is expired or revoked")
	ErrRefreshCustomer    = errors.New("the customer can no longer sign in")
	ErrRefreshReused      = errors.New("the refresh token was already used; the session is revoked")
)

// Family is the first refresh token of a new rotation family.
type Family struct {
	CustomerID, ClientID, Audience string
	Scopes                         []string
	// AMR are the login's authentication methods (RFC 8176), kept by every successor.
	AMR []string
}

// NewFamily stores the first refresh token of a new rotation family and returns it with
// the family id.
func (t *Tokens) NewFamily(ctx context.Context, acct *store.Account, set store.AccountSettings, f Family) (value, familyID string, err error) {
	if value, err = newRefreshToken(); err != nil {
		return "", "", err
	}
	now := t.now()
	until := now.Add(time.Duration(set.RefreshAbsoluteLifetime) * time.Second)
	row := &store.RefreshToken{
		ID: keys.NewID(), AID: acct.AID, FamilyID: keys.NewID(), Hash: t.keyring.HashSecret(value), ClientID: f.ClientID,
		CustomerID: f.CustomerID, Audience: f.Audience, Scopes: strings.Join(f.Scopes, " "), AMR: strings.Join(f.AMR, " "), CreatedMS: now.UnixMilli(),
		IdleUntilMS: min(now.Add(time.Duration(set.RefreshIdleLifetime)*time.Second).UnixMilli(), until.UnixMilli()), UntilMS: until.UnixMilli(),
	}
	if err := t.store.Tokens().CreateRefresh(ctx, row); err != nil {
		return "", "", err
	}
	return value, row.FamilyID, nil
}

// newRefreshToken draws an opaque refresh token: "twrt_" + 43 base62 characters.
func newRefreshToken() (string, error) {
	v, err := keys.NewSecret()
	if err != nil {
		return "", err
	}
	return RefreshPrefix + strings.TrimPrefix(v, keys.SecretPrefix), nil
}

// successorOf derives the token that replaces value at rotation. Deriving it (with a key
// only the server has) instead of drawing it lets a retry within the grace window get the
// same successor, so exactly one rotation happens, without storing any token in the clear.
func (t *Tokens) successorOf(value string) string {
	n := new(big.Int).SetBytes(t.keyring.RefreshMAC(value))
	b := make([]byte, 43)
	base := big.NewInt(62)
	mod := new(big.Int)
	for i := range b {
		n.DivMod(n, base, mod)
		b[i] = keys.Base62[mod.Int64()]
	}
	return RefreshPrefix + string(b)
}

// Rotated is a refresh token exchanged for its successor.
type Rotated struct {
	// Old is the token presented; Next its successor's value.
	Old  *store.RefreshToken
	Next string
	// CustomerScopes are the scopes the customer holds now.
	CustomerScopes []string
}

// Rotate exchanges a refresh token of clientID for its successor, atomically: of parallel
// exchanges one rotates, retries within the account's refreshTokenReuseGrace get the same
// successor, and a later reuse revokes the whole family (RFC 9700 §4.14.2). Refusals are
// the ErrRefresh errors. check, when not nil, vets the live token before anything is
// rotated; its error is returned as it is and leaves the token unspent.
func (t *Tokens) Rotate(ctx context.Context, acct *store.Account, set store.AccountSettings, value, clientID string, check func(*store.RefreshToken) error) (*Rotated, error) {
	old, status, customerScopes, err := t.store.Tokens().RefreshWithCustomer(ctx, acct.AID, t.keyring.HashSecret(value))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrRefreshInvalid
	}
	if err != nil {
		return nil, err
	}
	now := t.now()
	if old.ClientID != clientID {
		return nil, ErrRefreshOtherClient
	}
	if old.RevokedMS != 0 || now.UnixMilli() >= old.IdleUntilMS || now.UnixMilli() >= old.UntilMS {
		return nil, ErrRefreshExpired
	}
	if status != store.CustomerActive {
		_, _ = t.store.Tokens().RevokeFamily(ctx, old.FamilyID, now)
		return nil, ErrRefreshCustomer
	}
	if check != nil {
		if err := check(old); err != nil {
			return nil, err
		}
	}
	nextValue := t.successorOf(value)
	next := &store.RefreshToken{
		ID: keys.NewID(), AID: acct.AID, FamilyID: old.FamilyID, Hash: t.keyring.HashSecret(nextValue), ClientID: old.ClientID,
		CustomerID: old.CustomerID, Audience: old.Audience, Scopes: old.Scopes, AMR: old.AMR, CreatedMS: now.UnixMilli(),
		IdleUntilMS: min(now.Add(time.Duration(set.RefreshIdleLifetime)*time.Second).UnixMilli(), old.UntilMS), UntilMS: old.UntilMS,
	}
	err = t.store.Tokens().Rotate(ctx, old, next, now)
	switch {
	case errors.Is(err, store.ErrRevoked):
		return nil, ErrRefreshExpired
	case errors.Is(err, store.ErrRotated):
		grace := time.Duration(*set.RefreshReuseGrace) * time.Second
		if now.Sub(time.UnixMilli(old.RotatedMS)) > grace {
			n, _ := t.store.Tokens().RevokeFamily(ctx, old.FamilyID, now)
			t.metrics.RefreshReuse.Inc()
			t.log.Warn("refresh token reuse: family revoked", "aid", acct.AID, "client_id", old.ClientID, "revoked", n)
			t.audit.Record(ctx, audit.Event{AID: acct.AID, Type: gen.RefreshTokenReuseDetected, Failed: true,
				Actor: audit.Actor{Type: gen.ActorTypeClient, ID: old.ClientID}, ClientID: old.ClientID,
				SubjectType: "refresh_family", SubjectID: old.FamilyID, Reason: "family_revoked"})
			return nil, ErrRefreshReused
		}
		succ, err := t.store.Tokens().RefreshByHash(ctx, acct.AID, next.Hash)
		if err != nil || succ.RevokedMS != 0 {
			return nil, ErrRefreshExpired
		}
	case err != nil:
		return nil, err
	}
	return &Rotated{Old: old, Next: nextValue, CustomerScopes: customerScopes}, nil
}

// RevokeRefresh revokes the family of a refresh token of clientID; another client's token,
// or an unknown one, is left alone (RFC 7009 §2.2).
func (t *Tokens) RevokeRefresh(ctx context.Context, aid, value, clientID string) error {
	rt, err := t.store.Tokens().RefreshByHash(ctx, aid, t.keyring.HashSecret(value))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if rt.ClientID == clientID {
		_, err = t.store.Tokens().RevokeFamily(ctx, rt.FamilyID, t.now())
	}
	return err
}

// Refresh returns the stored row of a refresh token; errors.Is(err, store.ErrNotFound) when
// unknown.
func (t *Tokens) Refresh(ctx context.Context, aid, value string) (*store.RefreshToken, error) {
	return t.store.Tokens().RefreshByHash(ctx, aid, t.keyring.HashSecret(value))
}
