package server_test

import (
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twinid/twinid/server"
	"github.com/twinid/twinid/server/mail/mailtest"
	"github.com/twinid/twinid/server/passwords"
)

const apiAud = "https://api.example.com"

// shop is an account with a login client (the seed's "login client") and a customer.
type shop struct {
	e                            *env
	admin, base                  string
	clientID, secret, customerID string
}

func (e *env) newShop(settings map[string]any, loginScopes ...string) shop {
	e.t.Helper()
	admin := e.adminToken()
	body := map[string]any{"aid": "shop", "name": "Shop"}
	if settings != nil {
		body["settings"] = settings
	}
	must(e.t, e.do("POST", "/v1/accounts", admin, body), 201)
	sh := shop{e: e, admin: admin, base: "/v1/accounts/shop"}
	c := must(e.t, e.do("POST", sh.base+"/clients", admin, map[string]any{"name": "login", "type": "confidential"}), 201)
	sh.clientID = c["clientId"].(string)
	sh.secret = must(e.t, e.do("POST", sh.base+"/clients/"+sh.clientID+"/secrets", admin, nil), 201)["secret"].(string)
	if loginScopes == nil {
		loginScopes = []string{"accounts:auth:users", "create:accounts:auth:refresh_token", "customer_customers:read"}
	}
	must(e.t, e.do("POST", sh.base+"/grants", admin, map[string]any{"clientId": sh.clientID, "audience": apiAud,
		"type": "client_credentials", "scopes": loginScopes}), 201)
	cu := must(e.t, e.do("POST", sh.base+"/customers/users", admin, map[string]any{"email": "ada@example.com",
		"phoneNumber": "+4791234567", "password": "correct horse battery", "scopes": []string{"customer_customers:read", "customer_discounts:read"}}), 201)
	sh.customerID = cu["customerId"].(string)
	return sh
}

