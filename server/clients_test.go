package server_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

func strs(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

func TestListClients(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		e.newTenant(admin, "acme", nil) // has a service account: not a client
		base := "/v1/accounts/acme/clients"
		want := map[string]string{}
		for _, c := range []struct{ name, typ string }{{"spa", "public"}, {"web", "confidential"}, {"mobile", "public"}} {
			id := must(t, e.do("POST", base, admin, map[string]any{"name": c.name, "type": c.typ}), 201)["clientId"].(string)
			want[id] = c.name + "/" + c.typ
		}
		got := map[string]string{}
		var order []string
		cursor := ""
		for pages := 0; ; pages++ {
			q := base + "?limit=2"
			if cursor != "" {
				q += "&startingAfter=" + url.QueryEscape(cursor)
			}
			pg := must(t, e.do("GET", q, admin, nil), 200)
			for _, c := range items(t, pg) {
				got[c["clientId"].(string)] = c["name"].(string) + "/" + c["type"].(string)
				order = append(order, c["clientId"].(string))
				if c["redirectUris"] == nil || c["postLogoutRedirectUris"] == nil {
					t.Fatalf("lists must be present (empty): %v", c)
				}
			}
			if pg["nextCursor"] == nil {
				break
			}
			cursor = pg["nextCursor"].(string)
			if pages > 3 {
				t.Fatal("pagination does not end")
			}
		}
		if len(got) != 3 || len(order) != 3 || !slices.IsSorted(order) {
			t.Fatalf("listed %v (order %v), want %v", got, order, want)
		}
		for id, v := range want {
			if got[id] != v {
				t.Errorf("client %s listed as %q, want %q", id, got[id], v)
			}
		}
		// Read-only admins list; other accounts' admins see no such account.
		ro := e.serviceToken(admin, "acme", "reader", "api://management/read")
		if n := len(items(t, must(t, e.do("GET", base, ro, nil), 200))); n != 3 {
			t.Fatalf("read-only list: %d clients", n)
		}
		e.newTenant(admin, "beta", nil)
		beta := e.serviceToken(admin, "beta", "beta-admin", "api://management/.default")
		must(t, e.do("GET", base, beta, nil), 404)
		if n := len(items(t, must(t, e.do("GET", "/v1/accounts/beta/clients", beta, nil), 200))); n != 0 {
			t.Fatalf("beta lists %d clients", n)
		}
		must(t, e.do("GET", "/v1/accounts/nope/clients", admin, nil), 404)
		must(t, e.do("GET", base+"?limit=101", admin, nil), 400)
	})
}

