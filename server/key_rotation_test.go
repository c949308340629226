package server_test

import (
	"net/url"
	"slices"
	"testing"
	"time"
)

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		// An RS256 account moving to ES256: one key before, two (ES256 and its companion) after.
		tn := e.newTenant(admin, "tenant-a", map[string]any{"signingAlg": "RS256"})
		path := "/v1/accounts/tenant-a/auth/token"
		cc := url.Values{"grant_type": {"client_credentials"}}
		old := must(t, e.form(path, tn.clientID, tn.secret, cc), 200)["access_token"].(string)
		oldKid := kidOf(t, old)
		next := must(t, e.do("POST", "/v1/accounts/tenant-a/signing-keys/rotate", admin, map[string]any{"activateAfter": 2, "alg": "ES256"}), 201)
		if next["status"] != "next" || next["alg"] != "ES256" {
			t.Fatalf("rotated key: %v", next)
		}
		// Published at once, but not signing yet: the ES256 key and its RS256 companion for
		// ID tokens, beside the current key.
		jwks := must(t, e.do("GET", "/v1/accounts/tenant-a/.well-known/jwks.json", "", nil), 200)
		if len(jwks["keys"].([]any)) != 3 {
			t.Fatalf("JWKS has %d keys, want 3", len(jwks["keys"].([]any)))
		}
		tok := must(t, e.form(path, tn.clientID, tn.secret, cc), 200)["access_token"].(string)
		if kidOf(t, tok) != oldKid {
			t.Fatal("the next key signed before its activation")
		}
		time.Sleep(2100 * time.Millisecond)
		tok = must(t, e.form(path, tn.clientID, tn.secret, cc), 200)["access_token"].(string)
		if kidOf(t, tok) != next["kid"] {
			t.Fatal("the new key does not sign after activation")
		}
		// Both the old and the new token verify from the JWKS.
		e.verify(t, "tenant-a", old)
		e.verify(t, "tenant-a", tok)
		keys := must(t, e.do("GET", "/v1/accounts/tenant-a/signing-keys", admin, nil), 200)["items"].([]any)
		statuses := []string{}
		for _, k := range keys {
			km := k.(map[string]any)
			statuses = append(statuses, km["status"].(string))
			if _, ok := km["publicJwk"].(map[string]any)["d"]; ok {
				t.Fatal("private key material in the key listing")
			}
		}
		slices.Sort(statuses)
		if !slices.Equal(statuses, []string{"active", "active", "retiring"}) {
			t.Fatalf("statuses %v", statuses)
		}
	})
}
