package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// withOrigin sends req from a browser page on origin ("" sends no Origin).
func (e *env) withOrigin(req *http.Request, origin string) resp {
	e.t.Helper()
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return e.send(req)
}

// preflight is the OPTIONS request a browser sends before a cross-origin POST with
// Authorization and a JSON body.
func (e *env) preflight(path, origin, method string) resp {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodOptions, e.url+path, nil)
	req.Header.Set("Access-Control-Request-Method", method)
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	return e.withOrigin(req, origin)
}

// allows reports whether an answer lets a script of origin read it, and checks that it
// never does so loosely: the one origin, with credentials, never *, and Vary: Origin.
func allows(t *testing.T, what string, r resp, origin string) bool {
	t.Helper()
	got := r.header.Get("Access-Control-Allow-Origin")
	if got == "*" {
		t.Errorf("%s: Access-Control-Allow-Origin *", what)
	}
	if !strings.Contains(strings.Join(r.header.Values("Vary"), ","), "Origin") {
		t.Errorf("%s: no Vary: Origin (%v)", what, r.header)
	}
	if got == "" {
		if r.header.Get("Access-Control-Allow-Credentials") != "" || r.header.Get("Access-Control-Allow-Methods") != "" {
			t.Errorf("%s: CORS headers without an allowed origin: %v", what, r.header)
		}
		return false
	}
	if got != origin || r.header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("%s: allows %q (credentials %q) for %q", what, got, r.header.Get("Access-Control-Allow-Credentials"), origin)
	}
	return true
}

