package server_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twinid/twinid/server/mail/mailtest"
)

// countRows counts the rows of a table in the env's database.
func (e *env) countRows(table string) int64 {
	e.t.Helper()
	var n int64
	if err := e.st.DB().Table(table).Count(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestCustomersCRUDAndSearch(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		must(t, e.do("POST", "/v1/accounts", admin, map[string]any{"aid": "shop", "name": "Shop"}), 201)
		base := "/v1/accounts/shop/customers/users"

		ada := must(t, e.do("POST", base, admin, map[string]any{
			"email": "  Ada.Lovelace@Example.COM ", "phoneNumber": "+47 912 34 567", "name": "Ada",
			"password": "correct horse battery", "scopes": []string{"customer_customers:read"}, "metadata": map[string]any{"tier": "gold"}}), 201)
		if ada["email"] != "Ada.Lovelace@Example.COM" || ada["phoneNumber"] != "+4791234567" || ada["status"] != "active" || ada["hasPassword"] != true {
			t.Fatalf("customer: %v", ada)
		}
		if _, ok := ada["password"]; ok {
			t.Fatal("password echoed")
		}
		// Unique per account and type, case-insensitively and after normalisation.
		r := e.do("POST", base, admin, map[string]any{"email": "ada.lovelace@example.com", "password": "another good one"})
		if must(t, r, 409); !strings.Contains(string(r.body), `"field":"email"`) {
			t.Fatalf("conflict does not name the field: %s", r.body)
		}
		must(t, e.do("POST", base, admin, map[string]any{"phoneNumber": "+4791234567", "password": "another good one"}), 409)
		// Another type may reuse them.
		must(t, e.do("POST", base, admin, map[string]any{"email": "ada.lovelace@example.com", "type": "company", "password": "another good one"}), 201)

		// Bad input: each answered with the documented error and no row written.
		before := e.countRows("customers")
		for name, body := range map[string]string{
			"malformed":       `{"email": "x@example.com",`,
			"unknown field":   `{"email": "x@example.com", "isAdmin": true}`,
			"bad email":       `{"email": "not-an-email", "password": "correct horse battery"}`,
			"bad phone":       `{"phoneNumber": "12345", "password": "correct horse battery"}`,
			"no identifier":   `{"name": "nobody", "password": "correct horse battery"}`,
			"NUL":             `{"email": "nul@example.com", "name": "a\u0000b", "password": "correct horse battery"}`,
			"long name":       `{"email": "long@example.com", "name": "` + strings.Repeat("x", 300) + `", "password": "correct horse battery"}`,
			"short password":  `{"email": "short@example.com", "password": "abc"}`,
			"common password": `{"email": "common@example.com", "password": "password1"}`,
			"wrong type":      `{"email": "t@example.com", "type": "robot", "password": "correct horse battery"}`,
			"big metadata":    `{"email": "m@example.com", "password": "correct horse battery", "metadata": {"x": "` + strings.Repeat("y", 20000) + `"}}`,
		} {
			r := e.do("POST", base, admin, body)
			if r.status != 400 && r.status != 422 {
				t.Errorf("%s: want 400 or 422, got %d %s", name, r.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("%s: content type %q", name, ct)
			}
		}
		req := e.do("POST", base, admin, nil)
		must(t, req, 400)
		if n := e.countRows("customers"); n != before {
			t.Fatalf("failed requests wrote rows: %d → %d", before, n)
		}

		// Search by email and phone prefix, paginated by cursor.
		for i := 0; i < 25; i++ {
			must(t, e.do("POST", base, admin, map[string]any{
				"email": fmt.Sprintf("user%02d@Example.org", i), "phoneNumber": fmt.Sprintf("+4790000%03d", i), "password": "correct horse battery"}), 201)
		}
		var seen []string
		cursor := ""
		for pages := 0; ; pages++ {
			q := url.Values{"email": {"USER"}, "limit": {"10"}}
			if cursor != "" {
				q.Set("startingAfter", cursor)
			}
			p := must(t, e.do("GET", base+"?"+q.Encode(), admin, nil), 200)
			for _, it := range p["items"].([]any) {
				seen = append(seen, it.(map[string]any)["email"].(string))
			}
			if p["nextCursor"] == nil {
				break
			}
			cursor = p["nextCursor"].(string)
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
		}
		if len(seen) != 25 || seen[0] != "user00@Example.org" || seen[24] != "user24@Example.org" {
			t.Fatalf("email search: %d %v", len(seen), seen)
		}
		p := must(t, e.do("GET", base+"?"+url.Values{"phoneNumber": {"+479000001"}}.Encode(), admin, nil), 200)
		if n := len(p["items"].([]any)); n != 10 {
			t.Fatalf("phone search: %d", n)
		}
		p = must(t, e.do("GET", base+"?type=company", admin, nil), 200)
		if n := len(p["items"].([]any)); n != 1 {
			t.Fatalf("type filter: %d", n)
		}

		// PATCH merges; a changed email is no longer verified.
		id := ada["customerId"].(string)
		up := must(t, e.do("PATCH", base+"/"+id, admin, map[string]any{"name": "Ada L.", "emailVerified": true}), 200)
		if up["name"] != "Ada L." || up["emailVerified"] != true || up["phoneNumber"] != "+4791234567" {
			t.Fatalf("patch: %v", up)
		}
		up = must(t, e.do("PATCH", base+"/"+id, admin, map[string]any{"email": "ada@example.net"}), 200)
		if up["emailVerified"] != false {
			t.Fatalf("email changed but still verified: %v", up)
		}
		must(t, e.do("PATCH", base+"/"+id, admin, map[string]any{"email": nil, "phoneNumber": nil}), 422)
		must(t, e.do("DELETE", base+"/"+id, admin, nil), 204)
		must(t, e.do("GET", base+"/"+id, admin, nil), 404)

		// Another account's customers are not visible.
		other := e.newTenant(admin, "other", nil)
		_ = other
		must(t, e.do("GET", "/v1/accounts/other/customers/users/"+id, admin, nil), 404)
	})
}

func TestInvitationEmail(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		must(t, e.do("POST", "/v1/accounts", admin, map[string]any{"aid": "shop", "name": "Shop",
			"settings": map[string]any{"emailSenderName": "Acme <Shop>"}}), 201)
		base := "/v1/accounts/shop/customers/users"
		must(t, e.do("POST", base, admin, map[string]any{"phoneNumber": "+4791234567"}), 422) // no email to invite
		c := must(t, e.do("POST", base, admin, map[string]any{"email": "grace@example.com", "name": "Grace"}), 201)
		if c["status"] != "invited" || c["hasPassword"] != false {
			t.Fatalf("invited customer: %v", c)
		}
		m := e.smtp.Wait(t, "grace@example.com", 10*time.Second)
		code := mailtest.Code(m.Text)
		if len(code) != 8 || !strings.Contains(m.HTML, code) || !strings.Contains(m.From, "Acme <Shop>") {
			t.Fatalf("invitation: from %q code %q\n%s", m.From, code, m.Text)
		}
		if !strings.Contains(m.Text, e.url+"/v1/accounts/shop/auth/accept-invitation?") {
			t.Fatalf("the link is not built from the public URL:\n%s", m.Text)
		}
		if strings.Contains(e.logs.String(), code) {
			t.Fatal("the code is in the logs")
		}
		// Re-sending replaces the code.
		must(t, e.do("POST", base+"/"+c["customerId"].(string)+"/invitation", admin, nil), 202)
		m2 := e.smtp.Wait(t, "grace@example.com", 10*time.Second)
		if code2 := mailtest.Code(m2.Text); code2 == code || len(code2) != 8 {
			t.Fatalf("re-sent code %q (first %q)", code2, code)
		}
		if n := e.countRows("verification_codes"); n != 1 {
			t.Fatalf("codes after re-send: %d", n)
		}
	})
}

