package console

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, base, method, path string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, base+path, nil)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// The committed build is whole: the page loads only scripts and styles that are embedded,
// from the console's own path, and each is served with a long cache (its name is its hash).
func TestHandlerServesTheBuild(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(Handler())
	t.Cleanup(srv.Close)
	res, page := get(t, srv.URL, "GET", "/console/")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/html; charset=utf-8" || res.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("index: %d %v", res.StatusCode, res.Header)
	}
	if res.Header.Get("Content-Security-Policy") != CSP || strings.Contains(CSP, "unsafe") {
		t.Fatalf("CSP: %q", res.Header.Get("Content-Security-Policy"))
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, "style=") {
		t.Fatal("inline script or style in the page: the CSP would block it")
	}
	refs := regexp.MustCompile(`(?:src|href)="(/console/assets/[^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 2 {
		t.Fatalf("the page loads %d assets: %s", len(refs), page)
	}
	for _, m := range refs {
		res, body := get(t, srv.URL, "GET", m[1])
		if res.StatusCode != 200 || body == "" || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
			t.Fatalf("%s: %d %v", m[1], res.StatusCode, res.Header)
		}
	}
	// The app's own routes get the page; a missing asset, another method or another path does not.
	if res, body := get(t, srv.URL, "GET", "/console/callback"); res.StatusCode != 200 || body != page {
		t.Fatalf("callback: %d", res.StatusCode)
	}
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/console/assets/missing.js", 404},
		{"GET", "/console", 301},
		{"POST", "/console/", 405},
		{"GET", "/other/", 404},
	} {
		if res, _ := get(t, srv.URL, c.method, c.path); res.StatusCode != c.status || res.Header.Get("Content-Security-Policy") != CSP {
			t.Errorf("%s %s: %d, want %d (CSP %q)", c.method, c.path, res.StatusCode, c.status, res.Header.Get("Content-Security-Policy"))
		}
	}
}
