package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// fakeIDP is an upstream OpenID provider on 127.0.0.1 that misbehaves on purpose: it signs
// with its own ES256 key whatever ID token claims the test sets, and its discovery document
// names whatever issuer the test sets. It counts the calls to its token endpoint and JWKS,
// so a test can tell that nothing was fetched from a provider twinid must not trust.
type fakeIDP struct {
	*httptest.Server
	t      *testing.T
	mu     sync.Mutex
	priv   *ecdsa.PrivateKey // signs the ID tokens; its public half is the JWKS
	kid    string
	pub    jwk.Key
	pad    int                               // bytes of padding the JWKS answers, to make it too large
	issuer string                            // of the discovery document; the server's URL unless set
	claims func(nonce string) map[string]any // the next ID token's claims
	nonce  string                            // of the authorization request the test last saw
	tokens atomic.Int32                      // calls to the token endpoint
	jwks   atomic.Int32                      // calls to the JWKS
}

func newFakeIDP(t *testing.T) *fakeIDP {
	t.Helper()
	p := &fakeIDP{t: t}
	p.rotate()
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			_ = json.NewEncoder(w).Encode(map[string]any{"issuer": p.Issuer(), "authorization_endpoint": p.URL + "/authorize",
				"token_endpoint": p.URL + "/token", "jwks_uri": p.URL + "/jwks", "response_types_supported": []string{"code"},
				"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"ES256"}})
		case "/jwks":
			p.jwks.Add(1)
			p.mu.Lock()
			set := map[string]any{"keys": []any{p.pub}, "padding": strings.Repeat("x", p.pad)}
			p.mu.Unlock()
			_ = json.NewEncoder(w).Encode(set)
		case "/token":
			p.tokens.Add(1)
			if id, _, ok := r.BasicAuth(); !ok || id != "twinid" || r.PostFormValue("code_verifier") == "" {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "upstream-at", "token_type": "Bearer",
				"id_token": p.sign(p.nextClaims())})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(p.Close)
	return p
}

// rotate replaces the signing key (and the JWKS) with a new one under a new kid.
func (p *fakeIDP) rotate() {
	p.t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		p.t.Fatal(err)
	}
	kid := "fake-" + randHex(4)
	pub, err := jwk.Import(priv.Public())
	if err != nil {
		p.t.Fatal(err)
	}
	for k, v := range map[string]any{jwk.KeyIDKey: kid, jwk.AlgorithmKey: "ES256", jwk.KeyUsageKey: "sig"} {
		if err := pub.Set(k, v); err != nil {
			p.t.Fatal(err)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.priv, p.kid, p.pub = priv, kid, pub
}

// padJWKS makes the JWKS answer at least n bytes long.
func (p *fakeIDP) padJWKS(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pad = n
}

// Issuer is the issuer the discovery document names.
func (p *fakeIDP) Issuer() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.issuer == "" {
		return p.URL
	}
	return p.issuer
}

// setIssuer makes the discovery document name another issuer.
func (p *fakeIDP) setIssuer(iss string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.issuer = iss
}

// setClaims sets the claims of the next ID tokens, made from the request's nonce.
func (p *fakeIDP) setClaims(f func(nonce string) map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.claims = f
}

// sawAuthorize records the nonce of the authorization request twinid redirected to.
func (p *fakeIDP) sawAuthorize(location string) {
	p.t.Helper()
	loc, err := url.Parse(location)
	if err != nil || !strings.HasPrefix(location, p.URL+"/authorize?") || loc.Query().Get("nonce") == "" {
		p.t.Fatalf("not an authorization request to the fake provider: %q", location)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nonce = loc.Query().Get("nonce")
}

func (p *fakeIDP) nextClaims() map[string]any {
	p.mu.Lock()
	f, nonce := p.claims, p.nonce
	p.mu.Unlock()
	if f == nil {
		return p.goodClaims(nonce)
	}
	return f(nonce)
}

// goodClaims are those of an ID token twinid accepts (OIDC Core §2), for the client "twinid".
func (p *fakeIDP) goodClaims(nonce string) map[string]any {
	now := time.Now()
	return map[string]any{"iss": p.Issuer(), "sub": "fake-subject", "aud": "twinid", "nonce": nonce,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "name": "Fake Person"}
}

func (p *fakeIDP) sign(claims map[string]any) string {
	p.t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	priv, kid := p.priv, p.kid
	p.mu.Unlock()
	h := jws.NewHeaders()
	for k, v := range map[string]any{jws.KeyIDKey: kid, jws.TypeKey: "JWT"} {
		if err := h.Set(k, v); err != nil {
			p.t.Fatal(err)
		}
	}
	tok, err := jws.Sign(payload, jws.WithKey(jwa.ES256(), priv, jws.WithProtectedHeaders(h)))
	if err != nil {
		p.t.Fatal(err)
	}
	return string(tok)
}

// upstreamShop is a shop whose public client spa logs in through an upstream provider:
// start and finish are the two steps of the login in a browser (UpstreamAuthorize, then
// UpstreamToken with the code the provider would have sent back).
type upstreamShop struct {
	shop
	t        *testing.T
	spa      string
	grantID  string
	redirect string
}

func (e *env) newUpstreamShop(t *testing.T, authority string) *upstreamShop {
	t.Helper()
	u := &upstreamShop{shop: e.newShop(nil), t: t, redirect: "http://127.0.0.1:5173/cb"}
	u.spa = must(t, e.do("POST", u.base+"/clients", u.admin, map[string]any{"name": "spa", "type": "public",
		"redirectUris": []string{u.redirect}}), 201)["clientId"].(string)
	u.grantID = must(t, e.do("POST", u.base+"/grants", u.admin, map[string]any{"clientId": u.spa, "audience": apiAud,
		"type": "authorization_code", "scopes": []string{"user:customers"},
		"oidc": map[string]any{"authority": authority, "clientId": "twinid", "clientSecret": "upstream secret"}}), 201)["id"].(string)
	return u
}

// setAuthority points the grant at another upstream provider.
func (u *upstreamShop) setAuthority(authority string) {
	u.t.Helper()
	must(u.t, u.e.do("PATCH", u.base+"/grants/"+u.grantID, u.admin, map[string]any{
		"oidc": map[string]any{"authority": authority, "clientId": "twinid"}}), 200)
}

func (u *upstreamShop) start(b *browser) resp {
	return b.get(u.e.url + u.base + "/auth/oidc/authorize?" + url.Values{"client_id": {u.spa}, "response_type": {"code"},
		"scope": {"openid"}, "state": {"s"}, "redirect_uri": {u.redirect}, "audience": {apiAud}}.Encode())
}

func (u *upstreamShop) finish(b *browser) resp {
	body := `{"grant_type":"authorization_code","code":"upstream-code","client_id":"` + u.spa +
		`","redirect_uri":"` + u.redirect + `","audience":"` + apiAud + `"}`
	req, _ := http.NewRequest("POST", u.e.url+u.base+"/auth/oidc/token", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return b.do(req)
}

// login runs one whole login in a new browser at idp, whose ID token claims makes (nil:
// the good claims).
func (u *upstreamShop) login(idp *fakeIDP, claims func(nonce string) map[string]any) resp {
	u.t.Helper()
	b := newBrowser(u.t)
	r := u.start(b)
	if r.status != 303 {
		u.t.Fatalf("start: %d %s", r.status, r.body)
	}
	idp.sawAuthorize(r.header.Get("Location"))
	idp.setClaims(claims)
	return u.finish(b)
}
