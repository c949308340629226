package server_test

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/twinid/twinid/server"
	"github.com/twinid/twinid/server/mail/mailtest"
)

// browser is an HTTP client with cookies that does not follow redirects, like a user agent
// whose every step the test looks at.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, Transport: checkedClient(t).Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) get(u string) resp {
	b.t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	return b.do(req)
}

func (b *browser) do(req *http.Request) resp {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp{status: res.StatusCode, header: res.Header, body: []byte(sb.String())}
}

var formAction = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
var formAR = regexp.MustCompile(`name="ar" value="([^"]+)"`)

// submitLogin fills in the hosted login page.
func (b *browser) submitLogin(page resp, email, password string) resp {
	b.t.Helper()
	action, ar := formAction.FindSubmatch(page.body), formAR.FindSubmatch(page.body)
	if action == nil || ar == nil {
		b.t.Fatalf("not a login page: %d %s", page.status, page.body)
	}
	v := url.Values{"ar": {html.UnescapeString(string(ar[1]))}, "email": {email}, "password": {password}}
	req, _ := http.NewRequest("POST", html.UnescapeString(string(action[1])), strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func TestCodeFlowWithPKCEAndOIDC(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		sh := e.newShop(nil)
		ctx := checkedContext(t)
		redirect := "http://127.0.0.1:5173/callback"
		spa := must(t, e.do("POST", sh.base+"/clients", sh.admin, map[string]any{"name": "spa", "type": "public",
			"redirectUris": []string{redirect}, "postLogoutRedirectUris": []string{"http://127.0.0.1:5173/"}}), 201)["clientId"].(string)
		web := must(t, e.do("POST", sh.base+"/clients", sh.admin, map[string]any{"name": "web", "type": "confidential",
			"redirectUris": []string{redirect}}), 201)["clientId"].(string)
		webSecret := must(t, e.do("POST", sh.base+"/clients/"+web+"/secrets", sh.admin, nil), 201)["secret"].(string)
		must(t, e.do("POST", sh.base+"/grants", sh.admin, map[string]any{"clientId": spa, "audience": apiAud,
			"type": "authorization_code", "scopes": []string{"customer_customers:read", "customer_discounts:read", "not_held"}}), 201)

		issuer := e.url + sh.base
		provider, err := oidc.NewProvider(ctx, issuer)
		if err != nil {
			t.Fatalf("discovery: %v", err)
		}
		conf := oauth2.Config{ClientID: spa, Endpoint: provider.Endpoint(), RedirectURL: redirect,
			Scopes: []string{oidc.ScopeOpenID, "profile", "email", "customer_customers:read"}}
		verifier := oauth2.GenerateVerifier()
		b := newBrowser(t)
		authURL := conf.AuthCodeURL("st-123", oauth2.S256ChallengeOption(verifier), oidc.Nonce("n-456"))

		page := b.get(authURL)
		if page.status != 200 || !strings.Contains(string(page.body), "Sign in") {
			t.Fatalf("login page: %d %s", page.status, page.body)
		}
		if page.header.Get("X-Frame-Options") != "DENY" || page.header.Get("Content-Security-Policy") == "" {
			t.Fatalf("page headers: %v", page.header)
		}
		// A wrong password shows a generic message, on the page again.
		again := b.submitLogin(page, "ada@example.com", "wrong password!!")
		if again.status != 401 || !strings.Contains(string(again.body), "Wrong email or password") {
			t.Fatalf("wrong password: %d %s", again.status, again.body)
		}
		back := b.submitLogin(again, "ada@example.com", "correct horse battery")
		if back.status != 303 {
			t.Fatalf("after login: %d %s", back.status, back.body)
		}
		loc, _ := url.Parse(back.header.Get("Location"))
		if !strings.HasPrefix(loc.String(), redirect) || loc.Query().Get("state") != "st-123" || loc.Query().Get("iss") != issuer {
			t.Fatalf("redirect: %s", loc)
		}
		code := loc.Query().Get("code")
		// A wrong verifier fails; the right one gets tokens.
		if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
			t.Fatal("a wrong code_verifier was accepted")
		}
		// PKCE is checked before the code is used up, so the right verifier still works.
		tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		rawID, _ := tok.Extra("id_token").(string)
		idt, err := provider.Verifier(&oidc.Config{ClientID: spa}).Verify(ctx, rawID)
		if err != nil {
			t.Fatalf("ID token: %v", err)
		}
		var raw map[string]any
		_ = idt.Claims(&raw)
		if idt.Nonce != "n-456" || idt.Subject != sh.customerID || raw["at_hash"] == nil || raw["sid"] == nil || raw["auth_time"] == nil || raw["email"] != "ada@example.com" {
			t.Fatalf("ID token claims: %v", raw)
		}
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			t.Fatalf("at_hash: %v", err)
		}
		at := claims(t, tok.AccessToken)
		if at["aud"] != apiAud || at["scope"] != "openid profile email customer_customers:read" {
			t.Fatalf("access token: %v", at)
		}
		if tok.RefreshToken != "" {
			t.Fatal("a public client got a refresh token")
		}
		// UserInfo by GET (header) and POST (body).
		info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil || info.Subject != sh.customerID || info.Email != "ada@example.com" {
			t.Fatalf("userinfo: %v %v", info, err)
		}
		r := e.form(sh.base+"/userinfo", "", "", url.Values{"access_token": {tok.AccessToken}})
		if m := must(t, r, 200); m["sub"] != sh.customerID {
			t.Fatalf("userinfo POST: %v", m)
		}
		// A second exchange of the code fails and revokes what the first issued.
		if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err == nil {
			t.Fatal("a code was exchanged twice")
		}
		if r := e.do("GET", sh.base+"/userinfo", tok.AccessToken, nil); r.status != 401 {
			t.Fatalf("token of a replayed code still works: %d", r.status)
		}

		// Single sign-on: another application gets its code without a form.
		wconf := oauth2.Config{ClientID: web, ClientSecret: webSecret, Endpoint: provider.Endpoint(), RedirectURL: redirect,
			Scopes: []string{oidc.ScopeOpenID, "offline_access"}}
		sso := b.get(wconf.AuthCodeURL("s2"))
		if sso.status != 303 {
			t.Fatalf("SSO: %d %s", sso.status, sso.body)
		}
		loc, _ = url.Parse(sso.header.Get("Location"))
		wtok, err := wconf.Exchange(ctx, loc.Query().Get("code"))
		if err != nil || wtok.RefreshToken == "" {
			t.Fatalf("confidential exchange: %v %v", wtok, err)
		}
		// prompt=login shows the form again; prompt=none without a session is login_required.
		if r := b.get(wconf.AuthCodeURL("s3", oauth2.SetAuthURLParam("prompt", "login"))); r.status != 200 {
			t.Fatalf("prompt=login: %d", r.status)
		}
		stranger := newBrowser(t)
		r = stranger.get(wconf.AuthCodeURL("s4", oauth2.SetAuthURLParam("prompt", "none")))
		loc, _ = url.Parse(r.header.Get("Location"))
		if r.status != 303 || loc.Query().Get("error") != "login_required" || loc.Query().Get("state") != "s4" {
			t.Fatalf("prompt=none: %d %s", r.status, loc)
		}

		// Errors before the redirect URI is known good are pages, never redirects.
		for _, u := range []string{
			strings.Replace(conf.AuthCodeURL("x", oauth2.S256ChallengeOption(verifier)), url.QueryEscape(redirect), url.QueryEscape("https://evil.example.com/cb"), 1),
			strings.Replace(conf.AuthCodeURL("x", oauth2.S256ChallengeOption(verifier)), spa, "unknown-client", 1),
		} {
			r := stranger.get(u)
			if r.status != 400 || r.header.Get("Location") != "" || !strings.Contains(r.header.Get("Content-Type"), "text/html") {
				t.Fatalf("bad client or redirect: %d %v", r.status, r.header)
			}
		}
		// PKCE is required for public clients, plain is refused, request objects too.
		for name, opts := range map[string][]oauth2.AuthCodeOption{
			"no PKCE":  nil,
			"plain":    {oauth2.SetAuthURLParam("code_challenge", strings.Repeat("a", 43)), oauth2.SetAuthURLParam("code_challenge_method", "plain")},
			"request":  {oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("request", "eyJ.e30.")},
			"bad type": {oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("response_type", "token")},
		} {
			r := stranger.get(conf.AuthCodeURL("y", opts...))
			loc, _ := url.Parse(r.header.Get("Location"))
			if r.status != 303 || loc.Query().Get("error") == "" || loc.Query().Get("state") != "y" {
				t.Errorf("%s: %d %s", name, r.status, loc)
			}
		}

		// Logout ends the session and returns to a registered URI.
		out := b.get(issuer + "/auth/logout?" + url.Values{"id_token_hint": {rawID}, "post_logout_redirect_uri": {"http://127.0.0.1:5173/"}, "state": {"bye"}}.Encode())
		if out.status != 303 || out.header.Get("Location") != "http://127.0.0.1:5173/?state=bye" {
			t.Fatalf("logout: %d %v", out.status, out.header)
		}
		if r := b.get(wconf.AuthCodeURL("s5", oauth2.SetAuthURLParam("prompt", "none"))); !strings.Contains(r.header.Get("Location"), "login_required") {
			t.Fatalf("session survived logout: %v", r.header.Get("Location"))
		}
		if r := b.get(issuer + "/auth/logout?post_logout_redirect_uri=" + url.QueryEscape("https://evil.example.com/")); r.status != 400 {
			t.Fatalf("unregistered post-logout URI: %d", r.status)
		}
	})
}

