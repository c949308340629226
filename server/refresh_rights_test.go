package server_test

import (
	"testing"
)

// A refresh issues only what is still held: after the client's grant loses a scope, the
// next access token lacks it, though the family was granted it for 90 days. A scope
// parameter narrows the token and may not widen it (RFC 6749 §6); a refused widening
// leaves the refresh token unspent.
func TestRefreshFollowsWithdrawnScopesAndOnlyNarrows(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		sh := e.newShop(nil, "accounts:auth:users", "create:accounts:auth:refresh_token",
			"customer_customers:read", "customer_discounts:read")
		ct := sh.clientToken()
		r := must(t, sh.login(ct, "ada@example.com", "correct horse battery"), 200)
		if r["scope"] != "customer_customers:read customer_discounts:read" {
			t.Fatalf("login scope = %v", r["scope"])
		}
		rt := r["refresh_token"].(string)

		// Narrowing with the scope parameter.
		n := must(t, e.do("POST", sh.base+"/auth/token", ct, map[string]any{"grant_type": "refresh_token",
			"refresh_token": rt, "scope": "customer_discounts:read"}), 200)
		if n["scope"] != "customer_discounts:read" || claims(t, n["access_token"].(string))["scope"] != "customer_discounts:read" {
			t.Fatalf("narrowed refresh: scope %v, token scope %v", n["scope"], claims(t, n["access_token"].(string))["scope"])
		}
		rt = n["refresh_token"].(string)

		// Widening is refused, and the token stays usable.
		w := e.do("POST", sh.base+"/auth/token", ct, map[string]any{"grant_type": "refresh_token",
			"refresh_token": rt, "scope": "customer_discounts:read customer_orders:write"})
		if w.status != 400 || w.json(t)["error"] != "invalid_scope" {
			t.Fatalf("widening refresh: %d %s", w.status, w.body)
		}
		// The successor keeps the family's scope.
		f := must(t, sh.refresh(ct, rt), 200)
		if f["scope"] != "customer_customers:read customer_discounts:read" {
			t.Fatalf("refresh after narrowing: scope %v", f["scope"])
		}
		rt = f["refresh_token"].(string)

		// The grant loses customer_customers:read: the next refresh drops it.
		must(t, e.do("PATCH", sh.base+"/grants/"+grantID(t, e, sh), sh.admin, map[string]any{
			"scopes": []string{"accounts:auth:users", "create:accounts:auth:refresh_token", "customer_discounts:read"}}), 200)
		d := must(t, sh.refresh(ct, rt), 200)
		if d["scope"] != "customer_discounts:read" || claims(t, d["access_token"].(string))["scope"] != "customer_discounts:read" {
			t.Fatalf("refresh after the grant lost a scope: scope %v", d["scope"])
		}
	})
}
