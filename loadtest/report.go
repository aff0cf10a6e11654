package loadtest

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the outcome of a run. Times are in milliseconds, rates in
// kbit/s; the JSON names carry the unit.
type Report struct {
	URL     string  `json:"url"`
	Viewers int     `json:"viewers"` // planned
	Burst   bool    `json:"burst"`
	RampS   float64 `json:"ramp_s"`
	// ElapsedS is the run from the first join to the moment viewers
	// started leaving.
	ElapsedS float64 `json:"elapsed_s"`

	// OK viewers joined, connected and received media.
	OK int `json:"ok"`
	// Failed viewers did not: Failures groups them by reason.
	Failed   int            `json:"failed"`
	Failures map[string]int `json:"failures,omitempty"`
	// Aborted viewers had not completed their join when the run was
	// interrupted; they are neither ok nor failed.
	Aborted int `json:"aborted"`
	// Dropped viewers are OK viewers whose connection failed later.
	Dropped int `json:"dropped"`
	// DeleteFailed counts WHEP DELETEs at the end that did not succeed.
	DeleteFailed int `json:"delete_failed"`

	// Join, per viewer that got that far.
	PostMS          Dist `json:"post_ms"`           // POST sent to 201 received
	ConnectMS       Dist `json:"connect_ms"`        // 201 to ICE+DTLS connected
	JoinMS          Dist `json:"join_ms"`           // POST sent to ICE+DTLS connected: the server's join time
	FirstPacketMS   Dist `json:"first_packet_ms"`   // connected to the first RTP packet
	FirstKeyframeMS Dist `json:"first_keyframe_ms"` // connected to the first complete keyframe
	StartupMS       Dist `json:"startup_ms"`        // join start to the first complete keyframe: the wait a person sees

	// Media, per OK viewer.
	LossPct         Dist `json:"loss_pct"` // RFC 3550 A.3, after NACK repair
	NACKs           Dist `json:"nacks"`
	PLIs            Dist `json:"plis"`
	Freezes         Dist `json:"freezes"`
	LongestFreezeMS Dist `json:"longest_freeze_ms"`
	// MaxFrameGapMS is each viewer's longest pause between two decodable
	// frames, freezes or not: a 200 ms hiccup shows here.
	MaxFrameGapMS Dist `json:"max_frame_gap_ms"`
	BitrateKbps   Dist `json:"bitrate_kbps"`

	Totals Totals `json:"totals"`
}

// Totals are sums over the OK viewers.
type Totals struct {
	Packets           uint64  `json:"packets"`
	AudioPackets      uint64  `json:"audio_packets"`
	Bytes             uint64  `json:"bytes"`
	Expected          uint64  `json:"expected"`
	Lost              uint64  `json:"lost"`
	LossPct           float64 `json:"loss_pct"`
	NACKs             uint64  `json:"nacks"`
	PLIs              uint64  `json:"plis"`
	FramesComplete    uint64  `json:"frames_complete"`
	FramesIncomplete  uint64  `json:"frames_incomplete"`
	FramesUndecodable uint64  `json:"frames_undecodable"`
	Freezes           uint64  `json:"freezes"`
	LongestFreezeMS   float64 `json:"longest_freeze_ms"`
	// BitrateKbps is what all OK viewers received together.
	BitrateKbps float64 `json:"bitrate_kbps"`
}

// Dist summarises one measurement over N viewers with nearest-rank
// percentiles, so every figure is a value some viewer actually had.
type Dist struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// newDist sorts values in place and summarises them.
func newDist(values []float64) Dist {
	slices.Sort(values)
	return Dist{
		N:   len(values),
		P50: percentile(values, 50),
		P90: percentile(values, 90),
		P95: percentile(values, 95),
		P99: percentile(values, 99),
		Max: percentile(values, 100),
	}
}

