package tui

import (
	"slices"
	"strings"
	"testing"

	"github.com/bcastdev/bcast/server/status"
	"github.com/charmbracelet/colorprofile"
)

func newTestTable(list []status.Viewer) viewerTable {
	t := newViewerTable(newStyles(colorprofile.NoTTY, true))
	t.SetSize(120, 10)
	t.setViewers("main", list, len(list), 0, len(list), t0)
	return t
}

// nums lists the viewer numbers in table order.
func nums(t *viewerTable) []int {
	out := make([]int, 0, len(t.rows))
	for _, r := range t.rows {
		out = append(out, t.all[r].Num)
	}
	return out
}

func TestViewerFilter(t *testing.T) {
	tests := []struct {
		filter string
		want   []int
	}{
		{"", []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
		{"203.0.113.1", []int{1, 7, 9, 10, 11, 12}}, // address substring
		{"2001:DB8", []int{8}},                      // case-insensitive, IPv6
		{"v03", []int{3}},                           // id
		{"checking", []int{4}},                      // state
		{"disconn", []int{9}},
		{"h264", []int{8}},                                     // video codec
		{"OPUS", []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}}, // audio codec
		{"nobody", []int{}},
	}
	for _, tt := range tests {
		tbl := newTestTable(fixture(0).Streams[0].ViewerList)
		tbl.setFilter(tt.filter)
		if got := nums(&tbl); !slices.Equal(got, tt.want) {
			t.Errorf("filter %q: %v, want %v", tt.filter, got, tt.want)
		}
	}
}

func TestViewerSort(t *testing.T) {
	tbl := newTestTable(fixture(0).Streams[0].ViewerList)
	sortBy := func(c column, desc bool) []int {
		for tbl.sortBy != c {
			tbl.cycleSort()
		}
		if tbl.desc != desc {
			tbl.reverseSort()
		}
		return nums(&tbl)
	}
	if got, want := sortBy(colNum, false), []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}; !slices.Equal(got, want) {
		t.Errorf("by #: %v", got)
	}
	if got := sortBy(colLoss, true); got[0] != 6 {
		t.Errorf("by loss descending: %v, want #6 (7.5%%) first", got)
	}
	// Ties keep viewer order: losses are 0, .3, .6, .9 repeating.
	if got, want := sortBy(colLoss, false)[:3], []int{1, 5, 9}; !slices.Equal(got, want) {
		t.Errorf("by loss ascending: %v, want %v first", got, want)
	}
	if got := sortBy(colSince, false); got[0] != 1 || got[11] != 12 {
		t.Errorf("by age ascending: %v, want youngest (#1) first", got)
	}
	if got := sortBy(colRTT, true); got[0] != 6 {
		t.Errorf("by RTT descending: %v, want #6 (480 ms) first", got)
	}
	if got := sortBy(colCodec, false); got[0] != 8 {
		t.Errorf("by codec: %v, want H264 (#8) before VP8", got)
	}
	if got := sortBy(colCapture, true); got[0] != 3 {
		t.Errorf("by capture descending: %v, want #3 first", got)
	}
	// The cycle wraps around to #.
	for range numColumns {
		tbl.cycleSort()
	}
	if tbl.sortBy != colCapture {
		t.Errorf("a full cycle ended on column %d", tbl.sortBy)
	}
}

// TestViewerCursorSticks keeps the cursor on the same viewer across a new
// snapshot, a re-sort and a filter, and clamps it when the viewer leaves.
func TestViewerCursorSticks(t *testing.T) {
	list := fixture(0).Streams[0].ViewerList
	tbl := newTestTable(list)
	tbl.move(5) // #6
	if v, _ := tbl.selectedViewer(); v.Num != 6 {
		t.Fatalf("cursor on #%d", v.Num)
	}
	tbl.reverseSort()
	if v, _ := tbl.selectedViewer(); v.Num != 6 {
		t.Errorf("after reverse: cursor on #%d", v.Num)
	}
	tbl.setFilter("203.0.113.9")
	if v, _ := tbl.selectedViewer(); v.Num != 6 {
		t.Errorf("after filter: cursor on #%d", v.Num)
	}
	tbl.setFilter("")
	without := slices.DeleteFunc(slices.Clone(list), func(v status.Viewer) bool { return v.Num == 6 })
	tbl.setViewers("main", without, 11, 0, 11, t0)
	if _, ok := tbl.selectedViewer(); !ok {
		t.Error("no selection after the viewer left")
	}
}

// TestViewerScroll renders only the rows that fit and keeps the cursor on
// screen.
func TestViewerScroll(t *testing.T) {
	list := make([]status.Viewer, 1000)
	for i := range list {
		list[i] = status.Viewer{ID: strings.Repeat("x", 3) + string(rune('a'+i%26)), Num: i + 1, Remote: "192.0.2.1:1", State: "connected", Since: t0}
	}
	tbl := newTestTable(list)
	tbl.bottom()
	lines := strings.Split(tbl.View(), "\n")
	if len(lines) != 10 {
		t.Fatalf("%d lines, want 10", len(lines))
	}
	if !strings.Contains(lines[9], " 1000 ") || !strings.HasPrefix(lines[9], "›") {
		t.Errorf("last line %q, want the cursor on #1000", lines[9])
	}
	if !strings.Contains(lines[0], "1000/1000") {
		t.Errorf("title %q lacks the position", lines[0])
	}
	tbl.move(-tbl.pageSize())
	lines = strings.Split(tbl.View(), "\n")
	if !strings.HasPrefix(lines[2], "›") || !strings.Contains(lines[2], " 992 ") {
		t.Errorf("after page up the first row is %q, want the cursor on #992", lines[2])
	}
	tbl.top()
	if v, _ := tbl.selectedViewer(); v.Num != 1 || tbl.offset != 0 {
		t.Errorf("top: #%d offset %d", v.Num, tbl.offset)
	}
}

// TestViewerColumnsFit drops columns on narrow terminals, never exceeding
// the width.
func TestViewerColumnsFit(t *testing.T) {
	for _, w := range []int{40, 60, 80, 100, 120, 200} {
		tbl := newTestTable(fixture(0).Streams[0].ViewerList)
		tbl.SetSize(w, 8)
		for i, l := range strings.Split(tbl.View(), "\n") {
			if got := len([]rune(l)); got > w {
				t.Errorf("width %d: line %d has %d cells: %q", w, i, got, l)
			}
		}
		if !slices.Contains(tbl.cols, colNum) || !slices.Contains(tbl.cols, colAddr) {
			t.Errorf("width %d lost # or the address: %v", w, tbl.cols)
		}
		if w >= 120 && len(tbl.cols) != int(numColumns) {
			t.Errorf("width %d shows %d of %d columns", w, len(tbl.cols), numColumns)
		}
	}
}
