package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
)

// TestFilterKeys filters as the operator types, keeps the filter on Enter
// and clears it with esc.
func TestFilterKeys(t *testing.T) {
	m := testModel(t, newFakeBackend(fixture(0)), Options{ReadOnly: true}, 120, 40, colorprofile.NoTTY, 0)
	m, _ = press(t, m, "/", "2", "0", "0", "1")
	if got := len(m.viewers.rows); got != 1 {
		t.Errorf("typing 2001: %d rows, want 1", got)
	}
	if !strings.Contains(screen(m)[len(screen(m))-2], "filter viewers: 2001") {
		t.Errorf("prompt line %q", screen(m)[len(screen(m))-2])
	}
	m, _ = press(t, m, "backspace", "backspace", "backspace", "enter")
	if m.prompt.active() || m.viewers.filter != "2" || len(m.viewers.rows) != 12 {
		t.Errorf("after enter: prompt=%v filter=%q rows=%d", m.prompt.active(), m.viewers.filter, len(m.viewers.rows))
	}
	m, _ = press(t, m, "/")
	if got := m.prompt.input.String(); got != "2" {
		t.Errorf("reopened filter holds %q, want the current one", got)
	}
	m = step(t, m, tea.PasteMsg{Content: "001:db8\n"})
	if m.viewers.filter != "2001:db8 " || len(m.viewers.rows) != 0 {
		t.Errorf("paste: filter %q rows %d", m.viewers.filter, len(m.viewers.rows))
	}
	m, _ = press(t, m, "esc")
	if m.prompt.active() || m.viewers.filter != "" || len(m.viewers.rows) != 12 {
		t.Errorf("esc in the prompt: prompt=%v filter=%q", m.prompt.active(), m.viewers.filter)
	}
	m, _ = press(t, m, "/", "c", "h", "enter", "esc")
	if m.viewers.filter != "" {
		t.Errorf("esc in the pane left filter %q", m.viewers.filter)
	}
}

// TestPromptEditing covers the line editor's keys.
func TestPromptEditing(t *testing.T) {
	var in lineInput
	for _, k := range []tea.KeyPressMsg{
		{Code: 'a', Text: "a"}, {Code: ' ', Text: " "}, {Code: 'b', Text: "b"}, {Code: 'c', Text: "c"},
	} {
		in.update(k)
	}
	if in.String() != "a bc" {
		t.Fatalf("typed %q", in.String())
	}
	in.update(tea.KeyPressMsg{Code: 'w', Mod: tea.ModCtrl})
	if in.String() != "a " {
		t.Errorf("ctrl+w left %q", in.String())
	}
	if in.update(tea.KeyPressMsg{Code: 'x', Text: "x", Mod: tea.ModAlt}) {
		t.Error("alt+x typed")
	}
	in.update(tea.PasteMsg{Content: "\x1b[2Jpasted"})
	if in.String() != "a [2Jpasted" {
		t.Errorf("paste gave %q", in.String())
	}
	in.update(tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl})
	if in.String() != "" {
		t.Errorf("ctrl+u left %q", in.String())
	}
	in.update(tea.PasteMsg{Content: strings.Repeat("x", 1000)})
	if len(in.value) != inputMax {
		t.Errorf("input holds %d runes, want at most %d", len(in.value), inputMax)
	}
}

// TestHelpToggle opens the full help with ? and closes it with esc or ?.
func TestHelpToggle(t *testing.T) {
	m := testModel(t, newFakeBackend(fixture(0)), Options{}, 80, 24, colorprofile.NoTTY, 0)
	for _, closeKey := range []string{"esc", "?"} {
		m, _ = press(t, m, "?")
		if !strings.Contains(strings.Join(screen(m), "\n"), "Destructive actions") {
			t.Fatal("? did not open the help")
		}
		m, _ = press(t, m, "x") // no action from under the help
		if m.prompt.active() {
			t.Error("a key under the help opened a prompt")
		}
		m, _ = press(t, m, closeKey)
		if m.showHelp {
			t.Errorf("%s did not close the help", closeKey)
		}
	}
}

// TestStreamSwitch cycles through the streams both ways.
func TestStreamSwitch(t *testing.T) {
	m := testModel(t, newFakeBackend(fixture(0)), Options{}, 120, 40, colorprofile.NoTTY, 0)
	for _, step := range []struct{ key, want string }{{"s", "backup"}, {"s", "main"}, {"]", "backup"}, {"[", "main"}, {"[", "backup"}} {
		m, _ = press(t, m, step.key)
		if m.stream != step.want {
			t.Errorf("%s: stream %q, want %q", step.key, m.stream, step.want)
		}
		if !strings.HasPrefix(screen(m)[1], step.want+" (") {
			t.Errorf("%s: header %q", step.key, screen(m)[1])
		}
	}
}