// percentile is the nearest-rank p-th percentile of sorted: the smallest
// value with at least p% of the values at or below it; 0 when empty.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// FailedPct is the share of the planned viewers whose join failed.
func (r *Report) FailedPct() float64 {
	if r.Viewers == 0 {
		return 0
	}
	return float64(r.Failed) * 100 / float64(r.Viewers)
}

// report collects the viewers' outcomes; it runs after closeAll.
func (r *runner) report(end time.Duration) *Report {
	rep := &Report{
		URL:      r.cfg.URL,
		Viewers:  len(r.viewers),
		Burst:    r.cfg.Burst,
		RampS:    r.cfg.Ramp.Seconds(),
		ElapsedS: end.Seconds(),
	}
	var post, conn, join, first, key, startup, loss, nacks, plis, freezes, longest, gaps, rate []float64
	for _, v := range r.viewers {
		switch {
		case v.failure != "":
			rep.Failed++
			if rep.Failures == nil {
				rep.Failures = map[string]int{}
			}
			rep.Failures[v.failure]++
		case v.received:
			rep.OK++
		default:
			rep.Aborted++
		}
		if v.postEnd > 0 && v.joined.Load() {
			post = append(post, ms(v.postEnd-v.postStart))
		}
		connectedAt := time.Duration(v.connectedAt.Load())
		if connectedAt > 0 && v.postEnd > 0 {
			conn = append(conn, ms(connectedAt-v.postEnd))
			join = append(join, ms(connectedAt-v.postStart))
		}
		if !v.received {
			continue
		}
		if v.dropped.Load() {
			rep.Dropped++
		}
		c := &v.c
		firstPacket := time.Duration(c.firstPacket.Load())
		// The state callback may run after the reader saw the first
		// packet: clamp what would be a negative microsecond.
		first = append(first, ms(max(firstPacket-connectedAt, 0)))
		if k := time.Duration(c.firstKeyframe.Load()); k > 0 {
			key = append(key, ms(max(k-connectedAt, 0)))
			startup = append(startup, ms(k-v.joinAt))
		}
		expected, lost := v.lossCounts()
		lossPct := 0.0
		if expected > 0 {
			lossPct = float64(lost) * 100 / float64(expected)
		}
		loss = append(loss, lossPct)
		n, p := v.rtcp.nacks.Load(), v.rtcp.plis.Load()
		nacks = append(nacks, float64(n))
		plis = append(plis, float64(p))
		fr, lf := c.freezes.Load(), ms(time.Duration(c.longestFreeze.Load()))
		freezes = append(freezes, float64(fr))
		longest = append(longest, lf)
		gaps = append(gaps, ms(time.Duration(c.longestGap.Load())))
		bytes := c.bytes.Load()
		kbps := 0.0
		if d := end - firstPacket; d > 0 {
			kbps = float64(bytes) * 8 / 1000 / d.Seconds()
		}
		rate = append(rate, kbps)

		t := &rep.Totals
		t.Packets += c.packets.Load()
		t.AudioPackets += c.audioPackets.Load()
		t.Bytes += bytes
		t.Expected += expected
		t.Lost += lost
		t.NACKs += n
		t.PLIs += p
		t.FramesComplete += c.framesComplete.Load()
		t.FramesIncomplete += c.framesIncomplete.Load()
		t.FramesUndecodable += c.framesUndecodable.Load()
		t.Freezes += fr
		t.LongestFreezeMS = max(t.LongestFreezeMS, lf)
		t.BitrateKbps += kbps
	}
	if rep.Totals.Expected > 0 {
		rep.Totals.LossPct = float64(rep.Totals.Lost) * 100 / float64(rep.Totals.Expected)
	}
	rep.PostMS, rep.ConnectMS, rep.JoinMS = newDist(post), newDist(conn), newDist(join)
	rep.FirstPacketMS, rep.FirstKeyframeMS, rep.StartupMS = newDist(first), newDist(key), newDist(startup)
	rep.LossPct, rep.NACKs, rep.PLIs = newDist(loss), newDist(nacks), newDist(plis)
	rep.Freezes, rep.LongestFreezeMS, rep.BitrateKbps = newDist(freezes), newDist(longest), newDist(rate)
	rep.MaxFrameGapMS = newDist(gaps)
	return rep
}

