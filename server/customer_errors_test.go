package server_test

import (
	"net/url"
	"strings"
	"testing"
)

// Errors of the customers API that only the handlers (not the schema) decide.
func TestCustomerRequestsRefusedByTheHandlers(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		sh := e.newShop(nil)
		users := sh.base + "/customers/users"

		// One search at a time.
		p := must(t, e.do("GET", users+"?"+url.Values{"email": {"ada"}, "phoneNumber": {"+47"}}.Encode(), sh.admin, nil), 422)
		if p["code"] != "one_search" || p["errors"].([]any)[0].(map[string]any)["field"] != "phoneNumber" {
			t.Fatalf("email and phone search: %v", p)
		}
		if n := len(items(t, must(t, e.do("GET", users+"?email=ada", sh.admin, nil), 200))); n != 1 {
			t.Fatalf("email search: %d", n)
		}

		// The document's maxLength is the policy's limit (256 characters): the schema
		// refuses a longer password before the policy sees it.
		long := e.do("POST", users, sh.admin, map[string]any{"email": "new@example.com", "password": strings.Repeat("long passphrase ", 20)})
		if p := must(t, long, 400); p["code"] != "validation_failed" || p["errors"].([]any)[0].(map[string]any)["field"] != "password" {
			t.Errorf("too long password: %v", p)
		}
		// The password policy beyond the schema's length limit.
		for name, c := range map[string]struct{ password, code string }{
			"control character": {"correct\thorse battery", "password_invalid_characters"},
			"too common":        {"password123", "password_too_common"},
		} {
			p := must(t, e.do("POST", users, sh.admin, map[string]any{"email": "new@example.com", "password": c.password}), 422)
			if p["code"] != c.code || p["errors"].([]any)[0].(map[string]any)["field"] != "password" {
				t.Errorf("%s password: %v", name, p)
			}
		}
		if n := len(items(t, must(t, e.do("GET", users+"?email=new", sh.admin, nil), 200))); n != 0 {
			t.Fatalf("refused passwords created %d customers", n)
		}

		// A disabled customer's password cannot be set, not even by an admin.
		must(t, e.do("PATCH", users+"/"+sh.customerID, sh.admin, map[string]any{"status": "disabled"}), 200)
		pw := users + "/" + sh.customerID + "/password"
		if code := problemCode(t, e.do("PUT", pw, sh.admin, map[string]any{"password": "a new long passphrase"}), 409); code != "conflict" {
			t.Fatalf("password of a disabled customer: code %q", code)
		}
		must(t, e.do("PATCH", users+"/"+sh.customerID, sh.admin, map[string]any{"status": "active"}), 200)
		must(t, sh.login(sh.clientToken(), "ada@example.com", "correct horse battery"), 200)
		must(t, e.do("PUT", pw, sh.admin, map[string]any{"password": "a new long passphrase"}), 204)
		must(t, sh.login(sh.clientToken(), "ada@example.com", "a new long passphrase"), 200)
	})
}
