package server

import (
	"slices"
	"sync"
	"time"

	"github.com/bcastdev/bcast/server/status"
)

// latencyWindow keeps a stream's recent joins (POST to connected) and
// first frames (connected to the keyframe that starts the picture), so
// the console can say what a viewer arriving now waits: the figure that
// grew with every viewer when initialisation was serialised.
type latencyWindow struct {
	mu            sync.Mutex
	joins, firsts []sample // oldest first, at most maxSamples each
}

type sample struct {
	at time.Time
	d  time.Duration
}

const (
	// latencySpan is how far back the console's figures look.
	latencySpan = time.Minute
	maxSamples  = 1024
)

func (w *latencyWindow) add(list *[]sample, d time.Duration, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(*list) >= maxSamples {
		*list = append((*list)[:0], (*list)[len(*list)-maxSamples+1:]...)
	}
	*list = append(*list, sample{at: now, d: d})
}

func (w *latencyWindow) join(d time.Duration, now time.Time)  { w.add(&w.joins, d, now) }
func (w *latencyWindow) first(d time.Duration, now time.Time) { w.add(&w.firsts, d, now) }

// summary returns the last latencySpan's percentiles, or nil when no
// viewer joined in it.
func (w *latencyWindow) summary(now time.Time) *status.Joins {
	w.mu.Lock()
	defer w.mu.Unlock()
	joins := recent(w.joins, now)
	firsts := recent(w.firsts, now)
	if len(joins) == 0 && len(firsts) == 0 {
		return nil
	}
	out := &status.Joins{WindowSeconds: latencySpan.Seconds(), Count: len(joins)}
	out.JoinP50MS, out.JoinP95MS = percentiles(joins)
	out.FirstFrameP50MS, out.FirstFrameP95MS = percentiles(firsts)
	return out
}

// recent returns the durations of samples newer than latencySpan.
func recent(list []sample, now time.Time) []time.Duration {
	var out []time.Duration
	for _, s := range list {
		if now.Sub(s.at) <= latencySpan {
			out = append(out, s.d)
		}
	}
	return out
}

// percentiles returns p50 and p95 in milliseconds (nearest rank), 0 for
// no samples.
func percentiles(ds []time.Duration) (p50, p95 float64) {
	if len(ds) == 0 {
		return 0, 0
	}
	slices.Sort(ds)
	at := func(p float64) float64 {
		i := int(p*float64(len(ds))+0.999999) - 1
		return float64(ds[min(max(i, 0), len(ds)-1)].Microseconds()) / 1000
	}
	return at(0.50), at(0.95)
}

// streamObserver reports a stream's video latencies to the metrics and
// to the stream's window (forward.Observer).
type streamObserver struct {
	m  *metrics
	st *stream
}

func (o streamObserver) KeyframeResponse(d time.Duration) { o.m.KeyframeResponse(d) }

func (o streamObserver) FirstKeyframe(d time.Duration) {
	o.m.FirstKeyframe(d)
	o.st.lat.first(d, time.Now())
}
