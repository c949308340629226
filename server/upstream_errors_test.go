package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeProvider is an upstream OpenID provider whose token endpoint answers what the test
// sets: an ID token nobody can verify, or a refusal.
type fakeProvider struct {
	*httptest.Server
	refuse atomic.Bool
}

func newFakeProvider(t *testing.T) *fakeProvider {
	p := &fakeProvider{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			_ = json.NewEncoder(w).Encode(map[string]any{"issuer": p.URL, "authorization_endpoint": p.URL + "/authorize",
				"token_endpoint": p.URL + "/token", "jwks_uri": p.URL + "/jwks"})
		case "/token":
			if p.refuse.Load() {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
				return
			}
			_, _ = w.Write([]byte(`{"access_token":"at","token_type":"Bearer","id_token":"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."}`))
		case "/jwks":
			_, _ = w.Write([]byte(`{"keys":[]}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(p.Close)
	return p
}

// Failures of the upstream provider are errors of the login, in the documented statuses.
func TestUpstreamLoginWhenTheProviderFails(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		sh := e.newShop(nil)
		redirect := "http://127.0.0.1:5173/cb"
		spa := must(t, e.do("POST", sh.base+"/clients", sh.admin, map[string]any{"name": "spa", "type": "public",
			"redirectUris": []string{redirect}}), 201)["clientId"].(string)
		up := newFakeProvider(t)
		down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
		}))
		t.Cleanup(down.Close)
		grant := must(t, e.do("POST", sh.base+"/grants", sh.admin, map[string]any{"clientId": spa, "audience": apiAud,
			"type": "authorization_code", "scopes": []string{"user:customers"},
			"oidc": map[string]any{"authority": up.URL, "clientId": "twinid", "clientSecret": "upstream secret"}}), 201)

		start := func(b *browser) resp {
			return b.get(e.url + sh.base + "/auth/oidc/authorize?" + url.Values{"client_id": {spa}, "response_type": {"code"},
				"scope": {"openid"}, "state": {"s"}, "redirect_uri": {redirect}, "audience": {apiAud}}.Encode())
		}
		finish := func(b *browser) resp {
			body := `{"grant_type":"authorization_code","code":"upstream-code","client_id":"` + spa +
				`","redirect_uri":"` + redirect + `","audience":"` + apiAud + `"}`
			req, _ := http.NewRequest("POST", e.url+sh.base+"/auth/oidc/token", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			return b.do(req)
		}
		oauthError := func(name string, r resp, status int, code string) {
			t.Helper()
			if r.status != status || r.json(t)["error"] != code {
				t.Errorf("%s: %d %s", name, r.status, r.body)
			}
		}

		b := newBrowser(t)
		if r := start(b); r.status != 303 || !strings.HasPrefix(r.header.Get("Location"), up.URL+"/authorize?") {
			t.Fatalf("start: %d %v", r.status, r.header)
		}
		oauthError("unverifiable ID token", finish(b), 502, "server_error")
		up.refuse.Store(true)
		oauthError("refused code", finish(b), 400, "invalid_grant")
		before := e.countRows("customers")

		// A provider that is down: no redirect at the start, 503 at the end.
		must(t, e.do("PATCH", sh.base+"/grants/"+grant["id"].(string), sh.admin, map[string]any{
			"oidc": map[string]any{"authority": down.URL, "clientId": "twinid"}}), 200)
		b2 := newBrowser(t)
		if r := start(b2); r.status != 502 || r.header.Get("Location") != "" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
			t.Fatalf("start at a provider that is down: %d %v", r.status, r.header)
		}
		oauthError("provider down", finish(b), 503, "temporarily_unavailable")
		if n := e.countRows("customers"); n != before {
			t.Fatalf("failed upstream logins created %d customers", n-before)
		}
	})
}
