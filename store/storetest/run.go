package storetest

import (
	"testing"

	"github.com/twinid/twinid/store"
)

// Run runs the whole suite. open must return a fresh, migrated, empty store for each call;
// it is called from parallel subtests, once per subtest.
func Run(t *testing.T, open func(t *testing.T) *store.Store) {
	groups := []struct {
		name string
		run  func(*testing.T, opener)
	}{
		{"Store", testStore},
		{"Accounts", testAccounts},
		{"Scopes", testScopes},
		{"Clients", testClients},
		{"ProtocolClients", testProtocolClients},
		{"Grants", testGrants},
		{"Customers", testCustomers},
		{"Tokens", testTokens},
		{"Throttle", testThrottle},
		{"Sessions", testSessions},
		{"Keys", testKeys},
		{"Factors", testFactors},
		{"MFATokens", testMFATokens},
		{"Sweep", testSweep},
		{"Events", testEvents},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) { g.run(t, open) })
	}
}