func TestUpdateClient(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		e.newTenant(admin, "acme", nil)
		base := "/v1/accounts/acme/clients/"
		oldURI, newURI := "https://app.example.com/old", "https://app.example.com/new"
		created := must(t, e.do("POST", "/v1/accounts/acme/clients", admin, map[string]any{"name": "web", "type": "confidential",
			"redirectUris": []string{oldURI}, "postLogoutRedirectUris": []string{"https://app.example.com/"}}), 201)
		id := created["clientId"].(string)
		must(t, e.do("POST", "/v1/accounts/acme/clients", admin, map[string]any{"name": "other", "type": "confidential"}), 201)

		authorize := func(b *browser, redirect string) resp {
			return b.get(e.url + "/v1/accounts/acme/auth/authorize?" + url.Values{"response_type": {"code"}, "client_id": {id},
				"redirect_uri": {redirect}, "scope": {"openid"}}.Encode())
		}
		b := newBrowser(t)
		if r := authorize(b, oldURI); r.status != 200 {
			t.Fatalf("sign-in with the registered URI: %d", r.status)
		}

		up := must(t, e.do("PATCH", base+id, admin, map[string]any{"name": "web app", "description": "The shop",
			"redirectUris": []string{newURI, newURI}}), 200)
		if up["name"] != "web app" || up["description"] != "The shop" || up["type"] != "confidential" || up["clientId"] != id ||
			!slices.Equal(strs(up["redirectUris"]), []string{newURI}) ||
			!slices.Equal(strs(up["postLogoutRedirectUris"]), []string{"https://app.example.com/"}) {
			t.Fatalf("PATCH answer: %v", up)
		}
		if !sameInstant(t, up["createdAt"], created["createdAt"]) || instant(t, up["updatedAt"]).Before(instant(t, created["updatedAt"])) {
			t.Fatalf("timestamps: %v → %v", created, up)
		}
		got := must(t, e.do("GET", base+id, admin, nil), 200)
		if got["name"] != "web app" || got["description"] != "The shop" || !slices.Equal(strs(got["redirectUris"]), []string{newURI}) {
			t.Fatalf("GET after PATCH: %v", got)
		}
		// The sign-in page takes the new URI at once, and no longer the old one.
		if r := authorize(b, newURI); r.status != 200 || !strings.Contains(string(r.body), "Sign in") {
			t.Fatalf("sign-in with the new URI: %d %s", r.status, r.body)
		}
		if r := authorize(b, oldURI); r.status != 400 || r.header.Get("Location") != "" {
			t.Fatalf("sign-in with the removed URI: %d %v", r.status, r.header)
		}

		// An empty list replaces the whole list; absent fields stay.
		up = must(t, e.do("PATCH", base+id, admin, map[string]any{"postLogoutRedirectUris": []string{}}), 200)
		if len(up["postLogoutRedirectUris"].([]any)) != 0 || up["name"] != "web app" || len(strs(up["redirectUris"])) != 1 {
			t.Fatalf("PATCH with an empty list: %v", up)
		}

		// Refused: a taken name (409), a bad URI (422, naming it), the type or unknown fields (400).
		if code := problemCode(t, e.do("PATCH", base+id, admin, map[string]any{"name": "other"}), 409); code != "conflict" {
			t.Fatalf("PATCH to a taken name: code %q", code)
		}
		r := e.do("PATCH", base+id, admin, map[string]any{"redirectUris": []string{newURI, "http://evil.example.com/cb"}})
		if code := problemCode(t, r, 422); code != "invalid_redirect_uri" || !strings.Contains(string(r.body), `"field":"redirectUris[1]"`) {
			t.Fatalf("PATCH with a bad URI: %s", r.body)
		}
		r = e.do("PATCH", base+id, admin, map[string]any{"postLogoutRedirectUris": []string{"https://app.example.com/#x"}})
		if code := problemCode(t, r, 422); code != "invalid_redirect_uri" || !strings.Contains(string(r.body), `"field":"postLogoutRedirectUris[0]"`) {
			t.Fatalf("PATCH with a fragment: %s", r.body)
		}
		must(t, e.do("PATCH", base+id, admin, map[string]any{"type": "public"}), 400)
		must(t, e.do("PATCH", base+id, admin, map[string]any{"name": ""}), 400)
		if got := must(t, e.do("GET", base+id, admin, nil), 200); got["name"] != "web app" || got["type"] != "confidential" ||
			!slices.Equal(strs(got["redirectUris"]), []string{newURI}) {
			t.Fatalf("refused PATCHes changed the client: %v", got)
		}

		// Unknown ids, service accounts (not clients), other accounts, read-only tokens.
		if code := problemCode(t, e.do("PATCH", base+"nope", admin, map[string]any{"name": "x"}), 404); code != "not_found" {
			t.Fatalf("PATCH of an unknown client: code %q", code)
		}
		must(t, e.do("PATCH", "/v1/accounts/root/clients/"+e.adminID, admin, map[string]any{"name": "x"}), 404)
		e.newTenant(admin, "beta", nil)
		must(t, e.do("PATCH", "/v1/accounts/beta/clients/"+id, admin, map[string]any{"name": "x"}), 404)
		beta := e.serviceToken(admin, "beta", "beta-admin", "api://management/.default")
		must(t, e.do("PATCH", base+id, beta, map[string]any{"name": "x"}), 404)
		ro := e.serviceToken(admin, "acme", "reader", "api://management/read")
		if code := problemCode(t, e.do("PATCH", base+id, ro, map[string]any{"name": "x"}), 403); code != "insufficient_scope" {
			t.Fatalf("read-only PATCH: code %q", code)
		}
		if got := must(t, e.do("GET", base+id, ro, nil), 200); got["name"] != "web app" {
			t.Fatalf("refused PATCHes changed the client: %v", got)
		}
	})
}