// Preflights and answers allow exactly the origins the account's clients list, on the
// protocol endpoints and the Management API; other origins, hosted pages and requests
// without Origin get no CORS header; a change of a client's origins applies at once.
func TestCORSAllowsTheRegisteredOrigins(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		sh := e.newShop(nil)
		const spa, backoffice, stranger = "http://127.0.0.1:5173", "https://backoffice.example.com", "https://evil.example.com"
		app := must(t, e.do("POST", sh.base+"/clients", sh.admin, map[string]any{"name": "spa", "type": "public",
			"allowedOrigins": []string{spa, spa}}), 201)
		if o := strs(app["allowedOrigins"]); len(o) != 1 || o[0] != spa {
			t.Fatalf("allowedOrigins answered as %v", app["allowedOrigins"])
		}
		got := must(t, e.do("GET", sh.base+"/clients/"+app["clientId"].(string), sh.admin, nil), 200)
		if o := strs(got["allowedOrigins"]); len(o) != 1 || o[0] != spa {
			t.Fatalf("allowedOrigins read back as %v", got["allowedOrigins"])
		}
		// A backoffice registered on a root client may call every account's Management API.
		must(t, e.do("POST", "/v1/accounts/root/clients", sh.admin, map[string]any{"name": "backoffice", "type": "public",
			"allowedOrigins": []string{backoffice}}), 201)

		ct := sh.clientToken()
		login := func(origin string) resp {
			req, _ := http.NewRequest("POST", e.url+sh.base+"/customers/login",
				strings.NewReader(`{"email":"ada@example.com","password":"correct horse battery","audience":"`+apiAud+`"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+ct)
			return e.withOrigin(req, origin)
		}
		for _, path := range []string{"/auth/token", "/auth/revoke", "/auth/introspect", "/userinfo", "/customers/login",
			"/customers/change_password", "/auth/oidc/token", "/clients", "/customers/users/x/password", "/events"} {
			p := e.preflight(sh.base+path, spa, "POST")
			if p.status != 204 || !allows(t, "preflight "+path, p, spa) || !strings.Contains(p.header.Get("Access-Control-Allow-Methods"), "POST") ||
				!strings.Contains(strings.ToLower(p.header.Get("Access-Control-Allow-Headers")), "authorization") ||
				p.header.Get("Access-Control-Max-Age") == "" {
				t.Errorf("preflight of %s from the SPA: %d %v", path, p.status, p.header)
			}
			if p := e.preflight(sh.base+path, stranger, "POST"); p.status != 204 || allows(t, "stranger "+path, p, stranger) {
				t.Errorf("preflight of %s from an unregistered origin: %d %v", path, p.status, p.header)
			}
		}
		// The origin is compared exactly: another port, scheme or a trailing slash is another origin.
		for _, near := range []string{"http://127.0.0.1:5174", "https://127.0.0.1:5173", spa + "/", "http://localhost:5173"} {
			if allows(t, near, e.preflight(sh.base+"/auth/token", near, "POST"), near) {
				t.Errorf("%s allowed as %s", near, spa)
			}
		}

		// Answers: the SPA reads its login, errors too; a stranger and a server (no Origin) get no CORS.
		r := login(spa)
		must(t, r, 200)
		if !allows(t, "login", r, spa) || !strings.Contains(r.header.Get("Access-Control-Expose-Headers"), "Retry-After") {
			t.Errorf("login from the SPA: %v", r.header)
		}
		if r := login(stranger); r.status != 200 || allows(t, "login from a stranger", r, stranger) {
			t.Errorf("login from a stranger: %d %v", r.status, r.header)
		}
		if r := login(""); r.status != 200 || allows(t, "login without Origin", r, "") {
			t.Errorf("login without Origin: %v", r.header)
		}
		bad := e.withOrigin(mustRequest(t, "POST", e.url+sh.base+"/auth/token", "grant_type=client_credentials"), spa)
		if bad.status != 401 || !allows(t, "401", bad, spa) {
			t.Errorf("an error from the token endpoint: %d %v", bad.status, bad.header)
		}

		// The Management API: the account's own origins and the root account's.
		list := func(path, origin string) resp {
			req, _ := http.NewRequest("GET", e.url+path, nil)
			req.Header.Set("Authorization", "Bearer "+sh.admin)
			return e.withOrigin(req, origin)
		}
		for _, tc := range []struct {
			path, origin string
			want         bool
		}{
			{sh.base + "/clients", spa, true},
			{sh.base + "/clients", backoffice, true},
			{"/v1/accounts", backoffice, true},
			{"/v1/accounts", spa, false},
			{"/v1/accounts/root/clients", spa, false},
			{sh.base + "/clients", stranger, false},
		} {
			r := list(tc.path, tc.origin)
			if r.status != 200 || allows(t, tc.path, r, tc.origin) != tc.want {
				t.Errorf("GET %s from %s: %d, allowed %v, want %v", tc.path, tc.origin, r.status, !tc.want, tc.want)
			}
		}
		// Hosted pages are for top-level navigation, never for scripts of other origins.
		req, _ := http.NewRequest("GET", e.url+sh.base+"/auth/authorize?"+url.Values{"client_id": {app["clientId"].(string)}}.Encode(), nil)
		if r := e.withOrigin(req, spa); r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("a hosted page allowed a script: %v", r.header)
		}

		// Steady state: the origins come from the node cache, so the token path from an
		// allowed origin, preflight included, still runs no SQL.
		token := func() resp {
			req := mustRequest(t, "POST", e.url+sh.base+"/auth/token", url.Values{"grant_type": {"client_credentials"}, "audience": {apiAud}}.Encode())
			req.SetBasicAuth(sh.clientID, sh.secret)
			return e.withOrigin(req, spa)
		}
		must(t, token(), 200)
		before := e.st.Queries()
		for range 20 {
			if !allows(t, "preflight", e.preflight(sh.base+"/auth/token", spa, "POST"), spa) || !allows(t, "token", token(), spa) {
				t.Fatal("the SPA's token request is not allowed")
			}
		}
		if q := e.st.Queries() - before; q != 0 {
			t.Errorf("%d queries for 20 preflights and tokens from an allowed origin, want 0", q)
		}

		// Removing the origin takes effect on this node at once (the cache is dropped).
		must(t, e.do("PATCH", sh.base+"/clients/"+app["clientId"].(string), sh.admin, map[string]any{"allowedOrigins": []string{}}), 200)
		if allows(t, "after removal", e.preflight(sh.base+"/auth/token", spa, "POST"), spa) {
			t.Error("a removed origin is still allowed")
		}
		must(t, e.do("PATCH", sh.base+"/clients/"+app["clientId"].(string), sh.admin, map[string]any{"allowedOrigins": []string{spa}}), 200)
		if !allows(t, "after adding", e.preflight(sh.base+"/auth/token", spa, "POST"), spa) {
			t.Error("an added origin is not allowed")
		}
		must(t, e.do("DELETE", sh.base+"/clients/"+app["clientId"].(string), sh.admin, nil), 204)
		if allows(t, "after deletion", e.preflight(sh.base+"/auth/token", spa, "POST"), spa) {
			t.Error("the origin of a deleted client is still allowed")
		}
	})
}

func mustRequest(t *testing.T, method, u, form string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// allowedOrigins are exact origins: anything else is a 422 naming the entry.
func TestAllowedOriginsAreValidated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	admin := e.adminToken()
	for _, bad := range []string{"https://*.example.com", "*", "https://app.example.com/", "https://app.example.com/cb",
		"http://app.example.com", "ftp://app.example.com", "https://APP.example.com", "https://app.example.com:443",
		"https://app.example.com?x=1", "https://user@app.example.com", "app.example.com", "null", "https://app.example.com#x"} {
		r := e.do("POST", "/v1/accounts/root/clients", admin, map[string]any{"name": "c", "type": "public",
			"allowedOrigins": []string{"https://ok.example.com", bad}})
		if code := problemCode(t, r, 422); code != "invalid_origin" || !strings.Contains(string(r.body), `"field":"allowedOrigins[1]"`) {
			t.Errorf("%q: %s %s", bad, code, r.body)
		}
	}
	c := must(t, e.do("POST", "/v1/accounts/root/clients", admin, map[string]any{"name": "ok", "type": "public",
		"allowedOrigins": []string{"https://app.example.com", "http://localhost:3000", "http://127.0.0.1:8080", "https://app.example.com:8443"}}), 201)
	if n := len(strs(c["allowedOrigins"])); n != 4 {
		t.Errorf("valid origins: %v", c["allowedOrigins"])
	}
	r := e.do("PATCH", "/v1/accounts/root/clients/"+c["clientId"].(string), admin, map[string]any{"allowedOrigins": []string{"https://a.example.com/path"}})
	if code := problemCode(t, r, 422); code != "invalid_origin" {
		t.Errorf("PATCH with a path: %s", code)
	}
	if got := must(t, e.do("GET", "/v1/accounts/root/clients/"+c["clientId"].(string), admin, nil), 200); len(strs(got["allowedOrigins"])) != 4 {
		t.Errorf("a refused PATCH changed the origins: %v", got["allowedOrigins"])
	}
}
