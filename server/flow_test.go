package server_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/twinid/twinid/server"
)

// verify checks a token the way any standard verifier would: discovery, then the JWKS.
func (e *env) verify(t *testing.T, aid, tok string) jwt.Token {
	t.Helper()
	disc := must(t, e.do("GET", "/v1/accounts/"+aid+"/.well-known/openid-configuration", "", nil), 200)
	set, err := jwk.Fetch(context.Background(), disc["jwks_uri"].(string), jwk.WithHTTPClient(checkedClient(t)))
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.Parse([]byte(tok), jwt.WithKeySet(set), jwt.WithIssuer(disc["issuer"].(string)), jwt.WithValidate(true))
	if err != nil {
		t.Fatalf("token does not verify from the JWKS: %v", err)
	}
	return parsed
}

func kidOf(t *testing.T, tok string) string {
	msg, err := jws.Parse([]byte(tok))
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := msg.Signatures()[0].ProtectedHeaders().KeyID()
	return kid
}

func TestSeedServiceAccountFlow(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		tn := e.newTenant(admin, "tenant-a", nil)

		// The service account has exactly the seed's shape plus clientId and name.
		sa := must(t, e.do("GET", "/v1/accounts/tenant-a/service-accounts/"+tn.saID, admin, nil), 200)
		var keys []string
		for k := range sa {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		want := []string{"clientId", "createdAt", "description", "grantType", "id", "name", "scopes", "tokenUri"}
		if !slices.Equal(keys, want) {
			t.Fatalf("service account keys %v, want %v", keys, want)
		}
		if sa["grantType"] != "client_credentials" || sa["tokenUri"] != e.url+"/v1/accounts/tenant-a/auth/token" {
			t.Fatalf("unexpected service account: %v", sa)
		}
		sc := sa["scopes"].([]any)[0].(map[string]any)
		if sc["serviceName"] != "Svc-tenant-a" || sc["scope"] != tn.scope {
			t.Fatalf("scopes: %v", sa["scopes"])
		}

		// The seed's cURL, multipart/form-data, as curl --form sends it.
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for _, kv := range [][2]string{{"grant_type", "client_credentials"}, {"client_id", tn.clientID}, {"client_secret", tn.secret}, {"scope", tn.scope}} {
			_ = mw.WriteField(kv[0], kv[1])
		}
		_ = mw.Close()
		req, _ := http.NewRequest("POST", sa["tokenUri"].(string), &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		r := e.send(req)
		body := must(t, r, 200)
		if r.header.Get("Cache-Control") != "no-store" || r.header.Get("RateLimit-Limit") == "" {
			t.Fatalf("headers: %v", r.header)
		}
		if body["token_type"] != "Bearer" || body["expires_in"].(float64) != 3600 || body["ext_expires_in"].(float64) != 3600 || body["scope"] != tn.scope {
			t.Fatalf("token response: %v", body)
		}
		tok := e.verify(t, "tenant-a", body["access_token"].(string))
		if sub, _ := tok.Subject(); sub != tn.clientID {
			t.Fatalf("sub %q", sub)
		}
		if aud, _ := tok.Audience(); !slices.Equal(aud, []string{tn.audience}) {
			t.Fatalf("aud %v", aud)
		}
		var cid, aid string
		_ = tok.Get("client_id", &cid)
		_ = tok.Get("aid", &aid)
		if cid != tn.clientID || aid != "tenant-a" {
			t.Fatalf("client_id %q aid %q", cid, aid)
		}
		if jti, ok := tok.JwtID(); !ok || jti == "" {
			t.Fatal("no jti")
		}
		msg, _ := jws.Parse([]byte(body["access_token"].(string)))
		if typ, _ := msg.Signatures()[0].ProtectedHeaders().Type(); typ != "at+jwt" {
			t.Fatalf("typ %q", typ)
		}

		// curl itself, verbatim but for host, ids and secret.
		if curl, err := exec.LookPath("curl"); err == nil {
			out, err := exec.Command(curl, "--silent", "--location", "--request", "POST", sa["tokenUri"].(string),
				"--form", `grant_type="client_credentials"`,
				"--form", `client_id="`+tn.clientID+`"`,
				"--form", `client_secret="`+tn.secret+`"`,
				"--form", `scope="`+tn.scope+`"`).Output()
			if err != nil || !strings.Contains(string(out), `"access_token"`) {
				t.Fatalf("curl: %v %s", err, out)
			}
		}

		// The Dintero form: JSON with HTTP Basic and audience.
		req, _ = http.NewRequest("POST", sa["tokenUri"].(string), strings.NewReader(`{"grant_type":"client_credentials","audience":"`+tn.audience+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(tn.clientID, tn.secret)
		body = must(t, e.send(req), 200)
		if body["scope"] != tn.scope {
			t.Fatalf("audience request scope %v", body["scope"])
		}

		// A standard OAuth client gets and reuses a token.
		cc := clientcredentials.Config{ClientID: tn.clientID, ClientSecret: tn.secret, TokenURL: sa["tokenUri"].(string), Scopes: []string{tn.scope}}
		ts := cc.TokenSource(checkedContext(t))
		t1, err := ts.Token()
		if err != nil {
			t.Fatal(err)
		}
		t2, _ := ts.Token()
		if t1.AccessToken != t2.AccessToken {
			t.Fatal("the oauth2 client did not reuse its cached token")
		}
		e.verify(t, "tenant-a", t1.AccessToken)

		// lastUsedAt appears after the background batch.
		e.srv.FlushUsage(context.Background())
		list := must(t, e.do("GET", "/v1/accounts/tenant-a/service-accounts/"+tn.saID+"/secrets", admin, nil), 200)
		item := list["items"].([]any)[0].(map[string]any)
		if item["lastUsedAt"] == nil || item["status"] != "active" || item["hint"] != tn.secret[len(tn.secret)-4:] {
			t.Fatalf("secret listing: %v", item)
		}
		if strings.Contains(string(mustBody(e.do("GET", "/v1/accounts/tenant-a/service-accounts/"+tn.saID+"/secrets", admin, nil))), tn.secret) {
			t.Fatal("secret listing returns the secret")
		}
		if strings.Contains(e.logs.String(), tn.secret) || strings.Contains(e.logs.String(), body["access_token"].(string)) {
			t.Fatal("a secret or token reached the logs")
		}
	})
}

func mustBody(r resp) []byte { return r.body }

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		tn := e.newTenant(admin, "tenant-a", nil)
		e.newTenant(admin, "tenant-b", nil)
		path := "/v1/accounts/tenant-a/auth/token"
		cc := url.Values{"grant_type": {"client_credentials"}, "scope": {tn.scope}}
		cases := []struct {
			name   string
			id     string
			secret string
			form   url.Values
			status int
			code   string
		}{
			{"wrong secret", tn.clientID, tn.secret + "x", cc, 401, "invalid_client"},
			{"unknown client", "nobody", tn.secret, cc, 401, "invalid_client"},
			{"no grant_type", tn.clientID, tn.secret, url.Values{"scope": {tn.scope}}, 400, "invalid_request"},
			{"unsupported grant", tn.clientID, tn.secret, url.Values{"grant_type": {"urn:foo"}}, 400, "unsupported_grant_type"},
			{"scope not held", tn.clientID, tn.secret, url.Values{"grant_type": {"client_credentials"}, "scope": {"api://tenant-b/.default"}}, 400, "invalid_scope"},
			{"duplicate parameter", tn.clientID, tn.secret, url.Values{"grant_type": {"client_credentials", "client_credentials"}}, 400, "invalid_request"},
			{"basic and body secret", tn.clientID, tn.secret, url.Values{"grant_type": {"client_credentials"}, "client_secret": {tn.secret}}, 400, "invalid_request"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := e.form(path, c.id, c.secret, c.form)
				body := must(t, r, c.status)
				if body["error"] != c.code {
					t.Fatalf("error %v, want %s", body, c.code)
				}
				if c.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
					t.Fatalf("401 without WWW-Authenticate: Basic")
				}
				if r.header.Get("Content-Type") == "application/problem+json" {
					t.Fatal("protocol endpoint answered problem+json")
				}
			})
		}
		// The same secret on another account's token endpoint is worthless.
		r := e.form("/v1/accounts/tenant-b/auth/token", tn.clientID, tn.secret, cc)
		if must(t, r, 401)["error"] != "invalid_client" {
			t.Fatal("cross-account client accepted")
		}
		// Credentials in the URL are refused.
		req, _ := http.NewRequest("POST", e.url+path+"?client_secret="+tn.secret, strings.NewReader(cc.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if must(t, e.send(req), 400)["error"] != "invalid_request" {
			t.Fatal("query credentials accepted")
		}
		// Unsupported content type is an OAuth error too.
		req, _ = http.NewRequest("POST", e.url+path, strings.NewReader("x"))
		req.Header.Set("Content-Type", "text/plain")
		if must(t, e.send(req), 400)["error"] != "invalid_request" {
			t.Fatal("text/plain accepted")
		}
		// Two audiences in one request.
		must(t, e.do("POST", "/v1/accounts/tenant-a/scopes", admin, map[string]any{"serviceName": "Other", "audience": "api://other", "scope": "api://other/.default"}), 201)
		must(t, e.do("PATCH", "/v1/accounts/tenant-a/service-accounts/"+tn.saID, admin, map[string]any{"scopes": []string{tn.scope, "api://other/.default"}}), 200)
		r = e.form(path, tn.clientID, tn.secret, url.Values{"grant_type": {"client_credentials"}, "scope": {tn.scope + " api://other/.default"}})
		if must(t, r, 400)["error"] != "invalid_scope" {
			t.Fatal("two audiences accepted")
		}
	})
}

