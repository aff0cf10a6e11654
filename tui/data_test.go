package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/bcastdev/bcast/server/status"
	"github.com/charmbracelet/colorprofile"
)

// TestPollOneInFlight checks that a poll never starts a second snapshot
// request while one is out, and that every answer schedules the next poll.
func TestPollOneInFlight(t *testing.T) {
	fb := newFakeBackend(fixture(0))
	m := New(fb, Options{Interval: time.Millisecond})
	if m.Init() == nil {
		t.Fatal("Init starts nothing")
	}
	next, cmd := m.Update(pollMsg{}) // Init's request is still out
	m = next.(Model)
	if cmd != nil {
		t.Fatal("poll while a request is in flight started another")
	}
	next, cmd = m.Update(snapshotMsg{snap: fixture(0)})
	m = next.(Model)
	if cmd == nil {
		t.Fatal("an answer did not schedule the next poll")
	}
	if _, ok := cmd().(pollMsg); !ok {
		t.Fatal("the scheduled command is not a poll")
	}
	next, cmd = m.Update(pollMsg{})
	m = next.(Model)
	if cmd == nil {
		t.Fatal("poll with nothing in flight did not ask")
	}
	if _, again := m.Update(pollMsg{}); again != nil {
		t.Fatal("a second poll asked again before the answer")
	}
	msg, ok := cmd().(snapshotMsg)
	if !ok || msg.err != nil || msg.snap.Version != "v0.9.0" {
		t.Fatalf("fetch returned %#v", msg)
	}
}

// TestDisconnected shows a failing backend, keeps retrying, and recovers.
func TestDisconnected(t *testing.T) {
	m := testModel(t, newFakeBackend(fixture(0)), Options{}, 80, 24, colorprofile.NoTTY, 0)
	for range 3 {
		var cmd tea.Cmd
		var next tea.Model
		next, cmd = m.Update(snapshotMsg{err: errors.New("dial tcp 10.0.0.5:8080: connection refused")})
		m = next.(Model)
		if cmd == nil {
			t.Fatal("no retry after an error")
		}
	}
	s := strings.Join(screen(m), "\n")
	if !strings.Contains(s, "disconnected: dial tcp") {
		t.Errorf("screen does not say disconnected:\n%s", s)
	}
	if n := countLog(&m, "disconnected:"); n != 1 {
		t.Errorf("%d disconnected lines in the log, want 1", n)
	}
	if !strings.Contains(s, "12 on main") {
		t.Error("the last known data is gone while disconnected")
	}
	m = step(t, m, snapshotMsg{snap: fixture(1)})
	if title := screen(m)[0]; strings.Contains(title, "disconnected") || !strings.Contains(title, "connected") {
		t.Errorf("title bar after a snapshot: %q", title)
	}
	if countLog(&m, "reconnected") != 1 {
		t.Error("no reconnected line")
	}
}

func countLog(m *Model, substr string) int {
	n := 0
	for i := range m.log.len() {
		if strings.Contains(m.log.at(i).text, substr) {
			n++
		}
	}
	return n
}

