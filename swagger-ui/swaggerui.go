package swaggerui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	htmltemplate "html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"text/template"
	"time"
)

// Version is the pinned swagger-ui-dist version.
const Version = "5.35.0"

// Defaults used for empty Config fields.
const (
	DefaultSpecURL  = "/openapi.yaml"
	DefaultClientID = "swagger-ui"
	DefaultPrefix   = "/swagger/"
	DefaultTitle    = "Swagger UI"
)

// DefaultScopes are the scopes requested by the Authorize dialog when
// Config.Scopes is nil.
var DefaultScopes = []string{"openid", "profile", "api://management/.default"}

// Config configures the embedded Swagger UI.
type Config struct {
	SpecURL  string   // e.g. "/openapi.yaml"; DefaultSpecURL if empty
	ClientID string   // public client of the authorization code flow, e.g. "swagger-ui" (pre-filled in that flow only); DefaultClientID if empty
	Scopes   []string // scopes preselected in the Authorize dialog; DefaultScopes if nil
	Prefix   string   // mount prefix with trailing slash, e.g. "/swagger/"; DefaultPrefix if empty
	Title    string   // the page's title, e.g. "twinid API"; DefaultTitle if empty
}

//go:embed dist
var distFS embed.FS

//go:embed templates/index.html.tmpl
var indexTemplate string

//go:embed templates/swagger-initializer.js.tmpl
var initializerTemplate string

const (
	indexName       = "index.html"
	initializerName = "swagger-initializer.js"

	cacheStatic  = "public, max-age=3600"
	cacheNoCache = "no-cache"
)

// contentTypes is fixed here rather than taken from package mime, whose
// answers depend on the host's mime.types files.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".png":  "image/png",
	"":      "text/plain; charset=utf-8", // LICENSE, NOTICE
}

// file is one fully prepared response body.
type file struct {
	body         []byte
	contentType  string
	cacheControl string
	etag         string
}

func newFile(name string, body []byte, cacheControl string) *file {
	ct, ok := contentTypes[path.Ext(name)]
	if !ok {
		ct = "application/octet-stream"
	}
	sum := sha256.Sum256(body)
	return &file{
		body:         body,
		contentType:  ct,
		cacheControl: cacheControl,
		etag:         `"` + hex.EncodeToString(sum[:16]) + `"`,
	}
}

// normalize fills defaults and makes Prefix start and end with "/".
func (cfg Config) normalize() Config {
	if cfg.SpecURL == "" {
		cfg.SpecURL = DefaultSpecURL
	}
	if cfg.ClientID == "" {
		cfg.ClientID = DefaultClientID
	}
	if cfg.Scopes == nil {
		cfg.Scopes = DefaultScopes
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.Title == "" {
		cfg.Title = DefaultTitle
	}
	if !strings.HasPrefix(cfg.Prefix, "/") {
		cfg.Prefix = "/" + cfg.Prefix
	}
	if !strings.HasSuffix(cfg.Prefix, "/") {
		cfg.Prefix += "/"
	}
	return cfg
}

// jsLiteral encodes v as a JavaScript literal. encoding/json escapes <, >, &,
// U+2028 and U+2029, so the result is safe anywhere in a script.
func jsLiteral(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func render(cfg Config) (index, initializer []byte, err error) {
	var buf bytes.Buffer
	t := htmltemplate.Must(htmltemplate.New(indexName).Parse(indexTemplate))
	if err := t.Execute(&buf, struct{ Prefix, Title string }{cfg.Prefix, cfg.Title}); err != nil {
		return nil, nil, err
	}
	index = bytes.Clone(buf.Bytes())

	vals := map[string]any{
		"SpecURL":  cfg.SpecURL,
		"Prefix":   cfg.Prefix,
		"ClientID": cfg.ClientID,
		"Scopes":   strings.Join(cfg.Scopes, " "),
	}
	lits := make(map[string]string, len(vals))
	for k, v := range vals {
		if lits[k], err = jsLiteral(v); err != nil {
			return nil, nil, err
		}
	}
	buf.Reset()
	jt := template.Must(template.New(initializerName).Option("missingkey=error").Parse(initializerTemplate))
	if err := jt.Execute(&buf, lits); err != nil {
		return nil, nil, err
	}
	return index, bytes.Clone(buf.Bytes()), nil
}

type handler struct {
	prefix string
	files  map[string]*file // keyed by the path below prefix
}

// Handler serves the UI under cfg.Prefix (the caller strips nothing; Handler
// handles full paths starting with Prefix).
//
// Prefix and Prefix+"index.html" serve the page, the prefix without its
// trailing slash redirects (301) to Prefix, and the embedded swagger-ui-dist
// files are served below Prefix. Anything else is 404; methods other than GET
// and HEAD get 405. Handler panics only if the embedded assets are broken.
func Handler(cfg Config) http.Handler {
	cfg = cfg.normalize()
	index, initializer, err := render(cfg)
	if err != nil {
		panic("swaggerui: rendering templates: " + err.Error())
	}
	h := &handler{prefix: cfg.Prefix, files: map[string]*file{}}
	entries, err := fs.ReadDir(distFS, "dist")
	if err != nil {
		panic("swaggerui: reading embedded dist: " + err.Error())
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		body, err := distFS.ReadFile("dist/" + e.Name())
		if err != nil {
			panic("swaggerui: reading embedded dist: " + err.Error())
		}
		h.files[e.Name()] = newFile(e.Name(), body, cacheStatic)
	}
	page := newFile(indexName, index, cacheNoCache)
	h.files[""] = page
	h.files[indexName] = page
	h.files[initializerName] = newFile(initializerName, initializer, cacheNoCache)
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	if bare := strings.TrimSuffix(h.prefix, "/"); bare != "" && p == bare {
		target := h.prefix
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
		return
	}
	name, ok := strings.CutPrefix(p, h.prefix)
	f := h.files[name]
	if !ok || f == nil {
		http.NotFound(w, r)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", f.contentType)
	hdr.Set("Cache-Control", f.cacheControl)
	hdr.Set("ETag", f.etag)
	hdr.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
}
