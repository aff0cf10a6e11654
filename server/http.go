package server

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bcastdev/bcast/config"
	"github.com/bcastdev/bcast/server/status"
	"github.com/bcastdev/bcast/web"
)

// maxSDP bounds offer bodies: real offers are a few KiB; anything near this
// is abuse or a bug, and reading it unbounded would let one client exhaust
// memory.
const maxSDP = 64 << 10

// Handler returns the server's HTTP routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/whip/{stream}", s.handleWHIP)
	mux.HandleFunc("DELETE /api/whip/{stream}/{id}", s.handleWHIPDelete)
	mux.HandleFunc("PATCH /api/whip/{stream}/{id}", s.handleNoTrickle)
	mux.HandleFunc("POST /api/whep/{stream}", s.handleWHEP)
	mux.HandleFunc("DELETE /api/whep/{stream}/{id}", s.handleWHEPDelete)
	mux.HandleFunc("PATCH /api/whep/{stream}/{id}", s.handleNoTrickle)
	mux.HandleFunc("OPTIONS /api/whip/", s.handleOptions)
	mux.HandleFunc("OPTIONS /api/whep/", s.handleOptions)
	mux.HandleFunc("GET /api/streams", s.handleStreams)
	mux.HandleFunc("GET /api/admin/streams/{stream}/viewers", s.handleAdminViewers)
	mux.HandleFunc("POST /api/admin/streams/{stream}/viewers/{id}/capture", s.handleCapture)
	mux.HandleFunc("DELETE /api/admin/streams/{stream}/viewers/{id}/capture", s.handleCapture)
	mux.HandleFunc("DELETE /api/admin/streams/{stream}/viewers/{id}", s.handleKick)
	mux.HandleFunc("POST /api/admin/actions", s.handleActions)
	mux.HandleFunc("GET /api/admin/snapshot", s.handleSnapshot)
	mux.HandleFunc("GET /api/admin/events", s.handleEvents)
	mux.Handle("GET /api/chat/{stream}", s.chat)
	mux.HandleFunc("GET /api/config", s.handleConfig)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{Registry: s.metrics.reg}))
	mux.Handle("/", web.Handler())
	return s.middleware(mux)
}

// statusRecorder captures the status code for metrics and logs.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// middleware adds CORS on the WHIP/WHEP endpoints (browsers on other
// origins publish and play, RFC 9725 §4.7), counts status codes, and turns a
// panic in a handler into a 500 instead of a dead process.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/whip/") || strings.HasPrefix(r.URL.Path, "/api/whep/") {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", "*")
			h.Set("Access-Control-Allow-Methods", "POST, DELETE, PATCH, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")
			h.Set("Access-Control-Expose-Headers", "Location, Link, ETag, Retry-After, Accept-Patch")
			h.Set("Access-Control-Max-Age", "86400")
		}
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic in HTTP handler", "path", r.URL.Path, "panic", fmt.Sprint(p))
				if rec.code == 0 {
					httpError(rec, http.StatusInternalServerError, "internal error")
				}
			}
			code := rec.code
			if code == 0 {
				code = http.StatusOK
			}
			s.metrics.http.WithLabelValues(route(r), strconv.Itoa(code)).Inc()
			if code >= 400 {
				s.httpErrors.Add(1)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// route is a low-cardinality label for a request path.
func route(r *http.Request) string {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/api/whip/"):
		return "whip"
	case strings.HasPrefix(p, "/api/whep/"):
		return "whep"
	case strings.HasPrefix(p, "/api/"):
		return "api"
	case p == "/metrics":
		return "metrics"
	}
	return "web"
}

// httpError writes a one-line plain-text reason with the status.
func httpError(w http.ResponseWriter, code int, reason string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, strings.ReplaceAll(reason, "\n", " ")+"\n")
}

// bearer checks "Authorization: Bearer <token>" in constant time.
func bearer(r *http.Request, token string) bool {
	h := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return false
	}
	got := strings.TrimSpace(h[len(prefix):])
	return subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}

// readOffer checks Content-Type and size and returns the SDP body, or writes
// the error response and returns false.
func readOffer(w http.ResponseWriter, r *http.Request) (string, bool) {
	ct := strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0]))
	if ct != "application/sdp" {
		httpError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type must be application/sdp, got %q", ct))
		return "", false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSDP+1))
	if err != nil {
		httpError(w, http.StatusBadRequest, "reading offer: "+err.Error())
		return "", false
	}
	if len(body) > maxSDP {
		httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("SDP offer larger than %d bytes", maxSDP))
		return "", false
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		httpError(w, http.StatusBadRequest, "empty SDP offer")
		return "", false
	}
	return string(body), true
}

// checkStream validates the {stream} path value.
func checkStream(w http.ResponseWriter, r *http.Request) (string, bool) {
	name := r.PathValue("stream")
	if !status.ValidStreamName(name) {
		httpError(w, http.StatusBadRequest, "stream name must be 1-64 characters of A-Z a-z 0-9 _ -")
		return "", false
	}
	return name, true
}

// iceLinks advertises ICE servers in Link headers (RFC 9725 §4.6).
func (s *Server) iceLinks(w http.ResponseWriter) {
	for _, srv := range s.cfg.ICEServers {
		for _, u := range srv.URLs {
			link := fmt.Sprintf("<%s>; rel=\"ice-server\"", u)
			if srv.Username != "" {
				link += fmt.Sprintf("; username=%q; credential=%q; credential-type=\"password\"", srv.Username, srv.Credential)
			}
			w.Header().Add("Link", link)
		}
	}
}

func (s *Server) handleOptions(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Accept-Post", "application/sdp")
	w.WriteHeader(http.StatusNoContent)
}

// handleNoTrickle answers trickle-ICE/ICE-restart PATCHes: bcast gathers all
// candidates before answering, so there is nothing to trickle (RFC 9725 §4.3.1).
func (s *Server) handleNoTrickle(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Allow", "POST, DELETE, OPTIONS")
	httpError(w, http.StatusMethodNotAllowed, "trickle ICE and ICE restarts are not supported; send a full offer")
}

func (s *Server) handleStreams(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, s.Streams(bearer(r, s.cfg.AdminToken)))
}

func (s *Server) handleConfig(w http.ResponseWriter, _ *http.Request) {
	servers := s.cfg.ICEServers
	if servers == nil {
		servers = []config.ICEServer{}
	}
	writeJSON(w, map[string]any{"iceServers": servers})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// logRequest logs a failed signalling request without its secrets.
func (s *Server) logReject(r *http.Request, code int, reason string) {
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "request refused",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", code), slog.String("reason", reason), slog.String("remote", s.clientAddr(r)))
}

// clientAddr is the address of the client behind r: the TCP peer, or —
// when the peer is a trusted reverse proxy (--trusted-proxies) — the
// right-most X-Forwarded-For entry that is not itself a trusted proxy.
// Entries left of that are the client's own claims and are ignored.
func (s *Server) clientAddr(r *http.Request) string {
	peer := r.RemoteAddr
	host, _, err := net.SplitHostPort(peer)
	if err != nil {
		host = peer
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !s.trusted(ip) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed hop: stop at the last address we could trust
		}
		if !s.trusted(hop) {
			return hop.String()
		}
	}
	return peer
}

func (s *Server) trusted(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