func TestJanitorSweepsExpiredRows(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		sh := e.newShop(map[string]any{"refreshTokenIdleLifetime": 300})
		ct := sh.clientToken()
		for i := 0; i < 3; i++ {
			must(t, sh.login(ct, "ada@example.com", "correct horse battery"), 200)
		}
		must(t, sh.login(ct, "ada@example.com", "wrong password!!"), 400)
		must(t, e.do("POST", sh.base+"/customers/change_password", ct, map[string]any{"email": "ada@example.com"}), 202)
		// The reset's code is issued off the request path: wait for it before ageing the rows.
		if err := e.srv.FlushMail(t.Context()); err != nil {
			t.Fatal(err)
		}
		live, err := e.srv.SweepExpired(t.Context())
		if err != nil || live != 0 {
			t.Fatalf("live rows swept: %d %v", live, err)
		}
		// Age everything past its lifetime, as time would.
		db := e.st.DB()
		past := time.Now().Add(-48 * time.Hour).UnixMilli()
		db.Exec("UPDATE refresh_tokens SET idle_until_ms = ?", past)
		db.Exec("UPDATE verification_codes SET expires_ms = ?", past)
		db.Exec("UPDATE login_throttle SET updated_ms = ?", past)
		n, err := e.srv.SweepExpired(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"refresh_tokens", "verification_codes", "login_throttle"} {
			if c := e.countRows(table); c != 0 {
				t.Errorf("%s: %d rows left", table, c)
			}
		}
		if n < 5 {
			t.Fatalf("swept %d rows", n)
		}
	})
}
