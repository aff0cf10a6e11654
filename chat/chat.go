// Package chat is the per-stream web chat: WebSocket connections, history,
// moderation and abuse limits, and the chat log kept beside the dumps.
//
// Each stream has a room. A room lives in memory while someone is connected
// or while it holds something worth keeping (history, bans, settings), so
// viewers may chat before the stream goes live and after it ends. The wire
// protocol is described in docs/CHAT.md.
package chat

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/bcastdev/bcast/server/status"
)

// Sentinel errors of Do; the admin API maps them to 404 and 400.
var (
	ErrNotFound = errors.New("not found")
	ErrInvalid  = errors.New("invalid chat action")
)

// Options configure a Hub.
type Options struct {
	Logger *slog.Logger
	// Dir is the dump directory: the chat log of stream S is written to
	// Dir/S/chat-<UTC start>.jsonl. Empty disables the log.
	Dir string
	// IsAdmin checks an admin token in constant time. Nil means nobody is
	// an admin; an empty token is never asked about.
	IsAdmin func(token string) bool
	// OnEvent receives chat messages and moderation actions; it must not block.
	OnEvent func(status.Event)
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
	// Limits bound clients, addresses and rooms; zero fields take defaults.
	Limits Limits
	// ClientAddr tells the client's address (host or host:port) for
	// per-address limits, bans and the moderators' view; the server's
	// follows X-Forwarded-For from trusted proxies (--trusted-proxies).
	// Nil means the TCP peer.
	ClientAddr func(r *http.Request) string
	// OriginPatterns are extra Origins allowed to open the WebSocket
	// besides the request's own host (coder/websocket AcceptOptions
	// semantics: host patterns matched with path.Match).
	OriginPatterns []string
}

// Hub holds the chat rooms of all streams.
type Hub struct {
	opts    Options
	lim     Limits
	log     *slog.Logger
	now     func() time.Time
	key     []byte   // HMAC key that turns session secrets into public user ids
	chatlog *chatLog // nil when Options.Dir is empty
	addrs   addrTable

	ctx     context.Context // cancelled when Close gives up waiting
	cancel  context.CancelFunc
	closing context.Context // cancelled when Close starts
	stop    context.CancelFunc

	mu     sync.Mutex
	rooms  map[string]*room
	conns  map[*conn]struct{}
	closed bool
	wg     sync.WaitGroup // one per ServeHTTP that got past the closed check
}

// New creates a Hub.
func New(opts Options) *Hub {
	h := &Hub{
		opts:  opts,
		lim:   opts.Limits.withDefaults(),
		log:   opts.Logger,
		now:   opts.Now,
		key:   make([]byte, 32),
		rooms: make(map[string]*room),
		conns: make(map[*conn]struct{}),
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	rand.Read(h.key)
	h.addrs.m = make(map[string]*addrState)
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.closing, h.stop = context.WithCancel(context.Background())
	if opts.Dir != "" {
		h.chatlog = newChatLog(opts.Dir, h.log)
	}
	return h
}

// State returns the stream's chat as moderators see it, nil when the stream
// has no chat room.
func (h *Hub) State(stream string) *status.Chat {
	h.mu.Lock()
	r := h.rooms[stream]
	h.mu.Unlock()
	if r == nil {
		return nil
	}
	return r.state()
}

// Rooms lists the streams that have a chat room, sorted.
func (h *Hub) Rooms() []string {
	h.mu.Lock()
	out := make([]string, 0, len(h.rooms))
	for name := range h.rooms {
		out = append(out, name)
	}
	h.mu.Unlock()
	slices.Sort(out)
	return out
}

// closeGrace is how long Close waits for clients to answer the close
// handshake; browsers answer at once.
const closeGrace = 2 * time.Second

// Close tells every client the server is going away, waits a little for
// the close handshakes, and then flushes and closes the chat logs.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	h.stop()
	for c := range h.conns {
		c.end(websocket.StatusGoingAway, "server shutting down")
	}
	h.mu.Unlock()

	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(closeGrace):
		h.cancel() // drop whoever has not finished the handshake
		<-done
	}
	h.cancel()
	if h.chatlog != nil {
		h.chatlog.close()
	}
	return nil
}

// room returns the stream's room. With create it makes one, evicting the
// longest idle room without connections when Limits.Rooms is reached.
func (h *Hub) room(name string, create bool) (*room, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r := h.rooms[name]; r != nil || !create {
		return r, nil
	}
	if len(h.rooms) >= h.lim.Rooms && !h.evictLocked() {
		// Neither sentinel: the admin API answers 503, try again later.
		return nil, fmt.Errorf("chat: all %d chat rooms are in use", h.lim.Rooms)
	}
	r := newRoom(h, name)
	h.rooms[name] = r
	return r, nil
}

// evictLocked drops the idle room that was active longest ago. Rooms with
// connections or active bans stay.
func (h *Hub) evictLocked() bool {
	var victim *room
	var since time.Time
	for _, r := range h.rooms {
		idle, at := r.evictable()
		if idle && (victim == nil || at.Before(since)) {
			victim, since = r, at
		}
	}
	if victim == nil {
		return false
	}
	h.dropLocked(victim)
	return true
}

// dropIdle forgets r if nothing in it is worth keeping.
func (h *Hub) dropIdle(r *room) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.rooms[r.name] == r && r.trivial() {
		h.dropLocked(r)
	}
}

func (h *Hub) dropLocked(r *room) {
	r.kill()
	delete(h.rooms, r.name)
	if h.chatlog != nil {
		h.chatlog.forget(r.name)
	}
}

// emit hands ev to OnEvent.
func (h *Hub) emit(ev status.Event) {
	if h.opts.OnEvent != nil {
		h.opts.OnEvent(ev)
	}
}

// isAdmin checks a token offered in a join.
func (h *Hub) isAdmin(token string) bool {
	return token != "" && h.opts.IsAdmin != nil && h.opts.IsAdmin(token)
}
