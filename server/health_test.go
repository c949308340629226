package server_test

import (
	"testing"
)

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		h := must(t, e.do("GET", "/healthz", "", nil), 200)
		if h["status"] != "ok" || len(h) != 1 {
			t.Fatalf("healthz: %v", h)
		}
		r := must(t, e.do("GET", "/readyz", "", nil), 200)
		if r["status"] != "ok" || r["checks"].(map[string]any)["database"] != "ok" {
			t.Fatalf("readyz: %v", r)
		}
		// Without its database the process is alive but not ready.
		if err := e.st.Close(); err != nil {
			t.Fatal(err)
		}
		r = must(t, e.do("GET", "/readyz", "", nil), 503)
		if r["status"] != "unavailable" || r["checks"].(map[string]any)["database"] != "unavailable" {
			t.Fatalf("readyz without a database: %v", r)
		}
		if h := must(t, e.do("GET", "/healthz", "", nil), 200); h["status"] != "ok" {
			t.Fatalf("healthz without a database: %v", h)
		}
	})
}
