package mail

import (
	"strings"
	"testing"
)

func TestInvalidConfig(t *testing.T) {
	t.Parallel()
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
