package server_test

import (
	"testing"

	"github.com/twinid/twinid/store/storetest"
)

// The documented maximum of ten secrets per client holds when creations race: the database
// decides, not each request's own count.
func TestSecretLimitUnderRace(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		tn := e.newTenant(admin, "acme", nil) // a service account with one secret
		app := must(t, e.do("POST", "/v1/accounts/acme/clients", admin, map[string]any{"name": "app", "type": "confidential"}), 201)
		for _, c := range []struct {
			path string
			held int
		}{
			{"/v1/accounts/acme/service-accounts/" + tn.saID + "/secrets", 1},
			{"/v1/accounts/acme/clients/" + app["clientId"].(string) + "/secrets", 0},
		} {
			const n, limit = 12, 10
			answers := storetest.Race(n, func(int) resp { return e.do("POST", c.path, admin, map[string]any{}) })
			created := 0
			for _, r := range answers {
				switch r.status {
				case 201:
					created++
				case 422:
					if code := problemCode(t, r, 422); code != "too_many_secrets" {
						t.Errorf("%s: refused with %q", c.path, code)
					}
				default:
					t.Errorf("%s: %d %s", c.path, r.status, r.body)
				}
			}
			listed := len(items(t, must(t, e.do("GET", c.path+"?limit=50", admin, nil), 200)))
			if created != limit-c.held || listed != limit {
				t.Errorf("%s: %d parallel creates with %d held: %d created, %d listed, want %d listed",
					c.path, n, c.held, created, listed, limit)
			}
		}
	})
}
