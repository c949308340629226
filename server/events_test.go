package server_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twinid/twinid/server"
	"github.com/twinid/twinid/server/mail/mailtest"
)

// events lists every event of an account that matches query, newest first, following the
// cursors with pages of three (so that any trail here spans pages).
func (e *env) events(token, aid string, query url.Values) []map[string]any {
	e.t.Helper()
	q := url.Values{"limit": {"3"}}
	for k, v := range query {
		q[k] = v
	}
	var out []map[string]any
	seen := map[string]bool{}
	for pages := 0; ; pages++ {
		if pages > 200 {
			e.t.Fatal("the events' cursors do not end")
		}
		p := must(e.t, e.do("GET", "/v1/accounts/"+aid+"/events?"+q.Encode(), token, nil), 200)
		for _, ev := range items(e.t, p) {
			if id := ev["id"].(string); seen[id] {
				e.t.Fatalf("event %s on two pages", id)
			} else {
				seen[id] = true
			}
			out = append(out, ev)
		}
		next, _ := p["nextCursor"].(string)
		if next == "" {
			break
		}
		q.Set("startingAfter", next)
	}
	return out
}

// ofType keeps the events of one type.
func ofType(evs []map[string]any, typ string) []map[string]any {
	var out []map[string]any
	for _, ev := range evs {
		if ev["type"] == typ {
			out = append(out, ev)
		}
	}
	return out
}

func field(ev map[string]any, obj, name string) string {
	m, _ := ev[obj].(map[string]any)
	s, _ := m[name].(string)
	return s
}

// wantEvents checks that the account's trail holds exactly n events of typ, about subject
// (when not empty), each a success by the admin client unless checked otherwise.
func wantEvents(t *testing.T, evs []map[string]any, typ, subject string, n int) []map[string]any {
	t.Helper()
	got := ofType(evs, typ)
	if subject != "" {
		got = slices.DeleteFunc(got, func(ev map[string]any) bool { return field(ev, "subject", "id") != subject })
	}
	if len(got) != n {
		t.Fatalf("%d %s events about %q, want %d; the trail: %v", len(got), typ, subject, n, typeList(evs))
	}
	return got
}

func typeList(evs []map[string]any) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev["type"].(string) + ":" + field(ev, "subject", "id")
	}
	return out
}

