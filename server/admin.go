package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/bcastdev/bcast/chat"
	"github.com/bcastdev/bcast/server/status"
)

// Errors of Do, mapped to HTTP 404 and 400 by the admin API.
var (
	ErrNotFound = errors.New("not found")
	ErrInvalid  = errors.New("invalid action")
)

// Do applies an operator action: the one path for the console, the admin
// API and the web page's admin mode. Every applied action is logged and
// published as an event.
func (s *Server) Do(a status.Action) error {
	if a.By == "" {
		a.By = "api"
	}
	text, err := s.apply(a)
	if err != nil {
		s.log.Info("operator action refused", "kind", a.Kind, "stream", a.Stream, "by", a.By, "err", err)
		return err
	}
	if text == "" {
		return nil // chat actions log and publish themselves
	}
	s.log.Info("operator action", "kind", a.Kind, "stream", a.Stream, "by", a.By, "result", text)
	s.events.Publish(status.Event{Kind: status.EventAction, Stream: a.Stream, Level: "info", Text: text + " (by " + a.By + ")"})
	return nil
}

func (s *Server) apply(a status.Action) (string, error) {
	switch a.Kind {
	case status.ActionMaxViewers:
		if a.Value < 0 {
			return "", fmt.Errorf("%w: viewer limit must be 0 (unlimited) or more, got %d", ErrInvalid, a.Value)
		}
		s.SetMaxViewers(a.Value)
		if a.Value == 0 {
			return "viewer limit removed", nil
		}
		return fmt.Sprintf("viewer limit set to %d", a.Value), nil
	case status.ActionKick, status.ActionCaptureStart, status.ActionCaptureStop:
		st := s.getStream(a.Stream, false)
		var v *viewer
		if st != nil {
			v = st.viewerByID(a.Target)
		}
		if v == nil {
			return "", fmt.Errorf("%w: no viewer %q in stream %q", ErrNotFound, short(a.Target), a.Stream)
		}
		switch a.Kind {
		case status.ActionKick:
			st.removeViewer(v, "kicked by "+a.By)
			return fmt.Sprintf("viewer %d kicked", v.num), nil
		case status.ActionCaptureStart:
			w, err := s.startCapture(st, v)
			if err != nil {
				return "", fmt.Errorf("cannot capture viewer %d: %w", v.num, err)
			}
			return fmt.Sprintf("capture of viewer %d started: %s", v.num, w.Stats().Segment), nil
		default:
			s.stopCapture(st, v)
			return fmt.Sprintf("capture of viewer %d stopped", v.num), nil
		}
	case status.ActionChatDelete, status.ActionChatBan, status.ActionChatUnban, status.ActionChatTimeout,
		status.ActionChatSlow, status.ActionChatOn, status.ActionChatOff, status.ActionChatClear:
		if !status.ValidStreamName(a.Stream) {
			return "", fmt.Errorf("%w: stream name %q", ErrInvalid, a.Stream)
		}
		return "", s.chat.Do(a)
	}
	return "", fmt.Errorf("%w: unknown kind %q", ErrInvalid, a.Kind)
}

