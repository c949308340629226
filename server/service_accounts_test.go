package server_test

import (
	"net/url"
	"testing"
)

func TestUpdateServiceAccount(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		tn := e.newTenant(admin, "acme", nil)
		base := "/v1/accounts/acme/service-accounts/"
		must(t, e.do("POST", "/v1/accounts/acme/scopes", admin, map[string]any{"serviceName": "Svc-acme",
			"audience": tn.audience, "scope": "api://acme/read"}), 201)
		must(t, e.do("POST", "/v1/accounts/acme/service-accounts", admin, map[string]any{"name": "other", "scopes": []string{}}), 201)
		cc := url.Values{"grant_type": {"client_credentials"}}
		token := func() resp { return e.form("/v1/accounts/acme/auth/token", tn.clientID, tn.secret, cc) }
		if tok := must(t, token(), 200); tok["scope"] != tn.scope {
			t.Fatalf("token before: %v", tok)
		}

		// Scopes replace the list; the next token carries the new ones.
		up := must(t, e.do("PATCH", base+tn.saID, admin, map[string]any{"name": "reporting", "description": "Reads reports",
			"scopes": []string{"api://acme/read"}, "tokenRateLimit": map[string]any{"perMinute": 10, "burst": 2}}), 200)
		if up["name"] != "reporting" || up["description"] != "Reads reports" || up["clientId"] != tn.clientID ||
			len(up["scopes"].([]any)) != 1 || up["scopes"].([]any)[0].(map[string]any)["scope"] != "api://acme/read" {
			t.Fatalf("PATCH answer: %v", up)
		}
		if rl := up["tokenRateLimit"].(map[string]any); rl["perMinute"] != 10.0 || rl["burst"] != 2.0 {
			t.Fatalf("rate limit: %v", rl)
		}
		got := must(t, e.do("GET", base+tn.saID, admin, nil), 200)
		if got["name"] != "reporting" || got["tokenRateLimit"] == nil || len(got["scopes"].([]any)) != 1 {
			t.Fatalf("GET after PATCH: %v", got)
		}
		r := token()
		if tok := must(t, r, 200); tok["scope"] != "api://acme/read" || r.header.Get("RateLimit-Limit") != "10" {
			t.Fatalf("token after PATCH: %v %v", tok, r.header)
		}
		// null removes the override (the account's limit applies), absent fields stay.
		up = must(t, e.do("PATCH", base+tn.saID, admin, `{"tokenRateLimit": null}`), 200)
		if _, ok := up["tokenRateLimit"]; ok || up["name"] != "reporting" || len(up["scopes"].([]any)) != 1 {
			t.Fatalf("PATCH tokenRateLimit null: %v", up)
		}
		if r := token(); r.header.Get("RateLimit-Limit") != "100" {
			t.Fatalf("RateLimit-Limit after removing the override: %q", r.header.Get("RateLimit-Limit"))
		}

		// Refused, changing nothing: a taken name, an unknown scope, a bad limit, an unknown field.
		if code := problemCode(t, e.do("PATCH", base+tn.saID, admin, map[string]any{"name": "other"}), 409); code != "conflict" {
			t.Fatalf("taken name: code %q", code)
		}
		r = e.do("PATCH", base+tn.saID, admin, map[string]any{"scopes": []string{"api://acme/read", "api://nope/.default"}})
		if p := must(t, r, 422); p["code"] != "unknown_scope" || p["errors"].([]any)[0].(map[string]any)["field"] != "scopes[1]" {
			t.Fatalf("unknown scope: %v", p)
		}
		must(t, e.do("PATCH", base+tn.saID, admin, map[string]any{"tokenRateLimit": map[string]any{"perMinute": 0, "burst": 1}}), 400)
		must(t, e.do("PATCH", base+tn.saID, admin, map[string]any{"clientId": "mine"}), 400)
		if got := must(t, e.do("GET", base+tn.saID, admin, nil), 200); got["name"] != "reporting" ||
			got["scopes"].([]any)[0].(map[string]any)["scope"] != "api://acme/read" {
			t.Fatalf("refused PATCHes changed it: %v", got)
		}

		// Unknown ids, other accounts, read-only tokens.
		must(t, e.do("PATCH", base+"nope", admin, map[string]any{"name": "x"}), 404)
		e.newTenant(admin, "beta", nil)
		beta := e.serviceToken(admin, "beta", "beta-admin", "api://management/.default")
		must(t, e.do("PATCH", base+tn.saID, beta, map[string]any{"name": "x"}), 404)
		must(t, e.do("PATCH", "/v1/accounts/beta/service-accounts/"+tn.saID, admin, map[string]any{"name": "x"}), 404)
		ro := e.serviceToken(admin, "acme", "reader", "api://management/read")
		if code := problemCode(t, e.do("PATCH", base+tn.saID, ro, map[string]any{"name": "x"}), 403); code != "insufficient_scope" {
			t.Fatalf("read-only PATCH: code %q", code)
		}
	})
}

func TestDeleteServiceAccount(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		tn := e.newTenant(admin, "acme", nil)
		base := "/v1/accounts/acme/service-accounts/"
		cc := url.Values{"grant_type": {"client_credentials"}}
		must(t, e.form("/v1/accounts/acme/auth/token", tn.clientID, tn.secret, cc), 200)

		ro := e.serviceToken(admin, "acme", "reader", "api://management/read")
		if code := problemCode(t, e.do("DELETE", base+tn.saID, ro, nil), 403); code != "insufficient_scope" {
			t.Fatalf("read-only delete: code %q", code)
		}
		e.newTenant(admin, "beta", nil)
		beta := e.serviceToken(admin, "beta", "beta-admin", "api://management/.default")
		must(t, e.do("DELETE", base+tn.saID, beta, nil), 404)
		must(t, e.do("DELETE", "/v1/accounts/beta/service-accounts/"+tn.saID, admin, nil), 404)
		must(t, e.form("/v1/accounts/acme/auth/token", tn.clientID, tn.secret, cc), 200)

		must(t, e.do("DELETE", base+tn.saID, admin, nil), 204)
		if code := problemCode(t, e.do("GET", base+tn.saID, admin, nil), 404); code != "not_found" {
			t.Fatalf("GET after delete: code %q", code)
		}
		must(t, e.do("GET", base+tn.saID+"/secrets", admin, nil), 404)
		must(t, e.do("DELETE", base+tn.saID+"/secrets/"+tn.secretID, admin, nil), 404)
		if r := e.form("/v1/accounts/acme/auth/token", tn.clientID, tn.secret, cc); r.status != 401 || r.json(t)["error"] != "invalid_client" {
			t.Fatalf("token after delete: %d %s", r.status, r.body)
		}
		for _, sa := range items(t, must(t, e.do("GET", "/v1/accounts/acme/service-accounts", admin, nil), 200)) {
			if sa["id"] == tn.saID {
				t.Fatal("the deleted service account is listed")
			}
		}
		must(t, e.do("DELETE", base+tn.saID, admin, nil), 404)
		// The scope it held may be deleted now (no 409).
		must(t, e.do("DELETE", "/v1/accounts/acme/scopes/"+e.scopeByName(admin, "acme", tn.scope)["id"].(string), admin, nil), 204)
		// Its name is free again.
		must(t, e.do("POST", "/v1/accounts/acme/service-accounts", admin, map[string]any{"name": "worker", "scopes": []string{}}), 201)
	})
}
