package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/bcastdev/bcast/server/status"
)

// column is one column of the viewers table; its order here is the order on
// screen and the order the sort key cycles through.
type column int

const (
	colNum column = iota
	colID
	colAddr
	colSince
	colState
	colCodec
	colBitrate
	colRTT
	colLoss
	colNACK
	colPLI
	colCapture
	numColumns
)

type columnSpec struct {
	title string
	width int // the address column grows beyond this
	right bool
	// drop orders the columns a narrow terminal hides: lowest goes first.
	drop int
}

var columnSpecs = [numColumns]columnSpec{
	colNum:     {"#", 4, true, 99},
	colID:      {"ID", 8, false, 0},
	colAddr:    {"ADDRESS", 21, false, 98}, // IPv4 and port in full
	colSince:   {"SINCE", 6, true, 5},
	colState:   {"STATE", 9, false, 97},
	colCodec:   {"CODEC", 9, false, 1},
	colBitrate: {"BITRATE", 9, true, 96},
	colRTT:     {"RTT", 7, true, 7},
	colLoss:    {"LOSS", 6, true, 95},
	colNACK:    {"NACK", 5, true, 3},
	colPLI:     {"PLI", 4, true, 2},
	colCapture: {"CAP", 3, false, 6},
}

// addrMax caps the address column: wider only pads.
const addrMax = 40

// viewerTable is the viewers pane: the selected stream's viewers, filtered,
// sorted and scrolled. Filtering and sorting happen when the data or the
// order changes, never in View, and View renders only the visible rows, so a
// thousand viewers cost a sort per snapshot and a screenful of rows per
// frame.
type viewerTable struct {
	st            *styles
	width, height int
	focused       bool

	all  []status.Viewer // as the snapshot has them; never modified
	rows []int           // indices into all, filtered and sorted
	now  time.Time       // snapshot time, for "since"

	stream       string
	count, limit int // viewers of this stream; the server's limit (0 = none)
	total        int // viewers of all streams

	sortBy   column
	desc     bool
	filter   string
	cursor   int
	offset   int
	selected string // viewer ID under the cursor, kept across re-sorts

	cols      []column // visible columns for the width
	addrWidth int
}

func newViewerTable(st *styles) viewerTable {
	return viewerTable{st: st, sortBy: colNum}
}

func (t *viewerTable) SetSize(w, h int) {
	t.width, t.height = w, h
	t.layoutColumns()
	t.clamp()
}

// setViewers replaces the data; the cursor stays on the same viewer when it
// is still there.
func (t *viewerTable) setViewers(stream string, list []status.Viewer, count, limit, total int, now time.Time) {
	if stream != t.stream {
		t.selected, t.cursor, t.offset = "", 0, 0
	}
	t.stream, t.all, t.count, t.limit, t.total, t.now = stream, list, count, limit, total, now
	t.refresh()
}

// setFilter keeps viewers whose address, id, state or codecs contain s,
// ignoring case.
func (t *viewerTable) setFilter(s string) {
	t.filter = s
	t.refresh()
}

// cycleSort moves the sort to the next column, ascending.
func (t *viewerTable) cycleSort() {
	t.sortBy = (t.sortBy + 1) % numColumns
	t.desc = false
	t.refresh()
}

func (t *viewerTable) reverseSort() {
	t.desc = !t.desc
	t.refresh()
}

// refresh rebuilds rows from all, then puts the cursor back on the selected
// viewer.
func (t *viewerTable) refresh() {
	t.rows = t.rows[:0]
	needle := strings.ToLower(t.filter)
	for i := range t.all {
		if needle == "" || viewerMatches(&t.all[i], needle) {
			t.rows = append(t.rows, i)
		}
	}
	slices.SortStableFunc(t.rows, func(a, b int) int {
		c := compareViewers(&t.all[a], &t.all[b], t.sortBy)
		if c == 0 {
			c = cmp.Compare(t.all[a].Num, t.all[b].Num)
		}
		if t.desc {
			return -c
		}
		return c
	})
	if t.selected != "" {
		if i := slices.IndexFunc(t.rows, func(r int) bool { return t.all[r].ID == t.selected }); i >= 0 {
			t.cursor = i
		}
	}
	t.clamp()
}

