package server_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
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
