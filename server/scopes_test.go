package server_test

import (
	"net/url"
	"testing"
)

// scopeByName finds a scope of the account's catalogue by its scope string.
func (e *env) scopeByName(admin, aid, scope string) map[string]any {
	e.t.Helper()
	for _, sc := range items(e.t, must(e.t, e.do("GET", "/v1/accounts/"+aid+"/scopes?limit=100", admin, nil), 200)) {
		if sc["scope"] == scope {
			return sc
		}
	}
	e.t.Fatalf("no scope %s in %s", scope, aid)
	return nil
}

func TestGetAndUpdateScope(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		tn := e.newTenant(admin, "acme", nil)
		base := "/v1/accounts/acme/scopes/"
		created := must(t, e.do("POST", "/v1/accounts/acme/scopes", admin, map[string]any{"serviceName": "Billing",
			"audience": "api://billing", "scope": "billing:read", "description": "Read invoices"}), 201)
		id := created["id"].(string)

		got := must(t, e.do("GET", base+id, admin, nil), 200)
		for k, want := range map[string]any{"id": id, "serviceName": "Billing", "audience": "api://billing",
			"scope": "billing:read", "description": "Read invoices", "builtin": false} {
			if got[k] != want {
				t.Errorf("GET %s = %v, want %v", k, got[k], want)
			}
		}

		if !sameInstant(t, got["createdAt"], created["createdAt"]) {
			t.Errorf("GET createdAt = %v, created %v", got["createdAt"], created["createdAt"])
		}

		// Both mutable fields change; audience and scope stay.
		up := must(t, e.do("PATCH", base+id, admin, map[string]any{"serviceName": "Invoicing", "description": "Read all invoices"}), 200)
		if up["serviceName"] != "Invoicing" || up["description"] != "Read all invoices" || up["audience"] != "api://billing" ||
			up["scope"] != "billing:read" || up["id"] != id {
			t.Fatalf("PATCH answer: %v", up)
		}
		got = must(t, e.do("GET", base+id, admin, nil), 200)
		if got["serviceName"] != "Invoicing" || got["description"] != "Read all invoices" {
			t.Fatalf("GET after PATCH: %v", got)
		}
		// Merge semantics: an absent field is kept, an empty description clears it.
		up = must(t, e.do("PATCH", base+id, admin, map[string]any{"description": ""}), 200)
		if up["serviceName"] != "Invoicing" || up["description"] != "" {
			t.Fatalf("PATCH of the description only: %v", up)
		}
		if got := must(t, e.do("GET", base+id, admin, nil), 200); got["serviceName"] != "Invoicing" || got["description"] != "" {
			t.Fatalf("GET after clearing the description: %v", got)
		}

		// The service account holding a scope shows its new service name at once.
		held := e.scopeByName(admin, "acme", tn.scope)
		must(t, e.do("GET", "/v1/accounts/acme/service-accounts/"+tn.saID, admin, nil), 200) // cached now
		must(t, e.do("PATCH", base+held["id"].(string), admin, map[string]any{"serviceName": "Renamed service"}), 200)
		sa := must(t, e.do("GET", "/v1/accounts/acme/service-accounts/"+tn.saID, admin, nil), 200)
		if sc := sa["scopes"].([]any)[0].(map[string]any); sc["serviceName"] != "Renamed service" || sc["scope"] != tn.scope {
			t.Fatalf("service account scopes after the rename: %v", sa["scopes"])
		}
		// And its tokens still carry the scope, unchanged.
		tok := must(t, e.form("/v1/accounts/acme/auth/token", tn.clientID, tn.secret, url.Values{"grant_type": {"client_credentials"}}), 200)
		if tok["scope"] != tn.scope {
			t.Fatalf("token scope after the rename: %v", tok["scope"])
		}

		// What may not change: the fixed fields (400), built-in scopes (422).
		for name, body := range map[string]map[string]any{
			"audience":           {"audience": "api://other"},
			"scope":              {"scope": "billing:write"},
			"empty service name": {"serviceName": ""},
		} {
			if code := problemCode(t, e.do("PATCH", base+id, admin, body), 400); code != "validation_failed" {
				t.Errorf("PATCH %s: code %q", name, code)
			}
		}
		builtin := e.scopeByName(admin, "acme", "api://management/read")
		if code := problemCode(t, e.do("PATCH", base+builtin["id"].(string), admin, map[string]any{"description": "mine now"}), 422); code != "builtin_scope" {
			t.Fatalf("PATCH of a built-in scope: code %q", code)
		}
		if got := must(t, e.do("GET", base+builtin["id"].(string), admin, nil), 200); got["description"] != builtin["description"] || got["builtin"] != true {
			t.Fatalf("the built-in scope changed: %v", got)
		}
		if got := must(t, e.do("GET", base+id, admin, nil), 200); got["audience"] != "api://billing" || got["scope"] != "billing:read" {
			t.Fatalf("refused PATCHes changed the scope: %v", got)
		}

		// Unknown ids, other accounts, read-only tokens.
		if code := problemCode(t, e.do("GET", base+"nope", admin, nil), 404); code != "not_found" {
			t.Fatalf("GET of an unknown scope: code %q", code)
		}
		must(t, e.do("PATCH", base+"nope", admin, map[string]any{"description": "x"}), 404)
		e.newTenant(admin, "beta", nil)
		must(t, e.do("GET", "/v1/accounts/beta/scopes/"+id, admin, nil), 404) // acme's scope under beta
		must(t, e.do("PATCH", "/v1/accounts/beta/scopes/"+id, admin, map[string]any{"description": "x"}), 404)
		beta := e.serviceToken(admin, "beta", "beta-admin", "api://management/.default")
		must(t, e.do("GET", base+id, beta, nil), 404)
		must(t, e.do("PATCH", base+id, beta, map[string]any{"description": "x"}), 404)
		ro := e.serviceToken(admin, "acme", "reader", "api://management/read")
		must(t, e.do("GET", base+id, ro, nil), 200)
		if code := problemCode(t, e.do("PATCH", base+id, ro, map[string]any{"description": "x"}), 403); code != "insufficient_scope" {
			t.Fatalf("read-only PATCH: code %q", code)
		}
		must(t, e.do("GET", base+id, "", nil), 401)
		if got := must(t, e.do("GET", base+id, admin, nil), 200); got["description"] != "" || got["serviceName"] != "Invoicing" {
			t.Fatalf("refused PATCHes changed the scope: %v", got)
		}
	})
}
