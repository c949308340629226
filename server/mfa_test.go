package server_test

import (
	"encoding/base32"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twinid/twinid/server"
	"github.com/twinid/twinid/server/login"
)

// testClock is a clock the test moves (server.Config.Now).
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *testClock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// mfaShop is a shop served by a node whose clock the test moves, with a customer who has
// enrolled and confirmed a TOTP factor through the API.
type mfaShop struct {
	shop
	clk      *testClock
	secret   []byte
	recovery []string
}

func newMFAShop(t *testing.T, e *env, settings map[string]any) *mfaShop {
	t.Helper()
	// A second node on the same database reads the test's clock; it starts a second into a
	// TOTP step, so codes of "now" stay in their step until the test moves the clock (after the
	// signing keys of the first node became active).
	clk := &testClock{now: time.Now().Truncate(30 * time.Second).Add(31 * time.Second)}
	n := e.nodeWith(func(c *server.Config) { c.Now = clk.Now })
	sh := n.newShop(settings)
	ms := &mfaShop{shop: sh, clk: clk}
	userTok := must(t, sh.login(sh.clientToken(), "ada@example.com", "correct horse battery"), 200)["access_token"].(string)
	if c := claims(t, userTok); !slices.Equal(strSlice(c["amr"]), []string{"pwd"}) || c["acr"] != "urn:twinid:acr:pwd" {
		t.Errorf("a password login's token: amr %v acr %v", c["amr"], c["acr"])
	}
	fbase := sh.base + "/customers/users/" + sh.customerID + "/factors"
	en := must(t, n.do("POST", fbase, userTok, map[string]any{"type": "totp", "name": "Phone"}), 201)
	secretB32 := en["secret"].(string)
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secretB32)
	if err != nil || len(secret) != 20 {
		t.Fatalf("secret %q: %v", secretB32, err)
	}
	ms.secret = secret
	if !strings.HasPrefix(en["qrCode"].(string), "data:image/png;base64,") || !strings.Contains(en["otpauthUri"].(string), "secret="+secretB32) {
		t.Errorf("enrolment answer %v", en)
	}
	factorID := en["factor"].(map[string]any)["id"].(string)
	// A pending factor does not count yet: the login still answers tokens.
	must(t, sh.login(sh.clientToken(), "ada@example.com", "correct horse battery"), 200)
	wrong := login.TOTP(secret, login.TOTPStep(clk.Now())+5)
	must(t, n.do("POST", fbase+"/"+factorID+"/verify", userTok, map[string]any{"otp": wrong}), 422)
	v := must(t, n.do("POST", fbase+"/"+factorID+"/verify", userTok, map[string]any{"otp": ms.code(0)}), 200)
	if v["factor"].(map[string]any)["confirmed"] != true {
		t.Errorf("verified factor %v", v["factor"])
	}
	ms.recovery = strSlice(v["recoveryCodes"])
	if len(ms.recovery) != 10 {
		t.Fatalf("recovery codes %v", v["recoveryCodes"])
	}
	return ms
}

// code is the TOTP code of the step steps after the clock's.
func (ms *mfaShop) code(steps int64) string {
	return login.TOTP(ms.secret, login.TOTPStep(ms.clk.Now())+steps)
}

func (ms *mfaShop) mfaToken(t *testing.T) string {
	t.Helper()
	r := ms.login(ms.clientToken(), "ada@example.com", "correct horse battery")
	body := must(t, r, 403)
	if body["error"] != "mfa_required" || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("login of a customer with a factor: %s %v", r.body, r.header)
	}
	return body["mfa_token"].(string)
}

// userToken signs ada in through the API with her password and TOTP code: her own token.
func (ms *mfaShop) userToken(t *testing.T) string {
	t.Helper()
	tok := ms.mfaToken(t)
	ms.clk.Add(30 * time.Second)
	return must(t, ms.otpGrant(ms.clientToken(), tok, ms.code(0)), 200)["access_token"].(string)
}

