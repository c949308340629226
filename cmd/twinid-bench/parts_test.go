package main

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/twinid/twinid/store"
)

// TestSearchSeedsSameHits checks, over the customers the search part seeds, that every query
// of every kind finds at least searchHits customers at each size, and that exactly
// searchHits are disabled: the same number of hits whatever the size.
func TestSearchSeedsSameHits(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1000, 4567, 100_000} {
		emails, phones := make([]string, n), make([]string, n)
		disabledN := 0
		for i := range n {
			emails[i], phones[i] = emailOf(i), phoneOf(i)
			if statusOf(i, n) == store.CustomerDisabled {
				disabledN++
			}
		}
		if !slices.IsSorted(emails) || !slices.IsSorted(phones) {
			t.Errorf("n=%d: emails or phones not in key order", n)
		}
		if len(slices.Compact(slices.Clone(emails))) != n || len(slices.Compact(slices.Clone(phones))) != n {
			t.Errorf("n=%d: emails or phones not unique", n)
		}
		if disabledN != searchHits {
			t.Errorf("n=%d: %d disabled customers, want %d", n, disabledN, searchHits)
		}
		for _, kind := range searchKinds {
			for _, q := range searchQueries(kind, n) {
				if got := matches(q, n); got < searchHits {
					t.Errorf("n=%d %s %s: %d customers match, want at least %d", n, kind, q.Encode(), got, searchHits)
				}
				if q.Get("limit") != "20" || searchHits != 20 {
					t.Errorf("query %s: limit is not searchHits", q.Encode())
				}
			}
		}
	}
}

// matches counts the seeded customers of an account of n that query q selects.
func matches(q url.Values, n int) int {
	c := 0
	for i := range n {
		if e := q.Get("email"); e != "" && !strings.HasPrefix(emailOf(i), e) {
			continue
		}
		if p := q.Get("phoneNumber"); p != "" && !strings.HasPrefix(phoneOf(i), p) {
			continue
		}
		if s := q.Get("status"); s != "" && statusOf(i, n) != s {
			continue
		}
		c++
	}
	return c
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
