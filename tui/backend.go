package tui

import (
	"context"

	"github.com/bcastdev/bcast/server/status"
)

// Backend is what the console needs from a server: the same interface is
// implemented in process by bcast serve and over the admin API by
// bcast console, so one console attaches to either.
type Backend interface {
	// Snapshot returns the server's state now. The console calls it about
	// four times a second; it must not block the media path.
	Snapshot(ctx context.Context) (status.Snapshot, error)
	// Events delivers discrete events (chat, joins, alerts). The channel is
	// bounded and drops the oldest events when the console falls behind.
	Events() <-chan status.Event
	// Do applies an operator action and returns why it failed.
	Do(ctx context.Context, a status.Action) error
}
