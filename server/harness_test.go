package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/twinid/twinid/server"
	"github.com/twinid/twinid/server/mail"
	"github.com/twinid/twinid/server/mail/mailtest"
	"github.com/twinid/twinid/server/passwords"
	"github.com/twinid/twinid/store"
	"github.com/twinid/twinid/store/storetest"
)

// pg is the Postgres database of this test run (the store's conformance suite makes it the
// same way); pgURL is its URL, empty without TWINID_TEST_POSTGRES_URL.
var (
	pg    *storetest.Postgres
	pgURL string
)

func TestMain(m *testing.M) {
	var err error
	if pg, err = storetest.NewPostgres("twinid_test_"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if pg == nil {
		fmt.Fprintln(os.Stderr, "TWINID_TEST_POSTGRES_URL not set: skipping the Postgres half of the tests")
	} else {
		pgURL = pg.URL
	}
	code := m.Run()
	if pg != nil {
		pg.Close()
	}
	os.Exit(code)
}

// env is one running twinid on loopback HTTP.
type env struct {
	t        *testing.T
	srv      *server.Server
	st       *store.Store
	http     *httptest.Server
	url      string
	adminID  string
	adminSec string
	logs     *syncBuffer
	mk       []byte
	smtp     *mailtest.Server
}

// testPasswordParams keep argon2id cheap in tests; the benchmark measures the real cost.
var testPasswordParams = passwords.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// secondNode starts another twinid node on the same database and master key.
func (e *env) secondNode(redisURL string) *env {
	return e.nodeWith(func(c *server.Config) { c.RedisURL = redisURL })
}

// nodeWith starts another node on the same database and master key, with its configuration
// changed by edit.
func (e *env) nodeWith(edit func(*server.Config)) *env {
	e.t.Helper()
	hs := httptest.NewServer(nil)
	e.t.Cleanup(hs.Close)
	cfg := server.Config{PublicURL: e.url, MasterKey: e.mk, PasswordParams: &testPasswordParams}
	edit(&cfg)
	srv, err := server.New(cfg, e.st)
	if err != nil {
		e.t.Fatal(err)
	}
	hs.Config.Handler = srv.Handler()
	n := *e
	n.srv, n.http, n.url = srv, hs, hs.URL
	return &n
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// forEachDB runs f against SQLite (a real file) and, when available, Postgres.
func forEachDB(t *testing.T, f func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) { f(t, newEnv(t, "")) })
	t.Run("postgres", func(t *testing.T) {
		if pgURL == "" {
			t.Skip("no Postgres (TWINID_TEST_POSTGRES_URL)")
		}
		f(t, newEnv(t, pgURL))
	})
}

func newEnv(t *testing.T, dbURL string) *env { return newEnvWith(t, dbURL, "") }

// forEachDBBoot is forEachDB with bootstrap options for the first start.
func forEachDBBoot(t *testing.T, boot server.BootstrapOptions, f func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) { f(t, newEnvBoot(t, "", "", boot)) })
	t.Run("postgres", func(t *testing.T) {
		if pgURL == "" {
			t.Skip("no Postgres (TWINID_TEST_POSTGRES_URL)")
		}
		f(t, newEnvBoot(t, pgURL, "", boot))
	})
}

func newEnvWith(t *testing.T, dbURL, redisURL string) *env {
	t.Helper()
	return newEnvBoot(t, dbURL, redisURL, server.BootstrapOptions{})
}

