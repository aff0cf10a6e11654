package diagnose

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/bcastdev/bcast/codec"
)

const (
	// maxKeyframeGap: joining viewers and viewers after loss wait this
	// long for a picture.
	maxKeyframeGap = 10 * time.Second
	// frozenAfterLoss: video loss breaks decoding until the next
	// keyframe; longer than this without one is a freeze viewers report.
	frozenAfterLoss = 3 * time.Second
)

// frameRules names the rules a video codec's packetization sets for frame
// boundaries: the marker bit on the last packet of a frame (RFC 3550 §5.1
// and each payload format) and the first packet's start flag.
func frameRules(c codec.Codec) string {
	switch c {
	case codec.VP8:
		return "RFC 7741 §4.1, §4.2"
	case codec.VP9:
		return "RFC 9628 §4.1, §4.2"
	case codec.AV1:
		return "AV1 RTP §4.2, §4.4"
	case codec.H264:
		return "RFC 6184 §5.1"
	}
	return "RFC 3550 §5.1"
}

// frames checks frame boundaries between packets that arrived contiguously
// (a boundary next to a loss is the loss's doing): the last packet of a
// frame carries the marker bit, no earlier one does, and the first packet
// of a frame starts a frame by the codec's rules.
func (l *leg) frames(s *stream) {
	if s.codec == codec.Unknown {
		return
	}
	rules := frameRules(s.codec)
	for k := 1; k < len(s.order); k++ {
		if s.exts[k] != s.exts[k-1]+1 {
			continue
		}
		q, p := &s.pkts[s.order[k-1]], &s.pkts[s.order[k]]
		switch {
		case q.ts != p.ts && !q.has(fMarker):
			l.emit(event{class: "frame-boundary", s: s, lo: q.ext, hi: q.ext, from: q.at, to: q.at, n: 1,
				detail: fmt.Sprintf("seq %d ends the frame of timestamp %d without the marker bit (%s)", seq(q.ext), q.ts, rules)})
		case q.ts == p.ts && q.has(fMarker):
			l.emit(event{class: "frame-boundary", s: s, lo: q.ext, hi: q.ext, from: q.at, to: q.at, n: 1,
				detail: fmt.Sprintf("seq %d has the marker bit inside a frame: seq %d has the same timestamp %d (%s)", seq(q.ext), seq(p.ext), q.ts, rules)})
		}
		if q.ts != p.ts && !p.has(fStart) && !p.has(fMalformed) {
			l.emit(event{class: "frame-boundary", s: s, lo: p.ext, hi: p.ext, from: p.at, to: p.at, n: 1,
				detail: fmt.Sprintf("the frame of timestamp %d begins at seq %d, which does not start a frame (%s)", p.ts, seq(p.ext), rules)})
		}
	}
}

// keyframe is the first packet of one keyframe.
type keyframe struct {
	ext int64
	at  int64
}

// keyframes reports video without keyframes, long keyframe intervals and
// video frozen after loss (loss with no keyframe for frozenAfterLoss:
// without one a decoder cannot recover, RFC 4585 §6.3.1).
func (l *leg) keyframes(s *stream, losses []event) {
	if s.codec == codec.Unknown || len(s.order) == 0 {
		return
	}
	var keys []keyframe
	lastTS, have := uint32(0), false
	for _, i := range s.order {
		p := &s.pkts[i]
		if p.has(fKey) && p.has(fStart) && (!have || p.ts != lastTS) {
			keys = append(keys, keyframe{p.ext, p.at})
			lastTS, have = p.ts, true
		}
	}
	firstP, lastP := &s.pkts[s.order[0]], &s.pkts[s.order[len(s.order)-1]]
	if len(keys) == 0 {
		l.emit(event{class: "no-keyframe", s: s, lo: firstP.ext, hi: lastP.ext, from: firstP.at, to: lastP.at, n: 1,
			detail: fmt.Sprintf("%d video packets and not one keyframe: nothing is decodable", len(s.order))})
		return
	}
	byTime := append([]keyframe(nil), keys...)
	sort.Slice(byTime, func(i, j int) bool { return byTime[i].at < byTime[j].at })
	var gap time.Duration
	var gapAt, gapEnd keyframe
	for i := 1; i < len(byTime); i++ {
		if d := time.Duration(byTime[i].at - byTime[i-1].at); d > gap {
			gap, gapAt, gapEnd = d, byTime[i-1], byTime[i]
		}
	}
	if gap > maxKeyframeGap {
		l.emit(event{class: "keyframe-interval", s: s, lo: min(gapAt.ext, gapEnd.ext), hi: max(gapAt.ext, gapEnd.ext), from: gapAt.at, to: gapEnd.at, n: 1,
			detail: fmt.Sprintf("%s between keyframes after seq %d (%.1f s): joining viewers and lossy ones wait that long",
				gap.Round(time.Millisecond), seq(gapAt.ext), l.since(gapAt.at))})
	}
	// Losses in sequence order; each freezes the picture until the first
	// keyframe after it.
	var until int64 = -1 << 62
	for _, e := range losses {
		if e.lo <= until {
			continue
		}
		k := sort.Search(len(keys), func(i int) bool { return keys[i].ext > e.hi })
		end, how := lastP.at, "the end of the capture"
		endExt := lastP.ext
		if k < len(keys) {
			end, endExt = keys[k].at, keys[k].ext
			how = fmt.Sprintf("the keyframe at seq %d (%.1f s)", seq(keys[k].ext), l.since(keys[k].at))
		}
		until = endExt
		if d := time.Duration(end - e.from); d > frozenAfterLoss {
			plis := l.fb.count(s.ssrc, fbPLI, e.from, end)
			l.emit(event{class: "frozen-after-loss", s: s, lo: e.lo, hi: e.hi, from: e.from, to: end, n: 1,
				detail: fmt.Sprintf("undecodable for %s: loss of %s at %.1f s, no keyframe until %s; %d PLI/FIR asked for one meanwhile",
					d.Round(time.Millisecond), seqRange(e.lo, e.hi), l.since(e.from), how, plis)})
		}
	}
}

// changeEvents reports resolution and parameter-set changes (info).
func (l *leg) changeEvents(s *stream) {
	for _, c := range s.changes {
		p := &s.pkts[c.idx]
		class := "resolution-change"
		if c.what == "SPS" || c.what == "PPS" {
			class = "parameter-set-change"
		}
		l.emit(event{class: class, s: s, lo: 1, hi: 0, from: p.at, to: p.at, n: 1,
			detail: fmt.Sprintf("%s at seq %d (%.1f s)", describeChange(c.what), seq(p.ext), l.since(p.at))})
	}
}

func describeChange(what string) string {
	switch what {
	case "SPS", "PPS":
		return "new H.264 " + what
	}
	return what
}

// keyframeWithin reports whether a keyframe starts strictly between the
// extended numbers lo and hi.
func (s *stream) keyframeWithin(lo, hi int64) bool {
	k, _ := slices.BinarySearch(s.exts, lo+1)
	for ; k < len(s.exts) && s.exts[k] < hi; k++ {
		if p := &s.pkts[s.order[k]]; p.has(fKey) && p.has(fStart) {
			return true
		}
	}
	return false
}
