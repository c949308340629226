package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/account"
	"github.com/twinid/twinid/server/audit"
	"github.com/twinid/twinid/server/cache"
	"github.com/twinid/twinid/store"
)

// Key statuses as the API shows them.
const (
	StatusNext     = "next"
	StatusActive   = "active"
	StatusRetiring = "retiring"
)

// Set is what a node keeps of an account's keys: the active signer, the published JWKS
// and the set to verify tokens with. It lives in the node cache until the cache TTL, the
// next activation or retirement, whichever comes first, and is dropped at once after a
// rotation on this node.
type Set struct {
	// Signer signs access tokens; nil when the account has no active key.
	Signer *Signer
	// IDSigner signs ID tokens: the active generation's RS256 key (OpenID Connect's default
	// algorithm), which is the access token key itself on RS256 accounts.
	IDSigner *Signer
	// JWKS is the published key set.
	JWKS gen.JWKS
	// Verify holds the public keys that verify the account's tokens.
	Verify jwk.Set
	// Rows are the live keys, newest activation first.
	Rows []store.SigningKey
}

// Status tells where a key is in its life at now. rows are newest activation first.
func Status(rows []store.SigningKey, i int, now time.Time) string {
	k := rows[i]
	if k.ActivatesAt.After(now) {
		return StatusNext
	}
	for j := 0; j < i; j++ {
		if rows[j].ActivatesAt.After(k.ActivatesAt) && !rows[j].ActivatesAt.After(now) {
			return StatusRetiring // a newer generation already signs
		}
	}
	return StatusActive
}

// Live drops the keys past their retirement: the last token they signed has expired, so
// they leave the JWKS.
func Live(rows []store.SigningKey, now time.Time) []store.SigningKey {
	live := rows[:0:0]
	for _, r := range rows {
		if r.RetiresAt == nil || r.RetiresAt.After(now) {
			live = append(live, r)
		}
	}
	return live
}

// AccessAlgs are the algorithms of the access tokens the keys sign, newest generation first,
// each once. A generation is the keys that activate together; an ES256 generation's RS256
// companion signs only ID tokens, so its algorithm is the generation's only where it is alone.
func AccessAlgs(rows []store.SigningKey) []string {
	access := map[int64]string{}
	for _, r := range rows {
		at := r.ActivatesAt.UnixNano()
		if cur, ok := access[at]; !ok || (cur == "RS256" && r.Alg != "RS256") {
			access[at] = r.Alg
		}
	}
	algs := []string{}
	for _, r := range rows {
		if a := access[r.ActivatesAt.UnixNano()]; !slices.Contains(algs, a) {
			algs = append(algs, a)
		}
	}
	return algs
}

// Keys are the accounts' signing keys: generation, rotation, and the key sets a node keeps.
type Keys struct {
	store    *store.Store
	keyring  *Keyring
	accounts *account.Accounts
	cache    *cache.Cache[*Set]
	ttl      time.Duration
	now      func() time.Time
	log      *slog.Logger
	audit    *audit.Recorder
	// refetched is when each account's keys were last reloaded for an unknown kid.
	refetchMu sync.Mutex
	refetched map[string]time.Time
}

// refetchInterval is the least time between two reloads of an account's keys for a kid
// the cached set lacks: enough for a rotation elsewhere to be seen at once, too little room
// for tokens with made-up kids to cost a query each.
const refetchInterval = time.Second

// New returns the signing keys of st, sealed with kr, cached up to ttl.
// Scheduled rotations go on the audit trail of rec (nil: none).
func New(st *store.Store, kr *Keyring, accounts *account.Accounts, ttl time.Duration, now func() time.Time, log *slog.Logger,
	rec *audit.Recorder) *Keys {
	k := &Keys{store: st, keyring: kr, accounts: accounts, cache: cache.New[*Set](ttl, now), ttl: ttl, now: now, log: log,
		audit: rec, refetched: map[string]time.Time{}}
	k.cache.RefreshAhead(ttl/10, k.load)
	return k
}

