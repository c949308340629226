package server_test

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/twinid/twinid/server"
)

// A person added after the first start (twinid admin add-person) signs in to Swagger UI as
// the bootstrap person does, and manages every account.
func TestAddPersonAfterFirstStart(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		if _, err := e.srv.AddPerson(ctx, "ops@example.com", "", "short"); err == nil {
			t.Fatal("a weak password was accepted")
		}
		if _, err := e.srv.AddPerson(ctx, "ops@example.com", "Ops", "a long ops passphrase"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.srv.AddPerson(ctx, "ops@example.com", "", "another long passphrase"); !errors.Is(err, server.ErrPersonExists) {
			t.Fatalf("added twice: %v", err)
		}
		tok := e.swaggerUIToken("ops@example.com", "a long ops passphrase")
		must(t, e.do("POST", "/v1/accounts", tok, map[string]any{"aid": "by-ops", "name": "By ops"}), 201)
	})
}

// swaggerUIToken signs a person in as Swagger UI's Authorize does (code + PKCE with the
// swagger-ui client, twinid's login page) and returns the management access token.
func (e *env) swaggerUIToken(email, password string) string {
	t := e.t
	t.Helper()
	ctx := checkedContext(t)
	provider, err := oidc.NewProvider(ctx, e.url+"/v1/accounts/root")
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: server.SwaggerUIClientID, Endpoint: provider.Endpoint(),
		RedirectURL: e.url + "/swagger/oauth2-redirect.html", Scopes: []string{"api://management/.default"}}
	verifier := oauth2.GenerateVerifier()
	b := newBrowser(t)
	back := b.submitLogin(b.get(conf.AuthCodeURL("sw", oauth2.S256ChallengeOption(verifier))), email, password)
	loc, _ := url.Parse(back.header.Get("Location"))
	if back.status != 303 || loc.Query().Get("code") == "" {
		t.Fatalf("login: %d %s", back.status, back.body)
	}
	tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}
