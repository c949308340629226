package twinidclient_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	twinidclient "github.com/twinid/twinid/clients/go"
	"github.com/twinid/twinid/clients/go/twinid"
)

// instance is a freshly built twinid on a free loopback port, with a bootstrap admin.
type instance struct {
	url, adminID, adminSecret string
}

// start builds twinid from this repository and runs it on SQLite in a temporary directory
// until the test ends.
func start(t *testing.T) instance {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "twinid")
	build := exec.Command("go", "build", "-o", bin, "./cmd/twinid")
	build.Dir = filepath.Join("..", "..")
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	in := instance{url: "http://" + addr, adminID: "go-admin", adminSecret: "twid_" + rand.Text() + rand.Text()}
	cmd := exec.Command(bin, "serve")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TWINID_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "TWINID_LISTEN="+addr, "TWINID_PUBLIC_URL="+in.url, "TWINID_DATA_DIR="+filepath.Join(dir, "data"),
		"TWINID_BOOTSTRAP_CLIENT_ID="+in.adminID, "TWINID_BOOTSTRAP_CLIENT_SECRET="+in.adminSecret,
		"TWINID_LOG_LEVEL=warn", "TWINID_SHUTDOWN_DRAIN=0s")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	for deadline := time.Now().Add(30 * time.Second); ; {
		if res, err := http.Get(in.url + "/readyz"); err == nil {
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return in
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("twinid not ready after 30 s:\n%s", log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// token asks aid's token endpoint for a client_credentials token.
func token(t *testing.T, base, aid, id, secret, scope string) twinid.CreateTokenRes {
	t.Helper()
	c, err := twinidclient.New(base, twinidclient.Credentials{ClientID: id, ClientSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.CreateToken(context.Background(), &twinid.CreateTokenApplicationXWwwFormUrlencoded{
		GrantType: twinid.NewOptString("client_credentials"), Scope: twinid.NewOptString(scope),
	}, twinid.CreateTokenParams{Aid: aid})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// as checks that an operation answered a *T (the status the test expects):
// as[twinid.Account](t)(api.GetAccount(...)).
func as[T any](t *testing.T) func(res any, err error) *T {
	return func(res any, err error) *T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		v, ok := res.(*T)
		if !ok {
			t.Fatalf("answer %T %+v, want %T", res, res, v)
		}
		return v
	}
}

// The README's service-account flow through the generated Go client: an admin token, an
// account, a scope, a service account and its secret, then a token with that secret.
func TestServiceAccountFlow(t *testing.T) {
	t.Parallel()
	in := start(t)
	ctx := context.Background()

	stranger, err := twinidclient.New(in.url, twinidclient.Credentials{AccessToken: "not-a-token"})
	if err != nil {
		t.Fatal(err)
	}
	refused := as[twinid.UnauthorizedHeaders](t)(stranger.ListAccounts(ctx, twinid.ListAccountsParams{}))
	if refused.Response.Status != 401 || refused.Response.Code.Or("") != "invalid_token" {
		t.Fatalf("a bad token: %+v", refused.Response)
	}

	adminTok := as[twinid.TokenResponseHeaders](t)(token(t, in.url, "root", in.adminID, in.adminSecret, "api://management/.default"), nil)
	api, err := twinidclient.New(in.url, twinidclient.Credentials{AccessToken: adminTok.Response.AccessToken})
	if err != nil {
		t.Fatal(err)
	}

	acct := as[twinid.AccountHeaders](t)(api.CreateAccount(ctx, &twinid.AccountCreate{Aid: twinid.NewOptString("go-tenant"), Name: "Go"}))
	if acct.Response.Aid != "go-tenant" {
		t.Fatalf("account %+v", acct.Response)
	}
	aid := "go-tenant"
	as[twinid.ScopeHeaders](t)(api.CreateScope(ctx, &twinid.ScopeCreate{ServiceName: "Go", Audience: "api://go", Scope: "api://go/.default"},
		twinid.CreateScopeParams{Aid: aid}))
	sa := as[twinid.ServiceAccountHeaders](t)(api.CreateServiceAccount(ctx, &twinid.ServiceAccountCreate{Name: "go-worker", Scopes: []string{"api://go/.default"}},
		twinid.CreateServiceAccountParams{Aid: aid})).Response
	if sa.GrantType != "client_credentials" || !strings.HasSuffix(sa.TokenUri, "/v1/accounts/go-tenant/auth/token") || sa.Scopes[0].ServiceName != "Go" {
		t.Fatalf("service account %+v", sa)
	}
	sec := as[twinid.SecretWithValueHeaders](t)(api.CreateServiceAccountSecret(ctx, twinid.OptSecretCreate{},
		twinid.CreateServiceAccountSecretParams{Aid: aid, ServiceAccountId: sa.ID})).Response
	if !strings.HasPrefix(sec.Secret, "twid_") {
		t.Fatalf("secret %+v", sec)
	}
	list := as[twinid.ServiceAccountList](t)(api.ListServiceAccounts(ctx, twinid.ListServiceAccountsParams{Aid: aid}))
	if len(list.Items) != 1 || list.Items[0].ClientId != sa.ClientId {
		t.Fatalf("list %+v", list)
	}

	tok := as[twinid.TokenResponseHeaders](t)(token(t, in.url, aid, sa.ClientId, sec.Secret, "api://go/.default"), nil).Response
	if tok.TokenType != "Bearer" || tok.Scope != "api://go/.default" || tok.AccessToken == "" {
		t.Fatalf("token %+v", tok)
	}
	bad := as[twinid.OAuthUnauthorizedHeaders](t)(token(t, in.url, aid, sa.ClientId, sec.Secret+"x", "api://go/.default"), nil)
	if bad.Response.Error != "invalid_client" {
		t.Fatalf("wrong secret: %+v", bad.Response)
	}

	// The seeds' snake_case alias client_id still works through the renamed Go field.
	app := as[twinid.OAuthClientHeaders](t)(api.CreateClient(ctx, &twinid.OAuthClientCreate{Name: "login", Type: "confidential"},
		twinid.CreateClientParams{Aid: aid})).Response
	g := as[twinid.GrantHeaders](t)(api.CreateGrant(ctx, &twinid.GrantCreate{ClientIdAlias: twinid.NewOptString(app.ClientId),
		Audience: "api://go", Type: "client_credentials", Scopes: []twinid.ScopeToken{"api://go/.default"}},
		twinid.CreateGrantParams{Aid: aid})).Response
	if g.ClientId != app.ClientId {
		t.Fatalf("grant %+v", g)
	}
}