func (ms *mfaShop) otpGrant(clientTok, mfaToken, otp string) resp {
	return ms.e.do("POST", ms.base+"/auth/token", clientTok, map[string]any{
		"grant_type": "http://auth0.com/oauth/grant-type/mfa-otp", "mfa_token": mfaToken, "otp": otp})
}

func strSlice(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func wantGrantError(t *testing.T, r resp, status int, code, what string) {
	t.Helper()
	if r.status != status || !strings.Contains(string(r.body), `"error":"`+code+`"`) {
		t.Errorf("%s: %d %s, want %d %s", what, r.status, r.body, status, code)
	}
}

// TestMFAAPILogin: enrol TOTP through the API, then the login answers mfa_required and the
// mfa-otp grant completes it; the TOTP step is accepted once; amr is on the tokens and on
// refreshed ones; recovery codes are single use.
func TestMFAAPILogin(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		ms := newMFAShop(t, e, nil)
		admin := ms.e.adminToken()
		list := must(t, ms.e.do("GET", ms.base+"/customers/users/"+ms.customerID+"/factors", admin, nil), 200)
		items := list["items"].([]any)
		if len(items) != 2 || items[0].(map[string]any)["type"] != "totp" || items[1].(map[string]any)["remaining"] != float64(10) {
			t.Errorf("factors listed %v", items)
		}
		if listed := string(ms.e.do("GET", ms.base+"/customers/users/"+ms.customerID+"/factors", admin, nil).body); strings.Contains(listed, base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(ms.secret)) {
			t.Error("the factor list shows the secret")
		}

		// Only the customer enrols: an administrator cannot obtain a TOTP secret.
		must(t, ms.e.do("POST", ms.base+"/customers/users/"+ms.customerID+"/factors", admin, map[string]any{"type": "totp"}), 403)

		tok := ms.mfaToken(t)
		r := ms.login(ms.clientToken(), "ada@example.com", "correct horse battery")
		if ft := strSlice(r.json(t)["factor_types"]); !slices.Equal(ft, []string{"otp", "recovery_code"}) {
			t.Errorf("factor_types %v", ft)
		}
		// The step whose code confirmed the factor is spent: its replay is refused.
		wantGrantError(t, ms.otpGrant(ms.clientToken(), tok, ms.code(0)), 400, "invalid_grant", "a replayed TOTP code")
		ms.clk.Add(30 * time.Second)
		ok := must(t, ms.otpGrant(ms.clientToken(), tok, ms.code(0)), 200)
		c := claims(t, ok["access_token"].(string))
		if amr := strSlice(c["amr"]); !slices.Equal(amr, []string{"pwd", "otp", "mfa"}) || c["acr"] != "urn:twinid:acr:mfa" || c["sub"] != ms.customerID {
			t.Errorf("token after MFA: amr %v acr %v sub %v", c["amr"], c["acr"], c["sub"])
		}
		// The mfa_token is single use, even with a new right code.
		ms.clk.Add(30 * time.Second)
		wantGrantError(t, ms.otpGrant(ms.clientToken(), tok, ms.code(0)), 400, "invalid_grant", "a spent mfa_token")
		// Refreshed tokens remember how the customer signed in.
		rt := must(t, ms.refresh(ms.clientToken(), ok["refresh_token"].(string)), 200)
		if amr := strSlice(claims(t, rt["access_token"].(string))["amr"]); !slices.Contains(amr, "mfa") {
			t.Errorf("refreshed token amr %v", amr)
		}

		// A recovery code completes a login once.
		rc := ms.recovery[3]
		grant := func(code string) resp {
			return ms.e.do("POST", ms.base+"/auth/token", ms.clientToken(), map[string]any{
				"grant_type": "http://auth0.com/oauth/grant-type/mfa-recovery-code", "mfa_token": ms.mfaToken(t), "recovery_code": code})
		}
		must(t, grant(strings.ToUpper(rc)), 200)
		wantGrantError(t, grant(rc), 400, "invalid_grant", "a used recovery code")

		// An administrator's reset removes every factor: the password alone signs in again.
		must(t, ms.e.do("DELETE", ms.base+"/customers/users/"+ms.customerID+"/factors", admin, nil), 204)
		must(t, ms.login(ms.clientToken(), "ada@example.com", "correct horse battery"), 200)
		// The reset, the enrolment and the wrong codes (at enrolment, the replay, the spent
		// recovery code) are on the audit trail.
		for typ, want := range map[string]int{"customer.factors_reset": 1, "factor.added": 1, "mfa.failed": 3} {
			ev := must(t, ms.e.do("GET", ms.base+"/events?type="+typ, admin, nil), 200)["items"].([]any)
			if len(ev) != want {
				t.Errorf("%d %s events, want %d: %v", len(ev), typ, want, ev)
				continue
			}
			if typ == "customer.factors_reset" {
				got := ev[0].(map[string]any)
				if got["actor"].(map[string]any)["type"] != "client" || got["subject"].(map[string]any)["id"] != ms.customerID {
					t.Errorf("reset event %v", got)
				}
			}
		}
	})
}

