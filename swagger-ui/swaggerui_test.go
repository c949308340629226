package swaggerui

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

// newServer starts a real loopback HTTP server for Handler(cfg) and returns
// its base URL and a client that does not follow redirects.
func newServer(t *testing.T, cfg Config) (string, *http.Client) {
	t.Helper()
	srv := httptest.NewServer(Handler(cfg))
	t.Cleanup(srv.Close)
	c := srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return srv.URL, c
}

func do(t *testing.T, c *http.Client, method, url string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func wantHeader(t *testing.T, resp *http.Response, key, want string) {
	t.Helper()
	if got := resp.Header.Get(key); got != want {
		t.Errorf("%s %s: header %s = %q, want %q", resp.Request.Method, resp.Request.URL.Path, key, got, want)
	}
}

func TestIndex(t *testing.T) {
	base, c := newServer(t, Config{})
	for _, p := range []string{"/swagger/", "/swagger/index.html"} {
		resp, body := do(t, c, http.MethodGet, base+p)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d", p, resp.StatusCode)
		}
		wantHeader(t, resp, "Content-Type", "text/html; charset=utf-8")
		wantHeader(t, resp, "Cache-Control", "no-cache")
		for _, s := range []string{
			`src="/swagger/swagger-ui-bundle.js"`,
			`src="/swagger/swagger-ui-standalone-preset.js"`,
			`src="/swagger/swagger-initializer.js"`,
			`href="/swagger/swagger-ui.css"`,
		} {
			if !strings.Contains(body, s) {
				t.Errorf("GET %s: body lacks %s", p, s)
			}
		}
	}
}

// The page's title is Config.Title, escaped; "Swagger UI" without one.
func TestTitle(t *testing.T) {
	for _, c := range []struct{ title, want string }{
		{"", "<title>Swagger UI</title>"},
		{"twinid API", "<title>twinid API</title>"},
		{"a <b> & c", "<title>a &lt;b&gt; &amp; c</title>"},
	} {
		base, cl := newServer(t, Config{Title: c.title})
		if _, body := do(t, cl, http.MethodGet, base+"/swagger/"); !strings.Contains(body, c.want) {
			t.Errorf("title %q: page lacks %s", c.title, c.want)
		}
	}
}