// clientToken gets a client token the Dintero way: JSON, HTTP Basic, audience.
func (sh shop) clientToken() string {
	sh.e.t.Helper()
	req, _ := http.NewRequest("POST", sh.e.url+sh.base+"/auth/token", strings.NewReader(`{"grant_type":"client_credentials","audience":"`+apiAud+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(sh.clientID, sh.secret)
	return must(sh.e.t, sh.e.send(req), 200)["access_token"].(string)
}

func (sh shop) login(clientTok, email, password string) resp {
	sh.e.t.Helper()
	return sh.e.do("POST", sh.base+"/customers/login", clientTok, map[string]any{"email": email, "password": password, "type": "customer", "audience": apiAud})
}

func (sh shop) refresh(clientTok, rt string) resp {
	sh.e.t.Helper()
	return sh.e.do("POST", sh.base+"/auth/token", clientTok, map[string]any{"grant_type": "refresh_token", "refresh_token": rt})
}

func claims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

func TestSeedSPALoginAndRefresh(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		sh := e.newShop(map[string]any{"refreshTokenReuseGrace": 0})
		ct := sh.clientToken()

		// The seed's login cURL, verbatim but for host, ids and secrets.
		out, err := exec.Command("curl", "-sS", "-X", "POST", e.url+sh.base+"/customers/login",
			"-H", "Content-Type: application/json", "-H", "Authorization: Bearer "+ct,
			"-d", `{"email":"ada@example.com", "password": "correct horse battery", "type": "customer", "audience":"`+apiAud+`"}`).Output()
		if err != nil {
			t.Fatal(err)
		}
		var tok map[string]any
		if err := json.Unmarshal(out, &tok); err != nil || tok["access_token"] == nil || tok["refresh_token"] == nil {
			t.Fatalf("login: %s", out)
		}
		c := claims(t, tok["access_token"].(string))
		if c["sub"] != sh.customerID || c["aud"] != apiAud || c["scope"] != "customer_customers:read" || c["client_id"] != sh.clientID {
			t.Fatalf("user token claims: %v", c)
		}
		if tok["token_type"] != "Bearer" || tok["expires_in"] == nil {
			t.Fatalf("login response: %v", tok)
		}

		// Wrong password and unknown email: the same status and body.
		r1 := sh.login(ct, "ada@example.com", "wrong password!!")
		r2 := sh.login(ct, "nobody@example.com", "wrong password!!")
		if r1.status != 400 || r1.status != r2.status || string(r1.body) != string(r2.body) {
			t.Fatalf("enumeration: %d %s / %d %s", r1.status, r1.body, r2.status, r2.body)
		}
		// Login by phone number (ident_type + ident).
		must(t, e.do("POST", sh.base+"/customers/login", ct, map[string]any{"ident_type": "phone_number", "ident": "+47 912 34 567",
			"password": "correct horse battery", "audience": apiAud}), 200)
		// The caller's token must be a client token with accounts:auth:users.
		must(t, sh.login("", "ada@example.com", "correct horse battery"), 401)
		must(t, sh.login(tok["access_token"].(string), "ada@example.com", "correct horse battery"), 401)

		// The seed's refresh cURL: rotation on every use.
		rt := tok["refresh_token"].(string)
		r := must(t, sh.refresh(ct, rt), 200)
		rt2 := r["refresh_token"].(string)
		if rt2 == "" || rt2 == rt || claims(t, r["access_token"].(string))["sub"] != sh.customerID {
			t.Fatalf("refresh: %v", r)
		}
		// The old token is reuse now: it fails, and the whole family is revoked.
		if r := sh.refresh(ct, rt); r.status != 400 || r.json(t)["error"] != "invalid_grant" {
			t.Fatalf("reuse: %d %s", r.status, r.body)
		}
		must(t, sh.refresh(ct, rt2), 400)

		// Revocation with the seed's {"token": ...} on the token endpoint.
		tok = must(t, sh.login(ct, "ada@example.com", "correct horse battery"), 200)
		rt = tok["refresh_token"].(string)
		must(t, e.do("POST", sh.base+"/auth/token", ct, map[string]any{"token": rt}), 200)
		must(t, sh.refresh(ct, rt), 400)
		// RFC 7009 form revocation with client credentials.
		tok = must(t, sh.login(ct, "ada@example.com", "correct horse battery"), 200)
		rt = tok["refresh_token"].(string)
		must(t, e.form(sh.base+"/auth/revoke", sh.clientID, sh.secret, url.Values{"token": {rt}}), 200)
		must(t, sh.refresh(ct, rt), 400)

		// A client without create:accounts:auth:refresh_token gets no refresh token.
		must(t, e.do("PATCH", sh.base+"/grants/"+grantID(t, e, sh), sh.admin, map[string]any{"scopes": []string{"accounts:auth:users", "customer_customers:read"}}), 200)
		time.Sleep(10 * time.Millisecond)
		ct2 := sh.clientToken()
		if tok := must(t, sh.login(ct2, "ada@example.com", "correct horse battery"), 200); tok["refresh_token"] != nil {
			t.Fatalf("refresh token without the scope: %v", tok)
		}
		// Without accounts:auth:users: 403.
		must(t, e.do("PATCH", sh.base+"/grants/"+grantID(t, e, sh), sh.admin, map[string]any{"scopes": []string{"customer_customers:read"}}), 200)
		must(t, sh.login(sh.clientToken(), "ada@example.com", "correct horse battery"), 403)
	})
}

func grantID(t *testing.T, e *env, sh shop) string {
	t.Helper()
	l := must(t, e.do("GET", sh.base+"/grants?clientId="+sh.clientID, sh.admin, nil), 200)
	return l["items"].([]any)[0].(map[string]any)["id"].(string)
}

