package tui

import (
	"fmt"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/bcastdev/bcast/server/status"
	"github.com/charmbracelet/colorprofile"
)

// bigSnapshot is the fixture with n viewers on the live stream.
func bigSnapshot(n int) status.Snapshot {
	s := fixture(0)
	list := make([]status.Viewer, n)
	for i := range list {
		list[i] = status.Viewer{
			ID:          fmt.Sprintf("v%05d-%06x", i+1, i*7919),
			Num:         i + 1,
			Remote:      fmt.Sprintf("10.%d.%d.%d:%d", i>>16&255, i>>8&255, i&255, 40000+i%20000),
			Since:       t0.Add(-time.Duration(i) * time.Second),
			State:       "connected",
			VideoCodec:  "VP8",
			AudioCodec:  "opus",
			BitrateBPS:  2_400_000 + int64(i%100)*1000,
			RTTMS:       float64(10 + i%200),
			LossPercent: float64(i%50) / 10,
			NACKs:       uint64(i % 300),
			PLIs:        uint64(i % 7),
		}
	}
	s.Streams[0].ViewerList, s.Streams[0].Viewers, s.System.Viewers = list, n, n+2
	s.System.MaxViewers = 0
	return s
}

// BenchmarkViewSnapshot1000 is one poll of a server with a thousand
// viewers: taking in the snapshot (filter, sort, history, alerts) and
// rendering a 200×60 frame, on a 16-colour terminal. It measures the
// console's own CPU per poll; at the default 4 polls a second, multiply
// by four for its share of a core.
func BenchmarkViewSnapshot1000(b *testing.B) {
	snaps := []status.Snapshot{bigSnapshot(1000), bigSnapshot(1000)}
	snaps[1].Time = snaps[1].Time.Add(time.Second)
	m := New(newFakeBackend(snaps[0]), Options{Title: "bench"})
	m.setClock(func() time.Time { return t0 }, time.UTC)
	var next tea.Model = m
	next, _ = next.Update(tea.ColorProfileMsg{Profile: colorprofile.ANSI})
	next, _ = next.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
	next, _ = next.Update(snapshotMsg{snap: snaps[0]})
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		next, _ = next.Update(snapshotMsg{snap: snaps[i%2]})
		_ = next.View()
	}
}
