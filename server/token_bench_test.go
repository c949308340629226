package server_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// BenchmarkTokenEndpoint measures the in-process cost of one client_credentials token
// (no network), per signing algorithm. make bench measures it over loopback HTTP.
func BenchmarkTokenEndpoint(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			t := &testing.T{}
			e := newEnv(t, "")
			e.t = t
			admin := e.adminToken()
			tn := e.newTenant(admin, "bench-"+strings.ToLower(alg), map[string]any{
				"signingAlg": alg, "tokenRateLimit": map[string]any{"perMinute": 1000000, "burst": 1000000}})
			body := url.Values{"grant_type": {"client_credentials"}}.Encode()
			h := e.srv.Handler()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				req := httptest.NewRequest(http.MethodPost, "/v1/accounts/"+tn.aid+"/auth/token", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(tn.clientID, tn.secret)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
