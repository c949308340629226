package server_test

import (
	"encoding/base32"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/twinid/twinid/server/login"
)

// toNode sends a browser's requests for the first node to node n, whose clock the test
// moves (the pages' forms name the public URL, the first node's).
type toNode struct {
	host string
	next http.RoundTripper
}

func (tn toNode) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Host, r.Host = tn.host, tn.host
	return tn.next.RoundTrip(r)
}

func (ms *mfaShop) browser(t *testing.T) *browser {
	b := newBrowser(t)
	u, _ := url.Parse(ms.e.url)
	b.c.Transport = toNode{host: u.Host, next: b.c.Transport}
	return b
}

var formMFA = regexp.MustCompile(`name="mfa" value="([^"]+)"`)
var pageSecret = regexp.MustCompile(`<code id="secret">([A-Z2-7]+)</code>`)

// submitCode fills in the hosted second step (or enrolment) page.
func (b *browser) submitCode(page resp, otp string) resp {
	b.t.Helper()
	action, ar, st := formAction.FindSubmatch(page.body), formAR.FindSubmatch(page.body), formMFA.FindSubmatch(page.body)
	if action == nil || ar == nil || st == nil {
		b.t.Fatalf("not a second-step page: %d %s", page.status, page.body)
	}
	v := url.Values{"ar": {html.UnescapeString(string(ar[1]))}, "mfa": {html.UnescapeString(string(st[1]))}, "otp": {otp}}
	req, _ := http.NewRequest("POST", html.UnescapeString(string(action[1])), strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// TestHostedSecondStep: on the hosted pages a customer with a TOTP factor gives a code after
// the password; the ID token says amr pwd otp mfa and acr mfa. A customer who must have a
// factor and has none enrols one there (QR code) and sees the recovery codes once.
// acr_values=urn:twinid:acr:mfa steps a password-only session up.
func TestHostedSecondStep(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		ms := newMFAShop(t, e, nil)
		n := ms.e
		ctx := checkedContext(t)
		redirect := "http://127.0.0.1:5173/callback"
		admin := n.adminToken()
		spa := must(t, n.do("POST", ms.base+"/clients", admin, map[string]any{"name": "spa", "type": "public",
			"redirectUris": []string{redirect}}), 201)["clientId"].(string)
		issuer := n.url + ms.base
		conf := oauth2.Config{ClientID: spa, RedirectURL: redirect, Scopes: []string{"openid", "email"},
			Endpoint: oauth2.Endpoint{AuthURL: issuer + "/auth/authorize", TokenURL: issuer + "/auth/token", AuthStyle: oauth2.AuthStyleInParams}}
		signIn := func(b *browser, back resp, verifier string) map[string]any {
			t.Helper()
			if back.status != 303 {
				t.Fatalf("want the redirect back: %d %s", back.status, back.body)
			}
			loc, _ := url.Parse(back.header.Get("Location"))
			tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			return claims(t, tok.Extra("id_token").(string))
		}

		verifier := oauth2.GenerateVerifier()
		b := ms.browser(t)
		step := b.submitLogin(b.get(conf.AuthCodeURL("s1", oauth2.S256ChallengeOption(verifier))), "ada@example.com", "correct horse battery")
		if step.status != 200 || !strings.Contains(string(step.body), "authenticator app") {
			t.Fatalf("after the password: %d %s", step.status, step.body)
		}
		wrong := b.submitCode(step, login.TOTP(ms.secret, login.TOTPStep(ms.clk.Now())+7))
		if wrong.status != 401 || !strings.Contains(string(wrong.body), "wrong or was used") {
			t.Fatalf("a wrong code: %d %s", wrong.status, wrong.body)
		}
		ms.clk.Add(30 * time.Second)
		id := signIn(b, b.submitCode(wrong, ms.code(0)), verifier)
		if amr := strSlice(id["amr"]); !slices.Equal(amr, []string{"pwd", "otp", "mfa"}) || id["acr"] != "urn:twinid:acr:mfa" {
			t.Errorf("ID token after the second step: amr %v acr %v", id["amr"], id["acr"])
		}

		// A customer without a factor signs in with the password alone (amr pwd) ...
		must(t, n.do("POST", ms.base+"/customers/users", admin, map[string]any{"email": "carol@example.com",
			"password": "correct horse battery", "scopes": []string{}}), 201)
		b2 := ms.browser(t)
		v2 := oauth2.GenerateVerifier()
		id = signIn(b2, b2.submitLogin(b2.get(conf.AuthCodeURL("s2", oauth2.S256ChallengeOption(v2))), "carol@example.com", "correct horse battery"), v2)
		if id["acr"] != "urn:twinid:acr:pwd" {
			t.Errorf("password-only ID token acr %v", id["acr"])
		}
		// ... until an application asks for more: the session does not suffice, and she enrols.
		v3 := oauth2.GenerateVerifier()
		up := b2.get(conf.AuthCodeURL("s3", oauth2.S256ChallengeOption(v3), oauth2.SetAuthURLParam("acr_values", "urn:twinid:acr:mfa")))
		if up.status != 200 || !strings.Contains(string(up.body), `name="password"`) {
			t.Fatalf("step-up: %d %s", up.status, up.body)
		}
		enrol := b2.submitLogin(up, "carol@example.com", "correct horse battery")
		sec := pageSecret.FindSubmatch(enrol.body)
		if enrol.status != 200 || sec == nil || !strings.Contains(string(enrol.body), `src="data:image/png;base64,`) {
			t.Fatalf("enrolment page: %d %s", enrol.status, enrol.body)
		}
		key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(string(sec[1]))
		if err != nil {
			t.Fatal(err)
		}
		shown := b2.submitCode(enrol, login.TOTP(key, login.TOTPStep(ms.clk.Now())))
		codes := regexp.MustCompile(`<li><code>([a-z0-9-]+)</code></li>`).FindAllSubmatch(shown.body, -1)
		link := regexp.MustCompile(`<a href="([^"]+)">Continue`).FindSubmatch(shown.body)
		if shown.status != 200 || len(codes) != 10 || link == nil {
			t.Fatalf("recovery codes page: %d %s", shown.status, shown.body)
		}
		loc := html.UnescapeString(string(link[1]))
		if !strings.HasPrefix(loc, redirect) {
			t.Fatalf("continue link %s", loc)
		}
		u, _ := url.Parse(loc)
		tok, err := conf.Exchange(ctx, u.Query().Get("code"), oauth2.VerifierOption(v3))
		if err != nil {
			t.Fatal(err)
		}
		if id := claims(t, tok.Extra("id_token").(string)); id["acr"] != "urn:twinid:acr:mfa" {
			t.Errorf("stepped-up ID token acr %v", id["acr"])
		}
		checkFactorsPage(t, ms, b2)

		// The session is multi-factor now: a request for mfa rides on it.
		if sso := b2.get(conf.AuthCodeURL("s4", oauth2.S256ChallengeOption(v3), oauth2.SetAuthURLParam("acr_values", "urn:twinid:acr:mfa"))); sso.status != 303 {
			t.Errorf("SSO after the step-up: %d", sso.status)
		}
	})
}

var pageCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
var pageFactor = regexp.MustCompile(`name="factor" value="([^"]+)">\s*<button type="submit" aria-label="Remove ([^"]+)"`)

// checkFactorsPage works the hosted factors page as carol, signed in with her new factor.
func checkFactorsPage(t *testing.T, ms *mfaShop, b *browser) {
	t.Helper()
	pageURL := ms.e.url + ms.base + "/auth/factors"
	post := func(v url.Values) resp {
		t.Helper()
		req, _ := http.NewRequest("POST", pageURL, strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return b.do(req)
	}
	csrfOf := func(r resp) string {
		m := pageCSRF.FindSubmatch(r.body)
		if m == nil {
			t.Fatalf("no form on %d %s", r.status, r.body)
		}
		return html.UnescapeString(string(m[1]))
	}
	list := b.get(pageURL)
	rows := pageFactor.FindAllSubmatch(list.body, -1)
	if list.status != 200 || len(rows) != 2 || string(rows[0][2]) != "Authenticator app" || string(rows[1][2]) != "Recovery codes" {
		t.Fatalf("factors page: %d %s", list.status, list.body)
	}
	if r := post(url.Values{"csrf": {"forged-forged-forged-forged"}, "action": {"recovery"}}); r.status != 400 {
		t.Errorf("a forged form: %d", r.status)
	}
	codes := post(url.Values{"csrf": {csrfOf(list)}, "action": {"recovery"}})
	if n := len(regexp.MustCompile(`<li><code>`).FindAll(codes.body, -1)); codes.status != 200 || n != 10 {
		t.Errorf("new recovery codes: %d, %d codes", codes.status, n)
	}
	gone := post(url.Values{"csrf": {csrfOf(list)}, "action": {"remove"}, "factor": {string(rows[0][1])}})
	if gone.status != 200 || len(pageFactor.FindAllSubmatch(gone.body, -1)) != 1 {
		t.Errorf("after removing the app: %d %s", gone.status, gone.body)
	}
	enrol := post(url.Values{"csrf": {csrfOf(gone)}, "action": {"enrol"}})
	sec, fid := pageSecret.FindSubmatch(enrol.body), regexp.MustCompile(`name="factor" value="([^"]+)"`).FindSubmatch(enrol.body)
	if enrol.status != 200 || sec == nil || fid == nil {
		t.Fatalf("enrol view: %d %s", enrol.status, enrol.body)
	}
	key, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(string(sec[1]))
	on := post(url.Values{"csrf": {csrfOf(enrol)}, "action": {"confirm"}, "factor": {string(fid[1])},
		"otp": {login.TOTP(key, login.TOTPStep(ms.clk.Now()))}})
	if on.status != 200 || !strings.Contains(string(on.body), "The authenticator app is on.") || len(pageFactor.FindAllSubmatch(on.body, -1)) != 2 {
		t.Errorf("after confirming: %d %s", on.status, on.body)
	}
	if r := ms.browser(t).get(pageURL); r.status != 401 {
		t.Errorf("the factors page without a session: %d", r.status)
	}
}

// Each sign-in that must enrol shows a fresh enrolment, which replaces the one before it:
// the twelfth in a row still enrols (kept enrolments filled the customer's ten factors by
// the eleventh), the enrolment that was replaced no longer confirms, and the last does.
func TestRepeatedEnrolmentsReplaceTheirPendingOne(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		ms := newMFAShop(t, e, nil)
		n, admin := ms.e, ms.e.adminToken()
		redirect := "http://127.0.0.1:5173/callback"
		spa := must(t, n.do("POST", ms.base+"/clients", admin, map[string]any{"name": "spa", "type": "public",
			"redirectUris": []string{redirect}}), 201)["clientId"].(string)
		must(t, n.do("POST", ms.base+"/customers/users", admin, map[string]any{"email": "dave@example.com",
			"password": "correct horse battery", "scopes": []string{}}), 201)
		conf := oauth2.Config{ClientID: spa, RedirectURL: redirect, Scopes: []string{"openid"},
			Endpoint: oauth2.Endpoint{AuthURL: n.url + ms.base + "/auth/authorize"}}
		b := ms.browser(t)
		var first, last resp
		for i := range 12 {
			ask := b.get(conf.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
				oauth2.SetAuthURLParam("acr_values", "urn:twinid:acr:mfa")))
			page := b.submitLogin(ask, "dave@example.com", "correct horse battery")
			if page.status != 200 || pageSecret.FindSubmatch(page.body) == nil {
				t.Fatalf("sign-in %d: no enrolment page: %d %s", i+1, page.status, page.body)
			}
			if i == 0 {
				first = page
			}
			last = page
		}
		keyOf := func(page resp) []byte {
			key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(string(pageSecret.FindSubmatch(page.body)[1]))
			if err != nil {
				t.Fatal(err)
			}
			return key
		}
		if r := b.submitCode(first, login.TOTP(keyOf(first), login.TOTPStep(ms.clk.Now()))); r.status == 200 {
			t.Fatalf("the replaced enrolment confirmed: %s", r.body)
		}
		if r := b.submitCode(last, login.TOTP(keyOf(last), login.TOTPStep(ms.clk.Now()))); r.status != 200 ||
			!strings.Contains(string(r.body), "Continue") {
			t.Fatalf("the last enrolment: %d %s", r.status, r.body)
		}
	})
}