func TestIntrospectionAndDisabledCustomers(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		sh := e.newShop(nil)
		ct := sh.clientToken()
		tok := must(t, sh.login(ct, "ada@example.com", "correct horse battery"), 200)
		at, rt := tok["access_token"].(string), tok["refresh_token"].(string)
		intro := func(token string) map[string]any {
			return must(t, e.form(sh.base+"/auth/introspect", sh.clientID, sh.secret, url.Values{"token": {token}}), 200)
		}
		if m := intro(at); m["active"] != true || m["sub"] != sh.customerID || m["token_type"] != "access_token" {
			t.Fatalf("access token: %v", m)
		}
		if m := intro(rt); m["active"] != true || m["token_type"] != "refresh_token" {
			t.Fatalf("refresh token: %v", m)
		}
		if m := intro("garbage"); m["active"] != false || len(m) != 1 {
			t.Fatalf("garbage: %v", m)
		}
		// Only authenticated confidential clients may introspect.
		must(t, e.form(sh.base+"/auth/introspect", "", "", url.Values{"token": {at}}), 401)
		// A revoked access token is inactive.
		must(t, e.form(sh.base+"/auth/revoke", sh.clientID, sh.secret, url.Values{"token": {at}}), 200)
		if m := intro(at); m["active"] != false {
			t.Fatalf("revoked access token: %v", m)
		}
		// Disabled customers cannot log in or refresh.
		must(t, e.do("PATCH", sh.base+"/customers/users/"+sh.customerID, sh.admin, map[string]any{"status": "disabled"}), 200)
		must(t, sh.login(ct, "ada@example.com", "correct horse battery"), 400)
		must(t, sh.refresh(ct, rt), 400)
		if m := intro(rt); m["active"] != false {
			t.Fatalf("disabled customer's refresh token: %v", m)
		}
		// Deleting a customer makes their access tokens inactive.
		must(t, e.do("PATCH", sh.base+"/customers/users/"+sh.customerID, sh.admin, map[string]any{"status": "active"}), 200)
		at = must(t, sh.login(ct, "ada@example.com", "correct horse battery"), 200)["access_token"].(string)
		must(t, e.do("DELETE", sh.base+"/customers/users/"+sh.customerID, sh.admin, nil), 204)
		if m := intro(at); m["active"] != false {
			t.Fatalf("deleted customer's access token: %v", m)
		}
		if n := e.countRows("refresh_tokens"); n != 0 {
			t.Fatalf("refresh tokens of a deleted customer: %d", n)
		}
	})
}

func TestPasswordGrant(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		sh := e.newShop(nil)
		v := url.Values{"grant_type": {"password"}, "username": {"ada@example.com"}, "password": {"correct horse battery"}, "audience": {apiAud}}
		r := must(t, e.form(sh.base+"/auth/token", sh.clientID, sh.secret, v), 400)
		if r["error"] != "unauthorized_client" {
			t.Fatalf("without a password grant: %v", r)
		}
		must(t, e.do("POST", sh.base+"/grants", sh.admin, map[string]any{"clientId": sh.clientID, "audience": apiAud,
			"type": "password", "scopes": []string{"customer_discounts:read", "create:accounts:auth:refresh_token"}}), 201)
		r = must(t, e.form(sh.base+"/auth/token", sh.clientID, sh.secret, v), 200)
		if c := claims(t, r["access_token"].(string)); c["sub"] != sh.customerID || c["scope"] != "customer_discounts:read" || r["refresh_token"] == nil {
			t.Fatalf("password grant: %v %v", r, c)
		}
		v.Set("password", "wrong one entirely")
		if r := must(t, e.form(sh.base+"/auth/token", sh.clientID, sh.secret, v), 400); r["error"] != "invalid_grant" {
			t.Fatalf("wrong password: %v", r)
		}
	})
}

