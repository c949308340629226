package server_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/twinid/twinid/server"
	"github.com/twinid/twinid/server/passwords"
)

// benchAlgs are the access token algorithms an account can sign with.
var benchAlgs = []string{"RS256", "ES256"}

// BenchmarkTokenEndpoint measures the in-process cost of one client_credentials token
// (no network), per signing algorithm, with the server logging at its default level
// (info, discarded). Interleaved with the requests it times the raw baseline: jwx building
// and signing typical access token claims with a key of the same algorithm (what
// BenchmarkRawJWTSign measures alone). See interleaved for the figures it reports;
// x-raw-cpu is the (goal ≤ 2.0, stretch ≤ 1.5). make bench measures the same over
// loopback HTTP.
func BenchmarkTokenEndpoint(b *testing.B) {
	for _, alg := range benchAlgs {
		e := benchEnv(nil)
		admin := e.adminToken()
		tn := e.newTenant(admin, "bench-"+strings.ToLower(alg), map[string]any{
			"signingAlg": alg, "tokenRateLimit": map[string]any{"perMinute": 1000000, "burst": 1000000}})
		body := url.Values{"grant_type": {"client_credentials"}}.Encode()
		h := e.srv.Handler()
		path := "/v1/accounts/" + tn.aid + "/auth/token"
		raw := newRawSigner(b, alg)
		b.Run(alg, func(b *testing.B) {
			interleaved(b, 64, func() {
				req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(tn.clientID, tn.secret)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}, func() { raw.sign(b) })
		})
	}
}

// benchEnv starts a twinid on a fresh SQLite that logs at the default level (info) into
// nothing, with password parameters pw (nil: the tests' cheap ones).
func benchEnv(pw *passwords.Params) *env {
	return startEnvLogged(&testing.T{}, "", "", server.BootstrapOptions{},
		slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})), pw)
}

// interleaved runs op b.N times and, in blocks of block between them with the timer
// stopped, the raw baseline as often, so both see the same machine at the same moments.
// Beside ns/op (wall time of op alone) it reports:
//
//	raw-ns/op      wall time of one raw
//	x-raw          ns/op ÷ raw-ns/op
//	cpu-ns/op      process CPU time (user+system, GC included) per op
//	raw-cpu-ns/op  process CPU time per raw
//	x-raw-cpu      cpu-ns/op ÷ raw-cpu-ns/op
func interleaved(b *testing.B, block int, op, raw func()) {
	var opCPU, rawCPU, rawWall time.Duration
	for done := 0; done < b.N; done += block {
		n := min(block, b.N-done)
		c0 := cpuTime()
		for range n {
			op()
		}
		opCPU += cpuTime() - c0
		b.StopTimer()
		c1, w := cpuTime(), time.Now()
		for range n {
			raw()
		}
		rawCPU, rawWall = rawCPU+cpuTime()-c1, rawWall+time.Since(w)
		b.StartTimer()
	}
	per := func(d time.Duration) float64 { return float64(d) / float64(b.N) }
	b.ReportMetric(per(rawWall), "raw-ns/op")
	b.ReportMetric(per(b.Elapsed())/per(rawWall), "x-raw")
	b.ReportMetric(per(opCPU), "cpu-ns/op")
	b.ReportMetric(per(rawCPU), "raw-cpu-ns/op")
	b.ReportMetric(float64(opCPU)/float64(rawCPU), "x-raw-cpu")
}

// BenchmarkRawJWTSign is the baseline of BenchmarkTokenEndpoint alone: jwx building and
// signing typical access token claims (the claims twinid issues for a client token) with
// the protected headers twinid sets, per algorithm.
func BenchmarkRawJWTSign(b *testing.B) {
	for _, alg := range benchAlgs {
		raw := newRawSigner(b, alg)
		b.Run(alg, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				raw.sign(b)
			}
		})
	}
}

// rawSigner builds and signs access token claims with jwx alone.
type rawSigner struct {
	alg jwa.SignatureAlgorithm
	key crypto.Signer
	hdr jws.Headers
}

func newRawSigner(b *testing.B, alg string) *rawSigner {
	var key crypto.Signer
	var err error
	switch alg {
	case "RS256":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		b.Fatal(err)
	}
	a, _ := jwa.LookupSignatureAlgorithm(alg)
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.KeyIDKey, "k0123456789abcdef0123456789"); err != nil {
		b.Fatal(err)
	}
	if err := hdr.Set(jws.TypeKey, "at+jwt"); err != nil {
		b.Fatal(err)
	}
	return &rawSigner{alg: a, key: key, hdr: hdr}
}

func (r *rawSigner) sign(b *testing.B) {
	now := time.Now()
	tok, err := jwt.NewBuilder().
		Issuer("http://127.0.0.1:40000/v1/accounts/bench-es256").
		Subject("sa_0123456789abcdef0123").
		Audience([]string{"api://bench-es256"}).
		IssuedAt(now).
		Expiration(now.Add(time.Hour)).
		JwtID("0123456789abcdef0123456789abcdef").
		Claim("client_id", "sa_0123456789abcdef0123").
		Claim("scope", "api://bench-es256/.default").
		Claim("aid", "bench-es256").
		Build()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := jwt.Sign(tok, jwt.WithKey(r.alg, r.key, jws.WithProtectedHeaders(r.hdr))); err != nil {
		b.Fatal(err)
	}
}

// cpuTime is the CPU time this process has used (user and system, every thread).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
