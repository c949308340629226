package main

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"time"
)

// The testdata files are real `wrk -t2 -c16 --latency -s token.lua` reports (wrk 4.1.0)
// against a local Go server answering some requests 429 or dropping the connection.
func TestParseWrk(t *testing.T) {
	for _, tc := range []struct {
		file     string
		requests int64
		errors   int64
		elapsed  time.Duration
		p50, p99 time.Duration
		rps      float64
	}{
		{"testdata/wrk-latency.txt", 125131, 2502, 2100 * time.Millisecond,
			199 * time.Microsecond, 5330 * time.Microsecond, 59588.74 * (125131 - 2502) / 125131},
		{"testdata/wrk-latency-socket-errors.txt", 52435, 529 + 530, 1100 * time.Millisecond,
			256 * time.Microsecond, 5290 * time.Microsecond, 47671.09 * (52435 - 1059) / 52435},
	} {
		data, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		r, err := parseWrk(string(data))
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if r.requests != tc.requests || r.errors != tc.errors || r.elapsed != tc.elapsed ||
			r.p50 != tc.p50 || r.p99 != tc.p99 || r.rps < tc.rps-0.01 || r.rps > tc.rps+0.01 {
			t.Errorf("%s: got %+v, want %+v", tc.file, r, tc)
		}
	}
}

func TestParseWrkIncomplete(t *testing.T) {
	data, err := os.ReadFile("testdata/wrk-latency.txt")
	if err != nil {
		t.Fatal(err)
	}
	// Without --latency wrk prints no distribution: that must be an error, not zeros.
	var kept []string
	for _, l := range strings.Split(string(data), "\n") {
		if !strings.Contains(l, "%  ") {
			kept = append(kept, l)
		}
	}
	if _, err := parseWrk(strings.Join(kept, "\n")); err == nil {
		t.Error("parseWrk accepted output without latency distribution")
	}
}

func TestParseMetrics(t *testing.T) {
	const text = `# HELP twinid_db_queries_total SQL statements run.
# TYPE twinid_db_queries_total counter
twinid_db_queries_total{op="select"} 120
twinid_db_queries_total{op="insert",table="a{b}"} 3 1700000000000
twinid_db_queries_total_created 1.7e9
twinid_tokens_issued_total 4.5e+01
`
	got, err := parseMetrics(bufio.NewScanner(strings.NewReader(text)), "twinid_db_queries_total", "twinid_tokens_issued_total")
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != 123 || got[1] != 45 {
		t.Errorf("got %v, want [123 45]", got)
	}
	if _, err := parseMetrics(bufio.NewScanner(strings.NewReader(text)), "twinid_missing"); err == nil {
		t.Error("missing metric not reported")
	}
}

func TestParseStatCPU(t *testing.T) {
	const stat = "4242 (twin id) (x)) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 50 0 0 20 0 9 0 100 0 0"
	got, err := parseStatCPU(stat, 100)
	if err != nil {
		t.Fatal(err)
	}
	if got != 3*time.Second {
		t.Errorf("got %v, want 3s", got)
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	if p := percentile(d, 0.5); p != 50 {
		t.Errorf("p50 = %v", p)
	}
	if p := percentile(d, 0.99); p != 99 {
		t.Errorf("p99 = %v", p)
	}
	if p := percentile(d[:1], 0.99); p != 1 {
		t.Errorf("p99 of one = %v", p)
	}
}

func TestNewSecret(t *testing.T) {
	s := newSecret()
	if len(s) != 48 || !strings.HasPrefix(s, "twid_") || strings.Trim(s[5:], "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != "" {
		t.Errorf("bad secret %q", s)
	}
}
