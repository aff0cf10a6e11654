package tui

import (
	"slices"
	"testing"
	"time"
)

func TestRing(t *testing.T) {
	var r ring
	if got := r.last(nil, 5); len(got) != 0 {
		t.Errorf("empty ring: %v", got)
	}
	for i := range historyLen + 3 {
		r.push(float64(i))
	}
	if got, want := r.last(nil, 3), []float64{60, 61, 62}; !slices.Equal(got, want) {
		t.Errorf("last 3 = %v, want %v", got, want)
	}
	if got := r.last(nil, 1000); len(got) != historyLen || got[0] != 3 {
		t.Errorf("all = %d values from %v, want %d from 3", len(got), got[0], historyLen)
	}
}

func TestSparkline(t *testing.T) {
	var r ring
	for _, v := range []float64{0, 1, 2, 3, 4, 5, 6, 7} {
		r.push(v)
	}
	if got, want := sparkline(&r, 8), "▁▂▃▄▅▆▇█"; got != want {
		t.Errorf("sparkline = %q, want %q", got, want)
	}
	if got, want := sparkline(&r, 3), "▆▇█"; got != want {
		t.Errorf("last 3 = %q, want %q", got, want)
	}
	var zero ring
	zero.push(0)
	zero.push(0)
	if got := sparkline(&zero, 4); got != "▁▁" {
		t.Errorf("all zero = %q", got)
	}
	if sparkline(&r, 0) != "" {
		t.Error("zero width drew something")
	}
}

// TestHistorySampling samples once per second of snapshot time and
// computes the ingest loss over the interval, not since the start.
func TestHistorySampling(t *testing.T) {
	h := newHistory()
	s0 := fixture(0)
	h.record(&s0)
	if h.due(s0.Time.Add(250 * time.Millisecond)) {
		t.Error("due a quarter second later")
	}
	s1 := fixture(1)
	if !h.due(s1.Time) {
		t.Error("not due a second later")
	}
	s1.Streams[0].Video.Lost += 33 // 33 lost of 300 received + 33
	h.record(&s1)
	sh := h.stream("main")
	if got := sh.lossRate; got < 0.099 || got > 0.1 {
		t.Errorf("interval loss %v, want 33/333", got)
	}
	if sh.video.n != 2 {
		t.Errorf("%d video samples", sh.video.n)
	}
	s2 := fixture(2)
	s2.Streams = s2.Streams[:1]
	h.record(&s2)
	if _, ok := h.streams["backup"]; ok {
		t.Error("a removed stream's history is kept")
	}
}
