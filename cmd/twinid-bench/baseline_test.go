package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"
)

// TestMain lets the test binary serve as the baseline child, as the bench's binary does.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == baselineArg {
		if err := baselineMain(os.Args[2:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestBaselineChild runs the sign baseline in a child process of this binary, on claims
// shaped like the server's, and checks the CPU time per op is plausible for ES256.
func TestBaselineChild(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	claims, _ := json.Marshal(map[string]any{"iss": "http://127.0.0.1:1/v1/accounts/a", "sub": "s", "aud": "api://bench",
		"exp": now + 3600, "iat": now, "jti": "0192f1b2-6c1e-7a3d-9f51-0c4b8e2d1a77", "client_id": "c", "scope": "x", "aid": "a"})
	header := []byte(`{"alg":"ES256","kid":"k1","typ":"at+jwt"}`)
	tok := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims) + ".sig"
	h, c, err := tokenParts(tok)
	if err != nil || string(h) != string(header) || string(c) != string(claims) {
		t.Fatalf("tokenParts: %s %s %v", h, c, err)
	}
	d, err := baseliner{exe: exe, cpu: -1}.signCost(t.Context(), "ES256", h, c)
	if err != nil {
		t.Fatal(err)
	}
	// A P-256 signature costs tens of microseconds; a result outside [1µs, 50ms] is a
	// measurement error (no CPU counted, or wall time of a stalled machine).
	if d < time.Microsecond || d > 50*time.Millisecond {
		t.Errorf("ES256 build+sign: %s per op", d)
	}
	// argon2id with the default parameters (19 MiB, t=2) costs milliseconds.
	if d, err := (baseliner{exe: exe, cpu: -1}).argonCost(t.Context()); err != nil || d < time.Millisecond || d > 2*time.Second {
		t.Errorf("argon2id verify: %s per op, %v", d, err)
	}
	if _, err := (baseliner{exe: exe, cpu: -1}).run(t.Context(), "sign", "HS999", "{}", "{}"); err == nil {
		t.Error("unknown algorithm accepted")
	}
}

func TestParseBaseline(t *testing.T) {
	t.Parallel()
	if d, err := parseBaseline("noise\ncpu_ns_per_op 31250 ops 12000\n"); err != nil || d != 31250 {
		t.Errorf("got %v %v", d, err)
	}
	for _, bad := range []string{"", "cpu_ns_per_op 0 ops 10\n", "cpu_ns_per_op x ops 10\n", "cpu_ns_per_op 10 ops 0\n"} {
		if _, err := parseBaseline(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
