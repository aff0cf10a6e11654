// Package chat is the per-stream web chat: WebSocket connections, history,
// moderation and abuse limits, and the chat log kept beside the dumps.
package chat

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/bcastdev/bcast/server/status"
)

// Errors of Hub.Do, mapped to HTTP 404 and 400 by the admin API.
var (
	ErrNotFound = errors.New("not found")
	ErrInvalid  = errors.New("invalid chat action")
)

// Options configure a Hub.
type Options struct {
	Logger  *slog.Logger
	Dir     string
	IsAdmin func(token string) bool
	OnEvent func(status.Event)
	Now     func() time.Time
}

// Hub holds the chat rooms of all streams (being built: answers 501).
type Hub struct{ opts Options }

// New creates a Hub.
func New(opts Options) *Hub { return &Hub{opts: opts} }

// ServeHTTP upgrades GET /api/chat/{stream} to a WebSocket.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "chat not implemented yet", http.StatusNotImplemented)
}

// Do applies a chat_* action.
func (h *Hub) Do(a status.Action) error { return errors.New("chat not implemented yet") }

// State returns the stream's chat as moderators see it.
func (h *Hub) State(stream string) *status.Chat { return nil }

// Close ends all connections.
func (h *Hub) Close() error { return nil }
