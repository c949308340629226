package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer that serve's logger and the test may share.
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

// A shutdown signal must not fail the requests clients keep sending on their open
// connections: /readyz turns 503 at once, everything else is served through the drain, and
// serve returns once the drain and the shutdown are over.
func TestShutdownDrainsBeforeClosing(t *testing.T) {
	t.Parallel()
	const drain = time.Second
	ctx, signal := context.WithCancel(context.Background())
	defer signal()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(),
			"--database-url", "", "--redis-url", "", "--shutdown-drain", drain.String(), "--shutdown-grace", "2s"},
			nil, &stdout, &stderr)
	}()
	addrRe := regexp.MustCompile(`twinid listening" addr=(\S+)`)
	var base string
	for deadline := time.Now().Add(20 * time.Second); base == ""; {
		select {
		case err := <-done:
			t.Fatalf("serve ended before listening: %v\n%s", err, stderr.String())
		default:
		}
		if m := addrRe.FindStringSubmatch(stderr.String()); m != nil {
			base = "http://" + m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no listening address in the log:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}

	// A steady keep-alive load: a few clients, each reusing its connection.
	var signalled atomic.Int64 // UnixNano of the signal; 0 before it
	var stopLoad atomic.Bool
	var mu sync.Mutex
	var failures []string
	var served, servedInDrain atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}, Timeout: 5 * time.Second}
		defer c.CloseIdleConnections()
		wg.Go(func() {
			for !stopLoad.Load() {
				res, err := c.Get(base + "/healthz")
				if err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					_ = res.Body.Close()
				}
				if err != nil || res.StatusCode != http.StatusOK {
					mu.Lock()
					failures = append(failures, func() string {
						if err != nil {
							return err.Error()
						}
						return res.Status
					}())
					mu.Unlock()
				} else if served.Add(1); signalled.Load() != 0 {
					servedInDrain.Add(1)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	signalled.Store(start.UnixNano())
	signal()

	// Ready no more, at once, while the same listener still answers.
	time.Sleep(100 * time.Millisecond)
	if res, err := http.Get(base + "/readyz"); err != nil {
		t.Errorf("/readyz during the drain: %v", err)
	} else if _ = res.Body.Close(); res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the drain: %s, want 503", res.Status)
	}
	// Load until shortly before the drain ends; not one request may fail.
	time.Sleep(drain - 300*time.Millisecond)
	stopLoad.Store(true)
	wg.Wait()
	if len(failures) > 0 {
		t.Errorf("%d requests failed during the drain, first: %s", len(failures), failures[0])
	}
	select {
	case err := <-done:
		t.Fatalf("serve returned %v after %v, inside the drain", err, time.Since(start))
	default:
	}
	if servedInDrain.Load() == 0 {
		t.Errorf("no request served during the drain (%d in all)", served.Load())
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
		if took := time.Since(start); took < drain {
			t.Errorf("serve returned %v after the signal, before the drain of %v was over", took, drain)
		}
	case <-time.After(drain + 5*time.Second):
		t.Fatal("serve did not return after the drain and the grace period")
	}
}

// TestMain lets a test run main itself in a child process (the test binary), so that
// real signals reach signal.NotifyContext.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("TWINID_TEST_MAIN_ARGS"); ok {
		os.Args = append([]string{"twinid"}, strings.Fields(args)...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// child is twinid serve running as a child process (the test binary, see TestMain), so
// that real signals reach it.
type child struct {
	cmd    *exec.Cmd
	base   string // http://host:port
	exited chan error
	stderr *syncBuffer
}

// startChild starts twinid serve on SQLite and a free loopback port with the given drain,
// a 2 s grace, and extra environment, and waits until it listens.
func startChild(t *testing.T, drain time.Duration, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), "TWINID_DATABASE_URL=", "TWINID_REDIS_URL=",
		"TWINID_TEST_MAIN_ARGS=serve --listen 127.0.0.1:0 --data-dir "+t.TempDir()+
			" --shutdown-drain "+drain.String()+" --shutdown-grace 2s"), env...)
	c := &child{cmd: cmd, exited: make(chan error, 1), stderr: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = io.Discard, c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	addrRe := regexp.MustCompile(`twinid listening" addr=(\S+)`)
	for deadline := time.Now().Add(20 * time.Second); c.base == ""; time.Sleep(10 * time.Millisecond) {
		if m := addrRe.FindStringSubmatch(c.stderr.String()); m != nil {
			c.base = "http://" + m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no listening address in the log:\n%s", c.stderr.String())
		}
	}
	return c
}

// waitExit waits for the child to exit by itself, after at least drain from start.
func (c *child) waitExit(t *testing.T, start time.Time, drain time.Duration) {
	t.Helper()
	select {
	case err := <-c.exited:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, c.stderr.String())
		}
		if took := time.Since(start); took < drain {
			t.Errorf("exited %v after the first signal, before the drain of %v was over", took, drain)
		}
	case <-time.After(drain + 10*time.Second):
		t.Fatal("did not exit after the drain and the grace period")
	}
}

// A second SIGTERM (an impatient operator, a supervisor repeating itself) neither kills
// the process nor ends the drain early.
func TestSecondSIGTERMDoesNotCutTheDrainShort(t *testing.T) {
	t.Parallel()
	const drain = time.Second
	c := startChild(t, drain)
	start := time.Now()
	for range 2 {
		if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	res, err := http.Get(c.base + "/healthz")
	if err != nil {
		t.Fatalf("after two SIGTERMs, inside the drain: %v", err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("after two SIGTERMs, inside the drain: %s", res.Status)
	}
	c.waitExit(t, start, drain)
}