func TestPasswordResetAndInvitationBySMTP(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		sh := e.newShop(nil)
		ct := sh.clientToken()
		old := must(t, sh.login(ct, "ada@example.com", "correct horse battery"), 200)["refresh_token"].(string)

		// Step 1: 202 whether or not the email exists, with identical bodies.
		a := e.do("POST", sh.base+"/customers/change_password", ct, map[string]any{"email": "ada@example.com"})
		b := e.do("POST", sh.base+"/customers/change_password", ct, map[string]any{"email": "nobody@example.com"})
		if a.status != 202 || b.status != 202 || string(a.body) != string(b.body) {
			t.Fatalf("change_password: %d %q / %d %q", a.status, a.body, b.status, b.body)
		}
		m := e.smtp.Wait(t, "ada@example.com", 10*time.Second)
		code := mailtest.Code(m.Text)
		if code == "" {
			t.Fatalf("no code in %q", m.Text)
		}
		if err := e.srv.FlushMail(t.Context()); err != nil {
			t.Fatal(err)
		}
		if e.smtp.Count() != 1 {
			t.Fatalf("mails sent: %d (one for the unknown address?)", e.smtp.Count())
		}
		// Wrong codes count; the right one (seed step 2, without email) works once.
		must(t, e.do("POST", sh.base+"/auth/token", ct, map[string]any{"grant_type": "authorization_code", "audience": apiAud,
			"verification_code": "00000000", "email": "ada@example.com"}), 400)
		r := must(t, e.do("POST", sh.base+"/auth/token", ct, map[string]any{"grant_type": "authorization_code", "audience": apiAud, "verification_code": code}), 200)
		reset := r["access_token"].(string)
		if c := claims(t, reset); c["sub"] != sh.customerID || c["scope"] != "accounts:auth:set_password" {
			t.Fatalf("reset token: %v", c)
		}
		must(t, e.do("POST", sh.base+"/auth/token", ct, map[string]any{"grant_type": "authorization_code", "verification_code": code}), 400)
		// The reset token cannot be used as a management token or for another customer.
		must(t, e.do("GET", sh.base+"/customers/users", reset, nil), 401)
		// Step 3: set the password; the refresh tokens are revoked.
		must(t, e.do("PUT", sh.base+"/customers/users/"+sh.customerID+"/password", reset, map[string]any{"password": "password1"}), 422)
		must(t, e.do("PUT", sh.base+"/customers/users/"+sh.customerID+"/password", reset, map[string]any{"password": "a brand new passphrase"}), 204)
		must(t, e.do("PUT", sh.base+"/customers/users/"+sh.customerID+"/password", reset, map[string]any{"password": "yet another passphrase"}), 401)
		must(t, sh.refresh(ct, old), 400)
		must(t, sh.login(ct, "ada@example.com", "correct horse battery"), 400)
		user := must(t, sh.login(ct, "ada@example.com", "a brand new passphrase"), 200)["access_token"].(string)
		// A user token changes its own password only with the current one.
		pw := sh.base + "/customers/users/" + sh.customerID + "/password"
		must(t, e.do("PUT", pw, user, map[string]any{"password": "third passphrase here"}), 422)
		must(t, e.do("PUT", pw, user, map[string]any{"password": "third passphrase here", "currentPassword": "nope nope nope"}), 422)
		must(t, e.do("PUT", pw, user, map[string]any{"password": "third passphrase here", "currentPassword": "a brand new passphrase"}), 204)
		// Both changes are the customer's own: by the emailed code, then with the current password.
		changed := wantEvents(t, e.events(sh.admin, "shop", nil), "customer.password_changed", sh.customerID, 2)
		if changed[1]["reason"] != "reset by emailed code" || changed[0]["reason"] != "" ||
			field(changed[0], "actor", "type") != "customer" || field(changed[1], "actor", "id") != sh.customerID {
			t.Errorf("password changes: %v", changed)
		}

		// At most one code a minute: a second request within it sends nothing.
		must(t, e.do("POST", sh.base+"/customers/change_password", ct, map[string]any{"email": "ada@example.com"}), 202)
		if err := e.srv.FlushMail(t.Context()); err != nil {
			t.Fatal(err)
		}
		if e.smtp.Count() != 1 {
			t.Fatalf("mails after a repeated request: %d", e.smtp.Count())
		}
	})
}

func TestInvitationRedemption(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		sh := e.newShop(nil)
		ct := sh.clientToken()
		c := must(t, e.do("POST", sh.base+"/customers/users", sh.admin, map[string]any{"email": "grace@example.com", "scopes": []string{"customer_customers:read"}}), 201)
		code := mailtest.Code(e.smtp.Wait(t, "grace@example.com", 10*time.Second).Text)
		for i := 0; i < 5; i++ {
			must(t, e.do("POST", sh.base+"/auth/token", ct, map[string]any{"grant_type": "authorization_code", "verification_code": "1234567" + string(rune('0'+i)), "email": "grace@example.com"}), 400)
		}
		// Five wrong tries spent the code: the right one fails too now.
		must(t, e.do("POST", sh.base+"/auth/token", ct, map[string]any{"grant_type": "authorization_code", "verification_code": code, "email": "grace@example.com"}), 400)
		must(t, e.do("POST", sh.base+"/customers/users/"+c["customerId"].(string)+"/invitation", sh.admin, nil), 202)
		code = mailtest.Code(e.smtp.Wait(t, "grace@example.com", 10*time.Second).Text)
		tok := must(t, e.do("POST", sh.base+"/auth/token", ct, map[string]any{"grant_type": "authorization_code", "verification_code": code, "email": "grace@example.com"}), 200)
		must(t, e.do("PUT", sh.base+"/customers/users/"+c["customerId"].(string)+"/password", tok["access_token"].(string), map[string]any{"password": "grace hopper rocks"}), 204)
		got := must(t, e.do("GET", sh.base+"/customers/users/"+c["customerId"].(string), sh.admin, nil), 200)
		if got["status"] != "active" || got["emailVerified"] != true {
			t.Fatalf("after accepting: %v", got)
		}
		must(t, sh.login(ct, "grace@example.com", "grace hopper rocks"), 200)
		// Accepted by the customer through the login client.
		ev := wantEvents(t, e.events(sh.admin, "shop", nil), "invitation.accepted", c["customerId"].(string), 1)[0]
		if field(ev, "actor", "id") != c["customerId"] || ev["clientId"] != sh.clientID {
			t.Errorf("invitation.accepted: %v", ev)
		}
	})
}

