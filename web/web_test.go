package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, path string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func checkSecurityHeaders(t *testing.T, path string, resp *http.Response) {
	t.Helper()
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self'",
		"connect-src 'self'",
		"img-src 'self' data:",
	} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: CSP %q lacks %q", path, csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("%s: CSP must not allow unsafe-inline/unsafe-eval: %q", path, csp)
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options = %q", path, got)
	}
	if got := resp.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("%s: Referrer-Policy = %q", path, got)
	}
}

func TestServesPagesAndAssets(t *testing.T) {
	h := Handler()
	cases := []struct {
		path, ctype, contains string
	}{
		{"/", "text/html; charset=utf-8", "<title>bcast</title>"},
		{"/publish", "text/html; charset=utf-8", `id="publish-form"`},
		{"/static/style.css", "text/css; charset=utf-8", "--bg"},
		{"/static/player.js", "text/javascript; charset=utf-8", "bcastStats"},
		{"/static/publish.js", "text/javascript; charset=utf-8", "bcastPublishState"},
		{"/static/common.js", "text/javascript; charset=utf-8", "waitForIceGathering"},
		{"/static/chat.js", "text/javascript; charset=utf-8", "bcastChat"},
		{"/static/favicon.svg", "image/svg+xml", "<svg"},
	}
	for _, c := range cases {
		resp := get(t, h, http.MethodGet, c.path, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d", c.path, resp.StatusCode)
			continue
		}
		if got := resp.Header.Get("Content-Type"); got != c.ctype {
			t.Errorf("%s: Content-Type = %q, want %q", c.path, got, c.ctype)
		}
		if got := resp.Header.Get("Cache-Control"); got != "no-cache" {
			t.Errorf("%s: Cache-Control = %q, want no-cache", c.path, got)
		}
		checkSecurityHeaders(t, c.path, resp)
		if b := body(t, resp); !strings.Contains(b, c.contains) {
			t.Errorf("%s: body lacks %q", c.path, c.contains)
		}

		// HEAD works and revalidation with the ETag gives 304.
		if resp := get(t, h, http.MethodHead, c.path, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("HEAD %s: status %d", c.path, resp.StatusCode)
		}
		etag := resp.Header.Get("ETag")
		if etag == "" {
			t.Errorf("%s: no ETag", c.path)
		} else if resp := get(t, h, http.MethodGet, c.path, map[string]string{"If-None-Match": etag}); resp.StatusCode != http.StatusNotModified {
			t.Errorf("%s: conditional GET status %d, want 304", c.path, resp.StatusCode)
		}
	}
}

func TestNotFound(t *testing.T) {
	h := Handler()
	for _, p := range []string{
		"/nope", "/index.html", "/publish/", "/publish.html", "/static", "/static/",
		"/static/nope.js", "/static/../pages/index.html", "/pages/index.html", "/api/streams",
	} {
		resp := get(t, h, http.MethodGet, p, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, resp.StatusCode)
		}
		checkSecurityHeaders(t, p, resp)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	resp := get(t, Handler(), http.MethodPost, "/", nil)
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST /: status %d, want 405", resp.StatusCode)
	}
	if got := resp.Header.Get("Allow"); got != "GET, HEAD" {
		t.Errorf("Allow = %q", got)
	}
}

var (
	scriptRe    = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script\s*>`)
	tagRe       = regexp.MustCompile(`(?s)<[a-zA-Z][^>]*>`)
	styleAttrRe = regexp.MustCompile(`(?i)\sstyle\s*=`)
	handlerRe   = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	refRe       = regexp.MustCompile(`(?i)\s(?:src|href)\s*=\s*"(/static/[^"]+)"`)
)