// TestMFABindingAndLockout: an mfa_token works only for its client and its customer's
// codes, and wrong codes lock the customer out like wrong passwords, also when guessed in
// parallel.
func TestMFABindingAndLockout(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		ms := newMFAShop(t, e, map[string]any{"loginMaxFailures": 3, "loginLockoutSeconds": 60})
		admin := ms.e.adminToken()
		// Another login client of the account.
		c := must(t, ms.e.do("POST", ms.base+"/clients", admin, map[string]any{"name": "other", "type": "confidential"}), 201)
		otherID := c["clientId"].(string)
		otherSecret := must(t, ms.e.do("POST", ms.base+"/clients/"+otherID+"/secrets", admin, nil), 201)["secret"].(string)
		must(t, ms.e.do("POST", ms.base+"/grants", admin, map[string]any{"clientId": otherID, "audience": apiAud,
			"type": "client_credentials", "scopes": []string{"accounts:auth:users"}}), 201)
		other := shop{e: ms.e, base: ms.base, clientID: otherID, secret: otherSecret}

		tok := ms.mfaToken(t)
		ms.clk.Add(30 * time.Second)
		wantGrantError(t, ms.otpGrant(other.clientToken(), tok, ms.code(0)), 400, "invalid_grant", "another client's mfa_token")
		// The refusal spent nothing: the right client still completes the login with the code.
		must(t, ms.otpGrant(ms.clientToken(), tok, ms.code(0)), 200)

		// The mfa_token is bound to its customer too: another customer's right code does not
		// complete it (and spends nothing of it).
		cu := must(t, ms.e.do("POST", ms.base+"/customers/users", admin, map[string]any{"email": "bob@example.com",
			"password": "correct horse battery", "scopes": []string{}}), 201)["customerId"].(string)
		bobTok := must(t, ms.login(ms.clientToken(), "bob@example.com", "correct horse battery"), 200)["access_token"].(string)
		en := must(t, ms.e.do("POST", ms.base+"/customers/users/"+cu+"/factors", bobTok, map[string]any{"type": "totp"}), 201)
		bobKey, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(en["secret"].(string))
		bobCode := func() string { return login.TOTP(bobKey, login.TOTPStep(ms.clk.Now())) }
		must(t, ms.e.do("POST", ms.base+"/customers/users/"+cu+"/factors/"+en["factor"].(map[string]any)["id"].(string)+"/verify",
			bobTok, map[string]any{"otp": bobCode()}), 200)
		// Now that bob has a factor, his password-only token may no longer change factors.
		r := must(t, ms.e.do("DELETE", ms.base+"/customers/users/"+cu+"/factors/"+en["factor"].(map[string]any)["id"].(string), bobTok, nil), 403)
		if r["code"] != "mfa_required" {
			t.Errorf("a password-only token deleting a factor: %v", r)
		}
		// ada's own token may not touch bob's factors.
		must(t, ms.e.do("GET", ms.base+"/customers/users/"+cu+"/factors", ms.userToken(t), nil), 403)
		tok = ms.mfaToken(t)
		ms.clk.Add(30 * time.Second)
		wantGrantError(t, ms.otpGrant(ms.clientToken(), tok, bobCode()), 400, "invalid_grant", "another customer's code")
		must(t, ms.otpGrant(ms.clientToken(), tok, ms.code(0)), 200)

		// Parallel wrong guesses: no more than loginMaxFailures are evaluated.
		tok = ms.mfaToken(t)
		clientTok := ms.clientToken()
		const n = 12
		results := make([]resp, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { results[i] = ms.otpGrant(clientTok, tok, "000000") })
		}
		wg.Wait()
		wrong, locked := 0, 0
		for _, r := range results {
			switch r.status {
			case http.StatusBadRequest:
				wrong++
			case http.StatusTooManyRequests:
				locked++
				if r.header.Get("Retry-After") == "" {
					t.Error("a lockout without Retry-After")
				}
			default:
				t.Errorf("parallel guess: %d %s", r.status, r.body)
			}
		}
		if wrong > 3 || wrong+locked != n {
			t.Errorf("parallel wrong codes: %d evaluated, %d locked out; at most 3 may be evaluated", wrong, locked)
		}
		// Locked out: even the right code is refused until the lockout ends.
		ms.clk.Add(30 * time.Second)
		wantGrantError(t, ms.otpGrant(clientTok, tok, ms.code(0)), 429, "temporarily_unavailable", "the right code while locked out")
	})
}

