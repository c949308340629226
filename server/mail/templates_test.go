package mail

import (
	"io/fs"
	"strings"
	"testing"
	"time"
)

func TestRender(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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

func TestTemplatesEmbedded(t *testing.T) {
	t.Parallel()
	for _, k := range []Kind{KindPasswordReset, KindInvitation} {
		for _, ext := range []string{".txt.tmpl", ".html.tmpl"} {
			if _, err := fs.Stat(templateFS, "templates/"+string(k)+ext); err != nil {
				t.Errorf("%s%s: %v", k, ext, err)
			}
		}
	}
}