// Every change made through the Management API is on the account's trail with its actor
// (the root admin client), source address and request id; a refused change is not; a
// read-only admin may list the trail, another account's admin may not.
func TestAuditTrailOfManagementChanges(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		sh := e.newShop(nil)
		a, base := sh.admin, sh.base
		sc := e.do("POST", base+"/scopes", a, map[string]any{"serviceName": "Orders", "audience": "api://orders", "scope": "orders:read"})
		scope := must(t, sc, 201)["id"].(string)
		// Refused changes record nothing: a duplicate, an invalid origin, a missing customer.
		must(t, e.do("POST", base+"/scopes", a, map[string]any{"serviceName": "Orders", "audience": "api://orders", "scope": "orders:read"}), 409)
		must(t, e.do("POST", base+"/clients", a, map[string]any{"name": "bad", "type": "public", "allowedOrigins": []string{"https://*.example.com"}}), 422)
		must(t, e.do("DELETE", base+"/customers/users/nobody", a, nil), 404)
		must(t, e.do("PATCH", base+"/scopes/"+scope, a, map[string]any{"description": "read orders"}), 200)
		must(t, e.do("DELETE", base+"/scopes/"+scope, a, nil), 204)

		sa := must(t, e.do("POST", base+"/service-accounts", a, map[string]any{"name": "worker", "scopes": []string{}}), 201)["id"].(string)
		must(t, e.do("PATCH", base+"/service-accounts/"+sa, a, map[string]any{"description": "batch jobs"}), 200)
		sec := must(t, e.do("POST", base+"/service-accounts/"+sa+"/secrets", a, nil), 201)
		must(t, e.do("DELETE", base+"/service-accounts/"+sa+"/secrets/"+sec["id"].(string), a, nil), 204)
		must(t, e.do("DELETE", base+"/service-accounts/"+sa, a, nil), 204)

		spa := must(t, e.do("POST", base+"/clients", a, map[string]any{"name": "spa", "type": "public"}), 201)["clientId"].(string)
		must(t, e.do("PATCH", base+"/clients/"+spa, a, map[string]any{"allowedOrigins": []string{"https://spa.example.com"}}), 200)
		g := must(t, e.do("POST", base+"/grants", a, map[string]any{"clientId": spa, "audience": apiAud, "type": "authorization_code",
			"scopes": []string{"customer_customers:read"}}), 201)["id"].(string)
		must(t, e.do("PATCH", base+"/grants/"+g, a, map[string]any{"scopes": []string{"customer_discounts:read"}}), 200)
		must(t, e.do("DELETE", base+"/grants/"+g, a, nil), 204)
		must(t, e.do("DELETE", base+"/clients/"+spa, a, nil), 204)
		loginSecret := must(t, e.do("GET", base+"/clients/"+sh.clientID+"/secrets", a, nil), 200)
		loginSecretID := items(t, loginSecret)[0]["id"].(string)

		must(t, e.do("PATCH", base+"/customers/users/"+sh.customerID, a, map[string]any{"name": "Ada L."}), 200)
		must(t, e.do("POST", base+"/customers/users/"+sh.customerID+"/unlock", a, nil), 204)
		must(t, e.do("PATCH", base+"/customers/users/"+sh.customerID, a, map[string]any{"status": "disabled"}), 200)
		grace := must(t, e.do("POST", base+"/customers/users", a, map[string]any{"email": "grace@example.com"}), 201)["customerId"].(string)
		must(t, e.do("POST", base+"/customers/users/"+grace+"/invitation", a, nil), 202)
		must(t, e.do("DELETE", base+"/customers/users/"+grace, a, nil), 204)
		kid := must(t, e.do("POST", base+"/signing-keys/rotate", a, map[string]any{"activateAfter": 0}), 201)["kid"].(string)
		must(t, e.do("PATCH", base, a, map[string]any{"name": "The Shop"}), 200)
		must(t, e.do("POST", "/v1/accounts", a, map[string]any{"aid": "gone", "name": "Gone"}), 201)
		must(t, e.do("DELETE", "/v1/accounts/gone", a, nil), 204)

		evs := e.events(a, "shop", nil)
		for _, w := range []struct {
			typ, subject string
			n            int
		}{
			{"account.created", "shop", 1}, {"account.updated", "shop", 1},
			{"scope.created", scope, 1}, {"scope.updated", scope, 1}, {"scope.deleted", scope, 1},
			{"service_account.created", sa, 1}, {"service_account.updated", sa, 1}, {"service_account.deleted", sa, 1},
			{"secret.created", sec["id"].(string), 1}, {"secret.deleted", sec["id"].(string), 1}, {"secret.created", loginSecretID, 1},
			{"client.created", spa, 1}, {"client.updated", spa, 1}, {"client.deleted", spa, 1}, {"client.created", sh.clientID, 1},
			{"grant.created", g, 1}, {"grant.updated", g, 1}, {"grant.deleted", g, 1},
			{"customer.created", sh.customerID, 1}, {"customer.updated", sh.customerID, 2}, {"customer.disabled", sh.customerID, 1},
			{"customer.unlocked", sh.customerID, 1},
			{"customer.created", grace, 1}, {"invitation.sent", grace, 2}, {"customer.deleted", grace, 1},
			{"signing_key.rotated", kid, 1},
		} {
			for _, ev := range wantEvents(t, evs, w.typ, w.subject, w.n) {
				if ev["outcome"] != "success" || field(ev, "actor", "type") != "client" || field(ev, "actor", "id") != e.adminID ||
					field(ev, "actor", "aid") != "root" || ev["clientId"] != e.adminID || ev["sourceAddress"] != "127.0.0.1" || ev["requestId"] == "" {
					t.Errorf("%s event: %v", w.typ, ev)
				}
			}
		}
		// Only what happened: the 29 changes to the shop above (5 of newShop), none of the
		// refused requests.
		if n := len(evs); n != 29 {
			t.Errorf("%d events, want 29: %v", n, typeList(evs))
		}
		// The request id is the one the change's answer named.
		if ev := wantEvents(t, evs, "scope.created", scope, 1)[0]; ev["requestId"] != sc.header.Get("X-Request-Id") {
			t.Errorf("request id %v, the answer's %q", ev["requestId"], sc.header.Get("X-Request-Id"))
		}
		// A deleted account's trail is gone with it, so its deletion is on the caller's.
		wantEvents(t, e.events(a, "root", url.Values{"type": {"account.deleted"}}), "account.deleted", "gone", 1)
		// Newest first, ordered by time too.
		for i := 1; i < len(evs); i++ {
			if instant(t, evs[i]["time"]).After(instant(t, evs[i-1]["time"])) {
				t.Fatalf("event %d is newer than the one before it: %v", i, typeList(evs))
			}
		}
		// Each event is a log line too, and no secret is in either.
		if !strings.Contains(e.logs.String(), `"msg":"audit","event":"grant.deleted"`) {
			t.Error("no audit log line for grant.deleted")
		}
		for _, secret := range []string{sh.secret, sec["secret"].(string)} {
			if strings.Contains(e.logs.String(), secret) {
				t.Error("a secret is in the logs")
			}
		}

		// Read scope lists the trail; another account's admin does not see it.
		ro := e.serviceToken(a, "root", "auditor", "api://management/read")
		if got := e.events(ro, "shop", url.Values{"type": {"grant.deleted"}}); len(got) != 1 {
			t.Errorf("read-only admin: %d grant.deleted events", len(got))
		}
		must(t, e.do("POST", "/v1/accounts", a, map[string]any{"aid": "other", "name": "Other"}), 201)
		other := e.serviceToken(a, "other", "admin", "api://management/.default")
		must(t, e.do("GET", "/v1/accounts/shop/events", other, nil), 404)
		must(t, e.do("GET", "/v1/accounts/shop/events", "", nil), 401)
		if problemCode(t, e.do("GET", "/v1/accounts/shop/events?type=nonsense", a, nil), 400) == "" {
			t.Error("an unknown type is not a problem")
		}
		must(t, e.do("GET", "/v1/accounts/nope/events", a, nil), 404)
	})
}

