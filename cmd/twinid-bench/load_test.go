package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

// The testdata files are real `wrk -t2 -c16 --latency -s token.lua` reports (wrk 4.1.0)
// against a local Go server answering some requests 429 or dropping the connection.
func TestParseWrk(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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

func TestPercentile(t *testing.T) {
	t.Parallel()
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
