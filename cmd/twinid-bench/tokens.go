package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// The tokens part: client_credentials tokens per signing algorithm. run drives the load;
// this file holds its figures, its targets and its baseline, a bare jwt.Sign timed in this
// process.

// targets are the upper bounds of server CPU per token / raw signing cost.
var targets = map[string]float64{"RS256": 1.2, "ES256": 2.5}

// row is one algorithm's figures.
type row struct {
	alg        string
	load       loadResult
	cpuPerTok  time.Duration // server CPU per issued token
	queries    float64       // SQL statements per issued token
	tokens     float64       // tokens issued during the run (from /metrics)
	signPerTok time.Duration // bare jwt.Sign, one goroutine
}

// signCost times jwt.Sign of an access token with typical claims, on one goroutine, with a
// fresh RSA-2048 or P-256 key. One goroutine makes wall time per op equal CPU time per op.
func signCost(alg string) (time.Duration, error) {
	var (
		key any
		err error
		sa  jwa.SignatureAlgorithm
	)
	switch alg {
	case "RS256":
		sa = jwa.RS256()
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		sa = jwa.ES256()
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		err = fmt.Errorf("unsupported algorithm %q", alg)
	}
	if err != nil {
		return 0, err
	}
	now := time.Now()
	tok, err := jwt.NewBuilder().
		Issuer("http://127.0.0.1:8080/v1/accounts/bench").
		Subject("0b8f8a49-8f8a-4c47-9f0e-6f8e3b7c2a11").
		Audience([]string{"api://bench"}).
		IssuedAt(now).
		Expiration(now.Add(time.Hour)).
		JwtID("0192f1b2-6c1e-7a3d-9f51-0c4b8e2d1a77").
		Claim("client_id", "0b8f8a49-8f8a-4c47-9f0e-6f8e3b7c2a11").
		Claim("scope", "api://bench/.default").
		Claim("aid", "bench").
		Build()
	if err != nil {
		return 0, err
	}
	hdr := jws.NewHeaders()
	for k, v := range map[string]string{jws.KeyIDKey: "bench-key-1", jws.TypeKey: "at+jwt"} {
		if err := hdr.Set(k, v); err != nil {
			return 0, err
		}
	}
	opt := jwt.WithKey(sa, key, jws.WithProtectedHeaders(hdr))
	if _, err := jwt.Sign(tok, opt); err != nil {
		return 0, fmt.Errorf("jwt.Sign %s: %w", alg, err)
	}
	res := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			if _, err := jwt.Sign(tok, opt); err != nil {
				b.Fatal(err)
			}
		}
	})
	if res.N == 0 {
		return 0, fmt.Errorf("jwt.Sign %s: benchmark did not run", alg)
	}
	return time.Duration(res.NsPerOp()), nil
}
