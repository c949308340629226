package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// serveOnce runs twinid serve on a free port until it listens, then stops it, and returns
// its log.
func serveOnce(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr syncBuffer
	serveOnceTo(t, &stdout, &stderr, args...)
	return stderr.String()
}

// serveOnceTo is serveOnce writing to stdout and stderr, which may be one buffer (a
// terminal).
func serveOnceTo(t *testing.T, stdout io.Writer, stderr *syncBuffer, args ...string) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0", "--database-url", "", "--redis-url", "",
			"--shutdown-drain", "0s"}, args...), nil, stdout, stderr)
	}()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(stderr.String(), "twinid listening"); {
		select {
		case err := <-done:
			t.Fatalf("serve ended before listening: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("not listening:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

// On a terminal that shows both, the admin credentials printed at first start come after
// the log lines before them, though the log is written in batches.
func TestFirstStartCredentialsFollowTheirLogLines(t *testing.T) {
	t.Parallel()
	var terminal syncBuffer
	serveOnceTo(t, &terminal, &terminal, "--data-dir", t.TempDir())
	out := terminal.String()
	logged, printed := strings.Index(out, "first start: created the root account"), strings.Index(out, "twinid admin credentials")
	if logged < 0 || printed < 0 || logged > printed {
		t.Fatalf("the first-start log line (at %d) does not precede the credentials (at %d):\n%s", logged, printed, out)
	}
}

// After the first start, the bootstrap variables are reported as ignored, and
// twinid admin add-person adds a person instead.
func TestBootstrapIgnoredThenAddPerson(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if log := serveOnce(t, "--data-dir", dir); strings.Contains(log, "ignoring") {
		t.Fatalf("first start warned:\n%s", log)
	}
	log := serveOnce(t, "--data-dir", dir, "--bootstrap-admin-email", "late@example.com",
		"--bootstrap-admin-password", "a long late passphrase")
	if !strings.Contains(log, "ignoring TWINID_BOOTSTRAP_ADMIN_EMAIL, TWINID_BOOTSTRAP_ADMIN_PASSWORD") || !strings.Contains(log, "level=WARN") {
		t.Fatalf("no warning of the ignored variables:\n%s", log)
	}
	add := func(stdin string) (string, error) {
		var out, errb syncBuffer
		err := run(context.Background(), []string{"admin", "add-person", "--data-dir", dir, "--database-url", "",
			"--email", "late@example.com"}, strings.NewReader(stdin), &out, &errb)
		return out.String(), err
	}
	if _, err := add(""); err == nil || !strings.Contains(err.Error(), "no password on stdin") {
		t.Fatalf("no password: %v", err)
	}
	if out, err := add("a long late passphrase\n"); err != nil || !strings.Contains(out, "added late@example.com") {
		t.Fatalf("add-person: %v %s", err, out)
	}
	if _, err := add("a long late passphrase\n"); err == nil || !strings.Contains(err.Error(), "already has a customer") {
		t.Fatalf("added twice: %v", err)
	}
	var out, errb syncBuffer
	if err := run(context.Background(), []string{"admin", "add-person", "--data-dir", dir}, nil, &out, &errb); err == nil || !strings.Contains(err.Error(), "--email: required") {
		t.Fatalf("no --email: %v", err)
	}
}
