package server_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/twinid/twinid/server"
	"github.com/twinid/twinid/server/mail/mailtest"
	"github.com/twinid/twinid/store/storetest"
)

// racers is how many parallel requests the race tests send: enough that, without the
// database deciding, several win.
const racers = 20

// A reset token is single-use however many requests spend it at once: exactly one sets the
// password, the others are refused as a used token (RFC 6750 §3.1 invalid_token).
func TestResetTokenSingleUseUnderRace(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		sh := e.newShop(nil)
		ct := sh.clientToken()
		must(t, e.do("POST", sh.base+"/customers/change_password", ct, map[string]any{"email": "ada@example.com"}), 202)
		code := mailtest.Code(e.smtp.Wait(t, "ada@example.com", 10*time.Second).Text)
		reset := must(t, e.do("POST", sh.base+"/auth/token", ct, map[string]any{"grant_type": "authorization_code",
			"audience": apiAud, "verification_code": code}), 200)["access_token"].(string)

		// A node with a hashing worker per racer: every racer reaches the write, so the
		// database alone decides (with the default pool some would get 503 busy first).
		n := e.nodeWith(func(c *server.Config) { c.PasswordWorkers = racers; c.PasswordParams = &testPasswordParams })
		pw := sh.base + "/customers/users/" + sh.customerID + "/password"
		answers := storetest.Race(racers, func(i int) resp {
			return n.do("PUT", pw, reset, map[string]any{"password": fmt.Sprintf("racing passphrase number %02d", i)})
		})
		won := -1
		for i, r := range answers {
			switch r.status {
			case 204:
				if won >= 0 {
					t.Errorf("racers %d and %d both set the password with one reset token", won, i)
				}
				won = i
			case 401:
				if code := problemCode(t, r, 401); code != "invalid_token" || !strings.Contains(string(r.body), "used already") {
					t.Errorf("loser %d: %s", i, r.body)
				}
			default:
				t.Errorf("racer %d: %d %s", i, r.status, r.body)
			}
		}
		if won < 0 {
			t.Fatal("no racer set the password")
		}
		// The password is the winner's.
		must(t, sh.login(ct, "ada@example.com", fmt.Sprintf("racing passphrase number %02d", won)), 200)
	})
}

// When one authorization code is redeemed by parallel requests, one gets tokens, and once
// every answer is in, those tokens are revoked: the replay revokes what the code issued
// (RFC 6749 §4.1.2, §10.5), whichever request records its tokens first.
func TestCodeReplayRaceRevokesTokens(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		sh := e.newShop(nil)
		ctx := checkedContext(t)
		redirect := "http://127.0.0.1:5173/callback"
		web := must(t, e.do("POST", sh.base+"/clients", sh.admin, map[string]any{"name": "web", "type": "confidential",
			"redirectUris": []string{redirect}}), 201)["clientId"].(string)
		webSecret := must(t, e.do("POST", sh.base+"/clients/"+web+"/secrets", sh.admin, nil), 201)["secret"].(string)
		provider, err := oidc.NewProvider(ctx, e.url+sh.base)
		if err != nil {
			t.Fatalf("discovery: %v", err)
		}
		conf := oauth2.Config{ClientID: web, ClientSecret: webSecret, Endpoint: provider.Endpoint(), RedirectURL: redirect,
			Scopes: []string{oidc.ScopeOpenID, "offline_access"}}
		intro := func(token string) map[string]any {
			return must(t, e.form(sh.base+"/auth/introspect", sh.clientID, sh.secret, url.Values{"token": {token}}), 200)
		}
		b := newBrowser(t)
		back := b.submitLogin(b.get(conf.AuthCodeURL("st")), "ada@example.com", "correct horse battery")
		// Each round races a fresh code (the session signs in again without a form).
		for round := range 3 {
			if round > 0 {
				back = b.get(conf.AuthCodeURL("st"))
			}
			loc, _ := url.Parse(back.header.Get("Location"))
			code := loc.Query().Get("code")
			if back.status != 303 || code == "" {
				t.Fatalf("round %d: no code: %d %s", round, back.status, back.body)
			}
			answers := storetest.Race(racers, func(int) resp {
				return e.form(sh.base+"/auth/token", web, webSecret, url.Values{"grant_type": {"authorization_code"},
					"code": {code}, "redirect_uri": {redirect}})
			})
			var winner map[string]any
			for i, r := range answers {
				switch r.status {
				case 200:
					if winner != nil {
						t.Fatalf("round %d: two racers redeemed one code", round)
					}
					winner = r.json(t)
				case 400:
					if m := r.json(t); m["error"] != "invalid_grant" {
						t.Errorf("round %d, racer %d: %s", round, i, r.body)
					}
				default:
					t.Fatalf("round %d, racer %d: %d %s", round, i, r.status, r.body)
				}
			}
			if winner == nil {
				t.Fatalf("round %d: no racer redeemed the code", round)
			}
			at, rt := winner["access_token"].(string), winner["refresh_token"].(string)
			if rt == "" {
				t.Fatalf("round %d: no refresh token: %v", round, winner)
			}
			if m := intro(at); m["active"] != false {
				t.Errorf("round %d: the winner's access token survived the replay: %v", round, m)
			}
			if m := intro(rt); m["active"] != false {
				t.Errorf("round %d: the winner's refresh token survived the replay: %v", round, m)
			}
		}
	})
}
