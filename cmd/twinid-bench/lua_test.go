package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLuaString(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`abc`:      `"abc"`,
		`a"b\c`:    `"a\"b\\c"`,
		"x\ny\x7f": `"x\010y\127"`,
		"":         `""`,
	} {
		if got := luaString(in); got != want {
			t.Errorf("luaString(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestParseScriptLines(t *testing.T) {
	t.Parallel()
	const out = `Running 1s test @ http://127.0.0.1:1/x
  50%    1.00ms
STATUS 200 10
STATUS 503 2
TOKEN twrt_a
TOKEN twrt_b
STATUS empty 0
`
	st, toks, err := parseScriptLines(out)
	if err != nil {
		t.Fatal(err)
	}
	if st["200"] != 10 || st["503"] != 2 || st["empty"] != 0 || len(toks) != 2 || toks[1] != "twrt_b" {
		t.Errorf("got %v %v", st, toks)
	}
	if got := statusCounts(st); got != "200: 10, 503: 2" {
		t.Errorf("statusCounts = %q", got)
	}
	if _, _, err := parseScriptLines("Requests/sec: 1\n"); err == nil {
		t.Error("output without STATUS lines accepted")
	}
}

func TestScriptsEmbedData(t *testing.T) {
	t.Parallel()
	s := loginScript("Bearer t", apiAudience, []string{"a@example.com"}, []string{"pw"})
	for _, want := range []string{`"Bearer t"`, `"a@example.com"`, `"pw"`, `"https://api.example.com"`, "function done"} {
		if !strings.Contains(s, want) {
			t.Errorf("login script lacks %s", want)
		}
	}
	s = refreshScript("Bearer t", 3, []string{"twrt_1", "twrt_2"})
	for _, want := range []string{"local nthreads = 3", `"twrt_2"`, `%s*:%s*"([^"]+)"`} {
		if !strings.Contains(s, want) {
			t.Errorf("refresh script lacks %s", want)
		}
	}
}

// TestRefreshScriptRotation runs the refresh script in wrk against a fake token endpoint
// that rotates tokens and fails any token sent twice or never issued.
func TestRefreshScriptRotation(t *testing.T) {
	t.Parallel()
	path, err := exec.LookPath("wrk")
	if err != nil {
		t.Skip("wrk is not on PATH")
	}
	var (
		mu     sync.Mutex
		live   = map[string]bool{}
		next   int
		reused int
	)
	var initial []string
	for range 40 {
		tok := fmt.Sprintf("twrt_%d", next)
		next++
		live[tok] = true
		initial = append(initial, tok)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			RefreshToken string `json:"refresh_token"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		mu.Lock()
		defer mu.Unlock()
		if !live[req.RefreshToken] || r.Header.Get("Authorization") != "Bearer ct" {
			reused++
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		delete(live, req.RefreshToken)
		tok := fmt.Sprintf("twrt_%d", next)
		next++
		live[tok] = true
		fmt.Fprintf(w, `{"access_token":"x","refresh_token":"%s","token_type":"Bearer"}`, tok)
	}))
	defer srv.Close()
	g := wrkGen{path: path, dir: t.TempDir(), threads: 2}
	r, err := g.runScript(context.Background(), "refresh", refreshScript("Bearer ct", 2, initial), srv.URL, 8, 2, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if r.status["200"] < 100 || r.status["other"] != 0 || reused != 0 || r.status["empty"] != 0 {
		t.Fatalf("status %v, server saw %d bad tokens", r.status, reused)
	}
	// The tokens left over are live, and only about the ones in flight at the end were lost
	// (wrk may also have built a request or two it never sent).
	mu.Lock()
	defer mu.Unlock()
	for _, tok := range r.tokens {
		if !live[tok] {
			t.Errorf("left-over token %s is not live", tok)
		}
	}
	if len(r.tokens) < 40-2*8 {
		t.Errorf("%d tokens left over, want at least 24", len(r.tokens))
	}
}