// Get returns the account's key set, from the node cache when fresh. An entry lives until
// the cache TTL, the next activation or retirement, whichever comes first; one asked for in
// the last tenth of a full TTL is reloaded in the background (cache.RefreshAhead).
func (k *Keys) Get(ctx context.Context, aid string) (*Set, error) {
	return k.cache.LoadCtx(ctx, aid)
}

// Refetch returns the account's key set for a token signed with kid. When the cached set
// lacks kid, another node may have rotated without a propagation delay, so the set is
// reloaded from the database, once for all concurrent callers (the cache's single-flight
// Load) and at most once per account per refetchInterval; otherwise the cached set is
// returned and the caller rejects the token.
func (k *Keys) Refetch(ctx context.Context, aid, kid string) (*Set, error) {
	ks, err := k.Get(ctx, aid)
	if err != nil || kid == "" {
		return ks, err
	}
	if _, ok := ks.Verify.LookupKeyID(kid); ok || !k.mayRefetch(aid) {
		return ks, nil
	}
	k.Forget(aid)
	return k.Get(ctx, aid)
}

// mayRefetch reports whether the account's keys may be reloaded now, and if so notes it.
func (k *Keys) mayRefetch(aid string) bool {
	now := k.now()
	k.refetchMu.Lock()
	defer k.refetchMu.Unlock()
	if last, ok := k.refetched[aid]; ok && now.Sub(last) < refetchInterval {
		return false
	}
	k.refetched[aid] = now
	return true
}

// CountLoads has inc called once per load from the database (metrics.CacheLoads).
func (k *Keys) CountLoads(inc func()) { k.cache.CountLoads(inc) }

// Forget drops the account's key set from this node's cache.
func (k *Keys) Forget(aid string) { k.cache.Forget(aid) }

// Sweep drops expired entries.
func (k *Keys) Sweep() {
	k.cache.Sweep()
	now := k.now()
	k.refetchMu.Lock()
	for aid, last := range k.refetched {
		if now.Sub(last) >= refetchInterval {
			delete(k.refetched, aid)
		}
	}
	k.refetchMu.Unlock()
}

func (k *Keys) load(ctx context.Context, aid string) (*Set, time.Time, error) {
	all, err := k.store.Keys().List(ctx, aid)
	if err != nil {
		return nil, time.Time{}, err
	}
	now := k.now()
	expires := now.Add(k.ttl)
	ks := &Set{Verify: jwk.NewSet(), Rows: Live(all, now), JWKS: gen.JWKS{Keys: []gen.JWK{}}}
	for i, r := range ks.Rows {
		if r.RetiresAt != nil && r.RetiresAt.Before(expires) {
			expires = *r.RetiresAt
		}
		if r.ActivatesAt.After(now) && r.ActivatesAt.Before(expires) {
			expires = r.ActivatesAt
		}
		pk, err := jwk.ParseKey([]byte(r.PublicJWK))
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("parse public key %s: %w", r.KID, err)
		}
		if err := ks.Verify.AddKey(pk); err != nil {
			return nil, time.Time{}, err
		}
		var pub gen.JWK
		if err := json.Unmarshal([]byte(r.PublicJWK), &pub); err != nil {
			return nil, time.Time{}, err
		}
		ks.JWKS.Keys = append(ks.JWKS.Keys, pub)
		if Status(ks.Rows, i, now) == StatusActive {
			sg, err := k.openSigner(r)
			if err != nil {
				return nil, time.Time{}, err
			}
			// In a generation with an ES256 key and its RS256 companion, the ES256 key signs
			// access tokens and the RS256 one ID tokens.
			if ks.Signer == nil || (ks.Signer.alg == "RS256" && r.Alg != "RS256") {
				ks.Signer = sg
			}
			if r.Alg == "RS256" && ks.IDSigner == nil {
				ks.IDSigner = sg
			}
		}
	}
	if ks.IDSigner == nil {
		ks.IDSigner = ks.Signer // accounts made ES256-only before companions existed
	}
	return ks, expires, nil
}

func (k *Keys) openSigner(r store.SigningKey) (*Signer, error) {
	der, err := k.keyring.Open(r.PrivateKey, r.KID)
	if err != nil {
		return nil, fmt.Errorf("decrypt signing key %s: %w", r.KID, err)
	}
	raw, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse signing key %s: %w", r.KID, err)
	}
	key, ok := raw.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("signing key %s is not a signer", r.KID)
	}
	return newSigner(r.KID, r.Alg, key)
}

