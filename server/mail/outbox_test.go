package mail

import (
	"context"
	"io"
	netmail "net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestOutbox(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "outbox")
	log, logs := newLogger()
	s, err := New(Config{OutboxDir: dir, From: "no-reply@twinid.test"}, log)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	m := resetMessage(t, "bob@example.net", "Acme Shop", "Acme")
	for range 2 {
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}

	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("outbox dir: %v, mode %v", err, fi.Mode())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("%d files in the outbox, want 2", len(entries))
	}
	nameRE := regexp.MustCompile(`^\d+-[0-9a-f]+\.eml$`)
	for _, e := range entries {
		if !nameRE.MatchString(e.Name()) {
			t.Errorf("file name %q", e.Name())
		}
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", e.Name(), info.Mode().Perm())
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		msg, err := netmail.ReadMessage(f)
		if err != nil {
			t.Fatalf("%s is not a readable message: %v", e.Name(), err)
		}
		from, _ := msg.Header.AddressList("From")
		to, _ := msg.Header.AddressList("To")
		if len(from) != 1 || from[0].Name != "Acme Shop" || from[0].Address != "no-reply@twinid.test" ||
			len(to) != 1 || to[0].Address != "bob@example.net" || msg.Header.Get("Subject") != m.Subject ||
			msg.Header.Get("Date") == "" || msg.Header.Get("Message-Id") == "" {
			t.Errorf("%s: headers %v", e.Name(), msg.Header)
		}
		body, _ := io.ReadAll(msg.Body)
		_ = f.Close()
		if !strings.Contains(msg.Header.Get("Content-Type"), "multipart/alternative") || !strings.Contains(string(body), testCode) {
			t.Errorf("%s: unexpected body:\n%s", e.Name(), body)
		}
	}

	l := logs.String()
	const warning = "SMTP is not configured (TWINID_SMTP_URL); emails are written to the development outbox"
	if n := strings.Count(l, warning); n != 1 {
		t.Errorf("warning logged %d times, want once:\n%s", n, l)
	}
	if !strings.Contains(l, "level=WARN") || !strings.Contains(l, dir) {
		t.Errorf("warning lacks level or dir:\n%s", l)
	}
	if strings.Contains(l, testCode) || strings.Contains(l, "reset?code") {
		t.Errorf("log leaks the code or link:\n%s", l)
	}
}

func TestOutboxDefaultDirAndUnwritable(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{OutboxDir: filepath.Join(file, "sub")}, nil); err == nil {
		t.Error("outbox below a regular file: no error")
	}
}
