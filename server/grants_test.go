package server_test

import (
	"net/url"
	"testing"
)

func TestDeleteGrant(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		e.newTenant(admin, "acme", nil)
		base := "/v1/accounts/acme/grants"
		web := must(t, e.do("POST", "/v1/accounts/acme/clients", admin, map[string]any{"name": "web", "type": "confidential"}), 201)["clientId"].(string)
		secret := must(t, e.do("POST", "/v1/accounts/acme/clients/"+web+"/secrets", admin, nil), 201)["secret"].(string)
		newGrant := map[string]any{"clientId": web, "audience": apiAud, "type": "client_credentials", "scopes": []string{"orders:read"}}
		cc := must(t, e.do("POST", base, admin, newGrant), 201)
		pw := must(t, e.do("POST", base, admin, map[string]any{"clientId": web, "audience": apiAud, "type": "password",
			"scopes": []string{"orders:read"}}), 201)
		token := func() resp {
			return e.form("/v1/accounts/acme/auth/token", web, secret, url.Values{"grant_type": {"client_credentials"}, "audience": {apiAud}})
		}
		if tok := must(t, token(), 200); tok["scope"] != "orders:read" {
			t.Fatalf("token before the delete: %v", tok)
		}

		// Refused first: read-only, other accounts, the grant under another account.
		ro := e.serviceToken(admin, "acme", "reader", "api://management/read")
		if code := problemCode(t, e.do("DELETE", base+"/"+cc["id"].(string), ro, nil), 403); code != "insufficient_scope" {
			t.Fatalf("read-only delete: code %q", code)
		}
		e.newTenant(admin, "beta", nil)
		beta := e.serviceToken(admin, "beta", "beta-admin", "api://management/.default")
		must(t, e.do("DELETE", base+"/"+cc["id"].(string), beta, nil), 404)
		must(t, e.do("DELETE", "/v1/accounts/beta/grants/"+cc["id"].(string), admin, nil), 404)
		must(t, e.do("GET", base+"/"+cc["id"].(string), ro, nil), 200)
		must(t, token(), 200)

		must(t, e.do("DELETE", base+"/"+cc["id"].(string), admin, nil), 204)
		if code := problemCode(t, e.do("GET", base+"/"+cc["id"].(string), admin, nil), 404); code != "not_found" {
			t.Fatalf("GET of the deleted grant: code %q", code)
		}
		left := items(t, must(t, e.do("GET", base+"?clientId="+web, admin, nil), 200))
		if len(left) != 1 || left[0]["id"] != pw["id"] {
			t.Fatalf("grants of the client after the delete: %v", left)
		}
		// The client can no longer get the grant's tokens, at once.
		if r := token(); r.status != 400 || r.json(t)["error"] != "unauthorized_client" {
			t.Fatalf("token after the delete: %d %s", r.status, r.body)
		}
		if code := problemCode(t, e.do("DELETE", base+"/"+cc["id"].(string), admin, nil), 404); code != "not_found" {
			t.Fatalf("second delete: code %q", code)
		}
		must(t, e.do("DELETE", base+"/nope", admin, nil), 404)
		// The same grant may be created again (no 409), and works again.
		must(t, e.do("POST", base, admin, newGrant), 201)
		must(t, token(), 200)
		if n := len(items(t, must(t, e.do("GET", base+"?clientId="+web, admin, nil), 200))); n != 2 {
			t.Fatalf("%d grants after re-creating, want 2", n)
		}
	})
}