func TestSwaggerUILoginAsPerson(t *testing.T) {
	t.Parallel()
	forEachDBBoot(t, server.BootstrapOptions{AdminEmail: "root@example.com", AdminPassword: "a long admin passphrase"}, func(t *testing.T, e *env) {
		ctx := checkedContext(t)
		provider, err := oidc.NewProvider(ctx, e.url+"/v1/accounts/root")
		if err != nil {
			t.Fatal(err)
		}
		// What Swagger UI's Authorize does: code + PKCE with the swagger-ui client.
		conf := oauth2.Config{ClientID: server.SwaggerUIClientID, Endpoint: provider.Endpoint(),
			RedirectURL: e.url + "/swagger/oauth2-redirect.html", Scopes: []string{"api://management/.default"}}
		verifier := oauth2.GenerateVerifier()
		b := newBrowser(t)
		page := b.get(conf.AuthCodeURL("sw", oauth2.S256ChallengeOption(verifier)))
		back := b.submitLogin(page, "root@example.com", "a long admin passphrase")
		loc, _ := url.Parse(back.header.Get("Location"))
		if back.status != 303 || loc.Query().Get("code") == "" {
			t.Fatalf("login: %d %s", back.status, back.body)
		}
		tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		// "Try it out" on the management API with the person's token.
		must(t, e.do("GET", "/v1/accounts/root/service-accounts", tok.AccessToken, nil), 200)
		must(t, e.do("POST", "/v1/accounts", tok.AccessToken, map[string]any{"aid": "by-person", "name": "By a person"}), 201)
		// A customer without the management scope gets a token without it, and a 403.
		admin := e.adminToken()
		must(t, e.do("POST", "/v1/accounts/root/customers/users", admin, map[string]any{"email": "plain@example.com", "password": "just a customer here"}), 201)
		b2 := newBrowser(t)
		back = b2.submitLogin(b2.get(conf.AuthCodeURL("sw2", oauth2.S256ChallengeOption(verifier))), "plain@example.com", "just a customer here")
		loc, _ = url.Parse(back.header.Get("Location"))
		tok2, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		if r := e.do("GET", "/v1/accounts/root/service-accounts", tok2.AccessToken, nil); r.status != 403 && r.status != 401 {
			t.Fatalf("a plain customer reached the management API: %d", r.status)
		}
	})
}

