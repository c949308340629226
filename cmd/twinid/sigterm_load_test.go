package main

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMUnderLoadResetsNothing sends SIGTERM to a twinid under a concurrent
// keep-alive load of GETs and POSTs and counts what the clients lose: not one request may
// end in a reset, an EOF or a closed idle connection, from the signal through the drain to
// the exit. New connections fail only once the drain is over (the listener closed).
func TestSIGTERMUnderLoadResetsNothing(t *testing.T) {
	t.Parallel()
	const drain = time.Second
	const id, secret = "load-admin", "a-secret-of-at-least-thirty-two-characters"
	c := startChild(t, drain, "TWINID_BOOTSTRAP_CLIENT_ID="+id, "TWINID_BOOTSTRAP_CLIENT_SECRET="+secret)
	token := url.Values{"grant_type": {"client_credentials"}, "scope": {"api://management/.default"}}.Encode()
	requests := []func() *http.Request{
		func() *http.Request { r, _ := http.NewRequest(http.MethodGet, c.base+"/healthz", nil); return r },
		func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, c.base+"/v1/accounts/root/.well-known/openid-configuration", nil)
			return r
		},
	}
	// Not idempotent: the client does not retry it on a connection the server closed, so a
	// close under it shows; half the load is made of it.
	post := func() *http.Request {
		r, _ := http.NewRequest(http.MethodPost, c.base+"/v1/accounts/root/auth/token", strings.NewReader(token))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth(id, secret)
		return r
	}
	requests = append(requests, post, post)

	var signalled atomic.Int64 // UnixNano of the signal; 0 before it
	var done atomic.Bool
	var mu sync.Mutex
	lost := map[string]int{} // what went wrong, how often
	var served, servedAfterSignal, refused atomic.Int64
	var wg sync.WaitGroup
	for w := range 24 {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}, Timeout: 10 * time.Second}
		defer client.CloseIdleConnections()
		wg.Go(func() {
			for i := w; !done.Load(); i++ {
				var reused bool
				req := requests[i%len(requests)]()
				req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
					GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused },
				}))
				res, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, res.Body)
					_ = res.Body.Close()
				}
				sig := signalled.Load()
				switch {
				case err == nil && res.StatusCode < 500:
					if served.Add(1); sig != 0 {
						servedAfterSignal.Add(1)
					}
				case err != nil && !reused && sig != 0 && time.Since(time.Unix(0, sig)) >= drain-50*time.Millisecond:
					// A new connection once the listener closes: refused, or reset when the
					// kernel had taken it for the listener just before. A balancer that read
					// /readyz has stopped opening them by then.
					refused.Add(1)
					time.Sleep(5 * time.Millisecond)
				default:
					what := "no answer: " + classify(err)
					if reused {
						what += " on a kept-alive connection"
					}
					if err == nil {
						what = "answer " + res.Status
					}
					if sig != 0 {
						what += " (after the signal, at +" + time.Since(time.Unix(0, sig)).Round(100*time.Millisecond).String() + ")"
					}
					mu.Lock()
					lost[what]++
					mu.Unlock()
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	signalled.Store(start.UnixNano())
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	c.waitExit(t, start, drain)
	done.Store(true)
	wg.Wait()

	t.Logf("served %d (%d after the signal), refused %d after the listener closed, lost %v",
		served.Load(), servedAfterSignal.Load(), refused.Load(), lost)
	for what, n := range lost {
		t.Errorf("%d requests lost: %s", n, what)
	}
	if servedAfterSignal.Load() == 0 {
		t.Error("nothing was served after the signal: the load did not reach the drain")
	}
}

// classify names a client error by its kind (reset, EOF, closed idle connection).
func classify(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused before the drain was over"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "EOF"
	case strings.Contains(err.Error(), "server closed idle connection"):
		return "server closed idle connection"
	}
	return err.Error()
}