// viewerMatches reports whether a lower-case needle occurs in the viewer's
// searchable fields.
func viewerMatches(v *status.Viewer, needle string) bool {
	for _, f := range [...]string{v.Remote, v.ID, v.State, v.VideoCodec, v.AudioCodec} {
		if strings.Contains(strings.ToLower(f), needle) {
			return true
		}
	}
	return false
}

func compareViewers(a, b *status.Viewer, c column) int {
	switch c {
	case colID:
		return cmp.Compare(a.ID, b.ID)
	case colAddr:
		return cmp.Compare(a.Remote, b.Remote)
	case colSince: // by age, as the column shows it
		return b.Since.Compare(a.Since)
	case colState:
		return cmp.Compare(a.State, b.State)
	case colCodec:
		return cmp.Or(cmp.Compare(a.VideoCodec, b.VideoCodec), cmp.Compare(a.AudioCodec, b.AudioCodec))
	case colBitrate:
		return cmp.Compare(a.BitrateBPS, b.BitrateBPS)
	case colRTT:
		return cmp.Compare(a.RTTMS, b.RTTMS)
	case colLoss:
		return cmp.Compare(a.LossPercent, b.LossPercent)
	case colNACK:
		return cmp.Compare(a.NACKs, b.NACKs)
	case colPLI:
		return cmp.Compare(a.PLIs, b.PLIs)
	case colCapture:
		return cmp.Compare(a.Capture, b.Capture)
	default:
		return cmp.Compare(a.Num, b.Num)
	}
}

// move shifts the cursor by delta rows (page moves pass the page height).
func (t *viewerTable) move(delta int) {
	t.cursor += delta
	t.clamp()
}

func (t *viewerTable) top()    { t.cursor = 0; t.clamp() }
func (t *viewerTable) bottom() { t.cursor = len(t.rows) - 1; t.clamp() }

// pageSize is how many rows one screen of the table shows.
func (t *viewerTable) pageSize() int { return max(t.height-2, 1) }

func (t *viewerTable) clamp() {
	t.cursor = max(0, min(t.cursor, len(t.rows)-1))
	t.offset = scrollOffset(t.cursor, t.offset, t.pageSize(), len(t.rows))
	t.selected = ""
	if len(t.rows) > 0 {
		t.selected = t.all[t.rows[t.cursor]].ID
	}
}

// selectedViewer returns the viewer under the cursor.
func (t *viewerTable) selectedViewer() (status.Viewer, bool) {
	if len(t.rows) == 0 {
		return status.Viewer{}, false
	}
	return t.all[t.rows[t.cursor]], true
}

// layoutColumns picks the columns that fit the width, hiding the least
// useful first, and gives the address column the rest.
func (t *viewerTable) layoutColumns() {
	avail := t.width - 2 // cursor marker and its space
	order := make([]column, numColumns)
	for c := range numColumns {
		order[c] = c
	}
	slices.SortFunc(order, func(a, b column) int { return cmp.Compare(columnSpecs[b].drop, columnSpecs[a].drop) })
	var keep []column
	used := 0
	for _, c := range order {
		w := columnSpecs[c].width + 1
		if used+w > avail+1 { // the last column needs no separator
			continue
		}
		used += w
		keep = append(keep, c)
	}
	slices.Sort(keep)
	t.cols = keep
	t.addrWidth = columnSpecs[colAddr].width + min(max(avail+1-used, 0), addrMax-columnSpecs[colAddr].width)
}

func (t *viewerTable) colWidth(c column) int {
	if c == colAddr {
		return t.addrWidth
	}
	return columnSpecs[c].width
}

func (t *viewerTable) View() string {
	st := t.st
	lines := make([]string, 0, t.height)
	lines = append(lines, paneTitle(st, "Viewers", t.titleInfo(), t.width, t.focused))

	var hdr strings.Builder
	hdr.WriteString("  ")
	for i, c := range t.cols {
		if i > 0 {
			hdr.WriteByte(' ')
		}
		title := columnSpecs[c].title
		if c == t.sortBy {
			title += sortArrow(t.desc)
		}
		hdr.WriteString(cell(title, t.colWidth(c), columnSpecs[c].right))
	}
	lines = append(lines, st.TableHeader.Render(fit(hdr.String(), t.width)))

	if len(t.rows) == 0 {
		msg := "no viewers"
		if t.filter != "" && len(t.all) > 0 {
			msg = fmt.Sprintf("no viewer matches %q (esc clears)", t.filter)
		}
		lines = append(lines, st.Muted.Render("  "+msg))
	}
	end := min(t.offset+t.pageSize(), len(t.rows))
	for i := t.offset; i < end; i++ {
		lines = append(lines, t.row(&t.all[t.rows[i]], i == t.cursor))
	}
	return strings.Join(block(lines, t.width, t.height), "\n")
}

