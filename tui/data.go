package tui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/bcastdev/bcast/server/status"
)

// The data path: one snapshot request in flight at most (the next poll is
// scheduled only when the previous answer is in), one goroutine waiting for
// events, and actions run as commands. Update never waits on the backend.

// Timeouts keep a hung backend (a remote server behind a dead TCP
// connection) from leaving the console waiting forever: the poll turns into
// "disconnected" and is retried.
const (
	snapshotTimeout = 5 * time.Second
	actionTimeout   = 10 * time.Second
)

// maxEventBatch bounds how many queued events one message carries: a burst
// of joins is applied in one Update and one render, not a thousand.
const maxEventBatch = 256

// snapshotMsg is the answer to one snapshot request.
type snapshotMsg struct {
	snap status.Snapshot
	err  error
}

// pollMsg says that it is time to ask for the next snapshot.
type pollMsg struct{}

// eventsMsg carries the events that were waiting, oldest first.
type eventsMsg struct {
	events []status.Event
	closed bool // the backend closed the channel; stop listening
}

// actionDoneMsg is the outcome of one Backend.Do.
type actionDoneMsg struct {
	action status.Action
	what   string // how the status line names the action
	err    error
}

// fetchSnapshot asks the backend for a snapshot.
func fetchSnapshot(ctx context.Context, b Backend) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, snapshotTimeout)
		defer cancel()
		s, err := b.Snapshot(ctx)
		return snapshotMsg{snap: s, err: err}
	}
}

// schedulePoll fires a pollMsg after d.
func schedulePoll(d time.Duration) tea.Cmd {
	return tea.Tick(d, func(time.Time) tea.Msg { return pollMsg{} })
}

// waitEvents waits for the next event, then takes whatever else is already
// queued. It gives up when ctx ends so that no goroutine outlives Run.
func waitEvents(ctx context.Context, ch <-chan status.Event) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		var msg eventsMsg
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-ch:
			if !ok {
				return eventsMsg{closed: true}
			}
			msg.events = append(msg.events, ev)
		}
		for len(msg.events) < maxEventBatch {
			select {
			case ev, ok := <-ch:
				if !ok {
					msg.closed = true
					return msg
				}
				msg.events = append(msg.events, ev)
			default:
				return msg
			}
		}
		return msg
	}
}

// doAction applies an action through the backend.
func doAction(ctx context.Context, b Backend, a status.Action, what string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, actionTimeout)
		defer cancel()
		return actionDoneMsg{action: a, what: what, err: b.Do(ctx, a)}
	}
}
