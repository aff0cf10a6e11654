package tui

import (
	"context"
	"slices"
	"time"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
	"github.com/bcastdev/bcast/server/status"
	"github.com/charmbracelet/colorprofile"
)

// pane is a focusable part of the screen.
type pane int

const (
	paneViewers pane = iota
	paneChat
	paneLog
	numPanes
)

// Model is the console: a tea.Model that polls a Backend, renders what it
// returns, and turns keys into actions. New builds one; Run puts it on the
// terminal.
type Model struct {
	backend Backend
	ctx     context.Context
	opts    Options
	keys    keyMap
	st      *styles
	profile colorprofile.Profile
	dark    bool
	now     func() time.Time // the console's clock, for its own status lines
	loc     *time.Location   // the zone times are shown in

	width, height int

	snap     *status.Snapshot // latest; nil before the first
	connErr  string           // why the last snapshot failed; "" when it did not
	inflight bool             // a snapshot request is out
	events   <-chan status.Event

	stream string // selected stream's name
	focus  pane
	hist   *history
	base   *status.Snapshot // the snapshot history and alerts compare against
	alerts *alertTracker

	header   header
	system   system
	viewers  viewerTable
	chat     chatPane
	log      logPane
	prompt   prompt
	showHelp bool
	status   statusLine
	help     help.Model
}

// statusLine is the outcome of the last action or why a key did nothing.
type statusLine struct {
	time  time.Time
	level string
	text  string
}

// New returns a console for b. Its Init starts the first snapshot request
// and the event listener; nothing touches the backend before that.
func New(b Backend, opts Options) Model {
	opts = opts.withDefaults()
	m := Model{
		backend:  b,
		ctx:      context.Background(),
		opts:     opts,
		keys:     defaultKeyMap(opts.ReadOnly),
		profile:  colorprofile.ANSI,
		dark:     true,
		now:      time.Now,
		loc:      time.Local,
		events:   b.Events(),
		inflight: true, // Init's request
		hist:     newHistory(),
		alerts:   &alertTracker{},
		help:     help.New(),
	}
	if opts.NoColor {
		m.profile = colorprofile.ASCII
	}
	m.header = header{title: opts.Title, readOnly: opts.ReadOnly, index: -1}
	m.viewers = newViewerTable(nil)
	m.chat = newChatPane(nil, m.loc)
	m.log = newLogPane(nil, m.loc)
	m.setStyles()
	m.setFocus(paneViewers)
	return m
}

// Init asks for the first snapshot, listens for events and asks the
// terminal for its background so the palette fits it.
func (m Model) Init() tea.Cmd {
	return tea.Batch(fetchSnapshot(m.ctx, m.backend), waitEvents(m.ctx, m.events), tea.RequestBackgroundColor)
}

// Update applies one message. It never blocks: backend calls happen in the
// commands it returns.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
	case tea.ColorProfileMsg:
		if m.opts.NoColor && msg.Profile > colorprofile.ASCII {
			msg.Profile = colorprofile.ASCII
		}
		m.profile = msg.Profile
		m.setStyles()
	case tea.BackgroundColorMsg:
		m.dark = msg.IsDark()
		m.setStyles()
	case snapshotMsg:
		m.inflight = false
		m.applySnapshot(msg)
		return m, schedulePoll(m.opts.Interval)
	case pollMsg:
		if m.inflight {
			return m, nil
		}
		m.inflight = true
		return m, fetchSnapshot(m.ctx, m.backend)
	case eventsMsg:
		for i := range msg.events {
			m.applyEvent(&msg.events[i])
		}
		if msg.closed {
			m.log.add(logEntry{time: m.now(), level: levelWarn, text: "event stream closed; snapshots continue"})
			m.events = nil
			return m, nil
		}
		return m, waitEvents(m.ctx, m.events)
	case actionDoneMsg:
		if msg.err != nil {
			m.setStatus(levelError, "✗ "+msg.what+": "+msg.err.Error())
		} else {
			m.setStatus(levelInfo, "✓ "+msg.what)
		}
	case tea.PasteMsg:
		if m.prompt.kind == promptInput {
			m.editInput(msg)
		}
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	}
	return m, nil
}

