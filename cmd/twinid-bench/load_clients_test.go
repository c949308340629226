package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// TestGeneratorsRotateClients drives a local server with a target of 50 clients through
// wrk (when on PATH) and through the built-in Go generator, and checks that every client's
// Authorization header arrived, with the target's body, and spread evenly.
func TestGeneratorsRotateClients(t *testing.T) {
	t.Parallel()
	gens := map[string]func(dir string) generator{"go": func(string) generator { return goGen{connections: 8} }}
	if path, err := exec.LookPath("wrk"); err == nil {
		gens["wrk"] = func(dir string) generator { return wrkGen{path: path, dir: dir, connections: 8, threads: 2} }
	}
	for name, mk := range gens {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var (
				mu      sync.Mutex
				seen    = map[string]int{}
				badBody int
			)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if err := r.ParseForm(); err != nil || r.PostForm.Get("scope") != "s" || r.Method != http.MethodPost {
					mu.Lock()
					badBody++
					mu.Unlock()
				}
				mu.Lock()
				seen[r.Header.Get("Authorization")]++
				mu.Unlock()
				fmt.Fprint(w, `{"access_token":"x"}`)
			}))
			defer srv.Close()
			tg := target{url: srv.URL, aid: "a", scope: "s", body: tokenBody("s")}
			for i := range 50 {
				tg.auths = append(tg.auths, basicAuth(fmt.Sprintf("client-%d", i), "secret"))
			}
			r, err := mk(t.TempDir()).run(context.Background(), tg, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if r.requests < 500 || r.errors != 0 || badBody != 0 {
				t.Fatalf("%d requests, %d errors, %d bad bodies", r.requests, r.errors, badBody)
			}
			lo, hi := int(r.requests), 0
			for _, a := range tg.auths {
				lo, hi = min(lo, seen[a]), max(hi, seen[a])
			}
			if len(seen) != 50 || lo == 0 || hi > 3*lo+10 {
				t.Errorf("%d distinct clients seen (want 50), per client %d..%d", len(seen), lo, hi)
			}
		})
	}
}
