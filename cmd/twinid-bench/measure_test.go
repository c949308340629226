package main

import (
	"bufio"
	"strings"
	"testing"
	"time"
)

func TestParseMetrics(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
	const stat = "4242 (twin id) (x)) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 50 0 0 20 0 9 0 100 0 0"
	got, err := parseStatCPU(stat, 100)
	if err != nil {
		t.Fatal(err)
	}
	if got != 3*time.Second {
		t.Errorf("got %v, want 3s", got)
	}
}
