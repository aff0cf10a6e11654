package tui

import (
	"strings"
	"time"

	"github.com/bcastdev/bcast/server/status"
)

// historyLen is how many samples a sparkline can show: a minute at the
// server's one-second statistics cadence.
const historyLen = 60

// sampleEvery spaces history samples. The server refreshes rates once a
// second while the console polls four times a second, so sampling every poll
// would draw each value four times and make a minute look like 15 s.
const sampleEvery = time.Second

// ring is a fixed-size history of one value, oldest overwritten first.
type ring struct {
	buf  [historyLen]float64
	head int // next write position
	n    int
}

func (r *ring) push(v float64) {
	r.buf[r.head] = v
	r.head = (r.head + 1) % historyLen
	if r.n < historyLen {
		r.n++
	}
}

// last returns up to n of the newest values, oldest first, appended to dst.
func (r *ring) last(dst []float64, n int) []float64 {
	n = min(n, r.n)
	for i := n; i > 0; i-- {
		dst = append(dst, r.buf[(r.head-i+historyLen)%historyLen])
	}
	return dst
}

// streamHistory is what the console remembers of one stream between
// snapshots.
type streamHistory struct {
	video, audio ring
	// lossRate is the ingest loss fraction (0..1) over the last sample
	// interval, from the lost and packet counters; cumulative counters hide
	// a burst that starts an hour into a stream.
	lossRate           float64
	lastLost, lastPkts int64
	haveCounters       bool
}

// history holds the sparkline samples of every stream and of the egress.
type history struct {
	streams map[string]*streamHistory
	egress  ring
	last    time.Time // snapshot time of the last sample
}

func newHistory() *history {
	return &history{streams: make(map[string]*streamHistory)}
}

// due reports whether snapshot time t is far enough from the last sample to
// take a new one.
func (h *history) due(t time.Time) bool {
	return h.last.IsZero() || t.Sub(h.last) >= sampleEvery || t.Before(h.last)
}

// record takes one sample of every stream in s, and forgets the streams
// that are gone.
func (h *history) record(s *status.Snapshot) {
	h.last = s.Time
	h.egress.push(float64(s.System.EgressBPS))
	for name := range h.streams {
		if findStream(s.Streams, name) == nil {
			delete(h.streams, name)
		}
	}
	for i := range s.Streams {
		st := &s.Streams[i]
		sh := h.streams[st.Name]
		if sh == nil {
			sh = &streamHistory{}
			h.streams[st.Name] = sh
		}
		sh.video.push(float64(bitrate(st.Video)))
		sh.audio.push(float64(bitrate(st.Audio)))
		lost, pkts := ingestCounters(st)
		sh.lossRate = 0
		if sh.haveCounters && lost >= sh.lastLost && pkts >= sh.lastPkts {
			sh.lossRate = lossFraction(lost-sh.lastLost, pkts-sh.lastPkts)
		}
		sh.lastLost, sh.lastPkts, sh.haveCounters = lost, pkts, st.Live
	}
}

// stream returns the history of a stream, or an empty one.
func (h *history) stream(name string) *streamHistory {
	if sh := h.streams[name]; sh != nil {
		return sh
	}
	return &streamHistory{}
}

func bitrate(m *status.Media) int64 {
	if m == nil {
		return 0
	}
	return m.BitrateBPS
}

// ingestCounters sums the lost and received packet counters of a stream's
// ingest tracks.
func ingestCounters(st *status.Stream) (lost, packets int64) {
	for _, m := range []*status.Media{st.Video, st.Audio} {
		if m != nil {
			lost += m.Lost
			packets += int64(m.Packets)
		}
	}
	return lost, packets
}

// lossFraction is lost / (lost + received), 0 when nothing was expected.
func lossFraction(lost, received int64) float64 {
	if lost <= 0 || lost+received <= 0 {
		return 0
	}
	return float64(lost) / float64(lost+received)
}

// sparkBlocks are the eight heights of a sparkline cell.
var sparkBlocks = [...]rune{'▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'}

// sparkline draws the newest width values of r scaled to their maximum, so
// the shape shows change rather than the absolute level (the number next to
// it gives that).
func sparkline(r *ring, width int) string {
	if width <= 0 || r.n == 0 {
		return ""
	}
	var stack [historyLen]float64
	vals := r.last(stack[:0], width)
	peak := 0.0
	for _, v := range vals {
		peak = max(peak, v)
	}
	var b strings.Builder
	b.Grow(len(vals) * 3)
	for _, v := range vals {
		i := 0
		if peak > 0 {
			i = int(v/peak*float64(len(sparkBlocks)-1) + 0.5)
		}
		b.WriteRune(sparkBlocks[i])
	}
	return b.String()
}