// TestHTMLIsCSPClean makes sure the strict CSP holds: no inline scripts,
// no inline styles or event handler attributes, no external resources, and
// every referenced asset exists.
func TestHTMLIsCSPClean(t *testing.T) {
	h := Handler()
	for _, page := range []string{"/", "/publish"} {
		html := body(t, get(t, h, http.MethodGet, page, nil))

		scripts := scriptRe.FindAllStringSubmatch(html, -1)
		if len(scripts) == 0 {
			t.Errorf("%s: no <script> element", page)
		}
		for _, m := range scripts {
			if strings.TrimSpace(m[2]) != "" {
				t.Errorf("%s: inline script body: %.80q", page, m[2])
			}
			if !strings.Contains(m[1], `src="/static/`) {
				t.Errorf("%s: script without same-origin src: %q", page, m[1])
			}
		}
		if regexp.MustCompile(`(?i)<style\b`).MatchString(html) {
			t.Errorf("%s: inline <style> element", page)
		}
		for _, tag := range tagRe.FindAllString(html, -1) {
			if styleAttrRe.MatchString(tag) {
				t.Errorf("%s: inline style attribute in %q", page, tag)
			}
			if handlerRe.MatchString(tag) {
				t.Errorf("%s: inline event handler in %q", page, tag)
			}
		}
		if strings.Contains(html, "javascript:") {
			t.Errorf("%s: javascript: URL", page)
		}
		for _, ext := range []string{`src="http`, `href="http`, `src="//`, `href="//`} {
			if strings.Contains(html, ext) {
				t.Errorf("%s: external resource (%s…); pages must work offline", page, ext)
			}
		}
		refs := refRe.FindAllStringSubmatch(html, -1)
		if len(refs) == 0 {
			t.Errorf("%s: references no /static/ assets", page)
		}
		for _, m := range refs {
			if resp := get(t, h, http.MethodGet, m[1], nil); resp.StatusCode != http.StatusOK {
				t.Errorf("%s references %s which is %d", page, m[1], resp.StatusCode)
			}
		}
	}
}

// TestPageElements pins the element ids and hooks automated browser tests rely on.
func TestPageElements(t *testing.T) {
	h := Handler()
	want := map[string][]string{
		"/": {
			`<title>bcast</title>`,
			`id="video" autoplay muted playsinline`,
			`id="unmute"`, `id="overlay-text"`, `id="stats"`, `id="streams"`,
			`id="viewers"`, `id="media-info"`,
			`<section id="chat" class="side-col" aria-label="Chat" hidden>`,
			`id="chat-list"`, `id="chat-nick"`, `id="chat-input"`, `id="chat-count"`, `id="chat-send"`,
			`id="chat-status"`, `id="chat-notice"`, `id="chat-admin"`, `id="chat-slow"`, `id="chat-toggle"`,
		},
		"/static/chat.js": {
			"window.bcastChat", "textContent", "/api/chat/", "/api/admin/actions", "history.replaceState",
			"sessionStorage", "localStorage", "Authorization", "by: 'web'", "backoffDelay",
		},
		"/publish": {
			`id="stream"`, `id="token" name="token" type="password"`, `id="source"`,
			`id="resolution"`, `id="start"`, `id="stop"`, `id="preview" autoplay muted`,
			`id="status"`, `id="obs-hint"`,
			`<option value="720" selected>720p</option>`, `<option value="1080">1080p</option>`,
			`<option value="480">480p</option>`,
		},
		"/static/player.js": {
			"window.bcastState", "window.bcastStats", "framesDecoded", "framesPerSecond",
			"packetsLost", "bytesReceived", "audioPacketsReceived", "connectionState",
			"Waiting for the stream to start…", "Server full, retrying in", "Connection lost, reconnecting…",
			"Your browser cannot play this stream's codec: ", "keepalive",
		},
		"/static/publish.js": {
			"window.bcastPublishState", "window.bcastPublishError", "wrong publish token",
			"autostart", "history.replaceState", "sessionStorage", "direction: 'sendonly'", "maxBitrate",
		},
	}
	for path, needles := range want {
		b := body(t, get(t, h, http.MethodGet, path, nil))
		for _, n := range needles {
			if !strings.Contains(b, n) {
				t.Errorf("%s lacks %q", path, n)
			}
		}
	}
}