func TestLoginBruteForceLimit(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		sh := e.newShop(map[string]any{"loginMaxFailures": 5, "loginLockoutSeconds": 30})
		ct := sh.clientToken()
		// 60 parallel guesses: at most 5 are evaluated, the rest are refused before hashing.
		var wg sync.WaitGroup
		var mu sync.Mutex
		statuses := map[int]int{}
		for i := 0; i < 60; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := sh.login(ct, "ada@example.com", "guess guess guess")
				mu.Lock()
				statuses[r.status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if statuses[400] > 5 || statuses[400]+statuses[429] != 60 {
			t.Fatalf("parallel guesses: %v", statuses)
		}
		// The trail holds the evaluated guesses and one lockout, not the refused flood.
		trail := e.events(sh.admin, "shop", url.Values{"subject": {sh.customerID}})
		if n := len(ofType(trail, "login.failed")); n != statuses[400] {
			t.Errorf("%d login.failed events for %d evaluated guesses", n, statuses[400])
		}
		wantEvents(t, trail, "login.locked_out", sh.customerID, 1)
		// Locked: even the right password waits, with Retry-After.
		r := sh.login(ct, "ada@example.com", "correct horse battery")
		if r.status != 429 || r.header.Get("Retry-After") == "" {
			t.Fatalf("locked: %d %v %s", r.status, r.header, r.body)
		}
		// An unknown email is locked the same way (no enumeration by lockout).
		for i := 0; i < 5; i++ {
			sh.login(ct, "nobody@example.com", "guess guess guess")
		}
		if r := sh.login(ct, "nobody@example.com", "guess guess guess"); r.status != 429 {
			t.Fatalf("unknown email not locked: %d", r.status)
		}
		// An administrator unlocks; a success resets the counter.
		must(t, e.do("POST", sh.base+"/customers/users/"+sh.customerID+"/unlock", sh.admin, nil), 204)
		must(t, sh.login(ct, "ada@example.com", "correct horse battery"), 200)
		for i := 0; i < 4; i++ {
			must(t, sh.login(ct, "ada@example.com", "guess guess guess"), 400)
		}
		must(t, sh.login(ct, "ada@example.com", "correct horse battery"), 200)
		must(t, sh.login(ct, "ada@example.com", "guess guess guess"), 400)
	})
}

func TestRefreshRace(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		sh := e.newShop(map[string]any{"refreshTokenReuseGrace": 5})
		ct := sh.clientToken()
		rt := must(t, sh.login(ct, "ada@example.com", "correct horse battery"), 200)["refresh_token"].(string)
		const n = 30
		var wg sync.WaitGroup
		results := make([]resp, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); results[i] = sh.refresh(ct, rt) }()
		}
		wg.Wait()
		// Within the grace window every racer gets working tokens, and all the same
		// successor: exactly one rotation happened.
		var next string
		for _, r := range results {
			m := must(t, r, 200)
			if next == "" {
				next = m["refresh_token"].(string)
			}
			if m["refresh_token"] != next {
				t.Fatalf("racers got different refresh tokens")
			}
		}
		if rows := e.countRows("refresh_tokens"); rows != 2 {
			t.Fatalf("rotations: %d rows, want the original and one successor", rows)
		}
		must(t, sh.refresh(ct, next), 200)

		// Without a grace window, racing is reuse: one wins, the family is revoked.
		must(t, e.do("PATCH", sh.base, sh.admin, map[string]any{"settings": map[string]any{"refreshTokenReuseGrace": 0}}), 200)
		time.Sleep(50 * time.Millisecond)
		rt = must(t, sh.login(ct, "ada@example.com", "correct horse battery"), 200)["refresh_token"].(string)
		ok := 0
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); results[i] = sh.refresh(ct, rt) }()
		}
		wg.Wait()
		for _, r := range results {
			if r.status == 200 {
				ok++
			} else if r.status != 400 {
				t.Fatalf("race answer %d %s", r.status, r.body)
			}
		}
		if ok < 1 {
			t.Fatalf("no racer won")
		}
	})
}

