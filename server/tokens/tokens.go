package tokens

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/twinid/twinid/server/account"
	"github.com/twinid/twinid/server/audit"
	"github.com/twinid/twinid/server/cache"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/metrics"
	"github.com/twinid/twinid/server/reqctx"
	"github.com/twinid/twinid/store"
)

// Tokens issues and verifies the accounts' tokens.
type Tokens struct {
	store    *store.Store
	keyring  *keys.Keyring
	keys     *keys.Keys
	accounts *account.Accounts
	verified *cache.Cache[*reqctx.Claims]
	metrics  *metrics.Metrics
	log      *slog.Logger
	now      func() time.Time
	audit    *audit.Recorder
}

// New returns the token service; verified access tokens are trusted again for up to ttl.
func New(st *store.Store, kr *keys.Keyring, k *keys.Keys, accounts *account.Accounts, m *metrics.Metrics,
	log *slog.Logger, ttl time.Duration, now func() time.Time, rec *audit.Recorder) *Tokens {
	return &Tokens{store: st, keyring: kr, keys: k, accounts: accounts, verified: cache.New[*reqctx.Claims](ttl, now),
		metrics: m, log: log, now: now, audit: rec}
}

// ForgetAccount drops the account's tokens from this node's verified-token cache: after the
// account is deleted its tokens must fail at once here (its keys are gone), not after the
// TTL, even once the aid is taken again.
func (t *Tokens) ForgetAccount(aid string) {
	t.verified.ForgetIf(func(_ string, c *reqctx.Claims) bool { return c.AID == aid })
}

// Sweep drops expired entries of the verified-token cache.
func (t *Tokens) Sweep() { t.verified.Sweep() }

// InvalidError rejects an access token: malformed, not twinid's, expired, wrong issuer.
// Its text says why, for the client.
type InvalidError struct{ Detail string }

func (e *InvalidError) Error() string { return e.Detail }

func invalid(detail string) error { return &InvalidError{Detail: detail} }

// IsInvalid reports whether err rejected the token (rather than failing to check it).
func IsInvalid(err error) bool { return errors.As(err, new(*InvalidError)) }

// Issued is a signed access token with its jti and expiry.
type Issued struct {
	Token string
	JTI   string
	Exp   time.Time
}

// Issue signs an access token (RFC 9068) with the account's active key.
func (t *Tokens) Issue(ctx context.Context, acct *store.Account, set store.AccountSettings, a Access) (Issued, error) {
	ks, err := t.keys.Get(ctx, acct.AID)
	if err != nil {
		return Issued{}, err
	}
	if ks.Signer == nil {
		return Issued{}, errors.New("account " + acct.AID + " has no active signing key")
	}
	now := t.now()
	lifetime := a.Lifetime
	if lifetime == 0 {
		lifetime = time.Duration(set.AccessTokenLifetime) * time.Second
	}
	exp := now.Add(lifetime)
	jti := keys.NewJTI()
	var scratch [512]byte
	payload := appendAccessClaims(scratch[:0], t.accounts.PublicURL(), acct.AID, a, now.Unix(), exp.Unix(), jti)
	tok, err := ks.Signer.Sign(payload)
	if err != nil {
		return Issued{}, err
	}
	return Issued{Token: tok, JTI: jti, Exp: exp}, nil
}

// Verify checks an access token of any of twinid's accounts and any audience: a JWT signed
// by a key in that account's JWKS, with typ at+jwt (RFC 9068 §4), the account's issuer, and
// not expired. A kid missing from this node's cached key set reloads the set (Keys.Refetch),
// so a key rotated in on another node verifies at once. Nothing is trusted before these
// checks pass. A rejected token is an
// *InvalidError. A token verified on this node is trusted again until the cache TTL or its
// expiry, whichever comes first: the signature check dominates every authenticated request.
// A token issued with a refresh family is checked against the family after the cache, on
// every call, so it stops passing as soon as the family ends (revoked, reuse detected, its
// customer's tokens revoked or deleted) on every node; tokens without a family cost no query.
func (t *Tokens) Verify(ctx context.Context, tok string) (*reqctx.Claims, error) {
	sum := sha256.Sum256([]byte(tok))
	key := string(sum[:])
	// The entry expires with the token, so a cached token is never past exp.
	c, err := t.verified.Load(key, func() (*reqctx.Claims, time.Time, error) {
		c, err := t.verify(ctx, tok)
		if err != nil {
			return nil, time.Time{}, err
		}
		return c, c.Exp, nil
	})
	if err != nil {
		return nil, err
	}
	if c.FamilyID == "" {
		return c, nil
	}
	ended, err := t.store.Tokens().FamilyEnded(ctx, c.FamilyID)
	if err != nil {
		return nil, err
	}
	if ended {
		return nil, invalid("the access token was revoked with its refresh token")
	}
	return c, nil
}

