package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestUpstreamOIDCLoginAgainstASecondTwinid(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		// The upstream provider: another twinid, with its own database and keys.
		up := newEnv(t, "")
		upAdmin := up.adminToken()
		must(t, up.do("POST", "/v1/accounts", upAdmin, map[string]any{"aid": "idp", "name": "Upstream IdP"}), 201)
		redirect := "http://127.0.0.1:5173/vipps-callback"
		vc := must(t, up.do("POST", "/v1/accounts/idp/clients", upAdmin, map[string]any{"name": "shop", "type": "confidential",
			"redirectUris": []string{redirect}}), 201)["clientId"].(string)
		vs := must(t, up.do("POST", "/v1/accounts/idp/clients/"+vc+"/secrets", upAdmin, nil), 201)["secret"].(string)
		must(t, up.do("POST", "/v1/accounts/idp/customers/users", upAdmin, map[string]any{"email": "ada@example.com",
			"name": "Ada Lovelace", "password": "upstream passphrase", "emailVerified": true}), 201)

		sh := e.newShop(nil) // has ada@example.com already
		spa := must(t, e.do("POST", sh.base+"/clients", sh.admin, map[string]any{"name": "spa", "type": "public",
			"redirectUris": []string{redirect}}), 201)["clientId"].(string)
		// The seed's grant JSON, as written.
		must(t, e.do("POST", sh.base+"/grants", sh.admin, map[string]any{
			"client_id": spa, "audience": apiAud, "type": "authorization_code",
			"scope": []string{"user:customers", "user:customers:/users?type=customer&email"},
			"oidc": map[string]any{"authority": up.url + "/v1/accounts/idp/.well-known/openid-configuration",
				"client_id": vc, "client_secret": vs}}), 201)

		login := func(b *browser) (map[string]any, resp) {
			start := b.get(e.url + sh.base + "/auth/oidc/authorize?" + url.Values{"client_id": {spa}, "response_type": {"code"},
				"scope": {"openid email profile"}, "state": {"spa-state"}, "redirect_uri": {redirect}, "audience": {apiAud}}.Encode())
			if start.status != 303 || !strings.HasPrefix(start.header.Get("Location"), up.url+"/v1/accounts/idp/auth/authorize?") {
				t.Fatalf("start: %d %v %s", start.status, start.header, start.body)
			}
			loc, _ := url.Parse(start.header.Get("Location"))
			if loc.Query().Get("code_challenge_method") != "S256" || loc.Query().Get("nonce") == "" || loc.Query().Get("client_id") != vc {
				t.Fatalf("upstream request: %s", loc)
			}
			// The person logs in at the upstream provider, which sends them back to the SPA.
			back := b.submitLogin(b.get(loc.String()), "ada@example.com", "upstream passphrase")
			cb, _ := url.Parse(back.header.Get("Location"))
			if back.status != 303 || !strings.HasPrefix(cb.String(), redirect) || cb.Query().Get("state") != "spa-state" {
				t.Fatalf("upstream callback: %d %s", back.status, cb)
			}
			// The SPA posts the seed's JSON to twinid, from the same browser.
			body := `{"grant_type":"authorization_code","code":"` + cb.Query().Get("code") + `","client_id":"` + spa +
				`","redirect_uri":"` + redirect + `","audience":"` + apiAud + `"}`
			req, _ := http.NewRequest("POST", e.url+sh.base+"/auth/oidc/token", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			r := b.do(req)
			if r.status != 200 {
				return nil, r
			}
			return r.json(t), r
		}
		res, r := login(newBrowser(t))
		if res == nil {
			t.Fatalf("token: %d %s", r.status, r.body)
		}
		ui := res["user_info"].(map[string]any)
		if ui["authority"] != up.url+"/v1/accounts/idp" || ui["value"].(map[string]any)["name"] != "Ada Lovelace" {
			t.Fatalf("user_info: %v", ui)
		}
		// Matched by the verified email to the existing customer, as the grant's scope allows.
		if c := claims(t, res["access_token"].(string)); c["sub"] != sh.customerID || c["aud"] != apiAud {
			t.Fatalf("user token: %v", c)
		}
		// The link is stored: after the email changes at twinid, the next login finds the same customer.
		must(t, e.do("PATCH", sh.base+"/customers/users/"+sh.customerID, sh.admin, map[string]any{"email": "ada.new@example.com"}), 200)
		res, r = login(newBrowser(t))
		if res == nil || claims(t, res["access_token"].(string))["sub"] != sh.customerID {
			t.Fatalf("second login: %d %s", r.status, r.body)
		}
		// The code must be redeemed from the browser that started the login.
		b := newBrowser(t)
		start := b.get(e.url + sh.base + "/auth/oidc/authorize?" + url.Values{"client_id": {spa}, "response_type": {"code"},
			"scope": {"openid"}, "state": {"x"}, "redirect_uri": {redirect}, "audience": {apiAud}}.Encode())
		loc, _ := url.Parse(start.header.Get("Location"))
		cb, _ := url.Parse(b.submitLogin(b.get(loc.String()), "ada@example.com", "upstream passphrase").header.Get("Location"))
		other := newBrowser(t)
		req, _ := http.NewRequest("POST", e.url+sh.base+"/auth/oidc/token", strings.NewReader(`{"grant_type":"authorization_code","code":"`+
			cb.Query().Get("code")+`","client_id":"`+spa+`","redirect_uri":"`+redirect+`","audience":"`+apiAud+`"}`))
		req.Header.Set("Content-Type", "application/json")
		if r := other.do(req); r.status != 400 || r.json(t)["error"] != "invalid_grant" {
			t.Fatalf("another browser redeemed the code: %d %s", r.status, r.body)
		}
		// Without the matching scope, an upstream identity never lands on an existing customer:
		// a new customer is created (and the taken email is not copied onto it).
		must(t, up.do("POST", "/v1/accounts/idp/customers/users", upAdmin, map[string]any{"email": "ada.new@example.com",
			"name": "Other Ada", "password": "second upstream pass", "emailVerified": true}), 201)
		gid := must(t, e.do("GET", sh.base+"/grants?clientId="+spa, sh.admin, nil), 200)["items"].([]any)[0].(map[string]any)["id"].(string)
		must(t, e.do("PATCH", sh.base+"/grants/"+gid, sh.admin, map[string]any{"scopes": []string{"user:customers"}}), 200)
		before := e.countRows("customers")
		b2 := newBrowser(t)
		start2 := b2.get(e.url + sh.base + "/auth/oidc/authorize?" + url.Values{"client_id": {spa}, "response_type": {"code"},
			"scope": {"openid email profile"}, "state": {"s2"}, "redirect_uri": {redirect}, "audience": {apiAud}}.Encode())
		loc2, _ := url.Parse(start2.header.Get("Location"))
		cb2, _ := url.Parse(b2.submitLogin(b2.get(loc2.String()), "ada.new@example.com", "second upstream pass").header.Get("Location"))
		req2, _ := http.NewRequest("POST", e.url+sh.base+"/auth/oidc/token", strings.NewReader(`{"grant_type":"authorization_code","code":"`+
			cb2.Query().Get("code")+`","client_id":"`+spa+`","redirect_uri":"`+redirect+`","audience":"`+apiAud+`"}`))
		req2.Header.Set("Content-Type", "application/json")
		res2 := must(t, b2.do(req2), 200)
		newSub := claims(t, res2["access_token"].(string))["sub"]
		if newSub == sh.customerID || e.countRows("customers") != before+1 {
			t.Fatalf("matched without the scope allowing it: sub %v, customers %d → %d", newSub, before, e.countRows("customers"))
		}
		nc := must(t, e.do("GET", sh.base+"/customers/users/"+newSub.(string), sh.admin, nil), 200)
		if nc["email"] != nil || nc["name"] != "Other Ada" {
			t.Fatalf("new customer: %v", nc)
		}
		// Both links are on the shop's trail, by the customers themselves through the SPA; the
		// second created its customer.
		evs := e.events(sh.admin, "shop", nil)
		for _, sub := range []string{sh.customerID, newSub.(string)} {
			ev := wantEvents(t, evs, "identity.linked", sub, 1)[0]
			if field(ev, "actor", "type") != "customer" || field(ev, "actor", "id") != sub || ev["clientId"] != spa ||
				!strings.Contains(ev["reason"].(string), up.url+"/v1/accounts/idp") {
				t.Errorf("identity.linked: %v", ev)
			}
		}
		wantEvents(t, evs, "customer.created", newSub.(string), 1)
		wantEvents(t, evs, "login.succeeded", sh.customerID, 2)

		// An unregistered redirect URI is an error page, never a redirect.
		bad := newBrowser(t).get(e.url + sh.base + "/auth/oidc/authorize?" + url.Values{"client_id": {spa}, "response_type": {"code"},
			"redirect_uri": {"https://evil.example.com/"}, "audience": {apiAud}}.Encode())
		if bad.status != 400 || bad.header.Get("Location") != "" {
			t.Fatalf("open redirect: %d %v", bad.status, bad.header)
		}
	})
}