// admin checks the admin token, answering 401 itself when it is wrong.
func (s *Server) admin(w http.ResponseWriter, r *http.Request) bool {
	if bearer(r, s.cfg.AdminToken) {
		return true
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="bcast admin"`)
	s.logReject(r, http.StatusUnauthorized, "bad or missing admin token")
	httpError(w, http.StatusUnauthorized, "missing or wrong admin token (Authorization: Bearer <token>)")
	return false
}

func (s *Server) handleAdminViewers(w http.ResponseWriter, r *http.Request) {
	if !s.admin(w, r) {
		return
	}
	out := []status.Viewer{}
	if st := s.getStream(r.PathValue("stream"), false); st != nil {
		out = st.viewerList()
	}
	writeJSON(w, out)
}

// handleCapture starts (POST) or stops (DELETE) a viewer leg's capture.
func (s *Server) handleCapture(w http.ResponseWriter, r *http.Request) {
	kind := status.ActionCaptureStart
	if r.Method == http.MethodDelete {
		kind = status.ActionCaptureStop
	}
	s.handleAction(w, r, status.Action{Kind: kind, Stream: r.PathValue("stream"), Target: r.PathValue("id")}, func() any {
		if st := s.getStream(r.PathValue("stream"), false); st != nil {
			if v := st.viewerByID(r.PathValue("id")); v != nil {
				return v.status()
			}
		}
		return nil
	})
}

// handleKick ends a viewer's session (DELETE /api/admin/streams/{s}/viewers/{id}).
func (s *Server) handleKick(w http.ResponseWriter, r *http.Request) {
	s.handleAction(w, r, status.Action{Kind: status.ActionKick, Stream: r.PathValue("stream"), Target: r.PathValue("id")}, nil)
}

// handleActions applies one status.Action given as JSON (POST /api/admin/actions).
func (s *Server) handleActions(w http.ResponseWriter, r *http.Request) {
	if !s.admin(w, r) {
		return
	}
	var a status.Action
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		httpError(w, http.StatusBadRequest, "action must be a JSON object {kind, stream, target, seconds, value, by}: "+err.Error())
		return
	}
	s.handleAction(w, r, a, nil)
}

// handleAction runs a after checking the admin token, and answers with
// result() (or {"ok": true}).
func (s *Server) handleAction(w http.ResponseWriter, r *http.Request, a status.Action, result func() any) {
	if !s.admin(w, r) {
		return
	}
	if err := s.Do(a); err != nil {
		code := http.StatusServiceUnavailable
		switch {
		case errors.Is(err, ErrNotFound), errors.Is(err, chat.ErrNotFound):
			code = http.StatusNotFound
		case errors.Is(err, ErrInvalid), errors.Is(err, chat.ErrInvalid):
			code = http.StatusBadRequest
		}
		httpError(w, code, err.Error())
		return
	}
	var out any = map[string]bool{"ok": true}
	if result != nil {
		if v := result(); v != nil {
			out = v
		}
	}
	writeJSON(w, out)
}

// handleSnapshot serves the console's snapshot (GET /api/admin/snapshot).
//
// Consoles poll about four times a second, but rates and counters move once
// per housekeeping tick and everything else (joins, chat, actions) comes
// with an event, so the ETag is (tick, event count): an unchanged snapshot
// is a 304 without building or encoding anything. With a thousand viewers
// the JSON is ~250 KB; this keeps a remote console's decoding to about once
// a second. The body is compact JSON for the same reason.
func (s *Server) handleSnapshot(w http.ResponseWriter, r *http.Request) {
	if !s.admin(w, r) {
		return
	}
	etag := fmt.Sprintf(`"%d-%d"`, s.ticks.Load(), s.events.Seq())
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "no-cache")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s.Snapshot())
}

// handleEvents streams events as server-sent events (GET
// /api/admin/events): one "data: {json}" per event, a comment every 15 s
// so proxies keep the connection open. A console that reads too slowly
// loses the oldest events, never slows the server.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	if !s.admin(w, r) {
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_ = rc.Flush()
	ch, cancel := s.events.Subscribe(256)
	defer cancel()
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	stopping, _ := r.Context().Value(stoppingKey{}).(chan struct{})
	for {
		var err error
		select {
		case <-r.Context().Done():
			return
		case <-s.closed:
			return
		case <-stopping:
			return
		case <-keepalive.C:
			_, err = io.WriteString(w, ": keepalive\n\n")
		case ev := <-ch:
			b, _ := json.Marshal(ev)
			_, err = fmt.Fprintf(w, "data: %s\n\n", b)
		}
		if err == nil {
			err = rc.Flush()
		}
		if err != nil {
			return
		}
	}
}

// Local is the operator console's in-process view of a server: the same
// three calls as the admin API client, without HTTP.
type Local struct {
	s      *Server
	events <-chan status.Event
	cancel func()
}

// Local subscribes a console to s; call Close when the console ends.
func (s *Server) Local() *Local {
	ch, cancel := s.events.Subscribe(256)
	return &Local{s: s, events: ch, cancel: cancel}
}

// Snapshot returns s.Snapshot().
func (l *Local) Snapshot(context.Context) (status.Snapshot, error) { return l.s.Snapshot(), nil }

// Events returns the console's subscription.
func (l *Local) Events() <-chan status.Event { return l.events }

// Do applies a through s.Do.
func (l *Local) Do(_ context.Context, a status.Action) error { return l.s.Do(a) }

// Close ends the subscription.
func (l *Local) Close() { l.cancel() }
