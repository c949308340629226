package server_test

import (
	"net/url"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/twinid/twinid/store/storetest"
)

// When the cached client, account and keys expire, a burst of token requests for that client
// reloads each once from the database, as twinid_cache_loads_total counts.
func TestCacheExpiryReloadsOncePerKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	admin := e.adminToken()
	tn := e.newTenant(admin, "burst", map[string]any{"tokenRateLimit": map[string]any{"perMinute": 100000, "burst": 1000}})
	path := "/v1/accounts/burst/auth/token"
	cc := url.Values{"grant_type": {"client_credentials"}}
	must(t, e.form(path, tn.clientID, tn.secret, cc), 200) // everything cached
	time.Sleep(5*time.Second + 200*time.Millisecond)       // past the cache TTL (5 s)
	before := cacheLoads(t, e)
	for i, r := range storetest.Race(32, func(int) resp { return e.form(path, tn.clientID, tn.secret, cc) }) {
		if r.status != 200 {
			t.Fatalf("request %d: %d %s", i, r.status, r.body)
		}
	}
	after := cacheLoads(t, e)
	for _, c := range []string{"accounts", "keys", "clients"} {
		if n := after[c] - before[c]; n != 1 {
			t.Errorf("%s: %d loads for 32 concurrent requests after the expiry, want 1", c, n)
		}
	}
}

var cacheLoadsLine = regexp.MustCompile(`(?m)^twinid_cache_loads_total\{cache="(\w+)"\} (\d+)$`)

// cacheLoads reads twinid_cache_loads_total from /metrics, by cache.
func cacheLoads(t *testing.T, e *env) map[string]int {
	t.Helper()
	m := e.do("GET", "/metrics", "", nil)
	out := map[string]int{}
	for _, g := range cacheLoadsLine.FindAllStringSubmatch(string(m.body), -1) {
		out[g[1]], _ = strconv.Atoi(g[2])
	}
	if len(out) == 0 {
		t.Fatalf("no twinid_cache_loads_total in /metrics")
	}
	return out
}