func TestSecretsRevokeAndExpire(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		tn := e.newTenant(admin, "tenant-a", nil)
		path := "/v1/accounts/tenant-a/auth/token"
		cc := url.Values{"grant_type": {"client_credentials"}}
		// A second secret: both work at once (rotation without downtime).
		sec2 := must(t, e.do("POST", "/v1/accounts/tenant-a/service-accounts/"+tn.saID+"/secrets", admin,
			map[string]any{"description": "next", "expiresAt": time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)}), 201)
		s2 := sec2["secret"].(string)
		if !strings.HasPrefix(s2, "twid_") || len(s2) != 48 || sec2["status"] != "expiring" {
			t.Fatalf("secret: %v", sec2)
		}
		must(t, e.form(path, tn.clientID, tn.secret, cc), 200)
		must(t, e.form(path, tn.clientID, s2, cc), 200)
		// Revoking stops the secret at once (its use was cached a moment ago).
		must(t, e.do("DELETE", "/v1/accounts/tenant-a/service-accounts/"+tn.saID+"/secrets/"+tn.secretID, admin, nil), 204)
		must(t, e.form(path, tn.clientID, tn.secret, cc), 401)
		must(t, e.form(path, tn.clientID, s2, cc), 200)
		// Expiry in the past is refused; a secret expiring in a second stops after it.
		r := e.do("POST", "/v1/accounts/tenant-a/service-accounts/"+tn.saID+"/secrets", admin,
			map[string]any{"expiresAt": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)})
		must(t, r, 422)
		sec3 := must(t, e.do("POST", "/v1/accounts/tenant-a/service-accounts/"+tn.saID+"/secrets", admin,
			map[string]any{"expiresAt": time.Now().Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano)}), 201)
		must(t, e.form(path, tn.clientID, sec3["secret"].(string), cc), 200)
		time.Sleep(1600 * time.Millisecond)
		must(t, e.form(path, tn.clientID, sec3["secret"].(string), cc), 401)
		// Deleting the service account stops all its secrets.
		must(t, e.do("DELETE", "/v1/accounts/tenant-a/service-accounts/"+tn.saID, admin, nil), 204)
		must(t, e.form(path, tn.clientID, s2, cc), 401)
	})
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		e.newTenant(admin, "tenant-a", map[string]any{"tokenRateLimit": map[string]any{"perMinute": 60, "burst": 3}})
		tn := e.newTenant(admin, "tenant-b", nil)
		must(t, e.do("PATCH", "/v1/accounts/tenant-b/service-accounts/"+tn.saID, admin,
			map[string]any{"tokenRateLimit": map[string]any{"perMinute": 60, "burst": 2}}), 200)
		path := "/v1/accounts/tenant-b/auth/token"
		cc := url.Values{"grant_type": {"client_credentials"}}
		for i := 0; i < 2; i++ {
			r := e.form(path, tn.clientID, tn.secret, cc)
			must(t, r, 200)
			if r.header.Get("RateLimit-Remaining") != []string{"1", "0"}[i] {
				t.Fatalf("RateLimit-Remaining %q on request %d", r.header.Get("RateLimit-Remaining"), i)
			}
		}
		r := e.form(path, tn.clientID, tn.secret, cc)
		body := must(t, r, 429)
		if body["error"] != "temporarily_unavailable" || !strings.Contains(body["error_description"].(string), "cache tokens") {
			t.Fatalf("429 body: %v", body)
		}
		if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
			t.Fatalf("Retry-After %q", ra)
		}
		// null removes the override.
		sa := must(t, e.do("PATCH", "/v1/accounts/tenant-b/service-accounts/"+tn.saID, admin, `{"tokenRateLimit": null}`), 200)
		if _, ok := sa["tokenRateLimit"]; ok {
			t.Fatalf("override still shown: %v", sa)
		}
		// Failed authentications do not use up the client's bucket.
		tn2 := e.newTenant(admin, "tenant-c", map[string]any{"tokenRateLimit": map[string]any{"perMinute": 60, "burst": 1}})
		for i := 0; i < 5; i++ {
			e.form("/v1/accounts/tenant-c/auth/token", tn2.clientID, "wrong", cc)
		}
		must(t, e.form("/v1/accounts/tenant-c/auth/token", tn2.clientID, tn2.secret, cc), 200)
	})
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		tn := e.newTenant(admin, "tenant-a", nil)
		path := "/v1/accounts/tenant-a/auth/token"
		cc := url.Values{"grant_type": {"client_credentials"}}
		old := must(t, e.form(path, tn.clientID, tn.secret, cc), 200)["access_token"].(string)
		oldKid := kidOf(t, old)
		next := must(t, e.do("POST", "/v1/accounts/tenant-a/signing-keys/rotate", admin, map[string]any{"activateAfter": 2, "alg": "ES256"}), 201)
		if next["status"] != "next" || next["alg"] != "ES256" {
			t.Fatalf("rotated key: %v", next)
		}
		// Published at once, but not signing yet: the ES256 key and its RS256 companion for
		// ID tokens, beside the current key.
		jwks := must(t, e.do("GET", "/v1/accounts/tenant-a/.well-known/jwks.json", "", nil), 200)
		if len(jwks["keys"].([]any)) != 3 {
			t.Fatalf("JWKS has %d keys, want 3", len(jwks["keys"].([]any)))
		}
		tok := must(t, e.form(path, tn.clientID, tn.secret, cc), 200)["access_token"].(string)
		if kidOf(t, tok) != oldKid {
			t.Fatal("the next key signed before its activation")
		}
		time.Sleep(2100 * time.Millisecond)
		tok = must(t, e.form(path, tn.clientID, tn.secret, cc), 200)["access_token"].(string)
		if kidOf(t, tok) != next["kid"] {
			t.Fatal("the new key does not sign after activation")
		}
		// Both the old and the new token verify from the JWKS.
		e.verify(t, "tenant-a", old)
		e.verify(t, "tenant-a", tok)
		keys := must(t, e.do("GET", "/v1/accounts/tenant-a/signing-keys", admin, nil), 200)["items"].([]any)
		statuses := []string{}
		for _, k := range keys {
			km := k.(map[string]any)
			statuses = append(statuses, km["status"].(string))
			if _, ok := km["publicJwk"].(map[string]any)["d"]; ok {
				t.Fatal("private key material in the key listing")
			}
		}
		slices.Sort(statuses)
		if !slices.Equal(statuses, []string{"active", "active", "retiring"}) {
			t.Fatalf("statuses %v", statuses)
		}
	})
}

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
		rows, err := e.st.ListSigningKeys(context.Background(), "root")
		if err != nil || len(rows) != 1 {
			t.Fatalf("keys: %v %v", rows, err)
		}
		if _, err := x509.ParsePKCS8PrivateKey(rows[0].PrivateKey); err == nil {
			t.Fatal("the private key is stored in the clear")
		}
		// Secrets are stored as keyed hashes only.
		tn := e.newTenant(admin, "tenant-a", nil)
		c, _ := e.st.GetClientByClientID(context.Background(), "tenant-a", tn.clientID)
		secs, _ := e.st.ClientSecrets(context.Background(), c.ID)
		if len(secs) != 1 || bytes.Contains(secs[0].Hash, []byte(tn.secret)) || len(secs[0].Hash) != 32 {
			t.Fatal("secret not stored as a 32-byte hash")
		}
	})
}

func TestFailedClientAuthIsLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	admin := e.adminToken()
	tn := e.newTenant(admin, "tenant-a", nil)
	cc := url.Values{"grant_type": {"client_credentials"}}
	var last resp
	for i := 0; i < 25; i++ {
		last = e.form("/v1/accounts/tenant-a/auth/token", tn.clientID, "twid_wrong", cc)
	}
	if last.status != 429 || last.header.Get("Retry-After") == "" {
		t.Fatalf("after 25 wrong secrets: %d %s", last.status, last.body)
	}
}

func TestRedisRateLimitIsSharedByNodes(t *testing.T) {
	t.Parallel()
	redisURL := os.Getenv("TWINID_TEST_REDIS_URL")
	if redisURL == "" {
		t.Skip("TWINID_TEST_REDIS_URL not set")
	}
	e := newEnvWith(t, "", redisURL)
	admin := e.adminToken()
	tn := e.newTenant(admin, "rl-"+randHex(4), map[string]any{"tokenRateLimit": map[string]any{"perMinute": 60, "burst": 2}})
	node2 := e.secondNode(redisURL)
	path := "/v1/accounts/" + tn.aid + "/auth/token"
	cc := url.Values{"grant_type": {"client_credentials"}}
	must(t, e.form(path, tn.clientID, tn.secret, cc), 200)
	must(t, node2.form(path, tn.clientID, tn.secret, cc), 200)
	// The bucket is cluster-wide: the third token, on either node, is over the burst.
	r := e.form(path, tn.clientID, tn.secret, cc)
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("third token within a burst of 2 across two nodes: %d", r.status)
	}
}

