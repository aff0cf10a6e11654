package tui

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/bcastdev/bcast/server/status"
	"github.com/charmbracelet/colorprofile"
)

// The fixture's selections, as the keys reach them.
const (
	firstViewer   = "v01-a5a5a5" // #1, under the cursor at start
	secondViewer  = "v02-a5c494" // #2, one row down
	capturedView  = "v03-a5e383" // #3, its leg is being captured
	backupViewer  = "w01-beef"   // #1 of the offline stream
	lastMessage   = "m8"         // bob's "back to normal", under the chat cursor at start
	lastAuthor    = "u-bob"
	bannedChatter = "u-eve" // first in the chatters list (banned sort first)
)

// actionTest drives keys from the initial screen (viewers pane focused,
// stream "main") and expects exactly want to reach Backend.Do, or nothing
// when want is nil.
type actionTest struct {
	name   string
	mutate func(*status.Snapshot) // changes the fixture before the run
	keys   []string
	want   *status.Action
	status string // expected in the status line afterwards, if set
}

func TestActions(t *testing.T) {
	act := func(kind status.ActionKind, stream, target string, seconds, value int) *status.Action {
		return &status.Action{Kind: kind, Stream: stream, Target: target, Seconds: seconds, Value: value, By: "console"}
	}
	slowOn := func(s *status.Snapshot) { s.Streams[0].Chat.SlowModeSeconds = 15 }
	chatOff := func(s *status.Snapshot) { s.Streams[0].Chat.Enabled = false }

	tests := []actionTest{
		// Kick: destructive, y only.
		{name: "kick", keys: []string{"x", "y"}, want: act(status.ActionKick, "main", firstViewer, 0, 0), status: "✓ kick viewer #1"},
		{name: "kick second row", keys: []string{"j", "x", "y"}, want: act(status.ActionKick, "main", secondViewer, 0, 0)},
		{name: "kick enter does not confirm", keys: []string{"x", "enter"}, status: "cancelled"},
		{name: "kick n cancels", keys: []string{"x", "n"}, status: "cancelled"},
		{name: "kick Y is not y", keys: []string{"x", "Y"}},
		{name: "kick esc cancels", keys: []string{"x", "esc", "y"}},
		{name: "kick on other stream", keys: []string{"s", "x", "y"}, want: act(status.ActionKick, "backup", backupViewer, 0, 0)},
		{name: "kick after prev stream", keys: []string{"]", "[", "x", "y"}, want: act(status.ActionKick, "main", firstViewer, 0, 0)},
		{name: "kick needs viewers focus", keys: []string{"tab", "tab", "x", "y"}},

		// Viewer limit: a number, no confirmation.
		{name: "limit", keys: []string{"m", "5", "0", "enter"}, want: act(status.ActionMaxViewers, "", "", 0, 50), status: "✓ viewer limit 50"},
		{name: "limit unlimited", keys: []string{"m", "0", "enter"}, want: act(status.ActionMaxViewers, "", "", 0, 0)},
		{name: "limit from chat pane", keys: []string{"tab", "m", "1", "2", "backspace", "enter"}, want: act(status.ActionMaxViewers, "", "", 0, 1)},
		{name: "limit rejects text", keys: []string{"m", "a", "enter"}},
		{name: "limit rejects then accepts", keys: []string{"m", "a", "enter", "backspace", "7", "enter"}, want: act(status.ActionMaxViewers, "", "", 0, 7)},
		{name: "limit esc", keys: []string{"m", "5", "esc", "y"}},

		// Capture toggles with the viewer's state, no confirmation.
		{name: "capture start", keys: []string{"c"}, want: act(status.ActionCaptureStart, "main", firstViewer, 0, 0)},
		{name: "capture stop", keys: []string{"j", "j", "c"}, want: act(status.ActionCaptureStop, "main", capturedView, 0, 0)},

		// Chat: delete the selected message.
		{name: "delete", keys: []string{"tab", "d", "y"}, want: act(status.ActionChatDelete, "main", lastMessage, 0, 0)},
		{name: "delete earlier", keys: []string{"tab", "k", "k", "k", "d", "y"}, want: act(status.ActionChatDelete, "main", "m5", 0, 0)},
		{name: "delete enter does not confirm", keys: []string{"tab", "d", "enter"}, status: "cancelled"},
		{name: "delete n", keys: []string{"tab", "d", "n"}},
		{name: "delete not in chatters view", keys: []string{"tab", "v", "d", "y"}},

		// Ban: duration prompt, then confirmation.
		{name: "ban permanent", keys: []string{"tab", "b", "enter", "y"}, want: act(status.ActionChatBan, "main", lastAuthor, 0, 0), status: "✓ ban bob permanently"},
		{name: "ban zero is permanent", keys: []string{"tab", "b", "0", "enter", "y"}, want: act(status.ActionChatBan, "main", lastAuthor, 0, 0)},
		{name: "ban an hour", keys: []string{"tab", "b", "1", "h", "enter", "y"}, want: act(status.ActionChatBan, "main", lastAuthor, 3600, 0)},
		{name: "ban a day", keys: []string{"tab", "b", "1", "d", "enter", "y"}, want: act(status.ActionChatBan, "main", lastAuthor, 86400, 0)},
		{name: "ban enter enter", keys: []string{"tab", "b", "enter", "enter"}, status: "cancelled"},
		{name: "ban bad duration", keys: []string{"tab", "b", "x", "enter", "y"}},
		{name: "ban from chatters", keys: []string{"tab", "v", "j", "b", "5", "m", "enter", "y"}, want: act(status.ActionChatBan, "main", "u-fay", 300, 0)},

		// Timeout: a duration is required.
		{name: "timeout 5m", keys: []string{"tab", "t", "5", "m", "enter", "y"}, want: act(status.ActionChatTimeout, "main", lastAuthor, 300, 0)},
		{name: "timeout 30s", keys: []string{"tab", "t", "3", "0", "s", "enter", "y"}, want: act(status.ActionChatTimeout, "main", lastAuthor, 30, 0)},
		{name: "timeout bare seconds", keys: []string{"tab", "t", "4", "5", "enter", "y"}, want: act(status.ActionChatTimeout, "main", lastAuthor, 45, 0)},
		{name: "timeout empty refused", keys: []string{"tab", "t", "enter", "y"}},
		{name: "timeout enter does not confirm", keys: []string{"tab", "t", "5", "m", "enter", "enter"}},
		{name: "timeout other key cancels", keys: []string{"tab", "t", "5", "m", "enter", "q"}, status: "cancelled"},

		// Unban: no confirmation; only someone banned or timed out.
		{name: "unban", keys: []string{"tab", "v", "u"}, want: act(status.ActionChatUnban, "main", bannedChatter, 0, 0)},
		{name: "unban timed out", keys: []string{"tab", "v", "j", "u"}, want: act(status.ActionChatUnban, "main", "u-fay", 0, 0)},
		{name: "unban message author", keys: []string{"tab", "k", "k", "k", "k", "u"}, want: act(status.ActionChatUnban, "main", bannedChatter, 0, 0)},
		{name: "unban someone not banned", keys: []string{"tab", "u"}, status: "bob is neither banned nor timed out"},

		// Slow mode: seconds when off, off when on.
		{name: "slow on", keys: []string{"tab", "S", "1", "0", "enter"}, want: act(status.ActionChatSlow, "main", "", 10, 0)},
		{name: "slow on 1m", keys: []string{"tab", "S", "1", "m", "enter"}, want: act(status.ActionChatSlow, "main", "", 60, 0)},
		{name: "slow off", mutate: slowOn, keys: []string{"tab", "S"}, want: act(status.ActionChatSlow, "main", "", 0, 0)},
		{name: "slow esc", keys: []string{"tab", "S", "1", "esc"}},

		// Chat on at once, off after y.
		{name: "chat off", keys: []string{"tab", "e", "y"}, want: act(status.ActionChatOff, "main", "", 0, 0)},
		{name: "chat off enter", keys: []string{"tab", "e", "enter"}, status: "cancelled"},
		{name: "chat on", mutate: chatOff, keys: []string{"tab", "e"}, want: act(status.ActionChatOn, "main", "", 0, 0)},

		// Clear: destructive.
		{name: "clear", keys: []string{"tab", "D", "y"}, want: act(status.ActionChatClear, "main", "", 0, 0)},
		{name: "clear n", keys: []string{"tab", "D", "n"}},
		{name: "clear enter", keys: []string{"tab", "D", "enter"}},
		{name: "clear on other stream", keys: []string{"s", "tab", "D", "y"}, want: act(status.ActionChatClear, "backup", "", 0, 0)},
		{name: "shift+tab reaches chat", keys: []string{"shift+tab", "shift+tab", "D", "y"}, want: act(status.ActionChatClear, "main", "", 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runActionTest(t, Options{}, tt)
		})
	}
}

