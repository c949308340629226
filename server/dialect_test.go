package server

import (
	"testing"

	"github.com/twinid/twinid/gen"
)

// The dialect table comes from the document; these are the answers clients rely on.
func TestDialectsFromTheDocument(t *testing.T) {
	t.Parallel()
	spec, err := gen.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	ds, err := dialectsOf(spec)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]dialect{
		"/v1/accounts/acme/auth/token":                       oauthDialect,
		"/v1/accounts/acme/auth/revoke":                      oauthDialect,
		"/v1/accounts/acme/auth/introspect":                  oauthDialect,
		"/v1/accounts/acme/customers/login":                  oauthDialect,
		"/v1/accounts/acme/customers/change_password":        oauthDialect,
		"/v1/accounts/acme/userinfo":                         oauthDialect,
		"/v1/accounts/acme/auth/oidc/token":                  oauthDialect,
		"/v1/accounts//auth/token":                           oauthDialect, // an empty account id still speaks OAuth
		"/v1/accounts/acme/auth/authorize":                   pageDialect,
		"/v1/accounts/acme/auth/login":                       pageDialect,
		"/v1/accounts/acme/auth/logout":                      pageDialect,
		"/v1/accounts/acme/auth/forgot-password":             pageDialect,
		"/v1/accounts/acme/auth/reset-password":              pageDialect,
		"/v1/accounts/acme/auth/accept-invitation":           pageDialect,
		"/v1/accounts/acme/auth/oidc/authorize":              pageDialect,
		"/v1/accounts/acme":                                  problemDialect,
		"/v1/accounts/acme/scopes/s1":                        problemDialect,
		"/v1/accounts/acme/customers/users/c1/password":      problemDialect,
		"/v1/accounts/acme/.well-known/openid-configuration": problemDialect,
		"/v1/accounts/acme/signing-keys/rotate":              problemDialect,
		"/v1/accounts/acme/auth/token/extra":                 problemDialect,
		"/v1/accounts/a/b/auth/token":                        problemDialect,
		"/v1/nothing":                                        problemDialect,
		"/healthz":                                           problemDialect,
		"/":                                                  problemDialect,
	}
	for path, want := range cases {
		if got := ds.of(path); got != want {
			t.Errorf("%s: dialect %d, want %d", path, got, want)
		}
	}
	// Every body parameter of the RFC 6749 endpoints has its limit.
	for _, p := range []string{"grant_type", "client_id", "client_secret", "scope", "audience", "refresh_token",
		"username", "password", "code", "code_verifier", "redirect_uri", "token", "email", "ident", "ident_type"} {
		if ds.paramLimits[p] <= 0 {
			t.Errorf("no length limit for %s", p)
		}
	}
}
