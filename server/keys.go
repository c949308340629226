package server

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
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/store"
)

// Key statuses as the API shows them.
const (
	keyNext     = "next"
	keyActive   = "active"
	keyRetiring = "retiring"
)

// signer is an account's active key, ready to sign.
type signer struct {
	kid     string
	alg     jwa.SignatureAlgorithm
	key     crypto.Signer
	headers jws.Headers
	// idHeaders are the headers of ID tokens (typ JWT).
	idHeaders jws.Headers
}

// keySet is what a node keeps of an account's keys: the active signer, the published JWKS
// and the set to verify tokens with. It lives in the node cache until the cache TTL, the
// next activation or retirement, whichever comes first, and is dropped at once after a
// rotation on this node.
type keySet struct {
	signer *signer
	// idSigner signs ID tokens: the active generation's RS256 key (OpenID Connect's default
	// algorithm), which is the access token key itself on RS256 accounts.
	idSigner *signer
	jwks     gen.JWKS
	verify   jwk.Set
	rows     []store.SigningKey // live keys, newest activation first
}

func keysCacheKey(aid string) string { return "keys\x00" + aid }

// keyStatus tells where a key is in its life at now. rows are newest activation first.
func keyStatus(rows []store.SigningKey, i int, now time.Time) string {
	k := rows[i]
	if k.ActivatesAt.After(now) {
		return keyNext
	}
	for j := 0; j < i; j++ {
		if rows[j].ActivatesAt.After(k.ActivatesAt) && !rows[j].ActivatesAt.After(now) {
			return keyRetiring // a newer generation already signs
		}
	}
	return keyActive
}

// liveKeys drops the keys past their retirement: the last token they signed has expired, so
// they leave the JWKS.
func liveKeys(rows []store.SigningKey, now time.Time) []store.SigningKey {
	live := rows[:0:0]
	for _, r := range rows {
		if r.RetiresAt == nil || r.RetiresAt.After(now) {
			live = append(live, r)
		}
	}
	return live
}

// accountKeys returns the account's key set, from the node cache when fresh.
func (s *Server) accountKeys(ctx context.Context, aid string) (*keySet, error) {
	key := keysCacheKey(aid)
	if v, ok := s.cache.get(key); ok {
		return v.(*keySet), nil
	}
	epoch := s.cache.begin()
	all, err := s.store.ListSigningKeys(ctx, aid)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	expires := now.Add(s.cfg.CacheTTL)
	ks := &keySet{verify: jwk.NewSet(), rows: liveKeys(all, now), jwks: gen.JWKS{Keys: []gen.JWK{}}}
	for i, r := range ks.rows {
		if r.RetiresAt != nil && r.RetiresAt.Before(expires) {
			expires = *r.RetiresAt
		}
		if r.ActivatesAt.After(now) && r.ActivatesAt.Before(expires) {
			expires = r.ActivatesAt
		}
		k, err := jwk.ParseKey([]byte(r.PublicJWK))
		if err != nil {
			return nil, fmt.Errorf("parse public key %s: %w", r.KID, err)
		}
		if err := ks.verify.AddKey(k); err != nil {
			return nil, err
		}
		var pub gen.JWK
		if err := json.Unmarshal([]byte(r.PublicJWK), &pub); err != nil {
			return nil, err
		}
		ks.jwks.Keys = append(ks.jwks.Keys, pub)
		if keyStatus(ks.rows, i, now) == keyActive {
			sg, err := s.openSigner(r)
			if err != nil {
				return nil, err
			}
			// In a generation with an ES256 key and its RS256 companion, the ES256 key signs
			// access tokens and the RS256 one ID tokens.
			if ks.signer == nil || (ks.signer.alg.String() == "RS256" && r.Alg != "RS256") {
				ks.signer = sg
			}
			if r.Alg == "RS256" && ks.idSigner == nil {
				ks.idSigner = sg
			}
		}
	}
	if ks.idSigner == nil {
		ks.idSigner = ks.signer // accounts made ES256-only before companions existed
	}
	s.cache.putUntil(key, ks, expires, epoch)
	return ks, nil
}

func (s *Server) openSigner(r store.SigningKey) (*signer, error) {
	der, err := s.keyring.open(r.PrivateKey, r.KID)
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
	alg, ok := jwa.LookupSignatureAlgorithm(r.Alg)
	if !ok {
		return nil, fmt.Errorf("signing key %s: unknown alg %q", r.KID, r.Alg)
	}
	h := jws.NewHeaders()
	if err := h.Set(jws.KeyIDKey, r.KID); err != nil {
		return nil, err
	}
	if err := h.Set(jws.TypeKey, "at+jwt"); err != nil {
		return nil, err
	}
	idh := jws.NewHeaders()
	if err := idh.Set(jws.KeyIDKey, r.KID); err != nil {
		return nil, err
	}
	if err := idh.Set(jws.TypeKey, "JWT"); err != nil {
		return nil, err
	}
	return &signer{kid: r.KID, alg: alg, key: key, headers: h, idHeaders: idh}, nil
}

// newSigningKey generates a key pair for alg and returns the row to store: the private key
// encrypted with the master key, the public key as a JWK.
func (s *Server) newSigningKey(aid, alg string, activatesAt time.Time) (*store.SigningKey, error) {
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
	kid := newID()
	pubKey, err := jwk.Import(priv.Public())
	if err != nil {
		return nil, err
	}
	for k, v := range map[string]any{jwk.KeyIDKey: kid, jwk.KeyUsageKey: "sig", jwk.AlgorithmKey: alg} {
		if err := pubKey.Set(k, v); err != nil {
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
	sealed, err := s.keyring.seal(der, kid)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	return &store.SigningKey{
		KID: kid, AID: aid, Alg: alg, PrivateKey: sealed, PublicJWK: string(pubJSON),
		CreatedAt: now, ActivatesAt: activatesAt.UTC(),
	}, nil
}

// rotateKey publishes the next key, signing from now+delay. The keys it replaces retire once
// the last token they can sign (until the new key activates) has expired.
func (s *Server) rotateKey(ctx context.Context, acct *store.Account, alg string, delay time.Duration) (*store.SigningKey, error) {
	set := s.settings(acct)
	if alg == "" {
		alg = set.SigningAlg
	}
	activates := time.Now().Add(delay)
	key, err := s.newSigningKey(acct.AID, alg, activates)
	if err != nil {
		return nil, err
	}
	retire := activates.Add(time.Duration(set.AccessTokenLifetime)*time.Second + time.Minute).UTC()
	keys := []*store.SigningKey{key}
	if alg != "RS256" {
		companion, err := s.newSigningKey(acct.AID, "RS256", activates)
		if err != nil {
			return nil, err
		}
		keys = append(keys, companion)
	}
	if err := s.store.AddSigningKeys(ctx, retire, keys...); err != nil {
		return nil, err
	}
	s.cache.drop(keysCacheKey(acct.AID))
	return key, nil
}

// sign signs a JWT payload with the account's active key.
func (sg *signer) sign(payload []byte) ([]byte, error) {
	return jws.Sign(payload, jws.WithKey(sg.alg, sg.key, jws.WithProtectedHeaders(sg.headers)))
}

// signID signs an ID token payload (typ JWT) with the account's active key.
func (sg *signer) signID(payload []byte) ([]byte, error) {
	return jws.Sign(payload, jws.WithKey(sg.alg, sg.key, jws.WithProtectedHeaders(sg.idHeaders)))
}
