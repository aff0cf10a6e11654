package diagnose

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/pion/rtcp"
)

// Feedback kinds.
const (
	fbPLI  = iota // Picture Loss Indication (RFC 4585 §6.3.1)
	fbFIR         // Full Intra Request (RFC 5104 §4.3.1)
	fbNACK        // Generic NACK (RFC 4585 §6.2.1), one per sequence number asked for
)

// Storm thresholds. A receiver sends a PLI (RFC 4585 §6.3.1) or FIR (RFC
// 5104 §4.3.1) when it cannot decode; more than a few per second for
// several seconds means keyframes do not arrive or do not help, and each
// request can cost the streamer a keyframe, the largest frames it sends.
// NACKs (RFC 4585 §6.2.1) far above the loss the capture shows are
// requests repeated without an answer, each costing a retransmission.
const (
	pliStormRate     = 5 // per second
	stormSeconds     = 3 // sustained for
	nackStormRatio   = 10
	nackStormMinimum = 100
)

type fbRecord struct {
	at   int64
	kind uint8
	seq  uint16
}

// feedbackLog is the RTCP feedback of a leg by media SSRC (the stream it is
// about), whichever direction it travelled.
type feedbackLog struct {
	by    map[uint32][]fbRecord
	nacks map[uint32]map[uint16][]int64 // times each sequence number was NACKed
}

func newFeedbackLog() feedbackLog {
	return feedbackLog{by: map[uint32][]fbRecord{}, nacks: map[uint32]map[uint16][]int64{}}
}

func (f *feedbackLog) empty() bool { return len(f.by) == 0 }

// add parses one RTCP compound packet (RFC 3550 §6.1).
func (f *feedbackLog) add(at int64, b []byte) {
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		return
	}
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.PictureLossIndication:
			f.by[p.MediaSSRC] = append(f.by[p.MediaSSRC], fbRecord{at: at, kind: fbPLI})
		case *rtcp.FullIntraRequest:
			for _, e := range p.FIR {
				f.by[e.SSRC] = append(f.by[e.SSRC], fbRecord{at: at, kind: fbFIR})
			}
		case *rtcp.TransportLayerNack:
			m := f.nacks[p.MediaSSRC]
			if m == nil {
				m = map[uint16][]int64{}
				f.nacks[p.MediaSSRC] = m
			}
			for _, pair := range p.Nacks {
				pair.Range(func(seq uint16) bool {
					f.by[p.MediaSSRC] = append(f.by[p.MediaSSRC], fbRecord{at: at, kind: fbNACK, seq: seq})
					m[seq] = append(m[seq], at)
					return true
				})
			}
		}
	}
}

// nacked reports whether seq of ssrc was NACKed in the few seconds before at:
// a packet arriving late after that is a retransmission, not reordering.
func (f *feedbackLog) nacked(ssrc uint32, seq uint16, at int64) bool {
	for _, t := range f.nacks[ssrc][seq] {
		if t <= at && at-t < int64(5*time.Second) {
			return true
		}
	}
	return false
}

// count returns the feedback of one kind (PLI counts FIR too) about ssrc
// sent between from and to.
func (f *feedbackLog) count(ssrc uint32, kind uint8, from, to int64) int {
	n := 0
	for _, r := range f.by[ssrc] {
		k := r.kind
		if k == fbFIR {
			k = fbPLI
		}
		if k == kind && r.at >= from && r.at <= to {
			n++
		}
	}
	return n
}

// feedbackEvents finds PLI/FIR storms and NACK storms.
func (l *leg) feedbackEvents() {
	ssrcs := make([]uint32, 0, len(l.fb.by))
	for ssrc := range l.fb.by {
		ssrcs = append(ssrcs, ssrc)
	}
	sort.Slice(ssrcs, func(i, j int) bool { return ssrcs[i] < ssrcs[j] })
	for _, ssrc := range ssrcs {
		recs := l.fb.by[ssrc]
		sort.SliceStable(recs, func(i, j int) bool { return recs[i].at < recs[j].at })
		s := l.byssrc[ssrc]
		l.pliStorm(ssrc, s, recs)
		l.nackStorm(ssrc, s, recs)
	}
}