func runActionTest(t *testing.T, opts Options, tt actionTest) {
	t.Helper()
	snap := fixture(0)
	if tt.mutate != nil {
		tt.mutate(&snap)
	}
	fb := newFakeBackend(snap)
	m := New(fb, opts)
	m.setClock(func() time.Time { return t0 }, time.UTC)
	m = step(t, m, tea.ColorProfileMsg{Profile: colorprofile.NoTTY})
	m = step(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	m = step(t, m, snapshotMsg{snap: snap})

	var cmds []tea.Cmd
	for _, k := range tt.keys {
		var next tea.Model
		var cmd tea.Cmd
		next, cmd = m.Update(keyMsg(t, k))
		m = next.(Model)
		if cmd != nil {
			cmds = append(cmds, cmd)
		}
	}
	// Run what the keys asked for, as Bubble Tea would, and feed the
	// outcomes back.
	for _, cmd := range cmds {
		msg := cmd()
		if _, ok := msg.(tea.QuitMsg); ok {
			t.Fatalf("keys %v quit the console", tt.keys)
		}
		m = step(t, m, msg)
	}

	got := fb.done()
	switch {
	case tt.want == nil && len(got) > 0:
		t.Errorf("keys %v sent %+v, want nothing", tt.keys, got)
	case tt.want != nil && !slices.Equal(got, []status.Action{*tt.want}):
		t.Errorf("keys %v sent %+v, want exactly %+v", tt.keys, got, *tt.want)
	}
	if tt.status != "" && !strings.Contains(m.status.text, tt.status) {
		t.Errorf("status %q, want it to contain %q", m.status.text, tt.status)
	}
	if m.prompt.active() && tt.want != nil {
		t.Errorf("prompt still open after the action: %+v", m.prompt)
	}
}

// TestActionsReadOnly runs every action's keys on a read-only console:
// nothing reaches the backend and no prompt opens.
func TestActionsReadOnly(t *testing.T) {
	sequences := [][]string{
		{"x", "y"}, {"m", "5", "enter"}, {"c"},
		{"tab", "d", "y"}, {"tab", "b", "enter", "y"}, {"tab", "t", "5", "m", "enter", "y"},
		{"tab", "v", "u"}, {"tab", "S", "1", "0", "enter"}, {"tab", "e", "y"}, {"tab", "D", "y"},
	}
	for _, keys := range sequences {
		t.Run(strings.Join(keys, " "), func(t *testing.T) {
			runActionTest(t, Options{ReadOnly: true}, actionTest{keys: keys})
		})
	}

	// And the help does not offer them.
	m := testModel(t, newFakeBackend(fixture(0)), Options{ReadOnly: true}, 120, 40, colorprofile.NoTTY, 0)
	for _, p := range []pane{paneViewers, paneChat} {
		for _, b := range m.keys.shortHelp(p) {
			for _, a := range m.keys.actions() {
				if b.Enabled() && slices.Equal(b.Keys(), a.Keys()) {
					t.Errorf("read-only help offers %q", b.Help().Key)
				}
			}
		}
	}
	m, _ = press(t, m, "?")
	if s := strings.Join(screen(m), "\n"); strings.Contains(s, "kick") && !strings.Contains(s, "Destructive actions (kick") {
		t.Errorf("read-only full help lists kick:\n%s", s)
	}
}

// TestActionError shows a failed action in the status line.
func TestActionError(t *testing.T) {
	fb := newFakeBackend(fixture(0))
	fb.doErr = errors.New("viewer already gone")
	m := testModel(t, fb, Options{}, 120, 40, colorprofile.NoTTY, 0)
	m, cmd := press(t, m, "x", "y")
	if !strings.Contains(m.status.text, "kick viewer #1") {
		t.Errorf("status while running %q", m.status.text)
	}
	m = step(t, m, cmd())
	if want := "✗ kick viewer #1 203.0.113.10:50000: viewer already gone"; m.status.text != want || m.status.level != levelError {
		t.Errorf("status %q (%s), want %q (error)", m.status.text, m.status.level, want)
	}
	if !strings.Contains(strings.Join(screen(m), "\n"), "viewer already gone") {
		t.Error("the error is not on screen")
	}
}

// TestQuit asks before quitting while viewers are connected and quits only
// on y; with nobody watching it quits at once.
func TestQuit(t *testing.T) {
	isQuit := func(cmd tea.Cmd) bool {
		if cmd == nil {
			return false
		}
		_, ok := cmd().(tea.QuitMsg)
		return ok
	}
	for _, q := range []string{"q", "ctrl+c"} {
		t.Run(q, func(t *testing.T) {
			m := testModel(t, newFakeBackend(fixture(0)), Options{}, 80, 24, colorprofile.NoTTY, 0)
			m, cmd := press(t, m, q)
			if isQuit(cmd) || m.prompt.kind != promptConfirm || !m.prompt.quit {
				t.Fatalf("%s with viewers: quit=%v prompt=%+v, want a confirmation", q, isQuit(cmd), m.prompt)
			}
			if !strings.Contains(strings.Join(screen(m), "\n"), "14 viewers are connected. Quit? [y/N]") {
				t.Errorf("confirmation not on screen:\n%s", strings.Join(screen(m), "\n"))
			}
			for _, no := range []string{"enter", "n", "esc", q} {
				m, cmd = press(t, m, q)
				m, cmd = press(t, m, no)
				if isQuit(cmd) || m.prompt.active() {
					t.Errorf("%s then %s: quit=%v, prompt open=%v; want neither", q, no, isQuit(cmd), m.prompt.active())
				}
			}
			_, cmd = press(t, m, q, "y")
			if !isQuit(cmd) {
				t.Errorf("%s then y did not quit", q)
			}

			empty := fixture(0)
			for i := range empty.Streams {
				empty.Streams[i].Viewers, empty.Streams[i].ViewerList = 0, nil
			}
			empty.System.Viewers = 0
			m = step(t, m, snapshotMsg{snap: empty})
			if _, cmd = press(t, m, q); !isQuit(cmd) {
				t.Errorf("%s without viewers did not quit at once", q)
			}
		})
	}
}
