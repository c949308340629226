package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/twinid/twinid/server"
)

// The console's public client exists from the first start, points back at /console/, and is
// created again on start in a database that lacks it (one bootstrapped before the console).
func TestConsoleClientAndPage(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		c := must(t, e.do("GET", "/v1/accounts/root/clients/console", admin, nil), 200)
		uris, _ := c["redirectUris"].([]any)
		if c["type"] != "public" || len(uris) != 1 || uris[0] != e.url+"/console/callback" {
			t.Fatalf("console client: %v", c)
		}
		grants := must(t, e.do("GET", "/v1/accounts/root/grants?clientId=console", admin, nil), 200)["items"].([]any)
		if len(grants) != 1 || grants[0].(map[string]any)["type"] != "authorization_code" || grants[0].(map[string]any)["audience"] != server.ManagementAudience {
			t.Fatalf("console grants: %v", grants)
		}

		must(t, e.do("DELETE", "/v1/accounts/root/clients/console", admin, nil), 204)
		if r := e.do("GET", "/v1/accounts/root/clients/console", admin, nil); r.status != 404 {
			t.Fatalf("deleted console client: %d", r.status)
		}
		again, err := e.srv.EnsureBootstrap(context.Background(), server.BootstrapOptions{})
		if err != nil || again.Created {
			t.Fatalf("start on a bootstrapped database: %+v %v", again, err)
		}
		must(t, e.do("GET", "/v1/accounts/root/clients/console", admin, nil), 200)
		grants = must(t, e.do("GET", "/v1/accounts/root/grants?clientId=console", admin, nil), 200)["items"].([]any)
		if len(grants) != 1 {
			t.Fatalf("recreated console grants: %v", grants)
		}

		// twinid serves the console itself, under a policy that allows only its own origin.
		for _, p := range []string{"/console/", "/console/callback"} {
			r := e.do("GET", p, "", nil)
			if r.status != 200 || !strings.Contains(string(r.body), `<div id="app">`) ||
				!strings.HasPrefix(r.header.Get("Content-Security-Policy"), "default-src 'self';") {
				t.Fatalf("GET %s: %d %v %s", p, r.status, r.header, r.body)
			}
		}
	})
}