// NewSigningKey generates a key pair for alg and returns the row to store: the private key
// encrypted with the master key, the public key as a JWK.
func (k *Keys) NewSigningKey(aid, alg string, activatesAt time.Time) (*store.SigningKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "RS256":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		return nil, fmt.Errorf("unsupported signing alg %q", alg)
	}
	if err != nil {
		return nil, err
	}
	kid := NewID()
	pubKey, err := jwk.Import(priv.Public())
	if err != nil {
		return nil, err
	}
	for name, v := range map[string]any{jwk.KeyIDKey: kid, jwk.KeyUsageKey: "sig", jwk.AlgorithmKey: alg} {
		if err := pubKey.Set(name, v); err != nil {
			return nil, err
		}
	}
	pubJSON, err := json.Marshal(pubKey)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	sealed, err := k.keyring.Seal(der, kid)
	if err != nil {
		return nil, err
	}
	now := k.now().UTC()
	return &store.SigningKey{
		KID: kid, AID: aid, Alg: alg, PrivateKey: sealed, PublicJWK: string(pubJSON),
		CreatedAt: now, ActivatesAt: activatesAt.UTC(),
	}, nil
}

// Rotate publishes the next key, signing from now+delay. The keys it replaces retire once
// the last token they can sign (until the new key activates) has expired; a key of an
// earlier rotation still pending past the new key's activation never signs and retires when
// the new key activates (store Keys.Add). alg "" is the account's signingAlg.
func (k *Keys) Rotate(ctx context.Context, acct *store.Account, alg string, delay time.Duration) (*store.SigningKey, error) {
	set := account.Effective(acct)
	if alg == "" {
		alg = set.SigningAlg
	}
	activates := k.now().Add(delay)
	key, err := k.NewSigningKey(acct.AID, alg, activates)
	if err != nil {
		return nil, err
	}
	retire := activates.Add(time.Duration(set.AccessTokenLifetime)*time.Second + time.Minute).UTC()
	keys := []*store.SigningKey{key}
	if alg != "RS256" {
		companion, err := k.NewSigningKey(acct.AID, "RS256", activates)
		if err != nil {
			return nil, err
		}
		keys = append(keys, companion)
	}
	if err := k.store.Keys().Add(ctx, retire, keys...); err != nil {
		return nil, err
	}
	k.Forget(acct.AID)
	return key, nil
}

// RotateDue rotates the keys of accounts whose keyRotationInterval has passed since their
// newest key was created, and deletes keys that left the JWKS over an hour ago.
func (k *Keys) RotateDue(ctx context.Context) {
	ids, err := k.store.Accounts().IDs(ctx)
	if err != nil {
		k.log.Warn("key rotation: listing accounts failed", "err", err)
		return
	}
	for _, aid := range ids {
		acct, err := k.store.Accounts().Get(ctx, aid)
		if err != nil {
			continue
		}
		set := account.Effective(acct)
		if set.KeyRotationInterval <= 0 {
			continue
		}
		rows, err := k.store.Keys().List(ctx, aid)
		if err != nil || len(rows) == 0 {
			continue
		}
		newest := rows[0]
		if k.now().Sub(newest.CreatedAt) < time.Duration(set.KeyRotationInterval)*time.Second {
			continue
		}
		key, err := k.Rotate(ctx, acct, "", time.Duration(*set.KeyPropagationDelay)*time.Second)
		if err != nil {
			k.log.Warn("scheduled key rotation failed", "aid", aid, "err", err)
			continue
		}
		k.log.Info("signing key rotated on schedule", "aid", aid)
		k.audit.Record(ctx, audit.Event{AID: aid, Type: gen.SigningKeyRotated, Actor: audit.System,
			SubjectType: "signing_key", SubjectID: key.KID, Reason: "scheduled"})
	}
	if _, err := k.store.Keys().DeleteRetired(ctx, k.now().Add(-time.Hour)); err != nil {
		k.log.Warn("deleting retired keys failed", "err", err)
	}
}
