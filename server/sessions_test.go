package server_test

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// ssoShop is a shop with a confidential web client for browser sign-in.
type ssoShop struct {
	shop
	web, webSecret, redirect string
}

func (e *env) newSSOShop(settings map[string]any) ssoShop {
	e.t.Helper()
	s := ssoShop{shop: e.newShop(settings), redirect: "https://app.example.com/cb"}
	s.web = must(e.t, e.do("POST", s.base+"/clients", s.admin, map[string]any{"name": "web", "type": "confidential",
		"redirectUris": []string{s.redirect}}), 201)["clientId"].(string)
	s.webSecret = must(e.t, e.do("POST", s.base+"/clients/"+s.web+"/secrets", s.admin, nil), 201)["secret"].(string)
	return s
}

func (s ssoShop) authorizeURL(extra url.Values) string {
	v := url.Values{"response_type": {"code"}, "client_id": {s.web}, "redirect_uri": {s.redirect}, "scope": {"openid"}, "state": {"st"}}
	for k, vals := range extra {
		v[k] = vals
	}
	return s.e.url + s.base + "/auth/authorize?" + v.Encode()
}

// signIn signs in through the hosted page and returns the ID token of the code.
func (s ssoShop) signIn(b *browser, email, password string) string {
	s.e.t.Helper()
	back := b.submitLogin(b.get(s.authorizeURL(url.Values{"prompt": {"login"}})), email, password)
	loc, _ := url.Parse(back.header.Get("Location"))
	if back.status != 303 || loc.Query().Get("code") == "" {
		s.e.t.Fatalf("sign-in: %d %v", back.status, back.header)
	}
	tok := must(s.e.t, s.e.form(s.base+"/auth/token", s.web, s.webSecret, url.Values{"grant_type": {"authorization_code"},
		"code": {loc.Query().Get("code")}, "redirect_uri": {s.redirect}}), 200)
	return tok["id_token"].(string)
}

// silent is prompt=none: a code when the session allows, else an error, as a redirect.
func (s ssoShop) silent(b *browser, extra url.Values) url.Values {
	s.e.t.Helper()
	v := url.Values{"prompt": {"none"}}
	for k, vals := range extra {
		v[k] = vals
	}
	r := b.get(s.authorizeURL(v))
	loc, err := url.Parse(r.header.Get("Location"))
	if r.status != 303 || err != nil {
		s.e.t.Fatalf("prompt=none: %d %v %s", r.status, r.header, r.body)
	}
	return loc.Query()
}

func TestLogoutWithoutRedirectShowsAPage(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		s := e.newSSOShop(nil)
		b := newBrowser(t)
		s.signIn(b, "ada@example.com", "correct horse battery")
		if q := s.silent(b, nil); q.Get("code") == "" {
			t.Fatalf("SSO after sign-in: %v", q)
		}
		out := b.get(e.url + s.base + "/auth/logout")
		if out.status != 200 || !strings.HasPrefix(out.header.Get("Content-Type"), "text/html") ||
			!strings.Contains(string(out.body), "You are signed out") || out.header.Get("Location") != "" {
			t.Fatalf("logout: %d %v %s", out.status, out.header, out.body)
		}
		if c := out.header.Get("Set-Cookie"); !strings.Contains(c, "twinid_session=;") || !strings.Contains(c, "Max-Age=0") {
			t.Fatalf("the session cookie is not cleared: %q", c)
		}
		if n := e.rowsOf("sessions", "shop"); n != 0 {
			t.Fatalf("%d sessions left after logout", n)
		}
		if q := s.silent(b, nil); q.Get("error") != "login_required" {
			t.Fatalf("SSO after logout: %v", q)
		}
		// Logging out without a session is the same page; an unknown account is an error page.
		if r := newBrowser(t).get(e.url + s.base + "/auth/logout"); r.status != 200 || !strings.Contains(string(r.body), "You are signed out") {
			t.Fatalf("logout without a session: %d", r.status)
		}
		if r := b.get(e.url + "/v1/accounts/nope/auth/logout"); r.status != 404 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
			t.Fatalf("logout at an unknown account: %d %v", r.status, r.header)
		}
	})
}