// TestMFAPolicy: required asks every customer for a second factor, off ignores factors.
func TestMFAPolicy(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		ms := newMFAShop(t, e, map[string]any{"mfa": "off"})
		admin := ms.e.adminToken()
		// off: the factor is ignored.
		r := must(t, ms.login(ms.clientToken(), "ada@example.com", "correct horse battery"), 200)
		if amr := strSlice(claims(t, r["access_token"].(string))["amr"]); !slices.Equal(amr, []string{"pwd"}) {
			t.Errorf("amr %v", amr)
		}
		// A client's override tightens the account's setting (and reads back), never loosens it.
		cl := must(t, ms.e.do("PATCH", ms.base+"/clients/"+ms.clientID, admin, map[string]any{"mfa": "required"}), 200)
		if cl["mfa"] != "required" {
			t.Errorf("client mfa %v", cl["mfa"])
		}
		must(t, ms.login(ms.clientToken(), "ada@example.com", "correct horse battery"), 403)
		must(t, ms.e.do("PATCH", ms.base+"/clients/"+ms.clientID, admin, map[string]any{"mfa": "inherit"}), 200)
		must(t, ms.login(ms.clientToken(), "ada@example.com", "correct horse battery"), 200)
		// required: a customer without a factor must enrol first.
		must(t, ms.e.do("PATCH", ms.base, admin, map[string]any{"settings": map[string]any{"mfa": "required"}}), 200)
		must(t, ms.e.do("POST", ms.base+"/customers/users", admin, map[string]any{"email": "bob@example.com",
			"password": "correct horse battery", "scopes": []string{}}), 201)
		body := must(t, ms.login(ms.clientToken(), "bob@example.com", "correct horse battery"), 403)
		if body["error"] != "mfa_required" || len(strSlice(body["factor_types"])) != 0 {
			t.Errorf("required without a factor: %v", body)
		}
		// The password grant has no second step: it refuses a customer who owes one.
		got := must(t, ms.e.do("GET", ms.base, admin, nil), 200)
		if got["settings"].(map[string]any)["mfa"] != "required" {
			t.Errorf("settings %v", got["settings"])
		}
	})
}
