package diagnose

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// sequence finds what the sequence numbers tell (RFC 3550 §5.1, A.1, A.3):
// loss bursts, restarts of the sequence, duplicates and reordering. A
// packet that arrives late after this leg's receiver NACKed it (RFC 4585
// §6.2.1) is a repair, not reordering; an RTX repair (RFC 4588) fills its
// gap and is neither.
func (l *leg) sequence(s *stream) {
	for k := 1; k < len(s.exts); k++ {
		gap := s.exts[k] - s.exts[k-1] - 1
		if gap <= 0 || gap >= segmentGap/2 {
			continue
		}
		a, b := &s.pkts[s.order[k-1]], &s.pkts[s.order[k]]
		e := event{class: "loss", s: s, lo: s.exts[k-1] + 1, hi: s.exts[k] - 1, from: a.at, to: b.at, n: gap}
		e.detail = seqRange(e.lo, e.hi)
		l.emit(e)
	}
	for _, d := range s.discont {
		p := &s.pkts[d.idx]
		l.emit(event{class: "sequence-discontinuity", s: s, lo: p.ext, hi: p.ext, from: p.at, to: p.at, n: 1,
			detail: fmt.Sprintf("seq %d → %d at %.1f s: the sequence restarted within the SSRC (RFC 3550 A.1)", d.from, seq(p.ext), l.since(p.at))})
	}
	var hi int64
	started := false
	for i := range s.pkts {
		p := &s.pkts[i]
		switch {
		case p.has(fStray):
			l.emit(event{class: "sequence-discontinuity", s: s, lo: 1, hi: 0, from: p.at, to: p.at, n: 1,
				detail: fmt.Sprintf("seq %d arrived amid seq %d: out of the sequence by more than RFC 3550 A.1 allows", seq(p.ext), seq(hi))})
			continue
		case p.has(fRTX):
		case p.has(fDup):
			l.emit(event{class: "duplicates", s: s, lo: p.ext, hi: p.ext, from: p.at, to: p.at, n: 1,
				detail: fmt.Sprintf("seq %d received more than once", seq(p.ext))})
		case p.has(fLate):
			if l.fb.nacked(s.ssrc, seq(p.ext), p.at) {
				s.repaired++
				break
			}
			l.emit(event{class: "reordering", s: s, lo: p.ext, hi: p.ext, from: p.at, to: p.at, n: 1,
				detail: fmt.Sprintf("seq %d arrived after seq %d", seq(p.ext), seq(hi))})
		}
		if !started || p.ext > hi {
			hi, started = p.ext, true
		}
	}
}

// seqRange formats a range of extended sequence numbers in 16-bit numbering.
func seqRange(lo, hi int64) string {
	if lo == hi {
		return fmt.Sprintf("seq %d", seq(lo))
	}
	return fmt.Sprintf("seq %d–%d", seq(lo), seq(hi))
}

// lossSummary describes the loss events of one stream on one leg: how many
// of how many, the bursts, the worst one-second windows, and (for audio)
// how much sound went missing.
func lossSummary(l *leg, s *stream, evs []*event, ranges string) string {
	var lost, longest int64
	for _, e := range evs {
		lost += e.n
		longest = max(longest, e.n)
	}
	var b strings.Builder
	if s != nil {
		fmt.Fprintf(&b, "%d of %d packets missing", lost, int64(len(s.order))+s.lost)
	} else {
		fmt.Fprintf(&b, "%d packets missing", lost)
	}
	if ranges != "" {
		b.WriteString(": " + ranges)
	}
	if len(evs) > 1 {
		fmt.Fprintf(&b, "; %d bursts, longest %d", len(evs), longest)
	}
	if s != nil && !s.video() && s.clock > 0 {
		var missing time.Duration
		for _, e := range evs {
			missing += audioMissing(s, e)
		}
		if missing > 0 {
			fmt.Fprintf(&b, "; about %s of audio", missing.Round(time.Millisecond))
		}
	}
	if w := worstWindows(l, s, evs); w != "" {
		b.WriteString("; worst seconds: " + w)
	}
	return b.String()
}

// audioMissing estimates the sound a loss burst took from the timestamps
// around it (RFC 3550 §5.1: they advance with the sampling clock).
func audioMissing(s *stream, e *event) time.Duration {
	a, okA := s.find(e.lo - 1)
	b, okB := s.find(e.hi + 1)
	if !okA || !okB {
		return 0
	}
	span := float64(int32(s.pkts[b].ts-s.pkts[a].ts)) / float64(s.clock)
	if span <= 0 {
		return 0
	}
	perPacket := span / float64(e.n+1)
	return time.Duration(perPacket * float64(e.n) * float64(time.Second))
}

// worstWindows names up to three one-second windows (from the leg's start)
// with the most packets lost, with the share of the packets expected then.
func worstWindows(l *leg, s *stream, evs []*event) string {
	if s == nil || len(evs) < 2 {
		return ""
	}
	lost := map[int64]int64{}
	for _, e := range evs {
		lost[(e.from+(e.to-e.from)/2-l.start)/int64(time.Second)] += e.n
	}
	got := map[int64]int64{}
	for _, i := range s.order {
		if sec := (s.pkts[i].at - l.start) / int64(time.Second); lost[sec] > 0 {
			got[sec]++
		}
	}
	secs := make([]int64, 0, len(lost))
	for sec := range lost {
		secs = append(secs, sec)
	}
	sort.Slice(secs, func(i, j int) bool {
		if lost[secs[i]] != lost[secs[j]] {
			return lost[secs[i]] > lost[secs[j]]
		}
		return secs[i] < secs[j]
	})
	var out []string
	for _, sec := range first(secs, 3) {
		out = append(out, fmt.Sprintf("%d–%d s %d lost (%.1f%%)", sec, sec+1, lost[sec], 100*float64(lost[sec])/float64(lost[sec]+got[sec])))
	}
	return strings.Join(out, ", ")
}

func first[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n]
	}
	return s
}
