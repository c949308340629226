package server_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// The response checker itself: it must fail what the document does not describe, or every
// other test's silence would mean nothing.
func TestResponseCheckerCatchesMismatches(t *testing.T) {
	t.Parallel()
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	token := `{"token_type":"Bearer","expires_in":60,"access_token":"x.y.z","scope":"a"}`
	for _, c := range []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
		wantErr            string // "" = passes
	}{
		{"documented answer", "GET", "/healthz", 200, jsonCT, `{"status":"ok"}`, ""},
		{"undocumented status", "GET", "/healthz", 418, jsonCT, `{"status":"ok"}`, "status is not supported"},
		{"wrong content type", "GET", "/healthz", 200, http.Header{"Content-Type": {"text/plain"}}, "ok", "Content-Type"},
		{"no content type", "GET", "/readyz", 503, http.Header{}, "", "Content-Type"},
		{"body off the schema", "GET", "/healthz", 200, jsonCT, `{"status":"fine"}`, "doesn't match schema"},
		{"missing required property", "GET", "/v1/accounts/shop/scopes/s1", 200, jsonCT, `{"id":"s1"}`, "doesn't match schema"},
		{"problem on a JSON-only status", "GET", "/v1/accounts/shop", 404, jsonCT, `{"type":"about:blank","title":"x","status":404}`, "Content-Type"},
		{"problem+json error", "GET", "/v1/accounts/shop", 404, http.Header{"Content-Type": {"application/problem+json"}},
			`{"type":"about:blank","title":"Not Found","status":404}`, ""},
		{"declared header of the wrong type", "POST", "/v1/accounts/shop/auth/token", 200,
			http.Header{"Content-Type": {"application/json"}, "Ratelimit-Limit": {"many"}}, token, `"RateLimit-Limit"`},
		{"declared headers right", "POST", "/v1/accounts/shop/auth/token", 200,
			http.Header{"Content-Type": {"application/json"}, "Ratelimit-Limit": {"100"}, "Cache-Control": {"no-store"}}, token, ""},
		{"a body where none is documented", "DELETE", "/v1/accounts/shop", 204, http.Header{"Content-Type": {"text/plain"}}, "gone", "declares no content"},
		{"an HTML page", "GET", "/v1/accounts/shop/auth/authorize", 200, http.Header{"Content-Type": {"text/html; charset=utf-8"}}, "<p>hi</p>", ""},
		{"JSON where a page is documented", "GET", "/v1/accounts/shop/auth/authorize", 200, jsonCT, `{}`, "Content-Type"},
		{"a redirect", "GET", "/v1/accounts/shop/auth/authorize", 303, http.Header{"Location": {"https://app.example.com/cb?code=x"}}, "", ""},
		{"an undocumented redirect", "GET", "/v1/accounts/shop/auth/authorize", 302, http.Header{"Location": {"/"}}, "", "status is not supported"},
		{"a redirect the validator skips", "GET", "/v1/accounts/shop/auth/authorize", 307, http.Header{"Location": {"/"}}, "", "status 307 is not documented"},
		{"allowlisted: revocation at the token endpoint", "POST", "/v1/accounts/shop/auth/token", 200, http.Header{}, "", ""},
		{"not allowlisted: an empty JSON 200 at the token endpoint", "POST", "/v1/accounts/shop/auth/token", 200, jsonCT, "", "failed to decode"},
		{"not in the document", "GET", "/swagger/index.html", 200, http.Header{"Content-Type": {"text/html"}}, "<html>", ""},
		{"a method the document lacks", "PUT", "/v1/accounts/shop", 405, jsonCT, `{}`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(c.method, "http://127.0.0.1:1"+c.path, nil)
			err := checkResponse(req, c.status, c.header, []byte(c.body))
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("want no error, got %v", firstLines(err.Error(), 3))
			case c.wantErr != "" && err == nil:
				t.Fatalf("want an error containing %q, got none", c.wantErr)
			case c.wantErr != "" && !strings.Contains(err.Error(), c.wantErr):
				t.Fatalf("want an error containing %q, got %v", c.wantErr, firstLines(err.Error(), 3))
			}
		})
	}
}

// recordingTB collects what the checking transport reports instead of failing the test.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

// The transport checks every hop of a followed redirect, and hands the body on intact.
func TestCheckedClientReportsEveryHop(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/accounts/shop/auth/logout": // 302 is not documented there (303 is)
			http.Redirect(w, r, "/healthz", http.StatusFound)
		case "/healthz":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTeapot)
			_, _ = w.Write([]byte(`{"status":"ok"}`))
		}
	}))
	defer hs.Close()
	rec := &recordingTB{TB: t}
	res, err := checkedClient(rec).Get(hs.URL + "/v1/accounts/shop/auth/logout")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body strings.Builder
	buf := make([]byte, 64)
	for {
		n, err := res.Body.Read(buf)
		body.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if res.StatusCode != http.StatusTeapot || body.String() != `{"status":"ok"}` {
		t.Fatalf("the caller got %d %q", res.StatusCode, body.String())
	}
	joined := strings.Join(rec.msgs, "\n")
	if len(rec.msgs) != 2 || !strings.Contains(joined, "GET /v1/accounts/shop/auth/logout → 302") ||
		!strings.Contains(joined, "GET /healthz → 418") {
		t.Fatalf("reports: %q", rec.msgs)
	}
}
