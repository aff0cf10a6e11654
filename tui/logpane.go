package tui

import (
	"fmt"
	"strings"
	"time"
)

// logMax is how many lines the log keeps; older ones are dropped. A
// load test joins thousands of viewers, and the console must not grow with
// them.
const logMax = 500

// logEntry is one line of the alerts/log pane.
type logEntry struct {
	time   time.Time
	level  string // levelInfo, levelWarn, levelError
	stream string
	text   string
}

// logPane shows server events and the console's own alerts, newest at the
// bottom. Scrolling back pins the view; returning to the bottom follows
// again.
type logPane struct {
	st            *styles
	width, height int
	focused       bool
	loc           *time.Location

	entries []logEntry // ring of logMax, oldest at start
	start   int        // index of the oldest entry once full
	back    int        // lines scrolled back from the newest
}

func newLogPane(st *styles, loc *time.Location) logPane {
	return logPane{st: st, loc: loc}
}

func (l *logPane) SetSize(w, h int) { l.width, l.height = w, h; l.clamp() }

// add appends a line; a pinned view stays on the lines it shows.
func (l *logPane) add(e logEntry) {
	e.text, e.stream = clean(e.text), clean(e.stream)
	if len(l.entries) < logMax {
		l.entries = append(l.entries, e)
	} else {
		l.entries[l.start] = e
		l.start = (l.start + 1) % logMax
	}
	if l.back > 0 {
		l.back++
	}
	l.clamp()
}

// at returns the i-th entry, oldest first.
func (l *logPane) at(i int) *logEntry {
	return &l.entries[(l.start+i)%len(l.entries)]
}

func (l *logPane) len() int { return len(l.entries) }

func (l *logPane) pageSize() int { return max(l.height-1, 1) }

func (l *logPane) move(delta int) { l.back -= delta; l.clamp() }
func (l *logPane) top()           { l.back = l.len(); l.clamp() }
func (l *logPane) bottom()        { l.back = 0 }

func (l *logPane) clamp() {
	l.back = max(0, min(l.back, l.len()-l.pageSize()))
}

func (l *logPane) View() string {
	st := l.st
	info := fmt.Sprintf("%d lines", l.len())
	if l.back > 0 {
		info += st.Warn.Render(fmt.Sprintf(" · %d newer below (G)", l.back))
	}
	lines := make([]string, 0, l.height)
	lines = append(lines, paneTitle(st, "Log", info, l.width, l.focused))
	page := l.pageSize()
	end := l.len() - l.back
	for i := max(0, end-page); i < end; i++ {
		lines = append(lines, l.line(l.at(i)))
	}
	return strings.Join(block(lines, l.width, l.height), "\n")
}

func (l *logPane) line(e *logEntry) string {
	st := l.st
	level := st.Muted.Render("info")
	switch e.level {
	case levelWarn:
		level = st.Warn.Render("WARN")
	case levelError:
		level = st.Bad.Render("ERR ")
	}
	text := e.text
	if e.stream != "" {
		text = st.Strong.Render(e.stream) + " " + text
	}
	return st.Muted.Render(e.time.In(l.loc).Format("15:04:05")) + " " + level + " " + text
}
