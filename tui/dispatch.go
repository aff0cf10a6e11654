package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/bcastdev/bcast/server/status"
)

// handleKey routes a key: an open prompt takes every key, then the help
// overlay, then the keys that work anywhere, then the focused pane's.
func (m Model) handleKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	if m.prompt.active() {
		return m.promptKey(msg)
	}
	k := &m.keys
	if m.showHelp {
		if key.Matches(msg, k.Close, k.Help, k.Quit) {
			m.showHelp = false
		}
		return m, nil
	}
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Help):
		m.showHelp = true
	case key.Matches(msg, k.NextPane):
		m.setFocus((m.focus + 1) % numPanes)
	case key.Matches(msg, k.PrevPane):
		m.setFocus((m.focus + numPanes - 1) % numPanes)
	case key.Matches(msg, k.NextStream):
		m.switchStream(+1)
	case key.Matches(msg, k.PrevStream):
		m.switchStream(-1)
	case key.Matches(msg, k.MaxViewers):
		m.askLimit()
	case m.moveKey(msg):
	case m.focus == paneViewers:
		return m.viewerKey(msg)
	case m.focus == paneChat:
		return m.chatKey(msg)
	}
	return m, nil
}

// mover is what the cursor keys drive in each pane.
type mover interface {
	move(delta int)
	top()
	bottom()
	pageSize() int
}

// moveKey moves the focused pane's cursor and reports whether msg was a
// motion key.
func (m *Model) moveKey(msg tea.KeyPressMsg) bool {
	var p mover
	switch m.focus {
	case paneViewers:
		p = &m.viewers
	case paneChat:
		p = &m.chat
	default:
		p = &m.log
	}
	k := &m.keys
	switch {
	case key.Matches(msg, k.Up):
		p.move(-1)
	case key.Matches(msg, k.Down):
		p.move(1)
	case key.Matches(msg, k.PageUp):
		p.move(-p.pageSize())
	case key.Matches(msg, k.PageDown):
		p.move(p.pageSize())
	case key.Matches(msg, k.Top):
		p.top()
	case key.Matches(msg, k.Bottom):
		p.bottom()
	default:
		return false
	}
	return true
}

func (m Model) viewerKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := &m.keys
	switch {
	case key.Matches(msg, k.Filter):
		m.prompt.ask(inputFilter, "filter viewers: ", status.Action{}, "")
		m.prompt.input.value = []rune(m.viewers.filter)
	case key.Matches(msg, k.Close):
		m.viewers.setFilter("")
	case key.Matches(msg, k.Sort):
		m.viewers.cycleSort()
	case key.Matches(msg, k.Reverse):
		m.viewers.reverseSort()
	case key.Matches(msg, k.Kick):
		m.askKick()
	case key.Matches(msg, k.Capture):
		return m.toggleCapture()
	}
	return m, nil
}

func (m Model) chatKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := &m.keys
	switch {
	case key.Matches(msg, k.ChatView):
		m.chat.toggleMode()
	case key.Matches(msg, k.Delete):
		m.askDelete()
	case key.Matches(msg, k.Ban):
		m.askBan()
	case key.Matches(msg, k.Timeout):
		m.askTimeout()
	case key.Matches(msg, k.Unban):
		return m.unban()
	case key.Matches(msg, k.Slow):
		return m.slowMode()
	case key.Matches(msg, k.ChatToggle):
		return m.toggleChat()
	case key.Matches(msg, k.Clear):
		m.askClear()
	}
	return m, nil
}

// promptKey feeds the open prompt. A confirmation runs only on y; every
// other key, Enter included, cancels it. An input submits on Enter and is
// abandoned on esc.
func (m Model) promptKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	p := &m.prompt
	if p.kind == promptConfirm {
		if !key.Matches(msg, m.keys.Confirm) {
			p.close()
			m.setStatus(levelInfo, "cancelled")
			return m, nil
		}
		if p.quit {
			p.close()
			return m, tea.Quit
		}
		a, what := p.action, p.subject
		p.close()
		return m, m.run(a, what)
	}

	switch msg.String() {
	case "esc":
		if p.purpose == inputFilter {
			m.viewers.setFilter("")
		}
		p.close()
		return m, nil
	case "enter":
		return m.submit()
	}
	m.editInput(msg)
	return m, nil
}

// editInput applies a key or a paste to the input; the filter follows what
// is typed at once.
func (m *Model) editInput(msg tea.Msg) {
	if m.prompt.input.update(msg) {
		m.prompt.err = ""
		if m.prompt.purpose == inputFilter {
			m.viewers.setFilter(m.prompt.input.String())
		}
	}
}
