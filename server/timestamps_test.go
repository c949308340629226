package server_test

import (
	"testing"
)

// A resource's createdAt and updatedAt read back as they were answered on creation (and on
// update): Postgres keeps microseconds, so the server must not answer nanoseconds it
// cannot store.
func TestTimestampsReadBackAsAnswered(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		same := func(name string, created map[string]any, path string) {
			t.Helper()
			got := must(t, e.do("GET", path, admin, nil), 200)
			for _, f := range []string{"createdAt", "updatedAt"} {
				if created[f] != got[f] {
					t.Errorf("%s %s: answered %v, read back %v", name, f, created[f], got[f])
				}
			}
		}
		for i := range 3 { // several rounds: a time with no nanoseconds to lose passes by chance
			aid := "shop" + string(rune('a'+i))
			base := "/v1/accounts/" + aid
			same("account", must(t, e.do("POST", "/v1/accounts", admin, map[string]any{"aid": aid, "name": "Shop"}), 201), base)
			cu := must(t, e.do("POST", base+"/customers/users", admin, map[string]any{"email": "ada@example.com", "password": "correct horse battery"}), 201)
			same("customer", cu, base+"/customers/users/"+cu["customerId"].(string))
			same("customer update", must(t, e.do("PATCH", base+"/customers/users/"+cu["customerId"].(string), admin, map[string]any{"name": "Ada"}), 200),
				base+"/customers/users/"+cu["customerId"].(string))
			cl := must(t, e.do("POST", base+"/clients", admin, map[string]any{"name": "web", "type": "confidential"}), 201)
			same("client", cl, base+"/clients/"+cl["clientId"].(string))
			same("client update", must(t, e.do("PATCH", base+"/clients/"+cl["clientId"].(string), admin, map[string]any{"name": "web2"}), 200),
				base+"/clients/"+cl["clientId"].(string))
			sa := must(t, e.do("POST", base+"/service-accounts", admin, map[string]any{"name": "worker", "scopes": []string{}}), 201)
			same("service account", sa, base+"/service-accounts/"+sa["id"].(string))
			same("account update", must(t, e.do("PATCH", base, admin, map[string]any{"name": "Shop 2"}), 200), base)
		}
	})
}
