package mail

import (
	"context"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/twinid/twinid/server/mail/mailtest"
)

func TestSMTPSend(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
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