var acceptLink = regexp.MustCompile(`https?://\S+/auth/accept-invitation\?\S+`)

// Sign-ins and what guards them are on the trail: successes and failures, the lockout
// they cause, a refresh token's reuse, a code's replay, a password set, an invitation
// accepted. The filters (type, actor, subject, time) and the cursors select from it.
func TestAuditTrailOfSignIns(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		s := e.newSSOShop(map[string]any{"refreshTokenReuseGrace": 0, "loginMaxFailures": 3})
		a, base := s.admin, s.base
		ct := s.clientToken()
		tok := must(t, s.login(ct, "ada@example.com", "correct horse battery"), 200)
		mid := time.Now()
		for range 3 {
			must(t, s.login(ct, "ada@example.com", "wrong password"), 400)
		}
		if r := s.login(ct, "ada@example.com", "correct horse battery"); r.status != 429 && r.status != 400 {
			t.Fatalf("login while locked: %d %s", r.status, r.body)
		}
		must(t, s.login(ct, "nobody@example.com", "whatever it is"), 400)
		// A password typed in the email field is not an identifier to keep as typed.
		must(t, s.login(ct, "my secret passphrase", "whatever it is"), 400)
		must(t, e.do("POST", base+"/customers/users/"+s.customerID+"/unlock", a, nil), 204)

		// Refresh reuse: the first refresh rotates, presenting the old token again revokes the family.
		rt := tok["refresh_token"].(string)
		must(t, s.refresh(ct, rt), 200)
		must(t, s.refresh(ct, rt), 400)

		// The hosted sign-in, then a replay of its code.
		b := newBrowser(t)
		back := b.submitLogin(b.get(s.authorizeURL(url.Values{"prompt": {"login"}})), "ada@example.com", "correct horse battery")
		loc, _ := url.Parse(back.header.Get("Location"))
		code := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {s.redirect}}
		must(t, e.form(base+"/auth/token", s.web, s.webSecret, code), 200)
		must(t, e.form(base+"/auth/token", s.web, s.webSecret, code), 400)

		// A password set by the admin, and an invitation accepted from its email.
		must(t, e.do("PUT", base+"/customers/users/"+s.customerID+"/password", a, map[string]any{"password": "another good passphrase"}), 204)
		grace := must(t, e.do("POST", base+"/customers/users", a, map[string]any{"email": "grace@example.com"}), 201)["customerId"].(string)
		m := e.smtp.Wait(t, "grace@example.com", 10*time.Second)
		link := acceptLink.FindString(m.Text)
		if link == "" {
			t.Fatalf("no link in the invitation: %s", m.Text)
		}
		pg := b.get(link)
		done := b.postForm(pg, url.Values{"email": {inputValue(pg, "email")}, "code": {mailtest.Code(m.Text)}, "password": {"graces own passphrase"}})
		if done.status != 200 {
			t.Fatalf("accepting the invitation: %d %s", done.status, done.body)
		}

		evs := e.events(a, "shop", nil)
		ok := wantEvents(t, evs, "login.succeeded", s.customerID, 2)
		for _, ev := range ok {
			if field(ev, "actor", "type") != "customer" || field(ev, "actor", "id") != s.customerID || ev["outcome"] != "success" {
				t.Errorf("login.succeeded: %v", ev)
			}
		}
		// The newest sign-in came through the hosted page of the web client, the first through the login client.
		if ok[0]["clientId"] != s.web || ok[1]["clientId"] != s.clientID {
			t.Errorf("clients of the sign-ins: %v %v", ok[0]["clientId"], ok[1]["clientId"])
		}
		failed := wantEvents(t, evs, "login.failed", s.customerID, 3)
		for _, ev := range failed {
			if ev["outcome"] != "failure" || field(ev, "actor", "type") != "anonymous" || ev["reason"] != "bad_credentials" ||
				ev["clientId"] != s.clientID || ev["sourceAddress"] != "127.0.0.1" {
				t.Errorf("login.failed: %v", ev)
			}
		}
		if ev := wantEvents(t, evs, "login.failed", "nobody@example.com", 1)[0]; field(ev, "subject", "type") != "identifier" {
			t.Errorf("unknown identifier: %v", ev)
		}
		hashed := slices.DeleteFunc(ofType(evs, "login.failed"), func(ev map[string]any) bool {
			return !strings.HasPrefix(field(ev, "subject", "id"), "i:")
		})
		if len(hashed) != 1 || field(hashed[0], "subject", "type") != "identifier" {
			t.Errorf("the sign-in with no valid email is not on the trail once under a hashed identifier: %v", typeList(evs))
		}
		if trail, _ := json.Marshal(evs); strings.Contains(string(trail), "passphrase") {
			t.Errorf("what was typed as the email is on the trail: %s", trail)
		}
		if ev := wantEvents(t, evs, "login.locked_out", s.customerID, 1)[0]; ev["reason"] != "identifier" {
			t.Errorf("lockout: %v", ev)
		}
		wantEvents(t, evs, "customer.unlocked", s.customerID, 1)
		if ev := wantEvents(t, evs, "refresh_token.reuse_detected", "", 1)[0]; ev["outcome"] != "failure" || ev["clientId"] != s.clientID ||
			ev["reason"] != "family_revoked" || field(ev, "subject", "type") != "refresh_family" {
			t.Errorf("reuse: %v", ev)
		}
		if ev := wantEvents(t, evs, "code.replayed", s.customerID, 1)[0]; ev["clientId"] != s.web || field(ev, "actor", "id") != s.web {
			t.Errorf("replay: %v", ev)
		}
		if ev := wantEvents(t, evs, "customer.password_changed", s.customerID, 1)[0]; field(ev, "actor", "id") != e.adminID {
			t.Errorf("password set by the admin: %v", ev)
		}
		if ev := wantEvents(t, evs, "invitation.accepted", grace, 1)[0]; field(ev, "actor", "type") != "customer" || field(ev, "actor", "id") != grace {
			t.Errorf("invitation accepted: %v", ev)
		}
		all := e.do("GET", base+"/events?limit=100", a, nil)
		for _, secret := range []string{"correct horse battery", "wrong password", "another good passphrase", rt, s.secret, mailtest.Code(m.Text)} {
			if strings.Contains(string(all.body), secret) {
				t.Errorf("a secret is in the events: %q", secret)
			}
		}

		// Filters: each alone and combined, always a subset of the whole trail in its order.
		subset := func(name string, q url.Values, keep func(map[string]any) bool) {
			t.Helper()
			var want []string
			for _, ev := range evs {
				if keep(ev) {
					want = append(want, ev["id"].(string))
				}
			}
			var got []string
			for _, ev := range e.events(a, "shop", q) {
				got = append(got, ev["id"].(string))
			}
			if len(want) == 0 || !slices.Equal(got, want) {
				t.Errorf("%s: %d events, want %d", name, len(got), len(want))
			}
		}
		subset("type", url.Values{"type": {"login.failed"}}, func(ev map[string]any) bool { return ev["type"] == "login.failed" })
		subset("actor type", url.Values{"actorType": {"customer"}}, func(ev map[string]any) bool { return field(ev, "actor", "type") == "customer" })
		subset("actor", url.Values{"actorId": {e.adminID}}, func(ev map[string]any) bool { return field(ev, "actor", "id") == e.adminID })
		subset("subject", url.Values{"subject": {s.customerID}}, func(ev map[string]any) bool { return field(ev, "subject", "id") == s.customerID })
		subset("type and subject", url.Values{"type": {"login.succeeded"}, "subject": {s.customerID}},
			func(ev map[string]any) bool {
				return ev["type"] == "login.succeeded" && field(ev, "subject", "id") == s.customerID
			})
		since := mid.UTC().Format(time.RFC3339Nano)
		subset("since", url.Values{"since": {since}}, func(ev map[string]any) bool { return !instant(t, ev["time"]).Before(mid) })
		subset("until", url.Values{"until": {since}}, func(ev map[string]any) bool { return instant(t, ev["time"]).Before(mid) })
		if got := e.events(a, "shop", url.Values{"since": {since}, "until": {since}}); len(got) != 0 {
			t.Errorf("an empty range: %d events", len(got))
		}
		// A cursor from one page goes on with the next, through every filter.
		first := must(t, e.do("GET", base+"/events?limit=2&type=login.failed", a, nil), 200)
		rest := must(t, e.do("GET", base+"/events?limit=10&type=login.failed&startingAfter="+first["nextCursor"].(string), a, nil), 200)
		if len(items(t, first)) != 2 || len(items(t, rest)) != 3 || rest["nextCursor"] != nil {
			t.Errorf("pages of login.failed: %d then %d (next %v)", len(items(t, first)), len(items(t, rest)), rest["nextCursor"])
		}
	})
}

