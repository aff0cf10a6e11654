package tui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bcastdev/bcast/server/status"
)

func TestDeriveAlerts(t *testing.T) {
	// healthy is the fixture with every viewer under the loss threshold.
	healthy := func(tick int) *status.Snapshot {
		s := fixture(tick)
		for i := range s.Streams[0].ViewerList {
			s.Streams[0].ViewerList[i].LossPercent = 0.5
		}
		return &s
	}
	lossy := func(s *status.Snapshot, n int) *status.Snapshot {
		for i := range n {
			s.Streams[0].ViewerList[i].LossPercent = 6
		}
		return s
	}
	with := func(s *status.Snapshot, f func(*status.Snapshot)) *status.Snapshot { f(s); return s }
	main := func(s *status.Snapshot) *status.Stream { return &s.Streams[0] }

	tests := []struct {
		name      string
		prev, cur *status.Snapshot
		want      []string // "level key", sorted
		text      string   // a phrase one of the alerts must contain
	}{
		{name: "healthy", prev: healthy(0), cur: healthy(1)},
		{name: "first snapshot knows no rates", prev: nil, cur: lossy(healthy(0), 12)},

		{name: "streamer lost", prev: healthy(0),
			cur:  with(healthy(1), func(s *status.Snapshot) { main(s).Live = false; main(s).Video, main(s).Audio = nil, nil }),
			want: []string{"error lost:main"}, text: "streamer lost (was live for 1h23m)"},
		{name: "stream removed", prev: healthy(0),
			cur:  with(healthy(1), func(s *status.Snapshot) { s.Streams = s.Streams[1:] }),
			want: []string{"error lost:main"}},
		{name: "offline stays offline", prev: with(healthy(0), func(s *status.Snapshot) { s.Streams[0].Live = false }),
			cur: with(healthy(1), func(s *status.Snapshot) { s.Streams[0].Live = false })},

		{name: "kernel refuses datagrams", prev: with(healthy(0), func(s *status.Snapshot) { s.System.UDPSendErrors = 4 }),
			cur:  with(healthy(1), func(s *status.Snapshot) { s.System.UDPSendErrors = 7 }),
			want: []string{"warn udp-errors"}, text: "kernel refused 3 datagrams"},
		{name: "old refusals are not news", prev: with(healthy(0), func(s *status.Snapshot) { s.System.UDPSendErrors = 4 }),
			cur: with(healthy(1), func(s *status.Snapshot) { s.System.UDPSendErrors = 4 })},

		{name: "ingest loss is the streamer's side",
			prev: healthy(0),
			cur:  lossy(with(healthy(1), func(s *status.Snapshot) { main(s).Video.Lost += 30 }), 12),
			want: []string{"warn ingest-loss:main"}, text: "streamer side"},
		{name: "ingest loss under threshold", prev: healthy(0),
			cur: with(healthy(1), func(s *status.Snapshot) { main(s).Video.Lost += 2 })},
		{name: "publisher restart resets counters", prev: healthy(0),
			cur: with(healthy(1), func(s *status.Snapshot) { main(s).Video.Packets, main(s).Video.Lost = 10, 5 })},

		{name: "most viewers lose with clean ingest: egress", prev: healthy(0), cur: lossy(healthy(1), 8),
			want: []string{"error egress-loss:main"}, text: "8 of 12 viewers lose > 2.0% while ingest is clean: server/egress side"},
		{name: "half the viewers is enough", prev: healthy(0), cur: lossy(healthy(1), 6),
			want: []string{"error egress-loss:main"}},
		{name: "three of four", prev: healthy(0),
			cur:  lossy(with(healthy(1), func(s *status.Snapshot) { main(s).ViewerList = main(s).ViewerList[:4] }), 3),
			want: []string{"error egress-loss:main"}},
		{name: "two of three is their networks", prev: healthy(0),
			cur:  lossy(with(healthy(1), func(s *status.Snapshot) { main(s).ViewerList = main(s).ViewerList[:3] }), 2),
			want: []string{"info viewer-loss:main:v01-a5a5a5", "info viewer-loss:main:v02-a5c494"}},
		{name: "one viewer is their network", prev: healthy(0), cur: lossy(healthy(1), 1),
			want: []string{"info viewer-loss:main:v01-a5a5a5"}, text: "viewer #1 203.0.113.10:50000 loses 6.0% while ingest is clean: their network"},
		{name: "a few viewers are their networks", prev: healthy(0), cur: lossy(healthy(1), 5),
			want: []string{"info viewers-loss:main"}, text: "5 of 12 viewers"},

		{name: "dump drops rising", prev: healthy(0),
			cur:  with(healthy(1), func(s *status.Snapshot) { main(s).Dump.Dropped = 120 }),
			want: []string{"warn dump-drops:main"}, text: "dump dropped 120 packets"},
		{name: "dump drops steady",
			prev: with(healthy(0), func(s *status.Snapshot) { main(s).Dump.Dropped = 120 }),
			cur:  with(healthy(1), func(s *status.Snapshot) { main(s).Dump.Dropped = 120 })},
		{name: "stream dump error", prev: healthy(0),
			cur:  with(healthy(1), func(s *status.Snapshot) { main(s).Dump.Error = "write: no space left on device" }),
			want: []string{"error dump-error:main:write: no space left on device"}},
		{name: "system dump error", prev: nil,
			cur:  with(healthy(1), func(s *status.Snapshot) { s.System.DumpError = "dump dir not writable" }),
			want: []string{"error dump-error::dump dir not writable"}},

		{name: "fd headroom low", prev: nil,
			cur:  with(healthy(1), func(s *status.Snapshot) { s.System.FDs = 900 }),
			want: []string{"warn fd"}, text: "file descriptors 900/1024 (87.9%)"},
		{name: "fd at 80% is fine", prev: nil,
			cur: with(healthy(1), func(s *status.Snapshot) { s.System.FDs, s.System.FDLimit = 800, 1000 })},

		{name: "viewer limit reached", prev: nil,
			cur:  with(healthy(1), func(s *status.Snapshot) { s.System.Viewers, s.System.MaxViewers = 100, 100 }),
			want: []string{"warn limit"}, text: "viewer limit reached (100/100)"},
		{name: "no limit", prev: nil,
			cur: with(healthy(1), func(s *status.Snapshot) { s.System.Viewers, s.System.MaxViewers = 5000, 0 })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alerts := deriveAlerts(tt.prev, tt.cur)
			var got []string
			for _, a := range alerts {
				got = append(got, a.Level+" "+a.Key)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if tt.text != "" && !slices.ContainsFunc(alerts, func(a alert) bool { return strings.Contains(a.Text, tt.text) }) {
				t.Errorf("no alert says %q: %+v", tt.text, alerts)
			}
		})
	}
}

