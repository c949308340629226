package server_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/twinid/twinid/server"
)

func TestManagementErrorsAndIsolation(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		a := e.newTenant(admin, "tenant-a", nil)
		e.newTenant(admin, "tenant-b", nil)

		// 401 with WWW-Authenticate: Bearer, as problem+json.
		r := e.do("GET", "/v1/accounts/tenant-a/scopes", "", nil)
		if r.status != 401 || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") || r.header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("401: %d %v %s", r.status, r.header, r.body)
		}
		must(t, e.do("GET", "/v1/accounts/tenant-a/scopes", "not.a.jwt", nil), 401)

		// An admin of tenant-a: a service account there with the management scope.
		sa := must(t, e.do("POST", "/v1/accounts/tenant-a/service-accounts", admin, map[string]any{"name": "admin-a", "scopes": []string{"api://management/.default"}}), 201)
		sec := must(t, e.do("POST", "/v1/accounts/tenant-a/service-accounts/"+sa["id"].(string)+"/secrets", admin, nil), 201)
		tokA := must(t, e.form("/v1/accounts/tenant-a/auth/token", sa["clientId"].(string), sec["secret"].(string),
			url.Values{"grant_type": {"client_credentials"}, "scope": {"api://management/.default"}}), 200)["access_token"].(string)
		must(t, e.do("GET", "/v1/accounts/tenant-a/service-accounts", tokA, nil), 200)
		for _, p := range []string{"/v1/accounts/tenant-b/scopes", "/v1/accounts/tenant-b/service-accounts", "/v1/accounts/tenant-b", "/v1/accounts/tenant-b/signing-keys"} {
			if r := e.do("GET", p, tokA, nil); r.status != 404 {
				t.Fatalf("%s with tenant-a's token: %d", p, r.status)
			}
		}
		if r := e.do("POST", "/v1/accounts/tenant-b/scopes", tokA, map[string]any{"serviceName": "x", "audience": "x", "scope": "x"}); r.status != 404 {
			t.Fatalf("write to tenant-b: %d", r.status)
		}
		must(t, e.do("GET", "/v1/accounts", tokA, nil), 403)
		// A token of tenant-a's issuer is worthless as a tenant-a token of its service scope.
		tokScope := must(t, e.form("/v1/accounts/tenant-a/auth/token", a.clientID, a.secret, url.Values{"grant_type": {"client_credentials"}}), 200)["access_token"].(string)
		must(t, e.do("GET", "/v1/accounts/tenant-a/scopes", tokScope, nil), 401)

		// Read-only token: GET works, POST is 403 naming the scope.
		ro := must(t, e.do("POST", "/v1/accounts/tenant-a/service-accounts", admin, map[string]any{"name": "reader", "scopes": []string{"api://management/read"}}), 201)
		roSec := must(t, e.do("POST", "/v1/accounts/tenant-a/service-accounts/"+ro["id"].(string)+"/secrets", admin, nil), 201)
		tokRO := must(t, e.form("/v1/accounts/tenant-a/auth/token", ro["clientId"].(string), roSec["secret"].(string), url.Values{"grant_type": {"client_credentials"}}), 200)["access_token"].(string)
		must(t, e.do("GET", "/v1/accounts/tenant-a/scopes", tokRO, nil), 200)
		p := must(t, e.do("POST", "/v1/accounts/tenant-a/scopes", tokRO, map[string]any{"serviceName": "x", "audience": "x", "scope": "x"}), 403)
		if !strings.Contains(p["detail"].(string), "api://management/.default") {
			t.Fatalf("403 does not name the scope: %v", p)
		}

		// 409 on duplicates, 422 on unknown scopes and built-ins, 404, 415, 413, 400.
		must(t, e.do("POST", "/v1/accounts/tenant-a/scopes", admin, map[string]any{"serviceName": "dup", "audience": a.audience, "scope": a.scope}), 409)
		must(t, e.do("POST", "/v1/accounts/tenant-a/service-accounts", admin, map[string]any{"name": "worker", "scopes": []string{}}), 409)
		p = must(t, e.do("POST", "/v1/accounts/tenant-a/service-accounts", admin, map[string]any{"name": "new", "scopes": []string{"api://nope/.default"}}), 422)
		if p["errors"].([]any)[0].(map[string]any)["field"] != "scopes[0]" {
			t.Fatalf("422 fields: %v", p)
		}
		must(t, e.do("POST", "/v1/accounts", admin, map[string]any{"aid": "tenant-a", "name": "again"}), 409)
		must(t, e.do("GET", "/v1/accounts/tenant-a/service-accounts/nope", admin, nil), 404)
		must(t, e.do("GET", "/v1/accounts/nope/scopes", admin, nil), 404)
		scopes := must(t, e.do("GET", "/v1/accounts/tenant-a/scopes?limit=100", admin, nil), 200)["items"].([]any)
		var used, builtin string
		for _, s := range scopes {
			sm := s.(map[string]any)
			if sm["scope"] == a.scope {
				used = sm["id"].(string)
			}
			if sm["builtin"] == true {
				builtin = sm["id"].(string)
			}
		}
		must(t, e.do("DELETE", "/v1/accounts/tenant-a/scopes/"+used, admin, nil), 409)
		must(t, e.do("DELETE", "/v1/accounts/tenant-a/scopes/"+builtin, admin, nil), 422)
		req, _ := http.NewRequest("POST", e.url+"/v1/accounts/tenant-a/scopes", strings.NewReader("serviceName=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+admin)
		must(t, e.send(req), 415)
		big := `{"name":"` + strings.Repeat("x", 2<<20) + `","scopes":[]}`
		must(t, e.do("POST", "/v1/accounts/tenant-a/service-accounts", admin, big), 413)
		p = must(t, e.do("POST", "/v1/accounts/tenant-a/service-accounts", admin, map[string]any{"name": "", "extra": 1}), 400)
		if len(p["errors"].([]any)) < 2 {
			t.Fatalf("400 lists %v", p["errors"])
		}
		// A failed request changes nothing.
		list := must(t, e.do("GET", "/v1/accounts/tenant-a/service-accounts", admin, nil), 200)
		if n := len(list["items"].([]any)); n != 3 {
			t.Fatalf("%d service accounts after failed requests, want 3", n)
		}
	})
}

