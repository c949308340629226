package server_test

import (
	"strings"
	"testing"
)

// A provider's discovery document must name as its issuer the authority the grant
// configures (OpenID Connect Discovery §4.3), else whoever serves the document could speak
// for another provider's issuer. The authority may carry a trailing slash or be the URL of
// the document itself (§4.1 forms it from the issuer without the slash). A lying document
// is refused before anything is redirected to or fetched from the provider: the start of
// the login is the 502 page of a provider that cannot be reached, its end the 503.
func TestUpstreamDiscoveryIssuerMustBeTheAuthority(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		honest := newFakeIDP(t)
		u := e.newUpstreamShop(t, honest.URL+"/")
		for _, authority := range []string{honest.URL + "/", honest.URL + "/.well-known/openid-configuration", honest.URL} {
			u.setAuthority(authority)
			if r := u.start(newBrowser(t)); r.status != 303 {
				t.Fatalf("authority %s: %d %s", authority, r.status, r.body)
			}
		}

		// liar claims the honest provider's issuer; other names an issuer under its own host
		// but not the authority's path.
		liar, other := newFakeIDP(t), newFakeIDP(t)
		liar.setIssuer(honest.URL)
		other.setIssuer(other.URL + "/tenant")
		for _, idp := range []*fakeIDP{liar, other} {
			b := newBrowser(t)
			u.setAuthority(honest.URL)
			r := u.start(b) // a login started at the honest provider
			if r.status != 303 {
				t.Fatalf("start: %d %s", r.status, r.body)
			}
			honest.sawAuthorize(r.header.Get("Location"))

			u.setAuthority(idp.URL)
			if r := u.start(newBrowser(t)); r.status != 502 || r.header.Get("Location") != "" ||
				!strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
				t.Errorf("start at %s (issuer %s): %d %v", idp.URL, idp.Issuer(), r.status, r.header)
			}
			if r := u.finish(b); r.status != 503 || r.json(t)["error"] != "temporarily_unavailable" {
				t.Errorf("finish at %s (issuer %s): %d %s", idp.URL, idp.Issuer(), r.status, r.body)
			}
			if n, k := idp.tokens.Load(), idp.jwks.Load(); n != 0 || k != 0 {
				t.Errorf("%s: %d token requests, %d JWKS requests to a provider whose discovery lied", idp.URL, n, k)
			}
		}
	})
}
