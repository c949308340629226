package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// person is a root-account customer with the management scope who signs in through the
// hosted login with a confidential client, so that the code exchange starts a refresh family
// (offline_access) and the access token is good at introspection (RFC 7662), at UserInfo
// (openid, OpenID Connect Core §5.3) and at the Management API alike.
type person struct {
	e                      *env
	t                      *testing.T
	admin, id, app, secret string
	conf                   oauth2.Config
}

const (
	rootBase       = "/v1/accounts/root"
	personEmail    = "person@example.com"
	personPassword = "a person's long passphrase"
)

func newPerson(t *testing.T, e *env) *person {
	t.Helper()
	admin := e.adminToken()
	redirect := "http://127.0.0.1:5173/callback"
	app := must(t, e.do("POST", rootBase+"/clients", admin, map[string]any{"name": "console", "type": "confidential",
		"redirectUris": []string{redirect}}), 201)["clientId"].(string)
	secret := must(t, e.do("POST", rootBase+"/clients/"+app+"/secrets", admin, nil), 201)["secret"].(string)
	must(t, e.do("POST", rootBase+"/grants", admin, map[string]any{"clientId": app, "audience": "api://management",
		"type": "authorization_code", "scopes": []string{"api://management/.default"}}), 201)
	id := must(t, e.do("POST", rootBase+"/customers/users", admin, map[string]any{"email": personEmail,
		"password": personPassword, "scopes": []string{"api://management/.default"}}), 201)["customerId"].(string)
	provider, err := oidc.NewProvider(checkedContext(t), e.url+rootBase)
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: app, ClientSecret: secret, Endpoint: provider.Endpoint(), RedirectURL: redirect,
		Scopes: []string{oidc.ScopeOpenID, "offline_access", "api://management/.default"}}
	return &person{e: e, t: t, admin: admin, id: id, app: app, secret: secret, conf: conf}
}

// signIn goes through the hosted login and exchanges the code (RFC 6749 §4.1).
func (p *person) signIn() (access, refresh string) {
	p.t.Helper()
	b := newBrowser(p.t)
	back := b.submitLogin(b.get(p.conf.AuthCodeURL("st")), personEmail, personPassword)
	loc, _ := url.Parse(back.header.Get("Location"))
	if back.status != 303 || loc.Query().Get("code") == "" {
		p.t.Fatalf("login: %d %s", back.status, back.body)
	}
	tok, err := p.conf.Exchange(checkedContext(p.t), loc.Query().Get("code"))
	if err != nil {
		p.t.Fatal(err)
	}
	if tok.RefreshToken == "" {
		p.t.Fatal("no refresh token from the code exchange")
	}
	return tok.AccessToken, tok.RefreshToken
}

// refresh exchanges a refresh token (RFC 6749 §6) for an access token and its successor.
func (p *person) refresh(rt string) (access, refresh string) {
	p.t.Helper()
	m := must(p.t, p.e.form(rootBase+"/auth/token", p.app, p.secret,
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}), 200)
	return m["access_token"].(string), m["refresh_token"].(string)
}

// works checks an access token at the three consumers: introspection's active (RFC 7662
// §2.2), UserInfo's answer (200, or 401 invalid_token: RFC 6750 §3.1) and the Management
// API's.
func (p *person) works(what, at string, want bool) {
	p.t.Helper()
	active := must(p.t, p.e.form(rootBase+"/auth/introspect", p.app, p.secret, url.Values{"token": {at}}), 200)["active"]
	status := http.StatusUnauthorized
	if want {
		status = http.StatusOK
	}
	if active != want {
		p.t.Errorf("%s: introspection active = %v, want %v", what, active, want)
	}
	if r := p.e.do("GET", rootBase+"/userinfo", at, nil); r.status != status {
		p.t.Errorf("%s: userinfo %d, want %d: %s", what, r.status, status, r.body)
	}
	if r := p.e.do("GET", rootBase+"/service-accounts", at, nil); r.status != status {
		p.t.Errorf("%s: management API %d, want %d: %s", what, r.status, status, r.body)
	}
}

