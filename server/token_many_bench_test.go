package server_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twinid/twinid/server"
)

// BenchmarkTokenEndpointManyClients is BenchmarkTokenEndpoint/ES256 with 1,000 service
// accounts taking turns, on a node whose client cache keeps entries 3s: each client is
// reloaded about every 20 of its tokens, near what make bench's 1,000-client part sees (its
// cache loads per round), so the cost of a cache load shows per token. sql/op is the SQL
// statements per token.
func BenchmarkTokenEndpointManyClients(b *testing.B) {
	e := benchEnv(nil)
	admin := e.adminToken()
	tn := e.newTenant(admin, "bench-many", map[string]any{
		"signingAlg": "ES256", "tokenRateLimit": map[string]any{"perMinute": 1000000, "burst": 1000000}})
	auths := []string{basicAuth(tn.clientID, tn.secret)}
	for i := 1; i < 1000; i++ {
		sa := must(e.t, e.do("POST", "/v1/accounts/"+tn.aid+"/service-accounts", admin, map[string]any{
			"name": fmt.Sprintf("worker-%d", i), "scopes": []string{tn.scope}}), 201)
		sec := must(e.t, e.do("POST", "/v1/accounts/"+tn.aid+"/service-accounts/"+sa["id"].(string)+"/secrets", admin,
			map[string]any{}), 201)
		auths = append(auths, basicAuth(sa["clientId"].(string), sec["secret"].(string)))
	}
	node := e.nodeWith(func(c *server.Config) {
		c.CacheTTL = 3 * time.Second
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	h := node.srv.Handler()
	body := url.Values{"grant_type": {"client_credentials"}}.Encode()
	path := "/v1/accounts/" + tn.aid + "/auth/token"
	raw := newRawSigner(b, "ES256")
	i := 0
	b.ReportAllocs()
	q0 := e.st.Queries()
	interleaved(b, 64, func() {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", auths[i%len(auths)])
		i++
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}, func() { raw.sign(b) })
	b.ReportMetric(float64(e.st.Queries()-q0)/float64(b.N), "sql/op")
}

func basicAuth(id, secret string) string {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.SetBasicAuth(id, secret)
	return r.Header.Get("Authorization")
}
