package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twinid/twinid/server"
	"github.com/twinid/twinid/server/passwords"
)

// While the password pool is full, a login is refused with 503 and Retry-After in RFC 6749
// form before anything of it is checked (a bad client token gets the 503, not a 401), it
// runs no SQL statement, and the overload is logged once, not once per refusal; the next
// login the pool serves after a quiet second logs that it is over.
func TestLoginShedWhilePoolFull(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	sh := e.newShop(map[string]any{"loginMaxFailures": 100, "loginIpMaxFailures": 10000})
	logs := &syncBuffer{}
	// One worker and hashes of about half a second: five logins fill it (one runs, four queue).
	slow := passwords.Params{Memory: 16 << 10, Time: 100, Threads: 1, SaltLen: 16, KeyLen: 32}
	n := e.nodeWith(func(c *server.Config) {
		c.PasswordWorkers, c.PasswordParams = 1, &slow
		c.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	})
	ct := sh.clientToken()
	login := func(ctx context.Context, token, email string) (*http.Response, error) {
		body := fmt.Sprintf(`{"email":%q,"password":"correct horse battery","audience":%q}`, email, apiAud)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url+sh.base+"/customers/login", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		return http.DefaultClient.Do(req)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	// Eight clients that log in again as soon as they are answered keep it full.
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if res, err := login(ctx, ct, fmt.Sprintf("nobody%d@example.com", i)); err == nil {
					res.Body.Close()
				}
			}
		}()
	}
	refusals, quiet := 0, 0
	for deadline := time.Now().Add(30 * time.Second); refusals < 4 && time.Now().Before(deadline); {
		before := e.st.Queries()
		r := n.do("POST", sh.base+"/customers/login", "not-a-client-token", map[string]any{
			"email": "ada@example.com", "password": "correct horse battery", "audience": apiAud})
		queries := e.st.Queries() - before
		switch r.status {
		case http.StatusUnauthorized: // the pool is not full yet
			time.Sleep(10 * time.Millisecond)
			continue
		case http.StatusServiceUnavailable:
		default:
			t.Fatalf("login with a bad token: %d %s", r.status, r.body)
		}
		refusals++
		if r.header.Get("Retry-After") != "1" || r.json(t)["error"] != "temporarily_unavailable" {
			t.Fatalf("refusal: Retry-After %q, body %s", r.header.Get("Retry-After"), r.body)
		}
		// The logins in the pool run statements of their own when one hash ends and the
		// next begins, about once a second; a refusal's window rarely spans one.
		if queries == 0 {
			quiet++
		}
	}
	cancel()
	wg.Wait()
	if refusals < 4 {
		t.Fatalf("the full pool refused %d logins in 30s", refusals)
	}
	if quiet == 0 {
		t.Fatalf("every one of %d refusals ran SQL statements", refusals)
	}
	full, lines := 0, 0
	for line := range strings.Lines(logs.String()) {
		var l map[string]any
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if strings.Contains(fmt.Sprint(l["msg"]), "password pool is full") {
			full++
		}
		if l["msg"] == "request" && l["status"] == float64(503) {
			lines++
		}
	}
	if full != 1 || lines != 0 {
		t.Fatalf("%d refusals logged the overload %d times and wrote %d access lines for 503s:\n%s", refusals, full, lines, logs)
	}
	m := n.do("GET", "/metrics", "", nil)
	if !bytes.Contains(m.body, []byte(`twinid_rate_limited_total{limit="password_pool"}`)) {
		t.Fatalf("no refusal counted on /metrics")
	}
	// Once the hash still running ends (half a second on an idle machine, longer under a
	// parallel test run) and a quiet second has passed, a login the pool serves ends the
	// overload, once.
	time.Sleep(1100 * time.Millisecond)
	var r resp
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		r = n.do("POST", sh.base+"/customers/login", ct, map[string]any{
			"email": "nobody@example.com", "password": "correct horse battery", "audience": apiAud})
		if r.status != http.StatusServiceUnavailable || time.Now().After(deadline) {
			break
		}
	}
	if r.status != http.StatusBadRequest {
		t.Fatalf("login after the flood: %d %s", r.status, r.body)
	}
	if c := strings.Count(logs.String(), "password pool has room again"); c != 1 {
		t.Fatalf("the end of the overload was logged %d times:\n%s", c, logs)
	}
}