// id_token_hint at the authorization endpoint names who the application expects: the
// session answers only when it is that customer's.
func TestAuthorizeWithIDTokenHint(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		s := e.newSSOShop(nil)
		must(t, e.do("POST", s.base+"/customers/users", s.admin, map[string]any{"email": "grace@example.com", "password": "grace hopper rocks"}), 201)
		ada, grace := newBrowser(t), newBrowser(t)
		adaID := s.signIn(ada, "ada@example.com", "correct horse battery")
		graceID := s.signIn(grace, "grace@example.com", "grace hopper rocks")

		if q := s.silent(ada, url.Values{"id_token_hint": {adaID}}); q.Get("code") == "" || q.Get("state") != "st" {
			t.Fatalf("hint of the signed-in customer: %v", q)
		}
		if q := s.silent(ada, url.Values{"id_token_hint": {graceID}}); q.Get("error") != "login_required" {
			t.Fatalf("hint of another customer: %v", q)
		}
		// Without prompt=none another customer's hint shows the sign-in page instead.
		if r := ada.get(s.authorizeURL(url.Values{"id_token_hint": {graceID}})); r.status != 200 || !strings.Contains(string(r.body), "Sign in") {
			t.Fatalf("hint of another customer, interactive: %d %v", r.status, r.header)
		}
		// A hint that is not an ID token of this account is an error sent back to the client.
		other := e.newTenant(s.admin, "other", nil)
		foreign := must(t, e.form("/v1/accounts/other/auth/token", other.clientID, other.secret, url.Values{"grant_type": {"client_credentials"}}), 200)["access_token"].(string)
		for name, hint := range map[string]string{"garbage": "not.a.token", "another account's token": foreign,
			"tampered": adaID[:len(adaID)-4] + "AAAA"} {
			q := s.silent(ada, url.Values{"id_token_hint": {hint}})
			if q.Get("error") != "invalid_request" || !strings.Contains(q.Get("error_description"), "id_token_hint") {
				t.Errorf("%s hint: %v", name, q)
			}
		}
	})
}

// Using the session extends its idle lifetime, never past its absolute end.
func TestSessionUseExtendsItsIdleLifetime(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		s := e.newSSOShop(map[string]any{"sessionIdleLifetime": 600, "sessionAbsoluteLifetime": 3600})
		b := newBrowser(t)
		s.signIn(b, "ada@example.com", "correct horse battery")
		session := func() (idle, until int64) {
			t.Helper()
			if err := e.st.DB().Table("sessions").Select("idle_until_ms, until_ms").Row().Scan(&idle, &until); err != nil {
				t.Fatal(err)
			}
			return idle, until
		}
		// Nearly idle for too long: 30 seconds are left.
		if err := e.st.DB().Exec("UPDATE sessions SET idle_until_ms = ?", time.Now().Add(30*time.Second).UnixMilli()).Error; err != nil {
			t.Fatal(err)
		}
		before := time.Now()
		if q := s.silent(b, nil); q.Get("code") == "" {
			t.Fatalf("SSO: %v", q)
		}
		idle, until := session()
		if lo, hi := before.Add(600*time.Second).UnixMilli(), time.Now().Add(600*time.Second).UnixMilli(); idle < lo || idle > hi {
			t.Fatalf("idle end %d not extended to now + 600 s [%d, %d]", idle, lo, hi)
		}
		// Close to the absolute end, the idle end stops there.
		end := time.Now().Add(2 * time.Minute).UnixMilli()
		if err := e.st.DB().Exec("UPDATE sessions SET idle_until_ms = ?, until_ms = ?", time.Now().Add(10*time.Second).UnixMilli(), end).Error; err != nil {
			t.Fatal(err)
		}
		if q := s.silent(b, nil); q.Get("code") == "" {
			t.Fatalf("SSO near the end: %v", q)
		}
		if idle, until = session(); idle != end || until != end {
			t.Fatalf("idle end %d, absolute end %d; want both %d", idle, until, end)
		}
	})
}
