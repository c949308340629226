package mail

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	netmail "net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twinid/twinid/server/mail/mailtest"
)

// logBuffer is a goroutine-safe log sink.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newLogger() (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

const (
	testCode = "48213975"
	testLink = "https://id.example.com/reset?code=48213975&aid=acme"
)

func resetMessage(t *testing.T, to, fromName, account string) Message {
	t.Helper()
	subject, text, html, err := Render(KindPasswordReset, TemplateData{
		AccountName:  account,
		CustomerName: "Alice",
		Code:         testCode,
		Link:         testLink,
		ExpiresIn:    15 * time.Minute,
	})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return Message{To: to, FromName: fromName, Subject: subject, Text: text, HTML: html}
}

func TestSMTPSend(t *testing.T) {
	srv := mailtest.Start(t)
	log, logs := newLogger()
	s, err := New(Config{URL: srv.URL(), From: "no-reply@twinid.test"}, log)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	const account = `<b>Acme & Co</b>`
	m := resetMessage(t, "Alice@Example.com", "Acme Shop", account)
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.Wait(t, "alice@example.com", 5*time.Second)

	from, err := netmail.ParseAddress(got.From)
	if err != nil {
		t.Fatalf("From %q: %v", got.From, err)
	}
	if from.Name != "Acme Shop" || from.Address != "no-reply@twinid.test" {
		t.Errorf("From = %q, want \"Acme Shop\" <no-reply@twinid.test>", got.From)
	}
	if !strings.EqualFold(got.To, "alice@example.com") {
		t.Errorf("To = %q", got.To)
	}
	if got.Subject != m.Subject || !strings.Contains(got.Subject, account) {
		t.Errorf("Subject = %q, want %q (with the account name)", got.Subject, m.Subject)
	}
	for name, body := range map[string]string{"text": got.Text, "html": got.HTML} {
		if !strings.Contains(body, testCode) {
			t.Errorf("%s part lacks the code:\n%s", name, body)
		}
		if mailtest.Code(body) != testCode {
			t.Errorf("%s part: Code() = %q", name, mailtest.Code(body))
		}
	}
	if !strings.Contains(got.Text, testLink) {
		t.Errorf("text part lacks the link:\n%s", got.Text)
	}
	if !strings.Contains(got.Text, account) {
		t.Errorf("text part lacks the raw account name:\n%s", got.Text)
	}
	if escaped := strings.ReplaceAll(testLink, "&", "&amp;"); !strings.Contains(got.HTML, `href="`+escaped+`"`) {
		t.Errorf("html part lacks the link %q:\n%s", escaped, got.HTML)
	}
	if !strings.Contains(got.HTML, "&lt;b&gt;Acme &amp; Co&lt;/b&gt;") || strings.Contains(got.HTML, "<b>Acme") {
		t.Errorf("html part does not escape the account name:\n%s", got.HTML)
	}
	for _, h := range []string{"Date: ", "Message-Id: <", "Mime-Version: 1.0", "multipart/alternative"} {
		if !strings.Contains(strings.ToLower(got.Raw), strings.ToLower(h)) {
			t.Errorf("raw message lacks %q", h)
		}
	}
	if !strings.Contains(got.Raw, "@twinid.test>") {
		t.Errorf("Message-ID does not use the sender domain:\n%s", got.Raw)
	}
	if srv.Count() != 1 {
		t.Errorf("Count = %d, want 1", srv.Count())
	}
	if l := logs.String(); strings.Contains(l, testCode) || strings.Contains(l, "pass") {
		t.Errorf("log leaks the code or the password:\n%s", l)
	}
}