var hrefForgot = regexp.MustCompile(`<a href="([^"]+)">Forgot your password\?</a>`)
var hrefContinue = regexp.MustCompile(`<a href="([^"]+)">Continue to sign in</a>`)
var formCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// postForm submits a hosted form with its CSRF token and the given fields.
func (b *browser) postForm(page resp, fields url.Values) resp {
	b.t.Helper()
	action, csrf := formAction.FindSubmatch(page.body), formCSRF.FindSubmatch(page.body)
	if action == nil || csrf == nil {
		b.t.Fatalf("no form: %d %s", page.status, page.body)
	}
	fields.Set("csrf", html.UnescapeString(string(csrf[1])))
	if ar := formAR.FindSubmatch(page.body); ar != nil && fields.Get("ar") == "" {
		fields.Set("ar", html.UnescapeString(string(ar[1])))
	}
	req, _ := http.NewRequest("POST", html.UnescapeString(string(action[1])), strings.NewReader(fields.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func TestHostedForgotPasswordAndInvitationPages(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		sh := e.newShop(nil)
		redirect := "https://app.example.com/cb"
		web := must(t, e.do("POST", sh.base+"/clients", sh.admin, map[string]any{"name": "web", "type": "confidential",
			"redirectUris": []string{redirect}}), 201)["clientId"].(string)
		b := newBrowser(t)
		authz := e.url + sh.base + "/auth/authorize?" + url.Values{"response_type": {"code"}, "client_id": {web},
			"redirect_uri": {redirect}, "scope": {"openid"}, "state": {"st"}}.Encode()
		login := b.get(authz)
		link := hrefForgot.FindSubmatch(login.body)
		if link == nil {
			t.Fatalf("no forgot-password link: %s", login.body)
		}
		forgot := b.get(html.UnescapeString(string(link[1])))
		// The same answer for an unknown email; a code only for the customer.
		unknown := b.postForm(forgot, url.Values{"email": {"nobody@example.com"}})
		reset := b.postForm(forgot, url.Values{"email": {"ada@example.com"}})
		if unknown.status != 200 || reset.status != 200 || !strings.Contains(string(reset.body), "a code is on its way") {
			t.Fatalf("forgot: %d / %d %s", unknown.status, reset.status, reset.body)
		}
		code := mailtest.Code(e.smtp.Wait(t, "ada@example.com", 10*time.Second).Text)
		// A weak password does not use the code up; a forged form is refused.
		if r := b.postForm(reset, url.Values{"email": {"ada@example.com"}, "code": {code}, "password": {"password1"}}); r.status != 400 {
			t.Fatalf("weak password: %d", r.status)
		}
		stranger := newBrowser(t)
		req, _ := http.NewRequest("POST", e.url+sh.base+"/auth/reset-password", strings.NewReader(url.Values{"csrf": {"x"},
			"email": {"ada@example.com"}, "code": {code}, "password": {"a brand new passphrase"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if r := stranger.do(req); r.status != 400 || !strings.Contains(string(r.body), "expired") {
			t.Fatalf("CSRF: %d %s", r.status, r.body)
		}
		done := b.postForm(reset, url.Values{"email": {"ada@example.com"}, "code": {code}, "password": {"a brand new passphrase"}})
		cont := hrefContinue.FindSubmatch(done.body)
		if done.status != 200 || cont == nil {
			t.Fatalf("reset: %d %s", done.status, done.body)
		}
		// Back to the application's sign-in, with the new password.
		back := b.submitLogin(b.get(html.UnescapeString(string(cont[1]))), "ada@example.com", "a brand new passphrase")
		if loc, _ := url.Parse(back.header.Get("Location")); back.status != 303 || loc.Query().Get("code") == "" || loc.Query().Get("state") != "st" {
			t.Fatalf("sign-in after reset: %d %v", back.status, back.header)
		}

		// The invitation email's link opens the accept page; choosing a password activates.
		must(t, e.do("POST", sh.base+"/customers/users", sh.admin, map[string]any{"email": "grace@example.com"}), 201)
		m := e.smtp.Wait(t, "grace@example.com", 10*time.Second)
		inv := regexp.MustCompile(`https?://\S+/auth/accept-invitation\?\S+`).FindString(m.Text)
		page := b.get(inv)
		if page.status != 200 || !strings.Contains(string(page.body), "Accept your invitation") {
			t.Fatalf("invitation page: %d %s", page.status, page.body)
		}
		ok := b.postForm(page, url.Values{"email": {"grace@example.com"}, "code": {mailtest.Code(m.Text)}, "password": {"grace hopper rocks"}})
		if ok.status != 200 || !strings.Contains(string(ok.body), "Your password is set") {
			t.Fatalf("accept: %d %s", ok.status, ok.body)
		}
		// An error page never reflects unescaped input.
		r := b.get(e.url + sh.base + "/auth/authorize?client_id=%3Cscript%3Ealert(1)%3C/script%3E&redirect_uri=x")
		if r.status != 400 || strings.Contains(string(r.body), "<script>") {
			t.Fatalf("error page: %d %s", r.status, r.body)
		}
	})
}

func TestIDTokensAreRS256OnES256Accounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	sh := e.newShop(nil) // ES256: the default
	ctx := checkedContext(t)
	redirect := "https://app.example.com/cb"
	web := must(t, e.do("POST", sh.base+"/clients", sh.admin, map[string]any{"name": "web", "type": "confidential",
		"redirectUris": []string{redirect}}), 201)["clientId"].(string)
	secret := must(t, e.do("POST", sh.base+"/clients/"+web+"/secrets", sh.admin, nil), 201)["secret"].(string)
	provider, err := oidc.NewProvider(ctx, e.url+sh.base)
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: web, ClientSecret: secret, Endpoint: provider.Endpoint(), RedirectURL: redirect, Scopes: []string{oidc.ScopeOpenID}}
	b := newBrowser(t)
	back := b.submitLogin(b.get(conf.AuthCodeURL("s")), "ada@example.com", "correct horse battery")
	loc, _ := url.Parse(back.header.Get("Location"))
	tok, err := conf.Exchange(ctx, loc.Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if jwtHeader(t, tok.AccessToken)["alg"] != "ES256" {
		t.Fatalf("access token alg: %v", jwtHeader(t, tok.AccessToken))
	}
	raw := tok.Extra("id_token").(string)
	if jwtHeader(t, raw)["alg"] != "RS256" {
		t.Fatalf("ID token alg: %v", jwtHeader(t, raw))
	}
	// go-oidc accepts RS256 by default, verifying against the account's JWKS.
	if _, err := provider.Verifier(&oidc.Config{ClientID: web}).Verify(ctx, raw); err != nil {
		t.Fatal(err)
	}
}

func jwtHeader(t *testing.T, tok string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

func TestSessionLifetimes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	sh := e.newShop(map[string]any{"sessionIdleLifetime": 600, "sessionAbsoluteLifetime": 3600})
	acct := must(t, e.do("GET", sh.base, sh.admin, nil), 200)["settings"].(map[string]any)
	if acct["sessionIdleLifetime"] != 600.0 || acct["sessionAbsoluteLifetime"] != 3600.0 {
		t.Fatalf("settings: %v", acct)
	}
	redirect := "https://app.example.com/cb"
	web := must(t, e.do("POST", sh.base+"/clients", sh.admin, map[string]any{"name": "web", "type": "confidential",
		"redirectUris": []string{redirect}}), 201)["clientId"].(string)
	authz := func(prompt string) string {
		return e.url + sh.base + "/auth/authorize?" + url.Values{"response_type": {"code"}, "client_id": {web},
			"redirect_uri": {redirect}, "scope": {"openid"}, "prompt": {prompt}}.Encode()
	}
	b := newBrowser(t)
	back := b.submitLogin(b.get(authz("login")), "ada@example.com", "correct horse battery")
	if back.status != 303 {
		t.Fatalf("login: %d", back.status)
	}
	var until int64
	e.st.DB().Table("sessions").Select("until_ms - auth_time_ms").Row().Scan(&until)
	if until != 3600_000 {
		t.Fatalf("absolute lifetime: %d ms", until)
	}
	if r := b.get(authz("none")); !strings.Contains(r.header.Get("Location"), "code=") {
		t.Fatalf("SSO: %v", r.header)
	}
	// Idle for longer than the setting: the session is over.
	e.st.DB().Exec("UPDATE sessions SET idle_until_ms = ?", time.Now().Add(-time.Second).UnixMilli())
	if r := b.get(authz("none")); !strings.Contains(r.header.Get("Location"), "error=login_required") {
		t.Fatalf("idle session still works: %v", r.header)
	}
}
