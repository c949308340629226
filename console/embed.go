// Package console serves the admin console: a single-page app on the Management API, built
// from src/ with Vite (`make console`) into dist/, which is committed and embedded here, so
// `twinid serve` needs no Node at run time.
//
// Handler serves dist under /console/: hashed assets as immutable files, and index.html for
// the app's own paths (the sign-in callback among them). Every answer carries a
// Content-Security-Policy that allows only the console's own origin. It imports nothing of
// the project; the server mounts Handler. Start with Handler.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// Prefix is where the console is mounted.
const Prefix = "/console/"

// CSP allows scripts, styles, images and fetches from the console's own origin only.
const CSP = "default-src 'self'; base-uri 'none'; object-src 'none'; form-action 'self'; frame-ancestors 'none'"

//go:embed dist
var dist embed.FS

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

type file struct {
	body         []byte
	contentType  string
	cacheControl string
	etag         string
}

type handler struct{ files map[string]*file }

// Handler serves the embedded console below Prefix. It panics only if the embedded files
// are broken (a build without index.html).
func Handler() http.Handler {
	h := &handler{files: map[string]*file{}}
	err := fs.WalkDir(dist, "dist", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := dist.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "dist/")
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			ct = "application/octet-stream"
		}
		// Vite names assets by their content: they never change under one name.
		cache := "no-cache"
		if strings.HasPrefix(name, "assets/") {
			cache = "public, max-age=31536000, immutable"
		}
		sum := sha256.Sum256(body)
		h.files[name] = &file{body: body, contentType: ct, cacheControl: cache, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
		return nil
	})
	if err != nil || h.files["index.html"] == nil {
		panic("console: the embedded build is broken; run make console")
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", CSP)
	hdr.Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Path == strings.TrimSuffix(Prefix, "/") {
		http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	f := h.files[name]
	if f == nil {
		// The app's own routes (no file extension) get the page; a missing asset is a 404.
		if path.Ext(name) != "" {
			http.NotFound(w, r)
			return
		}
		f = h.files["index.html"]
	}
	hdr.Set("Content-Type", f.contentType)
	hdr.Set("Cache-Control", f.cacheControl)
	hdr.Set("ETag", f.etag)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
}