func TestLoginBadInput(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		sh := e.newShop(nil)
		ct := sh.clientToken()
		post := func(ct, body string) resp {
			req, _ := http.NewRequest("POST", e.url+sh.base+"/customers/login", strings.NewReader(body))
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Authorization", "Bearer "+sh.clientToken())
			return e.send(req)
		}
		for name, r := range map[string]resp{
			"malformed JSON": post("application/json", `{"email":`),
			"wrong type":     post("text/plain", `email=x`),
			"NUL":            post("application/x-www-form-urlencoded", "email=a%00b@example.com&password=x&audience="+url.QueryEscape(apiAud)),
			"huge":           post("application/json", `{"email":"`+strings.Repeat("a", 70000)+`"}`),
			"long email":     post("application/json", `{"email":"`+strings.Repeat("a", 400)+`@example.com","password":"x"}`),
			"number":         post("application/json", `{"email":1}`),
		} {
			if r.status != 400 && r.status != 413 {
				t.Errorf("%s: %d %s", name, r.status, r.body)
				continue
			}
			if m := r.json(t); m["error"] != "invalid_request" {
				t.Errorf("%s: %v", name, m)
			}
		}
		_ = ct
		if n := e.countRows("login_throttle"); n != 0 {
			t.Fatalf("bad requests wrote throttle rows: %d", n)
		}
	})
}

func TestClientAddressBehindTrustedProxies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	sh := e.newShop(map[string]any{"loginIpMaxFailures": 2, "loginMaxFailures": 100})
	ct := sh.clientToken()
	loginFrom := func(n *env, xff string) int {
		req, _ := http.NewRequest("POST", n.url+sh.base+"/customers/login",
			strings.NewReader(`{"email":"ada@example.com","password":"wrong password!!","audience":"`+apiAud+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+ct)
		req.Header.Set("X-Forwarded-For", xff)
		return n.send(req).status
	}
	// Without trusted proxies X-Forwarded-For is ignored: every request is the peer's.
	loginFrom(e, "203.0.113.1")
	loginFrom(e, "203.0.113.2")
	if st := loginFrom(e, "203.0.113.3"); st != 429 {
		t.Fatalf("spoofed X-Forwarded-For escaped the address limit: %d", st)
	}
	// Behind a trusted proxy (loopback here), the forwarded address counts.
	_, loop, _ := net.ParseCIDR("127.0.0.1/32")
	proxied := e.nodeWith(func(c *server.Config) { c.TrustedProxies = []*net.IPNet{loop} })
	loginFrom(proxied, "198.51.100.7")
	loginFrom(proxied, "198.51.100.7")
	if st := loginFrom(proxied, "198.51.100.7"); st != 429 {
		t.Fatalf("forwarded address not limited: %d", st)
	}
	if st := loginFrom(proxied, "198.51.100.8"); st != 400 {
		t.Fatalf("another forwarded address was limited too: %d", st)
	}
}

func TestLoginFloodIsBoundedByThePasswordPool(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	sh := e.newShop(map[string]any{"loginMaxFailures": 100, "loginIpMaxFailures": 10000})
	// One hashing worker with costly parameters: a flood must queue briefly, then get 503.
	heavy := passwords.Params{Memory: 32 << 10, Time: 3, Threads: 1, SaltLen: 16, KeyLen: 32}
	n := e.nodeWith(func(c *server.Config) { c.PasswordWorkers = 1; c.PasswordParams = &heavy })
	must(t, n.do("POST", sh.base+"/customers/users", sh.admin, map[string]any{"email": "flood@example.com",
		"password": "correct horse battery"}), 201)
	ct := sh.clientToken()
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	retryAfter := true
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := n.do("POST", sh.base+"/customers/login", ct, map[string]any{"email": "flood@example.com",
				"password": "correct horse battery", "audience": apiAud})
			mu.Lock()
			defer mu.Unlock()
			statuses[r.status]++
			if r.status == 503 && r.header.Get("Retry-After") == "" {
				retryAfter = false
			}
		}()
	}
	wg.Wait()
	if statuses[200] == 0 || statuses[503] == 0 || statuses[200]+statuses[503] != 40 || !retryAfter {
		t.Fatalf("flood answers: %v (Retry-After on 503: %v)", statuses, retryAfter)
	}
	// The refused attempts were given back: the customer is not locked out.
	must(t, n.do("POST", sh.base+"/customers/login", ct, map[string]any{"email": "flood@example.com",
		"password": "correct horse battery", "audience": apiAud}), 200)
}