// WriteText writes the report for a person: outcome, a table of
// distributions, totals and the failure reasons, most frequent first.
// It is meant for a terminal, so a write error is not reported.
func (r *Report) WriteText(w io.Writer) {
	var b strings.Builder
	mode := "all at once"
	switch {
	case r.Burst:
		mode = "burst (all POSTs at the same instant)"
	case r.RampS > 0:
		mode = fmt.Sprintf("ramp over %gs", r.RampS)
	}
	fmt.Fprintf(&b, "%s\n", r.URL)
	fmt.Fprintf(&b, "%d viewers, %s, %.1fs\n", r.Viewers, mode, r.ElapsedS)
	fmt.Fprintf(&b, "ok %d  failed %d (%.1f%%)  dropped %d", r.OK, r.Failed, r.FailedPct(), r.Dropped)
	if r.Aborted > 0 {
		fmt.Fprintf(&b, "  aborted %d", r.Aborted)
	}
	if r.DeleteFailed > 0 {
		fmt.Fprintf(&b, "  DELETE failed %d", r.DeleteFailed)
	}
	b.WriteString("\n\n")

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-18s\tn\tp50\tp90\tp95\tp99\tmax\t\n", "")
	for _, row := range []struct {
		name string
		d    Dist
		prec int
	}{
		{"POST ms", r.PostMS, 0},
		{"connect ms", r.ConnectMS, 0},
		{"join ms", r.JoinMS, 0},
		{"first packet ms", r.FirstPacketMS, 0},
		{"first keyframe ms", r.FirstKeyframeMS, 0},
		{"startup ms", r.StartupMS, 0},
		{"loss %", r.LossPct, 2},
		{"NACKs", r.NACKs, 0},
		{"PLIs", r.PLIs, 0},
		{"freezes", r.Freezes, 0},
		{"longest freeze ms", r.LongestFreezeMS, 0},
		{"max frame gap ms", r.MaxFrameGapMS, 0},
		{"kbit/s", r.BitrateKbps, 0},
	} {
		d, p := row.d, row.prec
		fmt.Fprintf(tw, "%-18s\t%d\t%.*f\t%.*f\t%.*f\t%.*f\t%.*f\t\n", row.name, d.N, p, d.P50, p, d.P90, p, d.P95, p, d.P99, p, d.Max)
	}
	_ = tw.Flush() // into a strings.Builder: cannot fail

	t := r.Totals
	fmt.Fprintf(&b, "\npackets %d (audio %d), lost %d of %d (%.3f%%), NACKs %d, PLIs %d\n",
		t.Packets, t.AudioPackets, t.Lost, t.Expected, t.LossPct, t.NACKs, t.PLIs)
	fmt.Fprintf(&b, "frames %d complete, %d incomplete, %d undecodable; freezes %d (longest %.0f ms)\n",
		t.FramesComplete, t.FramesIncomplete, t.FramesUndecodable, t.Freezes, t.LongestFreezeMS)
	fmt.Fprintf(&b, "received %.1f Mbit/s in total\n", t.BitrateKbps/1000)
	if len(r.Failures) > 0 {
		b.WriteString("\nfailures:\n")
		reasons := slices.SortedFunc(maps.Keys(r.Failures), func(a, b string) int {
			if c := r.Failures[b] - r.Failures[a]; c != 0 {
				return c
			}
			return strings.Compare(a, b)
		})
		for _, reason := range reasons {
			fmt.Fprintf(&b, "  %6d  %s\n", r.Failures[reason], reason)
		}
	}
	_, _ = io.WriteString(w, b.String())
}