// TestEvents takes queued events in one message, re-arms, and stops when
// the channel closes or the context ends.
func TestEvents(t *testing.T) {
	ch := make(chan status.Event, 8)
	for i := range 3 {
		ch <- status.Event{Time: t0, Kind: status.EventJoin, Stream: "main", Text: fmt.Sprintf("viewer #%d joined", i)}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	msg := waitEvents(ctx, ch)().(eventsMsg)
	if len(msg.events) != 3 || msg.closed {
		t.Fatalf("got %d events, closed=%v; want 3 open", len(msg.events), msg.closed)
	}

	m := testModel(t, newFakeBackend(fixture(0)), Options{}, 80, 24, colorprofile.NoTTY, 0)
	next, cmd := m.Update(msg)
	m = next.(Model)
	if cmd == nil {
		t.Error("the listener was not re-armed")
	}
	if countLog(&m, "joined") != 4 { // 3 + the fixture's
		t.Errorf("log has %d join lines", countLog(&m, "joined"))
	}

	close(ch)
	msg = waitEvents(ctx, ch)().(eventsMsg)
	if !msg.closed {
		t.Fatal("closed channel not reported")
	}
	if next, cmd = m.Update(msg); cmd != nil {
		t.Error("listener re-armed on a closed channel")
	}
	if countLog(ptr(next.(Model)), "event stream closed") != 1 {
		t.Error("closing is not logged")
	}

	cancel()
	if got := waitEvents(ctx, make(chan status.Event))(); got != nil {
		t.Errorf("after cancel got %#v, want nil", got)
	}
	if waitEvents(ctx, nil) != nil {
		t.Error("a nil channel is listened to")
	}
}

func ptr[T any](v T) *T { return &v }

// TestChatEvents shows a chat event at once, keeps it until a snapshot
// taken after it, and never shows it twice.
func TestChatEvents(t *testing.T) {
	m := testModel(t, newFakeBackend(fixture(0)), Options{}, 120, 40, colorprofile.NoTTY, 0)
	msg := status.ChatMessage{ID: "m9", Time: t0.Add(time.Second), User: "u-ann", Nick: "ann", Text: "first!"}
	m = step(t, m, eventsMsg{events: []status.Event{{Time: msg.Time, Kind: status.EventChat, Stream: "main", Chat: &msg}}})
	has := func(m Model) int { return strings.Count(strings.Join(screen(m), "\n"), "first!") }
	if has(m) != 1 {
		t.Fatal("chat event not shown")
	}
	if sel, _ := m.chat.selectedMessage(); sel.ID != "m9" {
		t.Errorf("cursor on %s, want it to follow to m9", sel.ID)
	}
	m = step(t, m, snapshotMsg{snap: fixture(0)}) // taken before the message
	if has(m) != 1 {
		t.Error("an older snapshot dropped the event's message")
	}
	s := fixture(2)
	s.Streams[0].Chat.Messages = append(s.Streams[0].Chat.Messages, msg)
	m = step(t, m, snapshotMsg{snap: s})
	if has(m) != 1 {
		t.Errorf("message shown %d times", has(m))
	}
	m = step(t, m, snapshotMsg{snap: fixture(3)}) // deleted meanwhile
	if has(m) != 0 {
		t.Error("a deleted message lingers")
	}
	other := status.ChatMessage{ID: "x1", Time: t0.Add(5 * time.Second), Nick: "zed", Text: "elsewhere"}
	m = step(t, m, eventsMsg{events: []status.Event{{Kind: status.EventChat, Stream: "backup", Chat: &other}}})
	if strings.Contains(strings.Join(screen(m), "\n"), "elsewhere") {
		t.Error("another stream's chat shows")
	}
}

// TestViewFitsAnySize renders every size from tiny to huge, with and
// without the help, into exactly the terminal.
func TestViewFitsAnySize(t *testing.T) {
	sizes := [][2]int{{1, 1}, {20, 5}, {40, 10}, {60, 20}, {79, 24}, {80, 24}, {100, 30}, {120, 40}, {200, 60}, {300, 80}}
	for _, sz := range sizes {
		for _, keys := range [][]string{nil, {"?"}, {"tab", "v"}, {"x"}, {"/", "2"}} {
			m := testModel(t, newFakeBackend(fixture(0)), Options{}, sz[0], sz[1], colorprofile.ANSI, 5)
			m, _ = press(t, m, keys...)
			checkSize(t, m.View().Content, sz[0], sz[1])
		}
	}
	// Before any size is known there is nothing to draw.
	if c := New(newFakeBackend(fixture(0)), Options{}).View().Content; c != "" {
		t.Errorf("unsized view %q", c)
	}
}

// TestFocus moves focus with tab and shift+tab and marks the focused pane.
func TestFocus(t *testing.T) {
	m := testModel(t, newFakeBackend(fixture(0)), Options{}, 120, 40, colorprofile.NoTTY, 0)
	want := []pane{paneChat, paneLog, paneViewers}
	for _, p := range want {
		m, _ = press(t, m, "tab")
		if m.focus != p {
			t.Fatalf("tab: focus %d, want %d", m.focus, p)
		}
	}
	m, _ = press(t, m, "shift+tab")
	if m.focus != paneLog {
		t.Fatalf("shift+tab: focus %d", m.focus)
	}
	if s := strings.Join(screen(m), "\n"); !strings.Contains(s, "▶ Log") || strings.Contains(s, "▶ Viewers") {
		t.Errorf("focus marker not on the log:\n%s", s)
	}
}