func (t *viewerTable) titleInfo() string {
	st := t.st
	limit := "∞"
	if t.limit > 0 {
		limit = fmt.Sprint(t.limit)
	}
	count := fmt.Sprintf("%d on %s · %d/%s total", t.count, t.stream, t.total, limit)
	if t.limit > 0 && t.total >= t.limit {
		count = st.Warn.Render(count + " (full)")
	}
	parts := []string{count}
	if t.filter != "" {
		parts = append(parts, fmt.Sprintf("filter %q %d shown", t.filter, len(t.rows)))
	}
	if len(t.rows) > t.pageSize() {
		parts = append(parts, st.Muted.Render(fmt.Sprintf("%d/%d", t.cursor+1, len(t.rows))))
	}
	return strings.Join(parts, st.Muted.Render(" · "))
}

// row renders one viewer. The cursor row is drawn in one style over plain
// cells (a reversed line reads better than mixed colours); the others colour
// their health cells.
func (t *viewerTable) row(v *status.Viewer, cursor bool) string {
	st := t.st
	styled := !cursor
	var b strings.Builder
	b.Grow(t.width + 64)
	if cursor {
		b.WriteString("› ")
	} else {
		b.WriteString("  ")
	}
	for i, c := range t.cols {
		if i > 0 {
			b.WriteByte(' ')
		}
		text := t.cellText(v, c)
		s := cell(text, t.colWidth(c), columnSpecs[c].right)
		if styled {
			switch c {
			case colLoss:
				s = st.health(v.LossPercent, 1, 5).Render(s)
			case colRTT:
				if v.RTTMS > 0 {
					s = st.health(v.RTTMS, 150, 400).Render(s)
				}
			case colState:
				s = stateStyle(st, v).Render(s)
			case colCapture:
				if v.Capture != "" {
					s = st.Warn.Render(s)
				}
			}
		}
		b.WriteString(s)
	}
	line := fit(b.String(), t.width)
	switch {
	case cursor && t.focused:
		return st.Selected.Render(line)
	case cursor:
		return st.SelectedBlurred.Render(line)
	}
	return line
}

func (t *viewerTable) cellText(v *status.Viewer, c column) string {
	switch c {
	case colNum:
		return fmt.Sprint(v.Num)
	case colID:
		return v.ID[:min(len(v.ID), columnSpecs[colID].width)]
	case colAddr:
		return v.Remote
	case colSince:
		return formatDuration(t.now.Sub(v.Since))
	case colState:
		if v.Problem != "" {
			return "! " + v.Problem
		}
		return v.State
	case colCodec:
		return join("/", v.VideoCodec, v.AudioCodec)
	case colBitrate:
		return formatBitrate(v.BitrateBPS)
	case colRTT:
		if v.RTTMS <= 0 {
			return "-"
		}
		return formatMS(v.RTTMS)
	case colLoss:
		return formatPercent(v.LossPercent)
	case colNACK:
		return formatCount(v.NACKs)
	case colPLI:
		return formatCount(v.PLIs)
	case colCapture:
		if v.Capture != "" {
			return "rec"
		}
		return "-"
	}
	return ""
}

// stateStyle colours a peer connection state: connected is fine, the
// states on the way there warn, the ones on the way out are bad.
func stateStyle(st *styles, v *status.Viewer) lipgloss.Style {
	switch {
	case v.Problem != "":
		return st.Bad
	case v.State == "connected":
		return st.OK
	case v.State == "failed" || v.State == "disconnected" || v.State == "closed":
		return st.Bad
	default:
		return st.Warn
	}
}

func sortArrow(desc bool) string {
	if desc {
		return "↓"
	}
	return "↑"
}
