package main

import (
	"strings"
	"testing"
)

func TestPhoneOfUnique(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for i := range 100_000 {
		p := phoneOf(i)
		if len(p) != 11 || !strings.HasPrefix(p, "+479") || seen[p] {
			t.Fatalf("phoneOf(%d) = %q (duplicate: %v)", i, p, seen[p])
		}
		seen[p] = true
	}
	if e := emailOf(7); !strings.HasSuffix(e, ".7@example.com") || len(e) != len("abcdefgh.7@example.com") || e != emailOf(7) {
		t.Errorf("emailOf = %q", e)
	}
}

func TestJWTAlg(t *testing.T) {
	t.Parallel()
	// {"alg":"ES256","kid":"k"}
	if got := jwtAlg("eyJhbGciOiJFUzI1NiIsImtpZCI6ImsifQ.e30.sig"); got != "ES256" {
		t.Errorf("jwtAlg = %q", got)
	}
	if got := jwtAlg("not a jwt"); got != "" {
		t.Errorf("jwtAlg of garbage = %q", got)
	}
}