func TestSecretRevokedOnOneNodeStopsThereAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	admin := e.adminToken()
	tn := e.newTenant(admin, "tenant-a", nil)
	node2 := e.secondNode("")
	path := "/v1/accounts/tenant-a/auth/token"
	cc := url.Values{"grant_type": {"client_credentials"}}
	must(t, node2.form(path, tn.clientID, tn.secret, cc), 200) // cached on node 2 now
	must(t, node2.do("DELETE", "/v1/accounts/tenant-a/service-accounts/"+tn.saID+"/secrets/"+tn.secretID, admin, nil), 204)
	must(t, node2.form(path, tn.clientID, tn.secret, cc), 401)
}

func TestTokenParameterLimitsComeFromTheDocument(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	admin := e.adminToken()
	tn := e.newTenant(admin, "tenant-a", nil)
	// TokenRequest.scope has maxLength 4096 in the OpenAPI document.
	r := e.form("/v1/accounts/tenant-a/auth/token", tn.clientID, tn.secret,
		url.Values{"grant_type": {"client_credentials"}, "scope": {strings.Repeat("s", 4097)}})
	body := must(t, r, 400)
	if body["error"] != "invalid_request" || !strings.Contains(body["error_description"].(string), "scope") {
		t.Fatalf("over-long scope: %v", body)
	}
	// A JSON body with a non-string value is refused in RFC 6749 form.
	req, _ := http.NewRequest("POST", e.url+"/v1/accounts/tenant-a/auth/token", strings.NewReader(`{"grant_type": 1}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(tn.clientID, tn.secret)
	if must(t, e.send(req), 400)["error"] != "invalid_request" {
		t.Fatal("non-string parameter accepted")
	}
}