// The janitor keeps events for the configured retention (90 days by default) and deletes
// what is older, whatever the account.
func TestJanitorBoundsTheAuditTrail(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		sh := e.newShop(nil)
		ct := sh.clientToken()
		for range 3 {
			must(t, sh.login(ct, "ada@example.com", "correct horse battery"), 200)
		}
		before := len(e.events(sh.admin, "shop", nil))
		// Two hours old: within the default retention, past an hour's.
		e.st.DB().Exec("UPDATE events SET occurred_at = ? WHERE type = ?", time.Now().Add(-2*time.Hour).UTC(), "login.succeeded")
		if _, err := e.srv.SweepExpired(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n := len(e.events(sh.admin, "shop", nil)); n != before {
			t.Fatalf("the default retention deleted events: %d → %d", before, n)
		}
		short := e.nodeWith(func(c *server.Config) { c.AuditRetention = time.Hour })
		if _, err := short.srv.SweepExpired(t.Context()); err != nil {
			t.Fatal(err)
		}
		left := e.events(sh.admin, "shop", nil)
		if len(left) != before-3 || len(ofType(left, "login.succeeded")) != 0 || len(ofType(left, "customer.created")) != 1 {
			t.Fatalf("after an hour's retention: %v (before: %d)", typeList(left), before)
		}
	})
}

