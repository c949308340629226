package server_test

import (
	"maps"
	"testing"
	"time"
)

// The upstream provider's ID token is validated as OpenID Connect Core §3.1.3.7 asks:
// signature, iss, aud, azp, exp and nonce. Each broken token is the 502 server_error of an
// answer twinid cannot trust, and logs nobody in; a token with several audiences whose azp
// is twinid's client at the provider is accepted.
func TestUpstreamIDTokenValidation(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		idp := newFakeIDP(t)
		u := e.newUpstreamShop(t, idp.URL)
		login := func(claims func(string) map[string]any) resp { return u.login(idp, claims) }
		with := func(edit func(c map[string]any)) func(string) map[string]any {
			return func(nonce string) map[string]any {
				c := maps.Clone(idp.goodClaims(nonce))
				edit(c)
				return c
			}
		}
		before := e.countRows("customers")
		refused := map[string]func(string) map[string]any{
			// §2: exp is REQUIRED; a token without it would be valid for ever.
			"no exp":  with(func(c map[string]any) { delete(c, "exp") }),
			"expired": with(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }),
			// §3.1.3.7 items 4 and 5: with several audiences, azp must be present and be our client.
			"several audiences, azp of another client": with(func(c map[string]any) {
				c["aud"], c["azp"] = []string{"twinid", "other-client"}, "other-client"
			}),
			"several audiences, no azp": with(func(c map[string]any) { c["aud"] = []string{"twinid", "other-client"} }),
			"azp of another client":     with(func(c map[string]any) { c["azp"] = "other-client" }),
			// Items 2, 3 and 11.
			"another issuer":   with(func(c map[string]any) { c["iss"] = "https://idp.example.com" }),
			"another audience": with(func(c map[string]any) { c["aud"] = "other-client" }),
			"another nonce":    with(func(c map[string]any) { c["nonce"] = "replayed" }),
			"no sub":           with(func(c map[string]any) { delete(c, "sub") }),
		}
		for name, claims := range refused {
			r := login(claims)
			if r.status != 502 || r.json(t)["error"] != "server_error" ||
				r.json(t)["error_description"] != "the identity provider's ID token could not be verified" {
				t.Errorf("%s: %d %s", name, r.status, r.body)
			}
		}
		if n := e.countRows("customers"); n != before {
			t.Fatalf("refused ID tokens created %d customers", n-before)
		}
		// Several audiences are fine when the token names twinid as its authorized party.
		ok := must(t, login(with(func(c map[string]any) { c["aud"], c["azp"] = []string{"other-client", "twinid"}, "twinid" })), 200)
		if ui := ok["user_info"].(map[string]any); ui["authority"] != idp.URL || ui["value"].(map[string]any)["sub"] != "fake-subject" {
			t.Fatalf("user_info: %v", ui)
		}
		if n := e.countRows("customers"); n != before+1 {
			t.Fatalf("the accepted login created %d customers", n-before)
		}
	})
}