func TestAlertTracker(t *testing.T) {
	var tr alertTracker
	fd := alert{Key: "fd", Level: levelWarn, Text: "fds"}
	lim := alert{Key: "limit", Level: levelWarn, Text: "limit"}
	keys := func(as []alert) (out []string) {
		for _, a := range as {
			out = append(out, a.Key)
		}
		return out
	}
	steps := []struct {
		in   []alert
		want []string
	}{
		{[]alert{fd}, []string{"fd"}},
		{[]alert{fd}, nil},                                         // still active: not again
		{[]alert{fd, lim}, []string{"limit"}},                      // a new one
		{nil, nil},                                                 // fd and limit absent 1
		{[]alert{fd}, nil},                                         // back within the hold: a flicker, not news
		{nil, nil}, {nil, nil}, {nil, nil}, {nil, nil}, {nil, nil}, // absent alertHold times
		{[]alert{fd}, nil}, // still held
		{nil, nil}, {nil, nil}, {nil, nil}, {nil, nil}, {nil, nil}, {nil, nil},
		{[]alert{fd, lim}, []string{"fd", "limit"}}, // gone long enough: news again
	}
	for i, s := range steps {
		if got := keys(tr.fresh(s.in)); !slices.Equal(got, s.want) {
			t.Errorf("step %d: fresh = %q, want %q", i, got, s.want)
		}
	}
}

// TestAlertsReachLog derives alerts from consecutive snapshots in the
// model, once per condition, at the history cadence.
func TestAlertsReachLog(t *testing.T) {
	m := New(newFakeBackend(fixture(0)), Options{})
	m.setClock(func() time.Time { return t0 }, time.UTC)
	m = step(t, m, snapshotMsg{snap: fixture(0)})
	for tick := 1; tick <= 3; tick++ {
		s := fixture(tick)
		s.Streams[0].Live = false
		m = step(t, m, snapshotMsg{snap: s})
	}
	var lost int
	for i := range m.log.len() {
		if strings.Contains(m.log.at(i).text, "streamer lost") {
			lost++
		}
	}
	if lost != 1 {
		t.Errorf("%d \"streamer lost\" lines, want 1", lost)
	}
}
