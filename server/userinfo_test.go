package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// UserInfo is a protocol endpoint: malformed requests are RFC 6749 errors, not problems.
func TestUserInfoRefusesMalformedRequests(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		sh := e.newShop(nil)
		ut := must(t, sh.login(sh.clientToken(), "ada@example.com", "correct horse battery"), 200)["access_token"].(string)
		info := sh.base + "/userinfo"
		send := func(method, path, token, ct, body string) resp {
			req, _ := http.NewRequest(method, e.url+path, strings.NewReader(body))
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			return e.send(req)
		}
		oauthError := func(name string, r resp, status int, code string) {
			t.Helper()
			if r.status != status || r.header.Get("Content-Type") != "application/json" || r.json(t)["error"] != code {
				t.Errorf("%s: %d %q %s", name, r.status, r.header.Get("Content-Type"), r.body)
			}
		}
		oauthError("token in the URL", send("GET", info+"?access_token="+ut, "", "", ""), 400, "invalid_request")
		oauthError("any query", send("GET", info+"?x=1", ut, "", ""), 400, "invalid_request")
		oauthError("not a form", send("POST", info, "", "text/plain", "access_token="+ut), 400, "invalid_request")
		oauthError("too large", send("POST", info, "", "application/x-www-form-urlencoded", "access_token="+strings.Repeat("x", 70<<10)), 413, "invalid_request")
		// The same token, sent right, answers; without openid it is 403.
		oauthError("no openid", send("POST", info, "", "application/x-www-form-urlencoded", "access_token="+ut), 403, "insufficient_scope")
		oauthError("no openid (GET)", send("GET", info, ut, "", ""), 403, "insufficient_scope")
	})
}