// applySnapshot takes in a snapshot or records why there is none.
func (m *Model) applySnapshot(msg snapshotMsg) {
	if msg.err != nil {
		reason := msg.err.Error()
		if m.connErr == "" {
			m.log.add(logEntry{time: m.now(), level: levelError, text: "disconnected: " + reason})
		}
		m.connErr = reason
		m.refresh()
		return
	}
	if m.connErr != "" {
		m.log.add(logEntry{time: m.now(), level: levelInfo, text: "reconnected"})
		m.connErr = ""
	}
	s := msg.snap
	m.snap = &s
	if m.hist.due(s.Time) {
		for _, a := range m.alerts.fresh(deriveAlerts(m.base, m.snap)) {
			m.log.add(logEntry{time: s.Time, level: a.Level, stream: a.Stream, text: a.Text})
		}
		m.hist.record(m.snap)
		m.base = m.snap
	}
	m.refresh()
}

// applyEvent shows one server event: chat messages in the chat, the rest in
// the log.
func (m *Model) applyEvent(ev *status.Event) {
	if ev.Kind == status.EventChat && ev.Chat != nil {
		m.chat.addMessage(ev.Stream, *ev.Chat)
		return
	}
	t := ev.Time
	if t.IsZero() {
		t = m.now()
	}
	level := ev.Level
	if level == "" {
		switch ev.Kind {
		case status.EventOff, status.EventAlert:
			level = levelWarn
		default:
			level = levelInfo
		}
	}
	m.log.add(logEntry{time: t, level: level, stream: ev.Stream, text: ev.Text})
}

// selectedStream returns the selected stream and its index, falling back to
// the first stream when the selected one is gone.
func (m *Model) selectedStream() (*status.Stream, int) {
	if m.snap == nil || len(m.snap.Streams) == 0 {
		return nil, -1
	}
	i := slices.IndexFunc(m.snap.Streams, func(s status.Stream) bool { return s.Name == m.stream })
	if i < 0 {
		i = 0
	}
	m.stream = m.snap.Streams[i].Name
	return &m.snap.Streams[i], i
}

// refresh hands the current data to the components.
func (m *Model) refresh() {
	s, i := m.selectedStream()
	var hist *streamHistory
	var chat *status.Chat
	var viewers []status.Viewer
	count, limit, total := 0, 0, 0
	var t time.Time
	if m.snap != nil {
		limit, total, t = m.snap.System.MaxViewers, m.snap.System.Viewers, m.snap.Time
	}
	if s != nil {
		hist = m.hist.stream(s.Name)
		chat, viewers, count = s.Chat, s.ViewerList, s.Viewers
	}
	m.header.set(m.snap, m.connErr, i, hist)
	m.system.set(m.snap, s, &m.hist.egress)
	m.viewers.setViewers(m.stream, viewers, count, limit, total, t)
	m.chat.setChat(m.stream, chat, t)
}

// switchStream selects the next (+1) or previous (-1) stream.
func (m *Model) switchStream(delta int) {
	_, i := m.selectedStream()
	if i < 0 {
		return
	}
	n := len(m.snap.Streams)
	m.stream = m.snap.Streams[(i+delta+n)%n].Name
	m.refresh()
}

// viewersConnected counts the viewers quitting would matter to.
func (m *Model) viewersConnected() int {
	if m.snap == nil {
		return 0
	}
	n := 0
	for i := range m.snap.Streams {
		n += m.snap.Streams[i].Viewers
	}
	return max(n, m.snap.System.Viewers)
}

func (m *Model) setStatus(level, text string) {
	m.status = statusLine{time: m.now(), level: level, text: text}
}

// setStyles rebuilds the styles for the profile and background and hands
// them to every component.
func (m *Model) setStyles() {
	st := newStyles(m.profile, m.dark)
	m.st = st
	m.header.st, m.system.st, m.viewers.st, m.chat.st, m.log.st = st, st, st, st, st
	m.help.Styles = help.Styles{
		ShortKey: st.HelpKey, ShortDesc: st.HelpDesc, ShortSeparator: st.HelpSep, Ellipsis: st.HelpSep,
		FullKey: st.HelpKey, FullDesc: st.HelpDesc, FullSeparator: st.HelpSep,
	}
}

func (m *Model) setFocus(p pane) {
	m.focus = p
	m.viewers.focused = p == paneViewers
	m.chat.focused = p == paneChat
	m.log.focused = p == paneLog
}

// setClock replaces the console's clock and time zone; tests pin both so
// that rendered times do not depend on when and where they run.
func (m *Model) setClock(now func() time.Time, loc *time.Location) {
	m.now, m.loc, m.chat.loc, m.log.loc = now, loc, loc, loc
}
