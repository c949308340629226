package server_test

import (
	"net/url"
	"testing"
)

func TestSigningKeysListAndRotateAccess(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		tn := e.newTenant(admin, "acme", nil)
		base := "/v1/accounts/acme/signing-keys"
		// A new account signs access tokens with ES256 by default, ID tokens with its RS256
		// companion.
		keys := items(t, must(t, e.do("GET", base, admin, nil), 200))
		algs := map[string]bool{}
		for _, k := range keys {
			if k["status"] != "active" || k["retiresAt"] != nil {
				t.Fatalf("a new account's keys: %v", keys)
			}
			algs[k["alg"].(string)] = true
		}
		if len(keys) != 2 || !algs["ES256"] || !algs["RS256"] {
			t.Fatalf("a new account's keys: %v", keys)
		}

		// Without a body the next key waits the account's keyPropagationDelay (600 s).
		next := must(t, e.do("POST", base+"/rotate", admin, nil), 201)
		if next["status"] != "next" || next["alg"] != "ES256" || next["activatesAt"].(string) <= next["createdAt"].(string) {
			t.Fatalf("rotated key: %v", next)
		}
		// activateAfter 0: the new key signs at once, the old one retires.
		now := must(t, e.do("POST", base+"/rotate", admin, map[string]any{"activateAfter": 0}), 201)
		if now["status"] != "active" {
			t.Fatalf("a key activated at once: %v", now)
		}
		tok := must(t, e.form("/v1/accounts/acme/auth/token", tn.clientID, tn.secret, url.Values{"grant_type": {"client_credentials"}}), 200)
		if kid := kidOf(t, tok["access_token"].(string)); kid != now["kid"] {
			t.Fatalf("token signed by %s, want the new key %s", kid, now["kid"])
		}
		statuses := map[string]string{}
		for _, k := range items(t, must(t, e.do("GET", base, admin, nil), 200)) {
			statuses[k["kid"].(string)] = k["status"].(string)
		}
		if statuses[keys[0]["kid"].(string)] != "retiring" || statuses[keys[1]["kid"].(string)] != "retiring" ||
			statuses[now["kid"].(string)] != "active" {
			t.Fatalf("statuses after rotating: %v", statuses)
		}

		// Read-only admins list but do not rotate; other accounts' admins see nothing.
		ro := e.serviceToken(admin, "acme", "reader", "api://management/read")
		before := len(items(t, must(t, e.do("GET", base, ro, nil), 200)))
		if code := problemCode(t, e.do("POST", base+"/rotate", ro, nil), 403); code != "insufficient_scope" {
			t.Fatalf("read-only rotate: code %q", code)
		}
		e.newTenant(admin, "beta", nil)
		beta := e.serviceToken(admin, "beta", "beta-admin", "api://management/.default")
		must(t, e.do("GET", base, beta, nil), 404)
		must(t, e.do("POST", base+"/rotate", beta, nil), 404)
		if after := len(items(t, must(t, e.do("GET", base, admin, nil), 200))); after != before {
			t.Fatalf("refused rotations added keys: %d → %d", before, after)
		}
		must(t, e.do("GET", "/v1/accounts/nope/signing-keys", admin, nil), 404)
		must(t, e.do("POST", "/v1/accounts/nope/signing-keys/rotate", admin, nil), 404)
		must(t, e.do("POST", base+"/rotate", admin, map[string]any{"alg": "HS256"}), 400)
		must(t, e.do("POST", base+"/rotate", admin, map[string]any{"activateAfter": -1}), 400)
	})
}
