package tui

import (
	"fmt"

	tea "charm.land/bubbletea/v2"
	"github.com/bcastdev/bcast/server/status"
	"github.com/charmbracelet/x/ansi"
)

// actor is how actions from the console name their author in the server's
// logs (status.Action.By).
const actor = "console"

// action starts an action of the given kind on the selected stream.
func (m *Model) action(kind status.ActionKind) status.Action {
	return status.Action{Kind: kind, Stream: m.stream, By: actor}
}

// run applies an action through the backend; the status line says so now
// and shows the outcome when it arrives.
func (m *Model) run(a status.Action, what string) tea.Cmd {
	if m.opts.ReadOnly {
		m.setStatus(levelWarn, "read-only console: "+what+" not sent")
		return nil
	}
	m.setStatus(levelInfo, what+"…")
	return doAction(m.ctx, m.backend, a, what)
}

// quit leaves at once, or asks first while viewers are connected: in
// bcast serve the console's exit ends the server and with it every viewer's
// stream.
func (m Model) quit() (tea.Model, tea.Cmd) {
	if n := m.viewersConnected(); n > 0 {
		m.prompt.confirm(fmt.Sprintf("%d viewers are connected. Quit?", n), status.Action{}, "", true)
		return m, nil
	}
	return m, tea.Quit
}

func (m *Model) askLimit() {
	now := "unlimited"
	if m.snap != nil && m.snap.System.MaxViewers > 0 {
		now = fmt.Sprint(m.snap.System.MaxViewers)
	}
	a := status.Action{Kind: status.ActionMaxViewers, By: actor}
	m.prompt.ask(inputLimit, fmt.Sprintf("viewer limit (now %s; 0 = unlimited): ", now), a, "")
}

func (m *Model) askKick() {
	v, ok := m.viewers.selectedViewer()
	if !ok {
		m.setStatus(levelWarn, "no viewer selected")
		return
	}
	a := m.action(status.ActionKick)
	a.Target = v.ID
	who := fmt.Sprintf("viewer #%d %s", v.Num, v.Remote)
	m.prompt.confirm("Kick "+who+"?", a, "kick "+who, false)
}

// toggleCapture starts capturing the selected viewer's leg, or stops it.
func (m Model) toggleCapture() (tea.Model, tea.Cmd) {
	v, ok := m.viewers.selectedViewer()
	if !ok {
		m.setStatus(levelWarn, "no viewer selected")
		return m, nil
	}
	a := m.action(status.ActionCaptureStart)
	what := fmt.Sprintf("capture viewer #%d %s", v.Num, v.Remote)
	if v.Capture != "" {
		a.Kind = status.ActionCaptureStop
		what = fmt.Sprintf("stop capture of viewer #%d %s", v.Num, v.Remote)
	}
	a.Target = v.ID
	return m, m.run(a, what)
}

func (m *Model) askDelete() {
	msg, ok := m.chat.selectedMessage()
	if !ok {
		m.setStatus(levelWarn, "no message selected (v shows messages)")
		return
	}
	a := m.action(status.ActionChatDelete)
	a.Target = msg.ID
	text := ansi.Truncate(clean(msg.Text), 30, ellipsis)
	m.prompt.confirm(fmt.Sprintf("Delete %s's message %q?", clean(msg.Nick), text), a,
		"delete message by "+clean(msg.Nick), false)
}

func (m *Model) askBan() {
	ch, ok := m.chat.selectedChatter()
	if !ok {
		m.setStatus(levelWarn, "no chatter selected")
		return
	}
	a := m.action(status.ActionChatBan)
	a.Target = ch.User
	m.prompt.ask(inputBan, "ban "+clean(ch.Nick)+" for (e.g. 1h, 1d; empty = permanent): ", a, clean(ch.Nick))
}

func (m *Model) askTimeout() {
	ch, ok := m.chat.selectedChatter()
	if !ok {
		m.setStatus(levelWarn, "no chatter selected")
		return
	}
	a := m.action(status.ActionChatTimeout)
	a.Target = ch.User
	m.prompt.ask(inputTimeout, "time out "+clean(ch.Nick)+" for (e.g. 30s, 5m): ", a, clean(ch.Nick))
}