// pliStorm finds runs of at least stormSeconds one-second windows with
// more than pliStormRate PLI/FIR each.
func (l *leg) pliStorm(ssrc uint32, s *stream, recs []fbRecord) {
	perSec := map[int64]int{}
	for _, r := range recs {
		if r.kind != fbNACK {
			perSec[(r.at-l.start)/int64(time.Second)]++
		}
	}
	secs := make([]int64, 0, len(perSec))
	for sec, n := range perSec {
		if n > pliStormRate {
			secs = append(secs, sec)
		}
	}
	sort.Slice(secs, func(i, j int) bool { return secs[i] < secs[j] })
	for i := 0; i < len(secs); {
		j := i
		for j+1 < len(secs) && secs[j+1] == secs[j]+1 {
			j++
		}
		if j-i+1 >= stormSeconds {
			total, peak, peakSec := 0, 0, secs[i]
			for _, sec := range secs[i : j+1] {
				total += perSec[sec]
				if perSec[sec] > peak {
					peak, peakSec = perSec[sec], sec
				}
			}
			from := l.start + secs[i]*int64(time.Second)
			to := l.start + (secs[j]+1)*int64(time.Second)
			l.emit(event{class: "pli-storm", s: s, lo: 1, hi: 0, from: from, to: to, n: int64(total),
				detail: fmt.Sprintf("%d PLI/FIR about %#08x in %d s (peak %d/s at %d s; more than %d/s for %d s is a storm: keyframes do not arrive or do not help)",
					total, ssrc, j-i+1, peak, peakSec, pliStormRate, stormSeconds)})
		}
		i = j + 1
	}
}

// nackStorm compares the sequence numbers NACKed with the loss the capture
// shows: many requests per missing packet are retransmissions that do not
// arrive (or, in a capture taken at the sender, loss after the capture
// point).
func (l *leg) nackStorm(ssrc uint32, s *stream, recs []fbRecord) {
	var n int64
	var from, to int64
	perSec := map[int64]int{}
	distinct := map[uint16]int64{} // sequence number -> first request
	for _, r := range recs {
		if r.kind != fbNACK {
			continue
		}
		if n == 0 {
			from = r.at
		}
		n++
		to = r.at
		if _, ok := distinct[r.seq]; !ok {
			distinct[r.seq] = r.at
		}
		perSec[(r.at-l.start)/int64(time.Second)]++
	}
	var missing int64
	if s != nil {
		missing = s.lost + int64(s.repaired)
	}
	if n < nackStormMinimum || n < nackStormRatio*(missing+1) {
		return
	}
	peak, peakSec := 0, int64(0)
	for sec, c := range perSec {
		if c > peak || c == peak && sec < peakSec {
			peak, peakSec = c, sec
		}
	}
	e := event{class: "nack-storm", s: s, lo: 1, hi: 0, from: from, to: to, n: n,
		detail: fmt.Sprintf("%d sequence numbers of %#08x NACKed (%d distinct, peak %d/s at %d s) for %d packets the capture shows missing or repaired: %.0f requests per missing packet",
			n, ssrc, len(distinct), peak, peakSec, missing, float64(n)/float64(max(missing, 1)))}
	if s != nil {
		for sq, at := range distinct {
			if ext, ok := s.extAt(sq, at); ok {
				e.nacked = append(e.nacked, ext)
			}
		}
		slices.Sort(e.nacked)
	}
	l.emit(e)
}

// extAt extends a sequence number carried in feedback sent at a given time:
// the one nearest the packet that had arrived by then.
func (s *stream) extAt(sq uint16, at int64) (int64, bool) {
	k := sort.Search(len(s.pkts), func(i int) bool { return s.pkts[i].at > at })
	if k > 0 {
		k--
	}
	if len(s.pkts) == 0 {
		return 0, false
	}
	ref := s.pkts[k].ext
	return ref + int64(int16(sq-seq(ref))), true
}