func TestPaginationAndZeroQueries(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		tn := e.newTenant(admin, "tenant-a", nil)
		for i := 0; i < 4; i++ {
			must(t, e.do("POST", "/v1/accounts/tenant-a/scopes", admin, map[string]any{"serviceName": "s", "audience": "api://x", "scope": "s" + string(rune('a'+i))}), 201)
		}
		seen := map[string]bool{}
		cursor := ""
		for pages := 0; pages < 10; pages++ {
			q := "/v1/accounts/tenant-a/scopes?limit=3"
			if cursor != "" {
				q += "&startingAfter=" + url.QueryEscape(cursor)
			}
			pg := must(t, e.do("GET", q, admin, nil), 200)
			for _, it := range pg["items"].([]any) {
				seen[it.(map[string]any)["id"].(string)] = true
			}
			if pg["nextCursor"] == nil {
				break
			}
			cursor = pg["nextCursor"].(string)
		}
		if len(seen) != 9 { // 4 built-in + 1 + 4
			t.Fatalf("paged through %d scopes, want 9", len(seen))
		}
		// Steady state: token issuance runs no SQL.
		cc := url.Values{"grant_type": {"client_credentials"}}
		must(t, e.form("/v1/accounts/tenant-a/auth/token", tn.clientID, tn.secret, cc), 200)
		before := e.st.Queries()
		for i := 0; i < 20; i++ {
			must(t, e.form("/v1/accounts/tenant-a/auth/token", tn.clientID, tn.secret, cc), 200)
		}
		if q := e.st.Queries() - before; q != 0 {
			t.Fatalf("%d queries for 20 tokens, want 0", q)
		}
		// Discovery, metrics, health and the OpenAPI document.
		d := must(t, e.do("GET", "/v1/accounts/tenant-a/.well-known/openid-configuration", "", nil), 200)
		if d["token_endpoint"] != e.url+"/v1/accounts/tenant-a/auth/token" {
			t.Fatalf("discovery: %v", d)
		}
		must(t, e.do("GET", "/readyz", "", nil), 200)
		m := e.do("GET", "/metrics", "", nil)
		if !bytes.Contains(m.body, []byte("twinid_tokens_issued_total")) {
			t.Fatal("metrics lack twinid_tokens_issued_total")
		}
		if r := e.do("GET", "/openapi.json", "", nil); r.status != 200 || !json.Valid(r.body) {
			t.Fatal("openapi.json")
		}
		if r := e.do("GET", "/swagger/", "", nil); r.status != 200 {
			t.Fatal("swagger ui")
		}
	})
}

func TestBootstrapOnceAndKeysEncrypted(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		again, err := e.srv.EnsureBootstrap(context.Background(), server.BootstrapOptions{})
		if err != nil || again.Created || again.ClientSecret != "" {
			t.Fatalf("second bootstrap: %+v %v", again, err)
		}
		// The swagger-ui client and the admin exist; the admin manages root.
		admin := e.adminToken()
		sas := must(t, e.do("GET", "/v1/accounts/root/service-accounts", admin, nil), 200)["items"].([]any)
		if len(sas) != 1 || sas[0].(map[string]any)["clientId"] != e.adminID {
			t.Fatalf("root service accounts: %v", sas)
		}
		// The ES256 key and its RS256 companion for ID tokens.
		rows, err := e.st.Keys().List(context.Background(), "root")
		if err != nil || len(rows) != 2 {
			t.Fatalf("keys: %v %v", rows, err)
		}
		for _, r := range rows {
			if _, err := x509.ParsePKCS8PrivateKey(r.PrivateKey); err == nil {
				t.Fatalf("the private %s key is stored in the clear", r.Alg)
			}
		}
		// Secrets are stored as keyed hashes only.
		tn := e.newTenant(admin, "tenant-a", nil)
		c, _ := e.st.Clients().ByClientID(context.Background(), "tenant-a", tn.clientID)
		secs, _ := e.st.Secrets().Of(context.Background(), c.ID)
		if len(secs) != 1 || bytes.Contains(secs[0].Hash, []byte(tn.secret)) || len(secs[0].Hash) != 32 {
			t.Fatal("secret not stored as a 32-byte hash")
		}
	})
}
