package server_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twinid/twinid/server"
)

// privatePostgres is a Postgres cluster of one test, which it may stop and start: the run's
// shared server must never be stopped.
type privatePostgres struct {
	t        *testing.T
	bin, dir string
	port     int
	asUser   string // the OS user that runs the server binaries ("" = this process's)
}

// pgBinDirs are where the Postgres server binaries are looked for, after PATH.
var pgBinDirs = []string{"/usr/lib/postgresql/15/bin", "/usr/local/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"}

func findPgBin() string {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p)
		}
	}
	for _, d := range pgBinDirs {
		_, e1 := os.Stat(filepath.Join(d, "initdb"))
		_, e2 := os.Stat(filepath.Join(d, "pg_ctl"))
		if e1 == nil && e2 == nil {
			return d
		}
	}
	return ""
}

// startPrivatePostgres initdb's a cluster in a temporary directory and starts it on a free
// loopback port. Without the binaries it skips, except under CI, where it must run.
func startPrivatePostgres(t *testing.T) *privatePostgres {
	t.Helper()
	bin := findPgBin()
	if bin == "" {
		if os.Getenv("CI") == "" {
			t.Skip("initdb and pg_ctl not found")
		}
		t.Fatal("initdb and pg_ctl not found, and CI is set: the outage test must run")
	}
	p := &privatePostgres{t: t, bin: bin}
	// The server refuses to run as root; the postgres OS user runs it then. MkdirTemp, not
	// t.TempDir: the test's temp parent is 0700 root, closed to that user.
	dir, err := os.MkdirTemp("", "twinid-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	p.dir = dir
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal("running as root needs the postgres OS user: ", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		p.asUser = "postgres"
	}
	p.port = freePort(t)
	p.run("initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres", "-A", "trust", "--no-sync", "--no-instructions")
	t.Cleanup(func() {
		// Immediate: nothing to keep, and a fast shutdown could wait on open connections.
		_ = p.cmd("pg_ctl", "-D", filepath.Join(p.dir, "data"), "-m", "immediate", "-w", "stop").Run()
	})
	p.start()
	return p
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (p *privatePostgres) cmd(name string, args ...string) *exec.Cmd {
	path := filepath.Join(p.bin, name)
	if p.asUser != "" {
		return exec.Command("runuser", append([]string{"-u", p.asUser, "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

func (p *privatePostgres) run(name string, args ...string) {
	p.t.Helper()
	if out, err := p.cmd(name, args...).CombinedOutput(); err != nil {
		p.t.Fatalf("%s: %v: %s", name, err, out)
	}
}

func (p *privatePostgres) start() {
	p.t.Helper()
	p.run("pg_ctl", "-D", filepath.Join(p.dir, "data"), "-l", filepath.Join(p.dir, "log"), "-w", "-t", "30",
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", p.port, p.dir), "start")
}

// kill stops the server at once, as a crash would: clients see their connections die.
func (p *privatePostgres) kill() {
	p.t.Helper()
	p.run("pg_ctl", "-D", filepath.Join(p.dir, "data"), "-m", "immediate", "-w", "stop")
}

func (p *privatePostgres) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
}

// TestDatabaseOutage stops the database under a running twinid: every dialect answers a
// prompt 503 with Retry-After and a body that names nothing of the database, and twinid
// recovers by itself once the database is back.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	pgp := startPrivatePostgres(t)
	e := startEnv(t, pgp.url(), "", server.BootstrapOptions{})
	admin := e.adminToken()
	// A node that trusts no cache verifies the token against signing keys it loads per
	// request: the outage then strikes inside authentication, under the validator.
	cold := e.nodeWith(func(c *server.Config) { c.CacheTTL = time.Nanosecond })

	// Each request names what the caches cannot hold yet (a fresh account or client id),
	// so it reaches the database; the admin's own token is verified without a query.
	// Every answer, the 503s included, is checked against the document.
	client := checkedClient(t)
	client.Timeout = 30 * time.Second
	type answer struct {
		status int
		header http.Header
		body   string
		took   time.Duration
	}
	send := func(req *http.Request) answer {
		t.Helper()
		start := time.Now()
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return answer{res.StatusCode, res.Header, string(b), time.Since(start)}
	}
	requests := map[string]func() *http.Request{
		"management GET": func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, e.url+"/v1/accounts/a"+randHex(4), nil)
			req.Header.Set("Authorization", "Bearer "+admin)
			return req
		},
		"management GET, keys loaded in authentication": func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, cold.url+"/v1/accounts", nil)
			req.Header.Set("Authorization", "Bearer "+admin)
			return req
		},
		"token POST": func() *http.Request {
			v := url.Values{"grant_type": {"client_credentials"}, "scope": {"api://management/.default"}}
			req, _ := http.NewRequest(http.MethodPost, e.url+"/v1/accounts/root/auth/token", strings.NewReader(v.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("c"+randHex(8), randHex(16))
			return req
		},
		"page GET": func() *http.Request {
			q := url.Values{"response_type": {"code"}, "client_id": {"c" + randHex(8)},
				"redirect_uri": {"https://app.example/cb"}, "scope": {"openid"}, "state": {"s"},
				"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}
			req, _ := http.NewRequest(http.MethodGet, e.url+"/v1/accounts/a"+randHex(4)+"/auth/authorize?"+q.Encode(), nil)
			return req
		},
	}

	// Before the outage none of them is a 5xx.
	for name, mk := range requests {
		if a := send(mk()); a.status >= 500 {
			t.Fatalf("%s before the outage: %d %s", name, a.status, a.body)
		}
	}

	pgp.kill()
	leaks := []string{strconv.Itoa(pgp.port), "127.0.0.1", "postgres", "SQLSTATE", "dial", "connect"}
	for name, mk := range requests {
		a := send(mk())
		if a.status != http.StatusServiceUnavailable {
			t.Errorf("%s during the outage: want 503, got %d: %s", name, a.status, a.body)
		}
		if ra, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || ra < 1 {
			t.Errorf("%s during the outage: Retry-After %q, want whole seconds", name, a.header.Get("Retry-After"))
		}
		if a.took > 7*time.Second {
			t.Errorf("%s during the outage took %s", name, a.took)
		}
		for _, l := range leaks {
			if strings.Contains(strings.ToLower(a.body), strings.ToLower(l)) {
				t.Errorf("%s during the outage: the body carries %q: %s", name, l, a.body)
			}
		}
		switch name {
		case "management GET", "management GET, keys loaded in authentication":
			if !strings.Contains(a.body, `"unavailable"`) {
				t.Errorf("%s: want problem code unavailable: %s", name, a.body)
			}
		case "token POST":
			if !strings.Contains(a.body, `"temporarily_unavailable"`) {
				t.Errorf("%s: want temporarily_unavailable: %s", name, a.body)
			}
		case "page GET":
			if !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") {
				t.Errorf("%s: want the error page, got %q", name, a.header.Get("Content-Type"))
			}
		}
	}

	pgp.start()
	deadline := time.Now().Add(5 * time.Second)
	for name, mk := range requests {
		for {
			a := send(mk())
			if a.status < 500 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s after the database came back: still %d %s", name, a.status, a.body)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if a := send(requests["management GET"]()); a.status != http.StatusNotFound {
		t.Errorf("management GET of an unknown account after recovery: want 404, got %d %s", a.status, a.body)
	}
}

// TestSlowDatabaseAnswers503: a statement that waits past the store's deadline (here on a
// table another session holds locked) ends as a 503 with Retry-After, not a request that
// hangs as long as the lock does.
func TestSlowDatabaseAnswers503(t *testing.T) {
	t.Parallel()
	if pgURL == "" {
		t.Skip("no Postgres (TWINID_TEST_POSTGRES_URL)")
	}
	e := newEnv(t, pgURL)
	admin := e.adminToken()
	sqlDB, err := e.st.DB().DB()
	if err != nil {
		t.Fatal(err)
	}
	tx, err := sqlDB.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(t.Context(), "LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	// A client deadline of its own: without the store's, the request would wait for the lock.
	client := checkedClient(t)
	client.Timeout = 15 * time.Second
	req, _ := http.NewRequest(http.MethodGet, e.url+"/v1/accounts", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	start := time.Now()
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("no answer while the table is locked: %v", err)
	}
	_ = res.Body.Close()
	took := time.Since(start)
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Fatalf("want 503 with Retry-After, got %d %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if took > 7*time.Second {
		t.Errorf("the answer took %s; the deadline is 5s", took)
	}
	_ = tx.Rollback()
	must(t, e.do("GET", "/v1/accounts", admin, nil), http.StatusOK)
}