func (m Model) unban() (tea.Model, tea.Cmd) {
	ch, ok := m.chat.selectedChatter()
	if !ok {
		m.setStatus(levelWarn, "no chatter selected")
		return m, nil
	}
	if _, known := m.chat.byUser[ch.User]; known && !m.chat.moderated(&ch) {
		m.setStatus(levelWarn, clean(ch.Nick)+" is neither banned nor timed out")
		return m, nil
	}
	a := m.action(status.ActionChatUnban)
	a.Target = ch.User
	return m, m.run(a, "unban "+clean(ch.Nick))
}

// slowMode turns slow mode off when it is on, and asks for the interval
// when it is off.
func (m Model) slowMode() (tea.Model, tea.Cmd) {
	if m.chat.chat == nil {
		m.setStatus(levelWarn, "no chat on this stream")
		return m, nil
	}
	a := m.action(status.ActionChatSlow)
	if m.chat.chat.SlowModeSeconds > 0 {
		return m, m.run(a, "slow mode off on "+m.stream)
	}
	m.prompt.ask(inputSlow, "slow mode: one message per (e.g. 10s, 1m): ", a, "")
	return m, nil
}

// toggleChat turns chat on at once and asks before turning it off.
func (m Model) toggleChat() (tea.Model, tea.Cmd) {
	if m.chat.chat == nil {
		m.setStatus(levelWarn, "no chat on this stream")
		return m, nil
	}
	if !m.chat.chat.Enabled {
		return m, m.run(m.action(status.ActionChatOn), "chat on on "+m.stream)
	}
	m.prompt.confirm("Turn chat off on "+m.stream+"?", m.action(status.ActionChatOff), "chat off on "+m.stream, false)
	return m, nil
}

func (m *Model) askClear() {
	if m.chat.chat == nil {
		m.setStatus(levelWarn, "no chat on this stream")
		return
	}
	m.prompt.confirm("Clear all chat messages on "+m.stream+"?", m.action(status.ActionChatClear),
		"clear chat on "+m.stream, false)
}

// submit completes an input prompt: the value goes into the action, which
// then runs, or is confirmed first when it cannot be undone.
func (m Model) submit() (tea.Model, tea.Cmd) {
	p := &m.prompt
	value := p.input.String()
	a := p.action
	switch p.purpose {
	case inputFilter:
		p.close()
		return m, nil
	case inputLimit:
		n, err := parseLimit(value)
		if err != nil {
			p.err = err.Error()
			return m, nil
		}
		a.Value = n
		what := fmt.Sprintf("viewer limit %d", n)
		if n == 0 {
			what = "viewer limit off"
		}
		p.close()
		return m, m.run(a, what)
	case inputSlow:
		n, err := parseSeconds(value)
		if err != nil {
			p.err = err.Error()
			return m, nil
		}
		a.Seconds = n
		p.close()
		return m, m.run(a, "slow mode "+formatSeconds(n)+" on "+m.stream)
	case inputBan:
		n, err := parseSeconds(value)
		if err != nil {
			p.err = err.Error()
			return m, nil
		}
		a.Seconds = n
		span := "permanently"
		if n > 0 {
			span = "for " + formatSeconds(n)
		}
		p.confirm(fmt.Sprintf("Ban %s %s?", p.subject, span), a, "ban "+p.subject+" "+span, false)
		return m, nil
	case inputTimeout:
		n, err := parseSeconds(value)
		if err == nil && n == 0 {
			err = fmt.Errorf("enter how long, e.g. 30s or 5m")
		}
		if err != nil {
			p.err = err.Error()
			return m, nil
		}
		a.Seconds = n
		span := "for " + formatSeconds(n)
		p.confirm(fmt.Sprintf("Time out %s %s?", p.subject, span), a, "time out "+p.subject+" "+span, false)
		return m, nil
	}
	p.close()
	return m, nil
}
