package server

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bcastdev/bcast/server/status"
)

// Events fans discrete events (chat, joins, operator actions, alerts) out
// to consoles. Each subscriber has a bounded channel; when it is full the
// oldest event is dropped, so a slow or stuck console never makes the
// server wait.
type Events struct {
	mu   sync.Mutex
	subs map[chan status.Event]struct{}
	seq  atomic.Uint64 // events published so far
}

// NewEvents creates an empty event bus.
func NewEvents() *Events { return &Events{subs: make(map[chan status.Event]struct{})} }

// Publish delivers ev to every subscriber without blocking.
func (e *Events) Publish(ev status.Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	e.seq.Add(1)
	e.mu.Lock()
	defer e.mu.Unlock()
	for ch := range e.subs {
		select {
		case ch <- ev:
			continue
		default:
		}
		// Full: drop the oldest and try once more. Publishers hold e.mu, so
		// only the reader can race us, and it can only make room.
		select {
		case <-ch:
		default:
		}
		select {
		case ch <- ev:
		default:
		}
	}
}

// Seq counts the events published so far: a snapshot taken after a new
// event may differ from the one before.
func (e *Events) Seq() uint64 { return e.seq.Load() }

// Subscribe returns a channel of the next events, buffered to n, and a
// function that ends the subscription (and closes the channel).
func (e *Events) Subscribe(n int) (<-chan status.Event, func()) {
	if n < 1 {
		n = 1
	}
	ch := make(chan status.Event, n)
	e.mu.Lock()
	e.subs[ch] = struct{}{}
	e.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			e.mu.Lock()
			delete(e.subs, ch)
			e.mu.Unlock()
			close(ch)
		})
	}
}

// AlertHandler returns a slog.Handler that passes every record to next and
// also publishes records at level min or above as alert events, so that
// warnings reach the console's alert pane when logs go to a file.
func AlertHandler(next slog.Handler, ev *Events, min slog.Level) slog.Handler {
	return &alertHandler{next: next, ev: ev, min: min}
}

type alertHandler struct {
	next  slog.Handler
	ev    *Events
	min   slog.Level
	attrs []slog.Attr
}

func (h *alertHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min || h.next.Enabled(ctx, l)
}

func (h *alertHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= h.min {
		var b strings.Builder
		b.WriteString(r.Message)
		stream := ""
		add := func(a slog.Attr) bool {
			if a.Key == "stream" {
				stream = a.Value.String()
				return true
			}
			fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
			return true
		}
		for _, a := range h.attrs {
			add(a)
		}
		r.Attrs(add)
		level := "warn"
		if r.Level >= slog.LevelError {
			level = "error"
		}
		h.ev.Publish(status.Event{Time: r.Time, Kind: status.EventAlert, Stream: stream, Level: level, Text: b.String()})
	}
	if h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func (h *alertHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &alertHandler{next: h.next.WithAttrs(as), ev: h.ev, min: h.min, attrs: append(h.attrs[:len(h.attrs):len(h.attrs)], as...)}
}

// WithGroup keeps alert text flat: groups only matter to the log file.
func (h *alertHandler) WithGroup(name string) slog.Handler {
	return &alertHandler{next: h.next.WithGroup(name), ev: h.ev, min: h.min, attrs: h.attrs}
}
