package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/twinid/twinid/gen"
)

// post sends a POST with a body, as a browser submitting an auto-posting form does.
func (b *browser) post(u, contentType, body string) resp {
	b.t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return b.do(req)
}

func (b *browser) postValues(u string, v url.Values) resp {
	b.t.Helper()
	return b.post(u, "application/x-www-form-urlencoded", v.Encode())
}

// isErrorPage: a 400 HTML page and no redirect (never an open redirector).
func isErrorPage(r resp) bool {
	return r.status == 400 && r.header.Get("Location") == "" && strings.Contains(r.header.Get("Content-Type"), "text/html")
}

// The authorization server must support GET and POST at the authorization endpoint, POST
// with the parameters form-serialized in the body (OpenID Connect Core §3.1.2.1); a POST is
// answered exactly like the GET: login page, code + PKCE (RFC 7636), single sign-on, and
// error pages before the redirect URI is known good (RFC 6749 §4.1.2.1).
func TestAuthorizeByFormPost(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		sh := e.newShop(nil)
		ctx := checkedContext(t)
		redirect := "http://127.0.0.1:5173/callback"
		spa := must(t, e.do("POST", sh.base+"/clients", sh.admin, map[string]any{"name": "spa", "type": "public",
			"redirectUris": []string{redirect}}), 201)["clientId"].(string)
		issuer := e.url + sh.base
		provider, err := oidc.NewProvider(ctx, issuer)
		if err != nil {
			t.Fatalf("discovery: %v", err)
		}
		conf := oauth2.Config{ClientID: spa, Endpoint: provider.Endpoint(), RedirectURL: redirect,
			Scopes: []string{oidc.ScopeOpenID, "email"}}
		authorize := issuer + "/auth/authorize"
		// The parameters the GET would carry in its query string, in the body instead.
		params := func(state string, verifier string) url.Values {
			u, _ := url.Parse(conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce("n-"+state)))
			return u.Query()
		}

		verifier := oauth2.GenerateVerifier()
		b := newBrowser(t)
		page := b.postValues(authorize, params("st-1", verifier))
		if page.status != 200 || !strings.Contains(string(page.body), "Sign in") {
			t.Fatalf("login page: %d %s", page.status, page.body)
		}
		back := b.submitLogin(page, "ada@example.com", "correct horse battery")
		loc, _ := url.Parse(back.header.Get("Location"))
		if back.status != 303 || !strings.HasPrefix(loc.String(), redirect) || loc.Query().Get("state") != "st-1" || loc.Query().Get("code") == "" {
			t.Fatalf("after login: %d %s", back.status, loc)
		}
		tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		rawID, _ := tok.Extra("id_token").(string)
		idt, err := provider.Verifier(&oidc.Config{ClientID: spa}).Verify(ctx, rawID)
		if err != nil || idt.Nonce != "n-st-1" || idt.Subject != sh.customerID {
			t.Fatalf("ID token: %v %v", idt, err)
		}

		// Single sign-on: a second POST with the session cookie goes straight back with a code.
		v2 := oauth2.GenerateVerifier()
		sso := b.postValues(authorize, params("st-2", v2))
		loc, _ = url.Parse(sso.header.Get("Location"))
		if sso.status != 303 || loc.Query().Get("state") != "st-2" || loc.Query().Get("code") == "" {
			t.Fatalf("SSO: %d %s %s", sso.status, loc, sso.body)
		}
		if _, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(v2)); err != nil {
			t.Fatalf("SSO exchange: %v", err)
		}
		// Errors after the redirect URI is known good go back to it, as for GET (§3.1.2.6).
		noPKCE := params("st-3", verifier)
		noPKCE.Del("code_challenge")
		noPKCE.Del("code_challenge_method")
		r := newBrowser(t).postValues(authorize, noPKCE)
		loc, _ = url.Parse(r.header.Get("Location"))
		if r.status != 303 || loc.Query().Get("error") != "invalid_request" || loc.Query().Get("state") != "st-3" {
			t.Fatalf("public client without PKCE: %d %s", r.status, loc)
		}

		stranger := newBrowser(t)
		// An unregistered redirect_uri is an error page, never a redirect.
		evil := params("x", verifier)
		evil.Set("redirect_uri", "https://evil.example.com/cb")
		if r := stranger.postValues(authorize, evil); !isErrorPage(r) {
			t.Fatalf("unregistered redirect_uri: %d %v %s", r.status, r.header, r.body)
		}
		// Form post semantics: the query string of a POST is not read, only the body.
		if r := stranger.post(authorize+"?"+params("x", verifier).Encode(), "application/x-www-form-urlencoded", ""); !isErrorPage(r) {
			t.Fatalf("parameters in the query string of a POST were read: %d %v", r.status, r.header)
		}
		// Not a form, a malformed form, or text no parameter holds: the error page, not a 500
		// (the validator is off for pages).
		good := params("x", verifier).Encode()
		for name, c := range map[string]struct{ ct, body string }{
			"json":          {"application/json", `{"client_id":"` + spa + `"}`},
			"no type":       {"", good},
			"multipart":     {"multipart/form-data; boundary=x", "--x--"},
			"bad type":      {"application/x-www-form-urlencoded; charset", good},
			"bad escape":    {"application/x-www-form-urlencoded", good + "&state=%zz"},
			"NUL":           {"application/x-www-form-urlencoded", good + "&state=a%00b"},
			"invalid UTF-8": {"application/x-www-form-urlencoded", good + "&login_hint=%ff"},
			"over 1 MiB":    {"application/x-www-form-urlencoded", good + "&request=" + strings.Repeat("r", 1<<20)},
		} {
			r := stranger.post(authorize, c.ct, c.body)
			if !isErrorPage(r) {
				t.Errorf("%s: %d %v %s", name, r.status, r.header, r.body)
			}
		}
	})
}

