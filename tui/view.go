package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// footerHeight is the prompt/status line and the key help line.
const footerHeight = 2

// statusTTL is how long the outcome of an action stays in the footer
// before the line goes back to describing the selection.
const statusTTL = 10 * time.Second

// sideBySideMin is the narrowest terminal that shows chat and log next to
// each other; below it they stack.
const sideBySideMin = 80

// layout sizes the components for the terminal: header and system on top,
// the viewers table over chat and log, footer at the bottom. Short
// terminals lose the system lines before the panes get too small to use.
func (m *Model) layout() {
	w := m.width
	m.help.SetWidth(w)
	m.header.SetSize(w, headerHeight)
	m.system.SetSize(w, systemHeight)

	panes := m.panesHeight()
	vh := max(panes*55/100, min(panes, 3))
	bottom := max(panes-vh, 0)
	m.viewers.SetSize(w, vh)
	if w >= sideBySideMin {
		cw := (w - 1) * 55 / 100
		m.chat.SetSize(cw, bottom)
		m.log.SetSize(w-1-cw, bottom)
	} else {
		m.chat.SetSize(w, bottom/2)
		m.log.SetSize(w, bottom-bottom/2)
	}
}

// showSystem says whether the terminal is tall enough for the system lines.
func (m *Model) showSystem() bool {
	return m.height-headerHeight-footerHeight-systemHeight >= 8
}

func (m *Model) panesHeight() int {
	h := m.height - headerHeight - footerHeight
	if m.showSystem() {
		h -= systemHeight
	}
	return max(h, 0)
}

// View renders the whole screen: exactly width × height cells.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = m.opts.Title
	return v
}

func (m *Model) render() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	parts := make([]string, 0, 6)
	if m.showHelp {
		// The help covers everything between the title bar and the footer,
		// so that all of it fits on 80×24.
		parts = append(parts, fit(m.header.titleBar(), m.width), m.helpView(m.width, max(m.height-1-footerHeight, 0)))
		parts = append(parts, m.footer())
		return m.clip(strings.Join(parts, "\n"))
	}
	parts = append(parts, m.header.View())
	if m.showSystem() {
		parts = append(parts, m.system.View())
	}
	if m.panesHeight() > 0 {
		parts = append(parts, m.viewers.View())
		if m.width >= sideBySideMin {
			sep := m.st.Rule.Render("│")
			rows := sideBySide(strings.Split(m.chat.View(), "\n"), strings.Split(m.log.View(), "\n"), sep)
			parts = append(parts, strings.Join(rows, "\n"))
		} else {
			parts = append(parts, m.chat.View(), m.log.View())
		}
	}
	parts = append(parts, m.footer())
	return m.clip(strings.Join(parts, "\n"))
}

// clip keeps the top of a screen taller than the terminal, which happens
// only when the terminal is shorter than the fixed parts.
func (m *Model) clip(out string) string {
	if lines := strings.Count(out, "\n") + 1; lines > m.height {
		out = strings.Join(strings.SplitN(out, "\n", m.height+1)[:m.height], "\n")
	}
	return out
}

// footer is the prompt or the status line, then the keys of the focused
// pane.
func (m *Model) footer() string {
	st := m.st
	var first string
	switch {
	case m.prompt.active():
		first = m.prompt.view(st, m.width)
	case m.status.text != "" && m.now().Sub(m.status.time) < statusTTL:
		style := st.Muted
		switch m.status.level {
		case levelWarn:
			style = st.Warn
		case levelError:
			style = st.Bad
		}
		first = st.Muted.Render(m.status.time.In(m.loc).Format("15:04:05")) + " " + style.Render(m.status.text)
	case !m.showHelp:
		first = m.detail()
	}
	var keys string
	switch {
	case m.prompt.active():
		keys = m.help.ShortHelpView(m.keys.promptHelp(m.prompt.kind))
	case m.showHelp:
		keys = m.help.ShortHelpView([]key.Binding{m.keys.Close, m.keys.Help})
	default:
		keys = m.help.ShortHelpView(m.keys.shortHelp(m.focus))
	}
	return strings.Join(block([]string{first, keys}, m.width, footerHeight), "\n")
}

// detail describes the selection in full: the table and the chat cut their
// cells, and an operator about to kick or ban wants the whole address, id or
// message.
func (m *Model) detail() string {
	st := m.st
	label := st.Muted.Render
	switch m.focus {
	case paneViewers:
		v, ok := m.viewers.selectedViewer()
		if !ok {
			return ""
		}
		parts := []string{
			st.Strong.Render(fmt.Sprintf("#%d", v.Num)) + " " + v.ID,
			v.Remote,
			v.State,
			join("/", v.VideoCodec, v.AudioCodec),
			label("sent") + " " + formatBytes(v.Bytes),
			fmt.Sprintf("%s %d %s %d", label("NACKs"), v.NACKs, label("PLIs"), v.PLIs),
		}
		if v.Problem != "" {
			parts = append(parts, st.Bad.Render("! "+v.Problem))
		}
		if v.Capture != "" {
			parts = append(parts, st.Warn.Render("capturing")+" "+v.Capture)
		}
		return strings.Join(parts, label(" · "))
	case paneChat:
		if m.chat.mode == chatChatters {
			ch, ok := m.chat.selectedChatter()
			if !ok {
				return ""
			}
			return strings.Join([]string{
				st.Strong.Render(clean(ch.Nick)) + " " + label(ch.User),
				ch.Remote,
				label("since") + " " + ch.Since.In(m.loc).Format("15:04:05"),
				label("messages") + " " + fmt.Sprint(ch.Messages),
			}, label(" · "))
		}
		msg, ok := m.chat.selectedMessage()
		if !ok {
			return ""
		}
		return st.Strong.Render(clean(msg.Nick)) + " " + label(msg.User) + label(": ") + clean(msg.Text)
	}
	return ""
}
