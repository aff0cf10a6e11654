package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// Components render into exact rectangles: every line is padded or cut to
// the component's width, so the root can place them side by side without
// measuring, and no line ever wraps on the operator's terminal.

// ellipsis marks text cut to fit.
const ellipsis = "…"

// fit cuts s (which may carry styles) to w cells, marking the cut, and pads
// it with spaces to exactly w cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		s = ansi.Truncate(s, w, ellipsis)
		sw = ansi.StringWidth(s)
	}
	if sw < w {
		s += strings.Repeat(" ", w-sw)
	}
	return s
}

// cell fits plain text into a column of width w, right-aligned for numbers.
func cell(s string, w int, right bool) string {
	sw := ansi.StringWidth(s)
	switch {
	case sw > w:
		return ansi.Truncate(s, w, ellipsis)
	case sw == w:
		return s
	case right:
		return strings.Repeat(" ", w-sw) + s
	default:
		return s + strings.Repeat(" ", w-sw)
	}
}

// block fits lines into a w×h rectangle: cut or padded line by line, and
// blank lines added or lines dropped to make h.
func block(lines []string, w, h int) []string {
	if h <= 0 {
		return nil
	}
	out := make([]string, h)
	for i := range out {
		if i < len(lines) {
			out[i] = fit(lines[i], w)
		} else {
			out[i] = strings.Repeat(" ", max(w, 0))
		}
	}
	return out
}

// sideBySide joins two equally tall blocks with a one-cell separator.
func sideBySide(left, right []string, sep string) []string {
	out := make([]string, max(len(left), len(right)))
	for i := range out {
		var l, r string
		if i < len(left) {
			l = left[i]
		}
		if i < len(right) {
			r = right[i]
		}
		out[i] = l + sep + r
	}
	return out
}

// paneTitle draws the first line of a pane: its name, a short summary, and
// a rule to the edge. The focused pane is marked by style and by glyphs
// (▶ and a heavy rule), so focus is visible without colour too.
func paneTitle(st *styles, name, info string, w int, focused bool) string {
	titleStyle, ruleStyle, marker, rule := st.PaneTitle, st.Rule, "  ", "─"
	if focused {
		titleStyle, ruleStyle, marker, rule = st.PaneTitleFocused, st.RuleFocused, "▶ ", "━"
	}
	head := titleStyle.Render(marker + name + " ")
	if info != "" {
		head += " " + info
	}
	head = ansi.Truncate(head, w, ellipsis)
	if rest := w - ansi.StringWidth(head); rest > 1 {
		head += " " + ruleStyle.Render(strings.Repeat(rule, rest-1))
	}
	return fit(head, w)
}

// scrollOffset returns the first visible row that keeps cursor on screen
// with as little movement as possible from offset.
func scrollOffset(cursor, offset, height, total int) int {
	if height <= 0 {
		return 0
	}
	if cursor < offset {
		offset = cursor
	}
	if cursor >= offset+height {
		offset = cursor - height + 1
	}
	return max(0, min(offset, total-height))
}

// join writes parts separated by sep, skipping empty ones.
func join(sep string, parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(p)
	}
	return b.String()
}