// RP-initiated logout accepts POST with the parameters form-serialized (OpenID Connect
// RP-Initiated Logout 1.0 §2): the session ends and the browser goes to the registered
// post_logout_redirect_uri with state (§3).
func TestLogoutByFormPost(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		sh := e.newShop(nil)
		ctx := checkedContext(t)
		redirect, after := "https://app.example.com/cb", "https://app.example.com/bye"
		web := must(t, e.do("POST", sh.base+"/clients", sh.admin, map[string]any{"name": "web", "type": "confidential",
			"redirectUris": []string{redirect}, "postLogoutRedirectUris": []string{after}}), 201)["clientId"].(string)
		secret := must(t, e.do("POST", sh.base+"/clients/"+web+"/secrets", sh.admin, nil), 201)["secret"].(string)
		issuer := e.url + sh.base
		provider, err := oidc.NewProvider(ctx, issuer)
		if err != nil {
			t.Fatal(err)
		}
		conf := oauth2.Config{ClientID: web, ClientSecret: secret, Endpoint: provider.Endpoint(), RedirectURL: redirect,
			Scopes: []string{oidc.ScopeOpenID}}
		b := newBrowser(t)
		back := b.submitLogin(b.get(conf.AuthCodeURL("s")), "ada@example.com", "correct horse battery")
		loc, _ := url.Parse(back.header.Get("Location"))
		tok, err := conf.Exchange(ctx, loc.Query().Get("code"))
		if err != nil {
			t.Fatal(err)
		}
		rawID := tok.Extra("id_token").(string)
		logout := issuer + "/auth/logout"

		// An unregistered post_logout_redirect_uri is the error page, and the session stays.
		if r := b.postValues(logout, url.Values{"id_token_hint": {rawID}, "post_logout_redirect_uri": {"https://evil.example.com/"}}); !isErrorPage(r) {
			t.Fatalf("unregistered post-logout URI: %d %v", r.status, r.header)
		}
		if r := b.get(conf.AuthCodeURL("still")); r.status != 303 {
			t.Fatalf("session ended by a refused logout: %d", r.status)
		}
		// Not a form: the error page.
		if r := b.post(logout, "application/json", `{"id_token_hint":"`+rawID+`"}`); !isErrorPage(r) {
			t.Fatalf("JSON logout: %d %v", r.status, r.header)
		}

		out := b.postValues(logout, url.Values{"id_token_hint": {rawID}, "post_logout_redirect_uri": {after}, "state": {"bye"}})
		if out.status != 303 || out.header.Get("Location") != after+"?state=bye" {
			t.Fatalf("logout: %d %v %s", out.status, out.header, out.body)
		}
		// The session is gone: authorize shows the login page again.
		if r := b.get(conf.AuthCodeURL("again")); r.status != 200 || !strings.Contains(string(r.body), "Sign in") {
			t.Fatalf("session survived logout: %d %v", r.status, r.header.Get("Location"))
		}
		// Without a redirect URI the POST shows the signed-out page, as the GET does.
		if r := b.postValues(logout, url.Values{}); r.status != 200 || !strings.Contains(string(r.body), "signed out") {
			t.Fatalf("logout page: %d %s", r.status, r.body)
		}
	})
}

// The form schemas carry exactly the GET's query parameters: same names, maxLengths and
// descriptions, so the two ways to send one request cannot drift apart in the document.
func TestFormPostSchemasMatchTheQueryParameters(t *testing.T) {
	t.Parallel()
	spec, err := gen.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/v1/accounts/{aid}/auth/authorize", "/v1/accounts/{aid}/auth/logout"} {
		item := spec.Paths.Find(path)
		if item == nil || item.Get == nil || item.Post == nil || item.Post.RequestBody == nil {
			t.Fatalf("%s: no GET and POST", path)
		}
		mt := item.Post.RequestBody.Value.Content.Get("application/x-www-form-urlencoded")
		if mt == nil || mt.Schema == nil || len(item.Post.RequestBody.Value.Content) != 1 {
			t.Fatalf("%s: the POST body is not only a form", path)
		}
		props := mt.Schema.Value.Properties
		query := 0
		for _, p := range item.Get.Parameters {
			if p.Value.In == "cookie" {
				if len(item.Post.Parameters) != 1 || item.Post.Parameters[0].Value.Name != p.Value.Name {
					t.Errorf("%s: the POST lacks the cookie %s", path, p.Value.Name)
				}
				continue
			}
			query++
			prop := props[p.Value.Name]
			if prop == nil {
				t.Errorf("%s: the form lacks %s", path, p.Value.Name)
				continue
			}
			g, f := p.Value.Schema.Value, prop.Value
			if g.MaxLength == nil || f.MaxLength == nil || *g.MaxLength != *f.MaxLength || f.Description != p.Value.Description || g.Description != p.Value.Description {
				t.Errorf("%s: %s differs between the query and the form", path, p.Value.Name)
			}
		}
		if query != len(props) {
			t.Errorf("%s: %d query parameters, %d form fields", path, query, len(props))
		}
		for code := range item.Get.Responses.Map() {
			if item.Post.Responses.Value(code) == nil {
				t.Errorf("%s: POST lacks the GET's %s", path, code)
			}
		}
		if len(item.Get.Responses.Map()) != len(item.Post.Responses.Map()) {
			t.Errorf("%s: POST and GET answer differently", path)
		}
	}
}
