package server_test

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twinid/twinid/server/mail/mailtest"
)

var resetLink = regexp.MustCompile(`https?://\S+/auth/reset-password\?\S+`)

// inputValue is the value of the form field name on a page.
func inputValue(page resp, name string) string {
	m := regexp.MustCompile(`name="` + name + `"[^>]*value="([^"]*)"`).FindSubmatch(page.body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(string(m[1]))
}

// The link in a reset email (from the customers API's change_password) opens the form
// with the email and the code filled in; submitting a new password sets it.
func TestResetPasswordPageFromTheEmailLink(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		sh := e.newShop(nil)
		ct := sh.clientToken()
		r := e.do("POST", sh.base+"/customers/change_password", ct, map[string]any{"email": "ada@example.com"})
		if r.status != 202 {
			t.Fatalf("change_password: %d %s", r.status, r.body)
		}
		m := e.smtp.Wait(t, "ada@example.com", 10*time.Second)
		link := resetLink.FindString(m.Text)
		if link == "" {
			t.Fatalf("no reset link in the email: %s", m.Text)
		}
		code := mailtest.Code(m.Text)

		b := newBrowser(t)
		page := b.get(link)
		if page.status != 200 || !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") ||
			!strings.Contains(string(page.body), "Choose a new password") {
			t.Fatalf("reset page: %d %v %s", page.status, page.header, page.body)
		}
		if page.header.Get("Cache-Control") != "no-store" || !strings.Contains(page.header.Get("Set-Cookie"), "twinid_csrf_pw=") {
			t.Fatalf("reset page headers: %v", page.header)
		}
		if got := inputValue(page, "email"); got != "ada@example.com" {
			t.Fatalf("email field %q", got)
		}
		if got := inputValue(page, "code"); got != code {
			t.Fatalf("code field %q, the email's code %q", got, code)
		}

		// A weak password is refused on the form again, without using the code up.
		weak := b.postForm(page, url.Values{"email": {inputValue(page, "email")}, "code": {inputValue(page, "code")}, "password": {"password1"}})
		if weak.status != 400 || inputValue(weak, "code") != code {
			t.Fatalf("weak password: %d %s", weak.status, weak.body)
		}
		done := b.postForm(page, url.Values{"email": {inputValue(page, "email")}, "code": {inputValue(page, "code")},
			"password": {"a brand new passphrase"}})
		if done.status != 200 || !strings.Contains(string(done.body), "Your password is set") || hrefContinue.Match(done.body) {
			t.Fatalf("reset: %d %s", done.status, done.body)
		}
		must(t, sh.login(ct, "ada@example.com", "a brand new passphrase"), 200)
		if r := sh.login(ct, "ada@example.com", "correct horse battery"); r.status != 400 {
			t.Fatalf("the old password still works: %d", r.status)
		}
		// The code is used up: the same link's form now fails.
		again := b.get(link)
		if r := b.postForm(again, url.Values{"email": {"ada@example.com"}, "code": {code}, "password": {"yet another passphrase"}}); r.status != 400 ||
			!strings.Contains(string(r.body), "wrong, used or expired") {
			t.Fatalf("reusing the code: %d %s", r.status, r.body)
		}

		// The link of another account, or of none, is an error page.
		if r := b.get(e.url + "/v1/accounts/nope/auth/reset-password?" + url.Values{"email": {"ada@example.com"}, "code": {code}}.Encode()); r.status != 404 ||
			!strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
			t.Fatalf("unknown account: %d %v", r.status, r.header)
		}
		// What the link carries is shown escaped.
		r2 := b.get(e.url + sh.base + "/auth/reset-password?" + url.Values{"email": {`"><script>x</script>`}}.Encode())
		if r2.status != 200 || strings.Contains(string(r2.body), "<script>x") {
			t.Fatalf("reflected input: %d %s", r2.status, r2.body)
		}
	})
}

// A login client may redeem a code with its secret instead of a client token, when its
// grants hold accounts:auth:users; a client without that scope may not.
func TestVerificationCodeRedeemedWithTheClientSecret(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		sh := e.newShop(nil)
		must(t, e.do("POST", sh.base+"/customers/change_password", sh.clientToken(), map[string]any{"email": "ada@example.com"}), 202)
		code := mailtest.Code(e.smtp.Wait(t, "ada@example.com", 10*time.Second).Text)
		redeem := url.Values{"grant_type": {"authorization_code"}, "verification_code": {code}, "email": {"ada@example.com"}}

		other := must(t, e.do("POST", sh.base+"/clients", sh.admin, map[string]any{"name": "reports", "type": "confidential"}), 201)["clientId"].(string)
		otherSecret := must(t, e.do("POST", sh.base+"/clients/"+other+"/secrets", sh.admin, nil), 201)["secret"].(string)
		must(t, e.do("POST", sh.base+"/grants", sh.admin, map[string]any{"clientId": other, "audience": apiAud,
			"type": "client_credentials", "scopes": []string{"customer_customers:read"}}), 201)
		if r := e.form(sh.base+"/auth/token", other, otherSecret, redeem); r.status != 400 || r.json(t)["error"] != "unauthorized_client" {
			t.Fatalf("a client without accounts:auth:users: %d %s", r.status, r.body)
		}

		tok := must(t, e.form(sh.base+"/auth/token", sh.clientID, sh.secret, redeem), 200)
		if c := claims(t, tok["access_token"].(string)); c["sub"] != sh.customerID || c["scope"] != "accounts:auth:set_password" ||
			tok["scope"] != "accounts:auth:set_password" {
			t.Fatalf("set-password token: %v / %v", tok, c)
		}
		must(t, e.do("PUT", sh.base+"/customers/users/"+sh.customerID+"/password", tok["access_token"].(string),
			map[string]any{"password": "a brand new passphrase"}), 204)
		must(t, sh.login(sh.clientToken(), "ada@example.com", "a brand new passphrase"), 200)
		// The code was used up by the redemption, whoever tries it next.
		if r := e.form(sh.base+"/auth/token", sh.clientID, sh.secret, redeem); r.status != 400 || r.json(t)["error"] != "invalid_grant" {
			t.Fatalf("a used code: %d %s", r.status, r.body)
		}
	})
}