var scriptRE = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script\s*>`)

// TestNoInlineScript: every <script> in the page has a src and no code, so
// the page works under script-src 'self'.
func TestNoInlineScript(t *testing.T) {
	base, c := newServer(t, Config{})
	for _, p := range []string{"/swagger/", "/swagger/oauth2-redirect.html"} {
		_, body := do(t, c, http.MethodGet, base+p)
		opens := strings.Count(strings.ToLower(body), "<script")
		ms := scriptRE.FindAllStringSubmatch(body, -1)
		if opens == 0 || len(ms) != opens {
			t.Fatalf("GET %s: %d <script openings, %d complete script elements", p, opens, len(ms))
		}
		for _, m := range ms {
			if !regexp.MustCompile(`(?i)\bsrc\s*=`).MatchString(m[1]) {
				t.Errorf("GET %s: script without src: %s", p, m[0])
			}
			if strings.TrimSpace(m[2]) != "" {
				t.Errorf("GET %s: script with inline code: %s", p, m[0])
			}
		}
		if regexp.MustCompile(`(?i)\son[a-z]+\s*=`).MatchString(body) {
			t.Errorf("GET %s: inline event handler attribute found", p)
		}
	}
}

func TestInitializer(t *testing.T) {
	base, c := newServer(t, Config{
		SpecURL:  "/api/openapi.yaml",
		ClientID: "my-client",
		Scopes:   []string{"openid", "api://x/.default"},
		Prefix:   "/docs/",
	})
	resp, body := do(t, c, http.MethodGet, base+"/docs/swagger-initializer.js")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	wantHeader(t, resp, "Content-Type", "text/javascript; charset=utf-8")
	wantHeader(t, resp, "Cache-Control", "no-cache")
	for _, s := range []string{
		`var specURL = "/api/openapi.yaml";`,
		`var prefix = "/docs/";`,
		`var clientId = "my-client";`,
		`var scopes = "openid api://x/.default";`,
		`url: specURL,`,
		`clientId: clientId,`,
		`usePkceWithAuthorizationCodeGrant: true,`,
		`scopes: scopes`,
		`oauth2RedirectUrl: window.location.origin + prefix + "oauth2-redirect.html",`,
		`persistAuthorization: true,`,
		`deepLinking: true,`,
		`tryItOutEnabled: false,`,
		`ui.initOAuth(`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("initializer lacks %s", s)
		}
	}
	if strings.Contains(body, "{{") {
		t.Error("initializer contains unrendered template actions")
	}

	// The page under the custom prefix points at the custom initializer.
	_, page := do(t, c, http.MethodGet, base+"/docs/")
	if !strings.Contains(page, `src="/docs/swagger-initializer.js"`) {
		t.Error("page under /docs/ does not reference /docs/swagger-initializer.js")
	}
}

func TestInitializerDefaults(t *testing.T) {
	base, c := newServer(t, Config{})
	_, body := do(t, c, http.MethodGet, base+"/swagger/swagger-initializer.js")
	for _, s := range []string{
		`var specURL = "/openapi.yaml";`,
		`var prefix = "/swagger/";`,
		`var clientId = "swagger-ui";`,
		`var scopes = "openid profile api://management/.default";`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("initializer lacks %s", s)
		}
	}
}

// TestInitializerEscaping: hostile config values stay JS string literals.
func TestInitializerEscaping(t *testing.T) {
	base, c := newServer(t, Config{ClientID: "a\";alert(1);//</script>\u2028"})
	_, body := do(t, c, http.MethodGet, base+"/swagger/swagger-initializer.js")
	want := `var clientId = "a\";alert(1);//\u003c/script\u003e\u2028";`
	if !strings.Contains(body, want) {
		t.Errorf("initializer lacks %s", want)
	}
}

func TestStaticFiles(t *testing.T) {
	base, c := newServer(t, Config{})
	for name, ct := range map[string]string{
		"oauth2-redirect.html":            "text/html; charset=utf-8",
		"oauth2-redirect.js":              "text/javascript; charset=utf-8",
		"swagger-ui-bundle.js":            "text/javascript; charset=utf-8",
		"swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
		"swagger-ui.css":                  "text/css; charset=utf-8",
		"favicon-32x32.png":               "image/png",
		"favicon-16x16.png":               "image/png",
		"LICENSE":                         "text/plain; charset=utf-8",
	} {
		resp, body := do(t, c, http.MethodGet, base+"/swagger/"+name)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d", name, resp.StatusCode)
			continue
		}
		wantHeader(t, resp, "Content-Type", ct)
		wantHeader(t, resp, "Cache-Control", "public, max-age=3600")
		wantHeader(t, resp, "X-Content-Type-Options", "nosniff")
		want, err := os.ReadFile("dist/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if body != string(want) {
			t.Errorf("GET %s: body differs from dist/%s", name, name)
		}
	}
	resp, body := do(t, c, http.MethodGet, base+"/swagger/oauth2-redirect.html")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "oauth2-redirect.js") {
		t.Errorf("oauth2-redirect.html: status %d, body %q", resp.StatusCode, body)
	}
}

func TestHeadAndConditional(t *testing.T) {
	base, c := newServer(t, Config{})
	resp, body := do(t, c, http.MethodHead, base+"/swagger/swagger-ui.css")
	if resp.StatusCode != http.StatusOK || body != "" {
		t.Fatalf("HEAD: status %d, %d body bytes", resp.StatusCode, len(body))
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/swagger/swagger-ui.css", nil)
	req.Header.Set("If-None-Match", etag)
	r2, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", r2.StatusCode)
	}
}

func TestRedirect(t *testing.T) {
	base, c := newServer(t, Config{})
	resp, _ := do(t, c, http.MethodGet, base+"/swagger")
	if resp.StatusCode != http.StatusMovedPermanently {
		t.Fatalf("GET /swagger: status %d, want 301", resp.StatusCode)
	}
	wantHeader(t, resp, "Location", "/swagger/")

	resp, _ = do(t, c, http.MethodGet, base+"/swagger?x=1")
	wantHeader(t, resp, "Location", "/swagger/?x=1")
}

func TestNotFound(t *testing.T) {
	base, c := newServer(t, Config{})
	for _, p := range []string{
		"/swagger/nope.js",
		"/swagger/swagger-ui-bundle.js.map",
		"/swagger/swagger-ui-es-bundle.js",
		"/swagger/dist/swagger-ui.css",
		"/swagger/templates/index.html.tmpl",
		"/swagger/sub/",
		"/swaggerx",
		"/other",
		"/",
	} {
		resp, _ := do(t, c, http.MethodGet, base+p)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, resp.StatusCode)
		}
	}
}

func TestMethodNotAllowed(t *testing.T) {
	base, c := newServer(t, Config{})
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		for _, p := range []string{"/swagger/", "/swagger/swagger-ui.css"} {
			resp, _ := do(t, c, m, base+p)
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: status %d, want 405", m, p, resp.StatusCode)
			}
			wantHeader(t, resp, "Allow", "GET, HEAD")
		}
	}
}

// TestMux: the handler works mounted on a ServeMux without stripping.
func TestMux(t *testing.T) {
	h := Handler(Config{Prefix: "/swagger/"})
	mux := http.NewServeMux()
	mux.Handle("/swagger/", h)
	mux.Handle("/swagger", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for p, want := range map[string]int{
		"/swagger":                      http.StatusMovedPermanently,
		"/swagger/":                     http.StatusOK,
		"/swagger/oauth2-redirect.html": http.StatusOK,
	} {
		resp, _ := do(t, c, http.MethodGet, srv.URL+p)
		if resp.StatusCode != want {
			t.Errorf("GET %s: status %d, want %d", p, resp.StatusCode, want)
		}
	}
}

func TestPrefixNormalized(t *testing.T) {
	base, c := newServer(t, Config{Prefix: "docs"})
	resp, _ := do(t, c, http.MethodGet, base+"/docs/")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /docs/: status %d", resp.StatusCode)
	}
}

// TestPin: VERSION, the Version constant and dist/ agree.
func TestPin(t *testing.T) {
	v, err := os.ReadFile("VERSION")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(v)); got != Version {
		t.Errorf("VERSION file %q != Version constant %q", got, Version)
	}
	if !regexp.MustCompile(`^5\.\d+\.\d+$`).MatchString(Version) {
		t.Errorf("Version %q is not 5.x.y", Version)
	}
	entries, err := os.ReadDir("dist")
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{
		"swagger-ui-bundle.js": true, "swagger-ui-standalone-preset.js": true, "swagger-ui.css": true,
		"oauth2-redirect.html": true, "oauth2-redirect.js": true, "favicon-32x32.png": true,
		"favicon-16x16.png": true, "LICENSE": true, "NOTICE": true,
	}
	for _, e := range entries {
		if !allowed[e.Name()] {
			t.Errorf("unexpected file dist/%s", e.Name())
		}
	}
}