// newEnvBoot starts a twinid whose first start used these bootstrap options.
func newEnvBoot(t *testing.T, dbURL, redisURL string, boot server.BootstrapOptions) *env {
	t.Helper()
	ctx := context.Background()
	if dbURL != "" {
		// One schema per env inside the run's database keeps tests independent.
		var err error
		if dbURL, err = pg.Schema(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return startEnv(t, dbURL, redisURL, boot)
}

// startEnv starts a twinid on the database at dbURL as it is (empty: a fresh SQLite).
func startEnv(t *testing.T, dbURL, redisURL string, boot server.BootstrapOptions) *env {
	t.Helper()
	return startEnvLogged(t, dbURL, redisURL, boot, nil, nil)
}

// startEnvLogged is startEnv with the server's logger (nil logs everything, debug, into
// e.logs for the test to read) and password parameters (nil: testPasswordParams).
func startEnvLogged(t *testing.T, dbURL, redisURL string, boot server.BootstrapOptions, logger *slog.Logger, pw *passwords.Params) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DatabaseURL: dbURL, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	e := &env{t: t, st: st, logs: logs}
	if logger == nil {
		logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if pw == nil {
		pw = &testPasswordParams
	}
	hs := httptest.NewUnstartedServer(nil)
	hs.Start()
	t.Cleanup(hs.Close)
	e.url = hs.URL
	mk := make([]byte, 32)
	_, _ = rand.Read(mk)
	e.mk = mk
	e.smtp = mailtest.Start(t)
	mailer, err := mail.New(mail.Config{URL: e.smtp.URL()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.srv, err = server.New(server.Config{
		PublicURL: hs.URL, MasterKey: mk, RedisURL: redisURL, Mailer: mailer, PasswordParams: pw,
		Logger: logger,
	}, st)
	if err == nil {
		t.Cleanup(e.srv.Close)
	}
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = e.srv.Handler()
	e.http = hs
	booted, err := e.srv.EnsureBootstrap(ctx, boot)
	if err != nil {
		t.Fatal(err)
	}
	e.adminID, e.adminSec = booted.ClientID, booted.ClientSecret
	t.Cleanup(func() {
		// Whatever a test did, no secret may have reached the logs.
		if e.adminSec != "" && strings.Contains(logs.String(), e.adminSec) {
			t.Errorf("the admin secret appears in the logs")
		}
	})
	return e
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// resp is a decoded HTTP answer.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

func (e *env) do(method, path, token string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	default:
		raw, _ := json.Marshal(b)
		rd, ct = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.send(req)
}

// send does one request; its answer (and every redirect on the way) is checked against the
// OpenAPI document.
func (e *env) send(req *http.Request) resp {
	e.t.Helper()
	res, err := checkedClient(e.t).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// form posts an urlencoded token request, with Basic credentials when id is not empty.
func (e *env) form(path, id, secret string, v url.Values) resp {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	return e.send(req)
}

func (e *env) adminToken() string {
	e.t.Helper()
	r := e.form("/v1/accounts/root/auth/token", e.adminID, e.adminSec,
		url.Values{"grant_type": {"client_credentials"}, "scope": {"api://management/.default"}})
	if r.status != 200 {
		e.t.Fatalf("admin token: %d %s", r.status, r.body)
	}
	return r.json(e.t)["access_token"].(string)
}

func must(t *testing.T, r resp, status int) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("want %d, got %d: %s", status, r.status, r.body)
	}
	if len(r.body) == 0 {
		return nil
	}
	return r.json(t)
}

// tenant sets up an account with one scope, a service account holding it, and a secret.
type tenant struct {
	aid, scope, audience, saID, clientID, secret, secretID string
}

func (e *env) newTenant(admin, aid string, settings map[string]any) tenant {
	e.t.Helper()
	body := map[string]any{"aid": aid, "name": "Tenant " + aid}
	if settings != nil {
		body["settings"] = settings
	}
	must(e.t, e.do("POST", "/v1/accounts", admin, body), 201)
	tn := tenant{aid: aid, audience: "api://" + aid, scope: "api://" + aid + "/.default"}
	must(e.t, e.do("POST", "/v1/accounts/"+aid+"/scopes", admin, map[string]any{
		"serviceName": "Svc-" + aid, "audience": tn.audience, "scope": tn.scope}), 201)
	sa := must(e.t, e.do("POST", "/v1/accounts/"+aid+"/service-accounts", admin, map[string]any{
		"name": "worker", "scopes": []string{tn.scope}}), 201)
	tn.saID, tn.clientID = sa["id"].(string), sa["clientId"].(string)
	sec := must(e.t, e.do("POST", "/v1/accounts/"+aid+"/service-accounts/"+tn.saID+"/secrets", admin, map[string]any{}), 201)
	tn.secret, tn.secretID = sec["secret"].(string), sec["id"].(string)
	return tn
}
