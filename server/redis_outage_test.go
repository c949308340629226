package server_test

import (
	"fmt"
	"net"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// privateRedis is a redis-server of this test alone, so it can be killed and restarted
// without touching the machine's shared one.
type privateRedis struct {
	t    *testing.T
	port int
	dir  string
	cmd  *exec.Cmd
}

func startPrivateRedis(t *testing.T) *privateRedis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("no redis-server binary")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	r := &privateRedis{t: t, port: port, dir: t.TempDir()}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *privateRedis) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

func (r *privateRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir, "--daemonize", "no")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	for range 100 { // up to 5 s for it to listen
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", r.port), 100*time.Millisecond); err == nil {
			_ = c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatal("private redis-server did not start listening")
}

func (r *privateRedis) stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

// When Redis goes away, client_credentials keeps issuing tokens, still limited (this
// node's memory bucket, same rate and burst), quickly, and the outage is logged once, not
// per request; when Redis is back, the shared buckets are used again.
func TestRedisOutageFallsBackToMemory(t *testing.T) {
	t.Parallel()
	rd := startPrivateRedis(t)
	e := newEnvWith(t, "", rd.url())
	admin := e.adminToken()
	tn := e.newTenant(admin, "out-"+randHex(4), map[string]any{"tokenRateLimit": map[string]any{"perMinute": 1, "burst": 3}})
	path := "/v1/accounts/" + tn.aid + "/auth/token"
	cc := url.Values{"grant_type": {"client_credentials"}}
	token := func() resp {
		t.Helper()
		start := time.Now()
		r := e.form(path, tn.clientID, tn.secret, cc)
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Fatalf("a token request took %v", d)
		}
		return r
	}
	must(t, token(), 200)

	rd.stop()
	// The Redis bucket had one token taken; the memory bucket starts full: a burst of 3
	// passes, the 4th is over it.
	for i := range 3 {
		if r := token(); r.status != 200 {
			t.Fatalf("token %d with Redis down: %d %s", i+1, r.status, r.body)
		}
	}
	if r := token(); r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("4th token within a burst of 3, Redis down: %d %s", r.status, r.body)
	}
	for range 5 {
		if r := token(); r.status != 429 {
			t.Fatalf("over the burst with Redis down: %d", r.status)
		}
	}
	if n := strings.Count(e.logs.String(), "Redis unavailable"); n != 1 {
		t.Fatalf("the outage was logged %d times, want once:\n%s", n, e.logs.String())
	}
	if strings.Contains(e.logs.String(), "rate limiter unavailable") {
		t.Fatal("requests failed open instead of falling back")
	}

	rd.start()
	// A fresh Redis holds a full bucket for the client: within a probe interval the node
	// notices and issues from it again.
	var back bool
	for range 40 {
		time.Sleep(100 * time.Millisecond)
		if token().status == 200 {
			back = true
			break
		}
	}
	if !back {
		t.Fatal("no token from the restarted Redis's bucket")
	}
	if n := strings.Count(e.logs.String(), "Redis answers again"); n != 1 {
		t.Fatalf("the recovery was logged %d times, want once", n)
	}
	for range 2 {
		must(t, token(), 200)
	}
	if r := token(); r.status != 429 {
		t.Fatalf("4th token from the restarted Redis's bucket of 3: %d", r.status)
	}
}