func TestSMTPSenderNames(t *testing.T) {
	srv := mailtest.Start(t)
	s, err := New(Config{URL: srv.URL(), From: `TwinID <id@twinid.test>`}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{`Bob "The" Builder`, "Café Zoë", "multi\r\nline\r\nBcc: evil@example.com", ""} {
		to := "user" + string(rune('a'+i)) + "@example.org"
		m := Message{To: to, FromName: name, Subject: "Hi\r\nBcc: evil@example.com", Text: "hello"}
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatalf("Send(%q): %v", name, err)
		}
		got := srv.Wait(t, to, 5*time.Second)
		from, err := netmail.ParseAddress(got.From)
		if err != nil {
			t.Fatalf("From %q: %v", got.From, err)
		}
		want := strings.Join(strings.Fields(name), " ")
		if name == "" {
			want = "TwinID"
		}
		if from.Name != want || from.Address != "id@twinid.test" {
			t.Errorf("From = %q, want name %q", got.From, want)
		}
		if got.Subject != "Hi Bcc: evil@example.com" {
			t.Errorf("Subject = %q", got.Subject)
		}
		if strings.TrimSpace(got.Text) != "hello" || got.HTML != "" {
			t.Errorf("Text = %q, HTML = %q", got.Text, got.HTML)
		}
	}
	if err := s.Send(context.Background(), Message{To: "not an address", Text: "x"}); err == nil {
		t.Error("Send to an invalid address: no error")
	}
	if srv.Count() != 4 {
		t.Errorf("Count = %d, want 4", srv.Count())
	}
}

func TestSMTPTLSModes(t *testing.T) {
	srv := mailtest.Start(t)
	base := strings.TrimSuffix(srv.URL(), "?tls=none")

	// Opportunistic: the test server offers no STARTTLS; credentials may
	// still go to 127.0.0.1 in clear.
	s, err := New(Config{URL: base}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), Message{To: "a@example.com", Subject: "s", Text: "t"}); err != nil {
		t.Fatalf("opportunistic: %v", err)
	}
	srv.Wait(t, "a@example.com", 5*time.Second)

	s, err = New(Config{URL: base + "?tls=required"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), Message{To: "b@example.com", Subject: "s", Text: "t"})
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("tls=required without STARTTLS: err = %v", err)
	}
	if strings.Contains(err.Error(), "pass") {
		t.Errorf("error leaks the password: %v", err)
	}
}

func TestOutbox(t *testing.T) {
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
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{OutboxDir: filepath.Join(file, "sub")}, nil); err == nil {
		t.Error("outbox below a regular file: no error")
	}
}

func TestInvalidConfig(t *testing.T) {
	bad := map[string]string{
		"ftp://mail.example.com":                        "unsupported scheme",
		"mail.example.com:587":                          "scheme",
		"smtp://":                                       "missing host",
		"smtp:mail.example.com":                         "missing host",
		"smtp://:25":                                    "missing host",
		"smtp://mail.example.com?tls=bogus":             "invalid tls option",
		"smtp://mail.example.com?tls=none&tls=required": "more than once",
		"smtps://mail.example.com?tls=none":             "smtps",
		"smtp://mail.example.com?foo=bar":               "unknown option",
		"smtp://mail.example.com:0":                     "invalid port",
		"smtp://mail.example.com:70000":                 "invalid port",
		"smtp://user:s3cr3t@mail.example.com:x":         "TWINID_SMTP_URL",
		"smtp://:s3cr3t@mail.example.com":               "empty user name",
		"smtp://mail.example.com/path":                  "unexpected path",
	}
	for raw, want := range bad {
		_, err := New(Config{URL: raw}, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New(%q) error = %v, want it to mention %q", raw, err, want)
			continue
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("New(%q) error leaks the password: %v", raw, err)
		}
	}
	if _, err := New(Config{URL: "smtp://mail.example.com", From: "not an address"}, nil); err == nil {
		t.Error("invalid From: no error")
	}

	good := map[string]endpoint{
		"smtp://mail.example.com":                           {host: "mail.example.com", port: 587, tls: tlsOpportunistic},
		"SMTP://mail.example.com:2525?tls=none":             {host: "mail.example.com", port: 2525, tls: tlsNone},
		"smtp://u%40x:p%3Ass@mail.example.com?tls=required": {host: "mail.example.com", port: 587, tls: tlsRequired, user: "u@x", pass: "p:ss", hasAuth: true},
		"smtps://mail.example.com":                          {host: "mail.example.com", port: 465, tls: tlsImplicit},
		"smtps://u@[::1]:1465/":                             {host: "::1", port: 1465, tls: tlsImplicit, user: "u", hasAuth: true},
	}
	for raw, want := range good {
		ep, err := parseURL(raw)
		if err != nil {
			t.Errorf("parseURL(%q): %v", raw, err)
			continue
		}
		if strings.Contains(ep.redacted, ep.pass) && ep.pass != "" {
			t.Errorf("parseURL(%q): redacted form %q has the password", raw, ep.redacted)
		}
		ep.redacted = ""
		if ep != want {
			t.Errorf("parseURL(%q) = %+v, want %+v", raw, ep, want)
		}
	}
}

