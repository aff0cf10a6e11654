package diagnose

import (
	"fmt"
	"time"
)

// Thresholds. They describe what a viewer notices, not protocol violations:
// a second without video is a visible freeze.
const (
	freezeGap = time.Second
	// RTP time may run ahead of arrival by this much before it is a
	// jump, and back by backwardsTol (B-frames reorder timestamps in
	// transmission order by a few frames, never by half a second).
	timestampJumpTol = 2 * time.Second
	backwardsTol     = 500 * time.Millisecond
	// jitterLimit is an interarrival-jitter estimate (RFC 3550 A.8)
	// a receiver's jitter buffer absorbs only with noticeable delay.
	jitterLimit = 50 * time.Millisecond
	// dtxStep: audio whose timestamp advances more than this many
	// packet durations without a sequence gap is in DTX.
	dtxStep = 2.5
)

// timing compares arrival with RTP time in arrival order (RFC 3550 §5.1: the
// timestamp follows the sampling clock): timestamp jumps and steps back,
// arrival gaps (freezes), interarrival jitter (A.8). For audio, a silence
// with no sequence gap whose timestamps advance with the clock is Opus DTX
// (RFC 7587 §3.1.3, RFC 6716 §2.1.9): the sender stopped sending on purpose,
// so it is neither loss nor a freeze.
func (l *leg) timing(s *stream) {
	var (
		prev       *pkt
		jitter     float64 // A.8 estimator, in seconds
		peak       float64
		peakAt     int64
		overFrom   int64
		overTo     int64
		dtxN       int64
		dtxLongest time.Duration
		dtxFrom    int64
		dtxTo      int64
		step       = packetStep(s)
	)
	for i := range s.pkts {
		p := &s.pkts[i]
		if p.has(fDup | fStray | fRTX | fLate) {
			continue
		}
		if prev == nil {
			prev = p
			continue
		}
		darr := time.Duration(p.at - prev.at)
		sameSeq := p.ext-prev.ext < segmentGap/2
		contiguous := p.ext == prev.ext+1
		var dts time.Duration
		if s.clock > 0 && sameSeq {
			dts = time.Duration(float64(int32(p.ts-prev.ts)) / float64(s.clock) * float64(time.Second))
			switch {
			case dts < -backwardsTol:
				l.emit(event{class: "timestamp-backwards", s: s, lo: p.ext, hi: p.ext, from: prev.at, to: p.at, n: 1,
					detail: fmt.Sprintf("seq %d: RTP time went back %s", seq(p.ext), (-dts).Round(time.Millisecond))})
			case dts-darr > timestampJumpTol:
				l.emit(event{class: "timestamp-jump", s: s, lo: p.ext, hi: p.ext, from: prev.at, to: p.at, n: 1,
					detail: fmt.Sprintf("seq %d: RTP time moved %s while %s passed", seq(p.ext), dts.Round(time.Millisecond), darr.Round(time.Millisecond))})
			}
			// A.8: D(i,j) = (Rj-Ri) - (Sj-Si); J += (|D|-J)/16.
			// Gaps over freezeGap are freezes, reported as such.
			d := (darr - dts).Seconds()
			if d < 0 {
				d = -d
			}
			if d < timestampJumpTol.Seconds() && darr <= freezeGap {
				jitter += (d - jitter) / 16
			}
			if jitter > peak {
				peak, peakAt = jitter, p.at
			}
			if jitter > jitterLimit.Seconds() {
				if overFrom == 0 {
					overFrom = p.at
				}
				overTo = p.at
			}
		} else if !sameSeq {
			jitter = 0
		}
		dtx := !s.video() && contiguous && s.clock > 0 && step > 0 && dts > time.Duration(dtxStep*float64(step)) &&
			dts > darr*8/10-20*time.Millisecond
		if dtx {
			dtxN++
			dtxLongest = max(dtxLongest, dts)
			if dtxFrom == 0 {
				dtxFrom = prev.at
			}
			dtxTo = p.at
		}
		if darr > freezeGap && !dtx {
			what := "no video"
			if !s.video() {
				what = "no audio (not DTX: the sequence has a gap or the timestamps did not advance with the silence)"
			}
			l.emit(event{class: "freeze", s: s, lo: prev.ext, hi: p.ext, from: prev.at, to: p.at, n: 1,
				detail: fmt.Sprintf("%s for %s after seq %d (%.1f s)", what, darr.Round(time.Millisecond), seq(prev.ext), l.since(prev.at))})
		}
		prev = p
	}
	if overFrom != 0 {
		l.emit(event{class: "jitter", s: s, lo: 1, hi: 0, from: overFrom, to: overTo, n: 1,
			detail: fmt.Sprintf("interarrival jitter (RFC 3550 A.8) peaked at %s at %.1f s (limit %s)",
				time.Duration(peak*float64(time.Second)).Round(time.Millisecond), l.since(peakAt), jitterLimit)})
	}
	if dtxN > 0 {
		l.emit(event{class: "dtx", s: s, lo: 1, hi: 0, from: dtxFrom, to: dtxTo, n: dtxN,
			detail: fmt.Sprintf("%d DTX silences (longest %s): timestamps advanced without a sequence gap — not counted as loss",
				dtxN, dtxLongest.Round(time.Millisecond))})
	}
}

// packetStep is the usual RTP time between consecutive packets of an audio
// stream (20 ms for most Opus senders): the most common timestamp step.
func packetStep(s *stream) time.Duration {
	if s.video() || s.clock == 0 || len(s.order) < 2 {
		return 0
	}
	counts := map[uint32]int{}
	for k := 1; k < len(s.order) && k < 2000; k++ {
		if s.exts[k] == s.exts[k-1]+1 {
			counts[s.pkts[s.order[k]].ts-s.pkts[s.order[k-1]].ts]++
		}
	}
	var best uint32
	for d, n := range counts {
		if n > counts[best] || n == counts[best] && d < best {
			best = d
		}
	}
	if best == 0 || best > 1<<31 {
		return 0
	}
	return time.Duration(float64(best) / float64(s.clock) * float64(time.Second))
}
