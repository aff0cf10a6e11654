package server

import (
	"testing"
	"time"
)

// The join guard reads /proc at most every fdCountTTL and counts each join
// since as one descriptor more.
func TestFDCountEstimate(t *testing.T) {
	reads := 0
	c := fdCount{read: func() int { reads++; return 100 }}
	t0 := time.Unix(1000, 0)
	for i, want := range []int{100, 101, 102} {
		if got := c.estimate(t0.Add(time.Duration(i) * time.Millisecond)); got != want {
			t.Fatalf("join %d: %d, want %d", i, got, want)
		}
	}
	if reads != 1 {
		t.Fatalf("%d reads within the TTL, want 1", reads)
	}
	if got := c.estimate(t0.Add(fdCountTTL)); got != 100 || reads != 2 {
		t.Fatalf("after the TTL: %d after %d reads, want a fresh 100", got, reads)
	}
	if got := c.estimate(t0); got != 100 || reads != 3 {
		t.Fatalf("clock stepped back: %d after %d reads, want a fresh read", got, reads)
	}
	unknown := fdCount{read: func() int { return -1 }}
	if got := unknown.estimate(t0); got != -1 {
		t.Fatalf("unknown count estimated as %d", got)
	}
}