// A person who signed in to manage (a root customer's token) is the actor "person" of what
// they change, with their account; the sign-in itself is on root's trail.
func TestAuditTrailNamesThePerson(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	p := newPerson(t, e)
	access, _ := p.signIn()
	must(t, e.do("POST", "/v1/accounts", access, map[string]any{"aid": "acme", "name": "Acme"}), 201)
	sc := must(t, e.do("POST", "/v1/accounts/acme/scopes", access, map[string]any{"serviceName": "S", "audience": "api://s", "scope": "s:read"}), 201)
	ev := wantEvents(t, e.events(p.admin, "acme", nil), "scope.created", sc["id"].(string), 1)[0]
	if field(ev, "actor", "type") != "person" || field(ev, "actor", "id") != p.id || field(ev, "actor", "aid") != "root" || ev["clientId"] != p.app {
		t.Errorf("the person's change: %v", ev)
	}
	si := wantEvents(t, e.events(p.admin, "root", url.Values{"actorId": {p.id}}), "login.succeeded", p.id, 1)[0]
	if si["clientId"] != p.app {
		t.Errorf("the person's sign-in: %v", si)
	}
}

// Guessing emailed codes locks the address out once; the trail records that lockout.
func TestAuditTrailOfCodeGuessLockout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	sh := e.newShop(nil)
	ct := sh.clientToken()
	guess := func(i int) resp {
		return e.do("POST", sh.base+"/auth/token", ct, map[string]any{"grant_type": "authorization_code", "audience": apiAud,
			"verification_code": fmt.Sprintf("%08d", i), "email": "ada@example.com"})
	}
	statuses := map[int]int{}
	for i := range 25 {
		statuses[guess(i).status]++
	}
	if statuses[429] == 0 {
		t.Fatalf("25 wrong codes were not locked out: %v", statuses)
	}
	ev := wantEvents(t, e.events(sh.admin, "shop", url.Values{"type": {"login.locked_out"}}), "login.locked_out", "127.0.0.1", 1)[0]
	if ev["reason"] != "verification codes" || field(ev, "subject", "type") != "address" {
		t.Errorf("code lockout: %v", ev)
	}
}
