package server_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twinid/twinid/server"
)

// slowLink is a TCP proxy on loopback in front of a database that holds every answer of the
// database for a delay it can change at any time: a database slower per answer, as a
// loaded or distant one is, without touching the database itself.
type slowLink struct {
	addr  string
	delay atomic.Int64 // nanoseconds
}

func startSlowLink(t *testing.T, target string) *slowLink {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &slowLink{addr: l.Addr().String()}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	keep := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	go func() {
		for {
			down, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				_ = down.Close()
				continue
			}
			keep(down)
			keep(up)
			go func() {
				_, _ = io.Copy(up, down)
				_ = up.Close()
			}()
			go func() {
				defer down.Close()
				buf := make([]byte, 32<<10)
				for {
					n, err := up.Read(buf)
					if n > 0 {
						time.Sleep(time.Duration(s.delay.Load()))
						if _, werr := down.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return s
}

func (s *slowLink) setDelay(d time.Duration) { s.delay.Store(int64(d)) }

// TestRequestDeadline: a database that answers every statement within the store's
// per-statement bound (5 s), but slowly, cannot hold a request that runs many statements
// past the request's deadline: the answer is a prompt 503 with Retry-After, in the
// dialect of the path, and the node serves again as soon as the database is fast.
func TestRequestDeadline(t *testing.T) {
	t.Parallel()
	pgp := startPrivatePostgres(t)
	link := startSlowLink(t, "127.0.0.1:"+strconv.Itoa(pgp.port))
	e := startEnv(t, fmt.Sprintf("postgres://postgres@%s/postgres?sslmode=disable", link.addr), "", server.BootstrapOptions{})
	admin := e.adminToken()
	const deadline = 2 * time.Second
	// Each request goes to a fresh node: nothing of it is cached yet, so verifying the token
	// or the client loads the account and its keys before the handler's own statements.
	fresh := func() *env { return e.nodeWith(func(c *server.Config) { c.RequestTimeout = deadline }) }
	client := checkedClient(t)
	client.Timeout = 30 * time.Second
	requests := map[string]func(n *env) *http.Request{
		"management POST": func(n *env) *http.Request {
			body := `{"name":"Slow","aid":"s` + randHex(4) + `"}`
			req, _ := http.NewRequest(http.MethodPost, n.url+"/v1/accounts", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+admin)
			return req
		},
		"token POST": func(n *env) *http.Request {
			v := url.Values{"grant_type": {"client_credentials"}, "scope": {"api://management/.default"}}
			req, _ := http.NewRequest(http.MethodPost, n.url+"/v1/accounts/root/auth/token", strings.NewReader(v.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(e.adminID, e.adminSec)
			return req
		},
	}
	// A quarter of the store's bound per answer: no statement alone is past its deadline.
	link.setDelay(1200 * time.Millisecond)
	for name, mk := range requests {
		start := time.Now()
		res, err := client.Do(mk(fresh()))
		if err != nil {
			t.Fatalf("%s: no answer from a slow database: %v", name, err)
		}
		b, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		took := time.Since(start)
		if res.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s with a slow database: want 503, got %d after %s: %s", name, res.StatusCode, took, b)
		}
		if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || ra < 1 {
			t.Errorf("%s: Retry-After %q, want whole seconds", name, res.Header.Get("Retry-After"))
		}
		// The deadline and one answer's delay at most (the proxy holds what it read).
		if took > deadline+1500*time.Millisecond {
			t.Errorf("%s took %s; the request deadline is %s", name, took, deadline)
		}
		want := map[string]string{"management POST": `"unavailable"`, "token POST": `"temporarily_unavailable"`}[name]
		if !strings.Contains(string(b), want) {
			t.Errorf("%s: want %s in the body: %s", name, want, b)
		}
	}

	link.setDelay(0)
	n := fresh()
	for name, mk := range requests {
		res, err := client.Do(mk(n))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if res.StatusCode >= 300 {
			t.Errorf("%s with the database fast again: %d %s", name, res.StatusCode, b)
		}
	}
}
