package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// helpView is the full help (?): the key groups as columns, wrapping to a
// further row on a narrow terminal so that no group is ever cut off (the
// bubbles full help drops the columns that do not fit).
func (m *Model) helpView(width, height int) string {
	st := m.st
	const gap = "   "
	type column struct {
		lines []string
		width int
	}
	var rows [][]column
	used := 0
	for _, g := range m.keys.fullHelp() {
		lines := m.helpColumn(g)
		if len(lines) < 2 { // a title over nothing: read-only took it all
			continue
		}
		c := column{lines: lines}
		for _, l := range lines {
			c.width = max(c.width, ansi.StringWidth(l))
		}
		if n := len(rows); n > 0 && used+len(gap)+c.width <= width {
			rows[n-1] = append(rows[n-1], c)
			used += len(gap) + c.width
			continue
		}
		rows = append(rows, []column{c})
		used = c.width
	}

	lines := []string{paneTitle(st, "Help", st.Muted.Render("esc or ? closes"), width, true)}
	if m.opts.ReadOnly {
		lines = append(lines, st.Warn.Render("read-only console: actions are disabled"))
	}
	for _, l := range m.opts.About {
		lines = append(lines, fit(clean(l), width))
	}
	if len(m.opts.About) > 0 {
		lines = append(lines, "")
	}
	for r, row := range rows {
		if r > 0 {
			lines = append(lines, "")
		}
		tallest := 0
		for _, c := range row {
			tallest = max(tallest, len(c.lines))
		}
		for i := range tallest {
			var b strings.Builder
			for j, c := range row {
				if j > 0 {
					b.WriteString(gap)
				}
				var l string
				if i < len(c.lines) {
					l = c.lines[i]
				}
				b.WriteString(fit(l, c.width))
			}
			lines = append(lines, b.String())
		}
	}
	lines = append(lines, "", st.Muted.Render("Destructive actions (kick, ban, timeout, delete, clear, chat off) ask first: only y confirms."))
	return strings.Join(block(lines, width, height), "\n")
}

// helpColumn renders one group: its title, then aligned key and
// description; disabled (read-only) bindings are left out.
func (m *Model) helpColumn(g helpGroup) []string {
	st := m.st
	kw := 0
	for _, b := range g.bindings {
		if b.Enabled() {
			kw = max(kw, ansi.StringWidth(b.Help().Key))
		}
	}
	col := []string{st.HelpTitle.Render(g.title)}
	for _, b := range g.bindings {
		if !b.Enabled() {
			continue
		}
		h := b.Help()
		col = append(col, st.HelpKey.Render(cell(h.Key, kw, false))+"  "+st.HelpDesc.Render(h.Desc))
	}
	return col
}
