package main

import (
	"io"
	"slices"
	"testing"
	"time"
)

func TestParseFlagsDefaults(t *testing.T) {
	t.Parallel()
	o, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// Every figure needs at least 3 rounds for a spread; search covers 1k to 1M customers;
	// the many-clients run has 1,000 clients.
	if o.rounds != 3 || o.clients != 1000 || !slices.Equal(o.searchSizes, []int{1000, 100000, 1000000}) ||
		o.duration != 3*time.Second || !slices.Equal(o.algs, []string{"RS256", "ES256"}) {
		t.Errorf("defaults: rounds %d, clients %d, sizes %v, duration %s, algs %v", o.rounds, o.clients, o.searchSizes, o.duration, o.algs)
	}
	for _, args := range [][]string{
		{"-rounds", "2"}, {"-clients", "-1"}, {"-search-sizes", "1000,100"}, {"-search-sizes", "10"},
		{"-algs", "HS256"}, {"-only", "tokens,nope"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	o, err = parseFlags([]string{"-search-sizes", "1000, 5000", "-rounds", "5", "-clients", "0", "-algs", "es256"}, io.Discard)
	if err != nil || !slices.Equal(o.searchSizes, []int{1000, 5000}) || o.rounds != 5 || o.clients != 0 || o.algs[0] != "ES256" {
		t.Errorf("%+v %v", o, err)
	}
}
