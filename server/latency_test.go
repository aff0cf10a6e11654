package server

import (
	"testing"
	"time"
)

func TestLatencyWindow(t *testing.T) {
	var w latencyWindow
	now := time.Now()
	if w.summary(now) != nil {
		t.Fatal("summary without joins")
	}
	w.join(5*time.Second, now.Add(-2*latencySpan)) // too old to count
	for i := 1; i <= 20; i++ {
		w.join(time.Duration(i)*10*time.Millisecond, now)
	}
	w.first(300*time.Millisecond, now)
	s := w.summary(now)
	if s == nil || s.Count != 20 || s.JoinP50MS != 100 || s.JoinP95MS != 190 || s.FirstFrameP95MS != 300 {
		t.Fatalf("summary %+v, want 20 joins, p50 100 ms, p95 190 ms, first frame 300 ms", s)
	}
	for range maxSamples + 10 {
		w.join(time.Millisecond, now)
	}
	if len(w.joins) != maxSamples {
		t.Fatalf("%d samples kept, want at most %d", len(w.joins), maxSamples)
	}
}
