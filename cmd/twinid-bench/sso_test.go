package main

import (
	"strings"
	"testing"
)

func TestSSOScriptSendsTheSessionCookie(t *testing.T) {
	t.Parallel()
	s := ssoScript(`abc"def`)
	if !strings.Contains(s, `wrk.headers["Cookie"] = "twinid_session=abc\"def"`) || !strings.Contains(s, "status == 303") {
		t.Fatalf("script:\n%s", s)
	}
	if got := authzURL("http://x", "a", "c"); !strings.Contains(got, "code_challenge="+benchChallenge) || !strings.Contains(got, "code_challenge_method=S256") {
		t.Fatalf("authorize URL: %s", got)
	}
}
