package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// The Bearer endpoints challenge with Bearer (RFC 6750 §3), never Basic: Basic is the
// challenge of a failed client authentication at the token endpoint (RFC 6749 §5.2).
func TestBearerEndpointsChallengeWithBearer(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		sh := e.newShop(nil)
		send := func(method, path, token string) resp {
			var body *strings.Reader
			if method == "POST" {
				body = strings.NewReader(`{"email":"ada@example.com","password":"correct horse battery","type":"customer","audience":"` + apiAud + `"}`)
			} else {
				body = strings.NewReader("")
			}
			req, _ := http.NewRequest(method, e.url+path, body)
			if method == "POST" {
				req.Header.Set("Content-Type", "application/json")
			}
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			return e.send(req)
		}
		const invalid = `Bearer realm="twinid", error="invalid_token"`
		for _, c := range []struct {
			name, method, path, token, challenge string
		}{
			{"userinfo, no token", "GET", sh.base + "/userinfo", "", invalid},
			{"userinfo, bad token", "GET", sh.base + "/userinfo", "not-a-token", invalid},
			{"login, no token", "POST", sh.base + "/customers/login", "", `Bearer realm="twinid"`},
			{"login, bad token", "POST", sh.base + "/customers/login", "not-a-token", invalid},
		} {
			r := send(c.method, c.path, c.token)
			if r.status != 401 || r.json(t)["error"] != "invalid_token" {
				t.Errorf("%s: %d %s", c.name, r.status, r.body)
			}
			if got := r.header.Values("WWW-Authenticate"); len(got) != 1 || got[0] != c.challenge {
				t.Errorf("%s: WWW-Authenticate %q, want %q", c.name, got, c.challenge)
			}
		}
		// A failed client authentication still gets Basic.
		r := e.form(sh.base+"/auth/token", sh.clientID, sh.secret+"x", map[string][]string{"grant_type": {"client_credentials"}})
		if r.status != 401 || r.header.Get("WWW-Authenticate") != `Basic realm="twinid"` {
			t.Fatalf("bad client secret: %d %v", r.status, r.header)
		}
		// A script in a browser (Swagger UI's Authorize) gets the error without the
		// challenge, which would make the browser prompt for a password instead.
		req, _ := http.NewRequest("POST", e.url+sh.base+"/auth/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Requested-With", "XMLHttpRequest")
		req.SetBasicAuth(sh.clientID, sh.secret+"x")
		if r := e.send(req); r.status != 401 || r.json(t)["error"] != "invalid_client" || r.header.Get("WWW-Authenticate") != "" {
			t.Fatalf("bad client secret from a script: %d %v %s", r.status, r.header, r.body)
		}
	})
}