// TestAccessTokensEndWithTheirRefreshFamily: whichever way a refresh family ends, the access
// tokens issued with it (at the code exchange and at each refresh) end too, at once, on the
// node that ended it and on another, although both verified (and cached) them before.
func TestAccessTokensEndWithTheirRefreshFamily(t *testing.T) {
	t.Parallel()
	ends := map[string]func(p *person, rt1, rt2 string){
		// RFC 7009 §2.1: revoking a refresh token revokes its family.
		"RFC 7009 revoke": func(p *person, _, rt2 string) {
			must(p.t, p.e.form(rootBase+"/auth/revoke", p.app, p.secret, url.Values{"token": {rt2}}), 200)
		},
		// {"token": ...} on the token endpoint revokes as /auth/revoke does.
		"token endpoint revoke": func(p *person, _, rt2 string) {
			must(p.t, p.e.form(rootBase+"/auth/token", p.app, p.secret, url.Values{"token": {rt2}}), 200)
		},
		// A rotated refresh token presented again after the grace window is reuse: the
		// family is revoked (RFC 9700 §4.14.2).
		"reuse detection": func(p *person, rt1, _ string) {
			time.Sleep(5 * time.Millisecond)
			r := p.e.form(rootBase+"/auth/token", p.app, p.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt1}})
			if r.status != 400 || r.json(p.t)["error"] != "invalid_grant" {
				p.t.Fatalf("reuse: %d %s", r.status, r.body)
			}
		},
		"customer disabled": func(p *person, _, _ string) {
			must(p.t, p.e.do("PATCH", rootBase+"/customers/users/"+p.id, p.admin, map[string]any{"status": "disabled"}), 200)
		},
		"customer deleted": func(p *person, _, _ string) {
			must(p.t, p.e.do("DELETE", rootBase+"/customers/users/"+p.id, p.admin, nil), 204)
		},
		// A password set through the Management API revokes the customer's refresh tokens.
		"password reset": func(p *person, _, _ string) {
			must(p.t, p.e.do("PUT", rootBase+"/customers/users/"+p.id+"/password", p.admin,
				map[string]any{"password": "another long passphrase"}), 204)
		},
	}
	for name, end := range ends {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			forEachDB(t, func(t *testing.T, e *env) {
				must(t, e.do("PATCH", rootBase, e.adminToken(), map[string]any{"settings": map[string]any{"refreshTokenReuseGrace": 0}}), 200)
				p := newPerson(t, e)
				at1, rt1 := p.signIn()
				at2, rt2 := p.refresh(rt1)
				fid := claims(t, at1)["fid"]
				if fid == nil || claims(t, at2)["fid"] != fid {
					t.Fatalf("family claims: %v, %v", claims(t, at1)["fid"], claims(t, at2)["fid"])
				}
				// Another sign-in is another family, untouched by the end of this one unless
				// the customer's tokens all end.
				other, _ := p.signIn()
				// A second node on the same database caches its own verifications.
				p2 := *p
				p2.e = e.secondNode("")
				p.works("code exchange token before", at1, true)
				p.works("refreshed token before", at2, true)
				p2.works("refreshed token before, second node", at2, true)
				end(p, rt1, rt2)
				p.works("code exchange token after", at1, false)
				p.works("refreshed token after", at2, false)
				p2.works("refreshed token after, second node", at2, false)
				if name == "RFC 7009 revoke" || name == "token endpoint revoke" || name == "reuse detection" {
					p.works("another family's token", other, true)
				}
			})
		})
	}
}

// TestClientTokensHaveNoFamily: client_credentials tokens (RFC 6749 §4.4) have no refresh
// family, so they carry no fid claim and their verification reads nothing about families.
func TestClientTokensHaveNoFamily(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		if c := claims(t, e.adminToken()); c["fid"] != nil {
			t.Fatalf("a client token names a family: %v", c)
		}
		sh := e.newShop(nil)
		ct := sh.clientToken()
		tok := must(t, sh.login(ct, "ada@example.com", "correct horse battery"), 200)
		// The customer API's login starts a family too: its access token ends with it.
		at := tok["access_token"].(string)
		if claims(t, at)["fid"] == nil {
			t.Fatalf("a login token names no family: %v", claims(t, at))
		}
		intro := func() any {
			return must(t, e.form(sh.base+"/auth/introspect", sh.clientID, sh.secret, url.Values{"token": {at}}), 200)["active"]
		}
		if intro() != true {
			t.Fatal("login token inactive")
		}
		must(t, e.form(sh.base+"/auth/revoke", sh.clientID, sh.secret, url.Values{"token": {tok["refresh_token"].(string)}}), 200)
		if intro() != false {
			t.Fatal("a login token outlived its revoked refresh family")
		}
	})
}