func TestClientSecretsListAndDelete(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		e.newTenant(admin, "acme", nil)
		cbase := "/v1/accounts/acme/clients/"
		web := must(t, e.do("POST", "/v1/accounts/acme/clients", admin, map[string]any{"name": "web", "type": "confidential"}), 201)["clientId"].(string)
		other := must(t, e.do("POST", "/v1/accounts/acme/clients", admin, map[string]any{"name": "other", "type": "confidential"}), 201)["clientId"].(string)
		spa := must(t, e.do("POST", "/v1/accounts/acme/clients", admin, map[string]any{"name": "spa", "type": "public"}), 201)["clientId"].(string)
		must(t, e.do("POST", "/v1/accounts/acme/grants", admin, map[string]any{"clientId": web, "audience": apiAud,
			"type": "client_credentials", "scopes": []string{"orders:read"}}), 201)
		s1 := must(t, e.do("POST", cbase+web+"/secrets", admin, map[string]any{"description": "old"}), 201)
		s2 := must(t, e.do("POST", cbase+web+"/secrets", admin, map[string]any{"description": "new"}), 201)
		otherSecret := must(t, e.do("POST", cbase+other+"/secrets", admin, nil), 201)
		cc := url.Values{"grant_type": {"client_credentials"}, "audience": {apiAud}}
		for _, s := range []map[string]any{s1, s2} {
			if tok := must(t, e.form("/v1/accounts/acme/auth/token", web, s["secret"].(string), cc), 200); tok["scope"] != "orders:read" {
				t.Fatalf("token: %v", tok)
			}
		}

		list := items(t, must(t, e.do("GET", cbase+web+"/secrets", admin, nil), 200))
		if len(list) != 2 {
			t.Fatalf("%d secrets listed, want 2", len(list))
		}
		byID := map[string]map[string]any{}
		for _, s := range list {
			byID[s["id"].(string)] = s
			if _, ok := s["secret"]; ok {
				t.Fatalf("the listing returns a secret value: %v", s)
			}
		}
		for _, s := range []map[string]any{s1, s2} {
			l := byID[s["id"].(string)]
			if l == nil || l["hint"] != s["secret"].(string)[len(s["secret"].(string))-4:] || l["description"] != s["description"] ||
				l["status"] != "active" || l["expiresAt"] != nil {
				t.Fatalf("listed secret %v for created %v", l, s)
			}
		}
		pg := must(t, e.do("GET", cbase+web+"/secrets?limit=1", admin, nil), 200)
		if len(items(t, pg)) != 1 || pg["nextCursor"] == nil {
			t.Fatalf("first page of one: %v", pg)
		}
		pg = must(t, e.do("GET", cbase+web+"/secrets?limit=1&startingAfter="+url.QueryEscape(pg["nextCursor"].(string)), admin, nil), 200)
		if len(items(t, pg)) != 1 || pg["nextCursor"] != nil {
			t.Fatalf("second page of one: %v", pg)
		}
		if n := len(items(t, must(t, e.do("GET", cbase+spa+"/secrets", admin, nil), 200))); n != 0 {
			t.Fatalf("a public client lists %d secrets", n)
		}

		// Deleting one: it stops working at once, the other goes on.
		must(t, e.do("DELETE", cbase+web+"/secrets/"+s1["id"].(string), admin, nil), 204)
		if r := e.form("/v1/accounts/acme/auth/token", web, s1["secret"].(string), cc); r.status != 401 || r.json(t)["error"] != "invalid_client" {
			t.Fatalf("deleted secret: %d %s", r.status, r.body)
		}
		must(t, e.form("/v1/accounts/acme/auth/token", web, s2["secret"].(string), cc), 200)
		list = items(t, must(t, e.do("GET", cbase+web+"/secrets", admin, nil), 200))
		if len(list) != 1 || list[0]["id"] != s2["id"] {
			t.Fatalf("after the delete: %v", list)
		}
		if code := problemCode(t, e.do("DELETE", cbase+web+"/secrets/"+s1["id"].(string), admin, nil), 404); code != "not_found" {
			t.Fatalf("second delete: code %q", code)
		}
		// Another client's secret cannot be deleted through this client.
		must(t, e.do("DELETE", cbase+web+"/secrets/"+otherSecret["id"].(string), admin, nil), 404)
		if n := len(items(t, must(t, e.do("GET", cbase+other+"/secrets", admin, nil), 200))); n != 1 {
			t.Fatalf("the other client has %d secrets", n)
		}

		// Unknown clients, service accounts, other accounts, read-only tokens.
		must(t, e.do("GET", cbase+"nope/secrets", admin, nil), 404)
		must(t, e.do("DELETE", cbase+"nope/secrets/"+s2["id"].(string), admin, nil), 404)
		must(t, e.do("GET", "/v1/accounts/root/clients/"+e.adminID+"/secrets", admin, nil), 404)
		e.newTenant(admin, "beta", nil)
		beta := e.serviceToken(admin, "beta", "beta-admin", "api://management/.default")
		must(t, e.do("GET", cbase+web+"/secrets", beta, nil), 404)
		must(t, e.do("DELETE", cbase+web+"/secrets/"+s2["id"].(string), beta, nil), 404)
		must(t, e.do("DELETE", "/v1/accounts/beta/clients/"+web+"/secrets/"+s2["id"].(string), admin, nil), 404)
		ro := e.serviceToken(admin, "acme", "reader", "api://management/read")
		if n := len(items(t, must(t, e.do("GET", cbase+web+"/secrets", ro, nil), 200))); n != 1 {
			t.Fatalf("read-only listing: %d", n)
		}
		if code := problemCode(t, e.do("DELETE", cbase+web+"/secrets/"+s2["id"].(string), ro, nil), 403); code != "insufficient_scope" {
			t.Fatalf("read-only delete: code %q", code)
		}
		// After all the refused deletes the remaining secret still works.
		must(t, e.form("/v1/accounts/acme/auth/token", web, s2["secret"].(string), cc), 200)
	})
}
