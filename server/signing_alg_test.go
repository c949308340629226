package server_test

import (
	"net/url"
	"slices"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
)

// A new account signs access tokens with ES256 unless told otherwise, stores that, and says
// so in discovery beside the RS256 of its ID tokens; its tokens verify with jwx and go-oidc.
func TestNewAccountsSignES256(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		tn := e.newTenant(admin, "acme", nil)
		acct := must(t, e.do("GET", "/v1/accounts/acme", admin, nil), 200)
		if alg := acct["settings"].(map[string]any)["signingAlg"]; alg != "ES256" {
			t.Fatalf("a new account's signingAlg: %v", alg)
		}
		stored, err := e.st.Accounts().Get(t.Context(), "acme")
		if err != nil || stored.Settings.SigningAlg != "ES256" {
			t.Fatalf("stored signingAlg %q (%v): a later default would switch the account", stored.Settings.SigningAlg, err)
		}
		disc := must(t, e.do("GET", "/v1/accounts/acme/.well-known/openid-configuration", "", nil), 200)
		if !slices.Equal(strs(disc["id_token_signing_alg_values_supported"]), []string{"RS256"}) ||
			!slices.Equal(strs(disc["access_token_signing_alg_values_supported"]), []string{"ES256"}) {
			t.Fatalf("discovery: id tokens %v, access tokens %v", disc["id_token_signing_alg_values_supported"],
				disc["access_token_signing_alg_values_supported"])
		}
		tok := must(t, e.form("/v1/accounts/acme/auth/token", tn.clientID, tn.secret,
			url.Values{"grant_type": {"client_credentials"}}), 200)["access_token"].(string)
		if h := jwtHeader(t, tok); h["alg"] != "ES256" || h["typ"] != "at+jwt" {
			t.Fatalf("access token header %v", h)
		}
		e.verify(t, "acme", tok)
		ctx := checkedContext(t)
		provider, err := oidc.NewProvider(ctx, e.url+"/v1/accounts/acme")
		if err != nil {
			t.Fatal(err)
		}
		v := provider.Verifier(&oidc.Config{SkipClientIDCheck: true, SupportedSigningAlgs: []string{"ES256"}})
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatalf("go-oidc rejects the access token: %v", err)
		}

		// RS256 remains a setting.
		rs := e.newTenant(admin, "legacy-shop", map[string]any{"signingAlg": "RS256"})
		tok = must(t, e.form("/v1/accounts/legacy-shop/auth/token", rs.clientID, rs.secret,
			url.Values{"grant_type": {"client_credentials"}}), 200)["access_token"].(string)
		if h := jwtHeader(t, tok); h["alg"] != "RS256" {
			t.Fatalf("RS256 account's access token header %v", h)
		}
	})
}

// An account from before ES256 was the default stores no signingAlg: it keeps RS256,
// through rotations too, until an admin sets it.
func TestAccountsWithoutStoredAlgKeepRS256(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		tn := e.newTenant(admin, "old", map[string]any{"signingAlg": "RS256"})
		// Make it as such an account was stored: no signingAlg, one RS256 key.
		acct, err := e.st.Accounts().Get(t.Context(), "old")
		if err != nil {
			t.Fatal(err)
		}
		acct.Settings.SigningAlg = ""
		if err := e.st.Accounts().Update(t.Context(), acct); err != nil {
			t.Fatal(err)
		}
		must(t, e.do("PATCH", "/v1/accounts/old", admin, map[string]any{"name": "Old shop"}), 200) // drops the cached copy
		got := must(t, e.do("GET", "/v1/accounts/old", admin, nil), 200)
		if alg := got["settings"].(map[string]any)["signingAlg"]; alg != "RS256" {
			t.Fatalf("signingAlg of an account that stores none: %v", alg)
		}
		next := must(t, e.do("POST", "/v1/accounts/old/signing-keys/rotate", admin, map[string]any{"activateAfter": 0}), 201)
		if next["alg"] != "RS256" {
			t.Fatalf("rotation of an account that stores no signingAlg made %v", next["alg"])
		}
		tok := must(t, e.form("/v1/accounts/old/auth/token", tn.clientID, tn.secret,
			url.Values{"grant_type": {"client_credentials"}}), 200)["access_token"].(string)
		if h := jwtHeader(t, tok); h["alg"] != "RS256" || h["kid"] != next["kid"] {
			t.Fatalf("access token header %v, want RS256 from %v", h, next["kid"])
		}
		disc := must(t, e.do("GET", "/v1/accounts/old/.well-known/openid-configuration", "", nil), 200)
		if !slices.Equal(strs(disc["access_token_signing_alg_values_supported"]), []string{"RS256"}) {
			t.Fatalf("discovery: access tokens %v", disc["access_token_signing_alg_values_supported"])
		}
	})
}
