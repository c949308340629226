package server_test

import "testing"

// The provider's JWKS is fetched once and kept with its discovery document; a kid the node
// has not seen makes it fetch the set again, as a provider rotating its keys expects
// (OpenID Connect Core §10.1.1). A key set larger than any answer twinid reads from a
// provider is refused like any unverifiable token.
func TestUpstreamJWKSCacheAndRotation(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		idp := newFakeIDP(t)
		u := e.newUpstreamShop(t, idp.URL)
		for i := range 2 {
			must(t, u.login(idp, nil), 200)
			if n := idp.jwks.Load(); n != 1 {
				t.Fatalf("login %d: %d JWKS fetches, want the one of the first login", i+1, n)
			}
		}
		idp.rotate()
		must(t, u.login(idp, nil), 200)
		if n := idp.jwks.Load(); n != 2 {
			t.Fatalf("after the provider rotated its key: %d JWKS fetches, want 2", n)
		}

		idp.padJWKS(1 << 20)
		idp.rotate()
		if r := u.login(idp, nil); r.status != 502 || r.json(t)["error"] != "server_error" {
			t.Fatalf("a JWKS over 1 MiB: %d %s", r.status, r.body)
		}
	})
}