func TestRender(t *testing.T) {
	subject, text, html, err := Render(KindInvitation, TemplateData{
		AccountName: "Acme", Code: "11223344", Link: "https://id.example.com/invite?t=x&y=1", ExpiresIn: 72 * time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(subject, "Acme") {
		t.Errorf("subject %q lacks the account name", subject)
	}
	for _, want := range []string{"Acme invites you", "11223344", "https://id.example.com/invite?t=x&y=1", "3 days", "Hello,"} {
		if !strings.Contains(text, want) {
			t.Errorf("invitation text lacks %q:\n%s", want, text)
		}
	}
	for _, want := range []string{"Acme invites you", "11223344", `href="https://id.example.com/invite?t=x&amp;y=1"`, "3 days", `lang="en"`} {
		if !strings.Contains(html, want) {
			t.Errorf("invitation html lacks %q:\n%s", want, html)
		}
	}

	_, text, html, err = Render(KindPasswordReset, TemplateData{Code: "12345678", ExpiresIn: 10 * time.Minute, Link: "javascript:alert(1)"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"12345678", "valid for 10 minutes", "did not ask for this"} {
		if !strings.Contains(text, want) {
			t.Errorf("reset text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(html, `href="javascript:`) {
		t.Errorf("html keeps a javascript: link:\n%s", html)
	}

	_, text, _, err = Render(KindPasswordReset, TemplateData{Code: "12345678"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text, "link") || strings.Contains(text, "valid for") {
		t.Errorf("reset text without link/expiry mentions them:\n%s", text)
	}

	if _, _, _, err := Render("nope", TemplateData{}); err == nil {
		t.Error("unknown kind: no error")
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                             "",
		30 * time.Second:              "1 minute",
		time.Minute:                   "1 minute",
		15 * time.Minute:              "15 minutes",
		14*time.Minute + time.Second:  "15 minutes",
		time.Hour:                     "1 hour",
		90 * time.Minute:              "1 hour 30 minutes",
		48 * time.Hour:                "2 days",
		25 * time.Hour:                "1 day 1 hour",
		24*time.Hour + 30*time.Minute: "24 hours 30 minutes",
		7 * 24 * time.Hour:            "7 days",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestCode(t *testing.T) {
	for in, want := range map[string]string{
		"Your code is 12345678.":             "12345678",
		"ref 123456789 then 87654321":        "87654321",
		"1234567 and 12345678x":              "12345678",
		"87654321":                           "87654321",
		"no code here, only 1234 and 123456": "",
	} {
		if got := mailtest.Code(in); got != want {
			t.Errorf("Code(%q) = %q, want %q", in, got, want)
		}
	}
}

// recordingSender fails the first failures calls, then records messages.
type recordingSender struct {
	failures int32
	calls    atomic.Int32
	mu       sync.Mutex
	sent     []Message
	block    chan struct{} // if set, Send waits for it to be closed
	started  chan struct{} // if set, receives a value when Send starts
}

func (r *recordingSender) Send(ctx context.Context, m Message) error {
	n := r.calls.Add(1)
	if r.started != nil {
		r.started <- struct{}{}
	}
	if r.block != nil {
		<-r.block
	}
	if n <= r.failures {
		return errors.New("421 try again later")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, m)
	return nil
}

func (r *recordingSender) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sent)
}

func runQueue(t *testing.T, q *Queue) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		q.Run(ctx)
	}()
	stop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return")
		}
	}
	t.Cleanup(stop)
	return stop
}

func flush(t *testing.T, q *Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

func TestQueueDeliversThroughSMTP(t *testing.T) {
	srv := mailtest.Start(t)
	s, err := New(Config{URL: srv.URL()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := NewQueue(s, 10, nil)
	stop := runQueue(t, q)
	recipients := []string{"one@example.com", "two@example.com", "three@example.com"}
	for _, to := range recipients {
		if err := q.Enqueue(resetMessage(t, to, "Acme", "Acme")); err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
	}
	flush(t, q)
	if srv.Count() != len(recipients) {
		t.Errorf("Count = %d after Flush, want %d", srv.Count(), len(recipients))
	}
	for _, to := range recipients {
		if got := srv.Wait(t, strings.ToUpper(to), 5*time.Second); mailtest.Code(got.Text) != testCode {
			t.Errorf("%s: code %q", to, mailtest.Code(got.Text))
		}
	}
	stop()
	if err := q.Enqueue(Message{To: "late@example.com", Text: "x"}); !errors.Is(err, ErrQueueClosed) {
		t.Errorf("Enqueue after Run returned: err = %v, want ErrQueueClosed", err)
	}
}

func TestQueueFull(t *testing.T) {
	rs := &recordingSender{block: make(chan struct{}), started: make(chan struct{}, 1)}
	q := NewQueue(rs, 1, nil)
	runQueue(t, q)

	m := Message{To: "x@example.com", Text: "x"}
	if err := q.Enqueue(m); err != nil {
		t.Fatal(err)
	}
	<-rs.started // the worker holds the first message
	if err := q.Enqueue(m); err != nil {
		t.Fatalf("second Enqueue (fills the buffer): %v", err)
	}
	start := time.Now()
	if err := q.Enqueue(m); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Enqueue on a full queue: err = %v, want ErrQueueFull", err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("Enqueue on a full queue took %v", d)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := q.Flush(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Flush with a blocked send: err = %v, want deadline exceeded", err)
	}

	close(rs.block)
	<-rs.started
	flush(t, q)
	if rs.count() != 2 {
		t.Errorf("delivered %d messages, want 2", rs.count())
	}
}

func TestQueueRetries(t *testing.T) {
	log, logs := newLogger()
	rs := &recordingSender{failures: 2}
	q := NewQueue(rs, 4, log)
	q.backoff = []time.Duration{5 * time.Millisecond, 10 * time.Millisecond}
	runQueue(t, q)

	if err := q.Enqueue(resetMessage(t, "carol@example.org", "Acme", "Acme")); err != nil {
		t.Fatal(err)
	}
	flush(t, q)
	if rs.calls.Load() != 3 || rs.count() != 1 {
		t.Errorf("calls = %d, delivered = %d; want 3 and 1", rs.calls.Load(), rs.count())
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("a delivery that succeeded on retry logged an error:\n%s", logs.String())
	}
}

func TestQueueLogsFailure(t *testing.T) {
	log, logs := newLogger()
	rs := &recordingSender{failures: 1000}
	q := NewQueue(rs, 4, log)
	q.backoff = []time.Duration{5 * time.Millisecond, 10 * time.Millisecond}
	runQueue(t, q)

	if err := q.Enqueue(resetMessage(t, "dave@fail.example", "Acme", "Acme")); err != nil {
		t.Fatal(err)
	}
	flush(t, q)
	if rs.calls.Load() != 3 {
		t.Errorf("calls = %d, want 3", rs.calls.Load())
	}
	l := logs.String()
	var errLine string
	for line := range strings.Lines(l) {
		if strings.Contains(line, "level=ERROR") {
			errLine = line
		}
	}
	for _, want := range []string{"to_domain=fail.example", "attempts=3", "421 try again later"} {
		if !strings.Contains(errLine, want) {
			t.Errorf("error log line %q lacks %q", errLine, want)
		}
	}
	if strings.Contains(l, "dave@") || strings.Contains(l, testCode) || strings.Contains(l, "reset?code") {
		t.Errorf("log leaks the recipient, code or link:\n%s", l)
	}
}

func TestQueueDrainsOnShutdown(t *testing.T) {
	rs := &recordingSender{}
	q := NewQueue(rs, 8, nil)
	for range 3 {
		if err := q.Enqueue(Message{To: "e@example.com", Text: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q.Run(ctx) // already cancelled: drains and returns
	if rs.count() != 3 {
		t.Errorf("delivered %d messages on shutdown, want 3", rs.count())
	}
	flush(t, q)
}

func TestTemplatesEmbedded(t *testing.T) {
	for _, k := range []Kind{KindPasswordReset, KindInvitation} {
		for _, ext := range []string{".txt.tmpl", ".html.tmpl"} {
			if _, err := fs.Stat(templateFS, "templates/"+string(k)+ext); err != nil {
				t.Errorf("%s%s: %v", k, ext, err)
			}
		}
	}
}
