// Package web serves bcast's browser pages: the player ("/") and the
// publish page ("/publish"), plus their static assets under "/static/".
//
// Everything is embedded with go:embed; there is no build step and no
// external asset, so the pages work offline. The pages use no inline
// scripts or styles, which lets the handler send a strict
// Content-Security-Policy.
package web

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

//go:embed pages static
var files embed.FS

// ContentSecurityPolicy is sent with every response of Handler. The pages
// only talk to their own origin (fetch to /api/...); WebRTC media arrives
// via srcObject, which media-src does not govern, but blob:/mediastream:
// are allowed in case a browser treats it as a media load.
const ContentSecurityPolicy = "default-src 'self'; " +
	"script-src 'self'; " +
	"style-src 'self'; " +
	"img-src 'self' data:; " +
	"media-src 'self' blob: mediastream:; " +
	"connect-src 'self'; " +
	"font-src 'self'; " +
	"object-src 'none'; " +
	"base-uri 'none'; " +
	"form-action 'self'; " +
	"frame-ancestors 'none'"

type asset struct {
	body        []byte
	contentType string
	etag        string
}

// routes maps request paths to embedded files. Built once at init.
var routes = buildRoutes()

// modTime is used for Last-Modified-less ServeContent calls; the zero time
// disables Last-Modified (ETag is used for revalidation instead).
var modTime time.Time

var contentTypes = map[string]string{
	".html":  "text/html; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".mjs":   "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".ico":   "image/x-icon",
	".json":  "application/json",
	".txt":   "text/plain; charset=utf-8",
	".woff2": "font/woff2",
}

func load(name string) asset {
	b, err := files.ReadFile(name)
	if err != nil {
		panic("web: missing embedded file " + name + ": " + err.Error())
	}
	ct, ok := contentTypes[path.Ext(name)]
	if !ok {
		ct = http.DetectContentType(b)
	}
	sum := sha256.Sum256(b)
	return asset{body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

func buildRoutes() map[string]asset {
	r := map[string]asset{
		"/":        load("pages/index.html"),
		"/publish": load("pages/publish.html"),
	}
	err := fs.WalkDir(files, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		r["/"+p] = load(p)
		return nil
	})
	if err != nil {
		panic("web: walking embedded files: " + err.Error())
	}
	return r
}

// Handler serves the embedded pages: "/" (player), "/publish" (publish
// page), and their static assets under "/static/". Any other path gets a
// 404. Only GET and HEAD are allowed.
//
// All responses carry a strict Content-Security-Policy,
// X-Content-Type-Options: nosniff and Referrer-Policy: no-referrer. Every
// file is sent with Cache-Control: no-cache and a content-hash ETag, so
// browsers revalidate cheaply (304) and never run stale assets after an
// upgrade.
func Handler() http.Handler {
	return http.HandlerFunc(serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")

	a, ok := routes[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	if strings.HasPrefix(a.contentType, "text/html") {
		// Pages ask for camera/microphone/screen only on /publish.
		h.Set("Permissions-Policy", "camera=(self), microphone=(self), display-capture=(self)")
	}
	http.ServeContent(w, r, "", modTime, bytes.NewReader(a.body))
}
