package server_test

import (
	"net/url"
	"strings"
	"testing"
)

// A bad query parameter is named in the problem's errors (never "body"), and a cursor that
// no page handed out is a 400 rather than an empty page.
func TestQueryParameterErrorsNameTheParameter(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		e.newTenant(admin, "acme", nil)
		for _, c := range []struct{ query, field string }{
			{"/v1/accounts?limit=abc", "limit"},
			{"/v1/accounts?limit=0", "limit"},
			{"/v1/accounts?limit=100000", "limit"},
			{"/v1/accounts/acme/scopes?startingAfter=" + strings.Repeat("x", 200), "startingAfter"},
			{"/v1/accounts/acme/scopes?startingAfter=not-a-cursor", "startingAfter"},
			{"/v1/accounts/acme/service-accounts?startingAfter=%27%3B--", "startingAfter"},
			{"/v1/accounts?startingAfter=zzz", "startingAfter"},
			{"/v1/accounts/acme/clients?startingAfter=0192f1b2-6c1e-7a3d-9f51-0c4b8e2d1a80x", "startingAfter"},
			{"/v1/accounts/acme/customers/users?startingAfter=garbage", "startingAfter"},
			{"/v1/accounts/acme/customers/users?status=sleeping", "status"},
			{"/v1/accounts/acme/grants?clientId=" + strings.Repeat("y", 300), "clientId"},
		} {
			p := must(t, e.do("GET", c.query, admin, nil), 400)
			errs, _ := p["errors"].([]any)
			if len(errs) == 0 {
				t.Errorf("%s: no errors: %v", c.query, p)
				continue
			}
			if f := errs[0].(map[string]any)["field"]; f != c.field {
				t.Errorf("%s: field %v, want %s: %v", c.query, f, c.field, p)
			}
		}
		// A cursor pages its own list only.
		for _, name := range []string{"more", "most"} {
			must(t, e.do("POST", "/v1/accounts/acme/service-accounts", admin, map[string]any{"name": name, "scopes": []string{}}), 201)
		}
		pg := must(t, e.do("GET", "/v1/accounts/acme/service-accounts?limit=1", admin, nil), 200)
		cursor, _ := pg["nextCursor"].(string)
		if cursor == "" {
			t.Fatalf("no cursor: %v", pg)
		}
		must(t, e.do("GET", "/v1/accounts/acme/service-accounts?limit=1&startingAfter="+url.QueryEscape(cursor), admin, nil), 200)
		must(t, e.do("GET", "/v1/accounts/acme/clients?limit=1&startingAfter="+url.QueryEscape(cursor), admin, nil), 400)
		must(t, e.do("GET", "/v1/accounts/acme/scopes?limit=1&startingAfter="+url.QueryEscape(cursor), admin, nil), 400)
	})
}
