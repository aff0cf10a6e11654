package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// inputMax bounds what a prompt accepts; nothing typed here is long.
const inputMax = 128

// lineInput is the one-line editor of prompts and the filter: type, paste,
// backspace, ctrl+u to clear, ctrl+w to delete a word. The prompts take
// numbers, durations and short filters, so the editor stays this small and
// renders the same on every frame (no blinking cursor to make golden tests
// flaky).
type lineInput struct {
	label string
	value []rune
}

// update applies a key or a paste and reports whether the value changed.
func (in *lineInput) update(msg tea.Msg) bool {
	switch msg := msg.(type) {
	case tea.PasteMsg:
		return in.insert(msg.Content)
	case tea.KeyPressMsg:
		switch msg.String() {
		case "backspace", "ctrl+h":
			if len(in.value) == 0 {
				return false
			}
			in.value = in.value[:len(in.value)-1]
			return true
		case "ctrl+u":
			changed := len(in.value) > 0
			in.value = in.value[:0]
			return changed
		case "ctrl+w":
			v := strings.TrimRight(string(in.value), " ")
			v = v[:strings.LastIndex(v, " ")+1]
			changed := len(v) != len(string(in.value))
			in.value = []rune(v)
			return changed
		}
		if msg.Text != "" && msg.Mod&(tea.ModCtrl|tea.ModAlt|tea.ModSuper) == 0 {
			return in.insert(msg.Text)
		}
	}
	return false
}

func (in *lineInput) insert(s string) bool {
	s = clean(s)
	if s == "" || len(in.value) >= inputMax {
		return false
	}
	in.value = append(in.value, []rune(s)...)
	in.value = in.value[:min(len(in.value), inputMax)]
	return true
}

func (in *lineInput) String() string { return string(in.value) }

// view renders the label, the value (its tail when it is wider than the
// space) and the cursor.
func (in *lineInput) view(st *styles, width int) string {
	label := st.Prompt.Render(in.label)
	room := width - ansi.StringWidth(label) - 1
	v := string(in.value)
	if ansi.StringWidth(v) > room {
		v = ansi.TruncateLeft(v, ansi.StringWidth(v)-room+1, ellipsis)
	}
	return label + st.Input.Render(v) + st.Cursor.Render(st.CursorGlyph)
}
