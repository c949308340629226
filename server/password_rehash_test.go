package server_test

import (
	"strings"
	"testing"

	"github.com/twinid/twinid/server"
	"github.com/twinid/twinid/server/passwords"
)

// Raising the argon2id cost upgrades stored hashes at the next successful login; a node
// with the old, weaker parameters never downgrades them.
func TestLoginRehashesWeakerPasswordHashes(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		sh := e.newShop(nil)
		hash := func() string {
			t.Helper()
			var h string
			if err := e.st.DB().Table("customers").Select("password_hash").Where("id = ?", sh.customerID).Row().Scan(&h); err != nil {
				t.Fatal(err)
			}
			return h
		}
		weak := hash()
		if !strings.Contains(weak, "$m=1024,t=1,p=1$") {
			t.Fatalf("the customer's hash is not of the test parameters: %s", weak)
		}
		stronger := passwords.Params{Memory: 2048, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
		n := e.nodeWith(func(c *server.Config) { c.PasswordParams = &stronger })
		ns := sh
		ns.e = n
		ct := ns.clientToken()

		// A failed login changes nothing.
		if r := ns.login(ct, "ada@example.com", "not the password"); r.status != 400 {
			t.Fatalf("wrong password: %d %s", r.status, r.body)
		}
		if hash() != weak {
			t.Fatal("a failed login rewrote the hash")
		}
		must(t, ns.login(ct, "ada@example.com", "correct horse battery"), 200)
		upgraded := hash()
		if !strings.Contains(upgraded, "$m=2048,t=2,p=1$") {
			t.Fatalf("hash after a login on the stronger node: %s", upgraded)
		}
		// Both nodes still accept the password; the weaker node keeps the stronger hash.
		must(t, sh.login(sh.clientToken(), "ada@example.com", "correct horse battery"), 200)
		must(t, ns.login(ct, "ada@example.com", "correct horse battery"), 200)
		if hash() != upgraded {
			t.Fatal("the hash changed again")
		}
	})
}
