package server_test

import (
	"net/url"
	"os"
	"strings"
	"testing"
)

func TestRateLimit(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		e.newTenant(admin, "tenant-a", map[string]any{"tokenRateLimit": map[string]any{"perMinute": 60, "burst": 3}})
		tn := e.newTenant(admin, "tenant-b", nil)
		must(t, e.do("PATCH", "/v1/accounts/tenant-b/service-accounts/"+tn.saID, admin,
			map[string]any{"tokenRateLimit": map[string]any{"perMinute": 60, "burst": 2}}), 200)
		path := "/v1/accounts/tenant-b/auth/token"
		cc := url.Values{"grant_type": {"client_credentials"}}
		for i := 0; i < 2; i++ {
			r := e.form(path, tn.clientID, tn.secret, cc)
			must(t, r, 200)
			if r.header.Get("RateLimit-Remaining") != []string{"1", "0"}[i] {
				t.Fatalf("RateLimit-Remaining %q on request %d", r.header.Get("RateLimit-Remaining"), i)
			}
		}
		r := e.form(path, tn.clientID, tn.secret, cc)
		body := must(t, r, 429)
		if body["error"] != "temporarily_unavailable" || !strings.Contains(body["error_description"].(string), "cache tokens") {
			t.Fatalf("429 body: %v", body)
		}
		if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
			t.Fatalf("Retry-After %q", ra)
		}
		// null removes the override.
		sa := must(t, e.do("PATCH", "/v1/accounts/tenant-b/service-accounts/"+tn.saID, admin, `{"tokenRateLimit": null}`), 200)
		if _, ok := sa["tokenRateLimit"]; ok {
			t.Fatalf("override still shown: %v", sa)
		}
		// Failed authentications do not use up the client's bucket.
		tn2 := e.newTenant(admin, "tenant-c", map[string]any{"tokenRateLimit": map[string]any{"perMinute": 60, "burst": 1}})
		for i := 0; i < 5; i++ {
			e.form("/v1/accounts/tenant-c/auth/token", tn2.clientID, "wrong", cc)
		}
		must(t, e.form("/v1/accounts/tenant-c/auth/token", tn2.clientID, tn2.secret, cc), 200)
	})
}

func TestFailedClientAuthIsLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	admin := e.adminToken()
	tn := e.newTenant(admin, "tenant-a", nil)
	cc := url.Values{"grant_type": {"client_credentials"}}
	var last resp
	for i := 0; i < 25; i++ {
		last = e.form("/v1/accounts/tenant-a/auth/token", tn.clientID, "twid_wrong", cc)
	}
	if last.status != 429 || last.header.Get("Retry-After") == "" {
		t.Fatalf("after 25 wrong secrets: %d %s", last.status, last.body)
	}
}

func TestRedisRateLimitIsSharedByNodes(t *testing.T) {
	t.Parallel()
	redisURL := os.Getenv("TWINID_TEST_REDIS_URL")
	if redisURL == "" {
		t.Skip("TWINID_TEST_REDIS_URL not set")
	}
	e := newEnvWith(t, "", redisURL)
	admin := e.adminToken()
	tn := e.newTenant(admin, "rl-"+randHex(4), map[string]any{"tokenRateLimit": map[string]any{"perMinute": 60, "burst": 2}})
	node2 := e.secondNode(redisURL)
	path := "/v1/accounts/" + tn.aid + "/auth/token"
	cc := url.Values{"grant_type": {"client_credentials"}}
	must(t, e.form(path, tn.clientID, tn.secret, cc), 200)
	must(t, node2.form(path, tn.clientID, tn.secret, cc), 200)
	// The bucket is cluster-wide: the third token, on either node, is over the burst.
	r := e.form(path, tn.clientID, tn.secret, cc)
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("third token within a burst of 2 across two nodes: %d", r.status)
	}
}