func (t *Tokens) verify(ctx context.Context, tok string) (*reqctx.Claims, error) {
	aid, err := unverifiedAID(tok)
	if err != nil {
		return nil, invalid("the access token is malformed")
	}
	ks, err := t.keys.Get(ctx, aid)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, invalid("the access token is not valid")
		}
		return nil, err
	}
	if len(ks.Rows) == 0 {
		return nil, invalid("the access token is not valid")
	}
	msg, err := jws.Parse([]byte(tok))
	if err != nil || len(msg.Signatures()) != 1 {
		return nil, invalid("the access token is malformed")
	}
	if typ, _ := msg.Signatures()[0].ProtectedHeaders().Type(); typ != "at+jwt" {
		return nil, invalid("the token is not an access token (typ at+jwt)")
	}
	if kid, _ := msg.Signatures()[0].ProtectedHeaders().KeyID(); kid != "" {
		if _, known := ks.Verify.LookupKeyID(kid); !known {
			// Signed by a key this node has not seen: perhaps just rotated on another node.
			if ks, err = t.keys.Refetch(ctx, aid, kid); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return nil, invalid("the access token is not valid")
				}
				return nil, err
			}
		}
	}
	parsed, err := jwt.Parse([]byte(tok),
		jwt.WithKeySet(ks.Verify),
		jwt.WithValidate(true),
		jwt.WithIssuer(t.accounts.Issuer(aid)),
		jwt.WithAcceptableSkew(30*time.Second),
		jwt.WithClock(jwt.ClockFunc(t.now)),
	)
	if err != nil {
		return nil, invalid("the access token is not valid: " + verifyReason(err))
	}
	c := &reqctx.Claims{AID: aid}
	c.Sub, _ = parsed.Subject()
	c.Aud, _ = parsed.Audience()
	c.JTI, _ = parsed.JwtID()
	c.Exp, _ = parsed.Expiration()
	c.Iat, _ = parsed.IssuedAt()
	_ = parsed.Get("client_id", &c.ClientID)
	_ = parsed.Get("fid", &c.FamilyID)
	var amr []any
	if parsed.Get("amr", &amr) == nil {
		for _, m := range amr {
			if s, ok := m.(string); ok {
				c.AMR = append(c.AMR, s)
			}
		}
	}
	var scope string
	_ = parsed.Get("scope", &scope)
	c.Scopes = strings.Fields(scope)
	return c, nil
}

func verifyReason(err error) string {
	switch {
	case errors.Is(err, jwt.TokenExpiredError()):
		return "expired"
	case errors.Is(err, jwt.InvalidIssuerError()):
		return "wrong issuer"
	case errors.Is(err, jwt.InvalidAudienceError()):
		return "wrong audience"
	}
	return "signature or claims rejected"
}

// unverifiedAID reads the aid claim to know which account's keys verify the token. Nothing
// read here is trusted before the signature and the issuer check pass.
func unverifiedAID(tok string) (string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", errors.New("not a JWS")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var c struct {
		AID string `json:"aid"`
	}
	if err := json.Unmarshal(raw, &c); err != nil || c.AID == "" {
		return "", errors.New("no aid claim")
	}
	return c.AID, nil
}

// Standing checks that a verified token still stands where a consumer reads it live
// (introspection, UserInfo, the Management API): its jti is not revoked and, for a
// customer's token, the customer may still sign in. It returns the customer, nil for a
// client token. A token that no longer stands is an *InvalidError. Verify already checked
// the refresh family.
func (t *Tokens) Standing(ctx context.Context, c *reqctx.Claims) (*store.Customer, error) {
	revoked, err := t.store.Tokens().AccessRevoked(ctx, c.JTI)
	if err != nil {
		return nil, err
	}
	if revoked {
		return nil, invalid("the access token was revoked")
	}
	if c.IsClient() {
		return nil, nil
	}
	cu, err := t.store.Customers().Get(ctx, c.AID, c.Sub)
	if errors.Is(err, store.ErrNotFound) || (err == nil && cu.Status != store.CustomerActive) {
		return nil, invalid("the user can no longer sign in")
	}
	return cu, err
}
