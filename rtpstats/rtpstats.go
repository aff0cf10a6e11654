// Package rtpstats measures one RTP stream the way a receiver does (RFC
// 3550 Appendix A): extended sequence numbers (A.1), expected and lost
// packets (A.3), interarrival jitter (A.8), plus what a post-mortem needs:
// duplicates, reordering, the longest arrival gap, keyframes and resolution
// changes. Packet and loss counts follow the same definitions as Wireshark's
// RTP stream analysis, so the two can be checked against each other.
package rtpstats

import (
	"time"

	"github.com/pion/rtp"

	"github.com/bcastdev/bcast/codec"
)

// Resolution is a picture size seen from a given moment on.
type Resolution struct {
	At            time.Time `json:"at"`
	Width, Height int
}

// Stats is the summary of one stream.
type Stats struct {
	SSRC        uint32        `json:"ssrc"`
	PayloadType uint8         `json:"payload_type"`
	Codec       string        `json:"codec"`
	Kind        string        `json:"kind"`
	ClockRate   uint32        `json:"clock_rate"`
	Packets     uint64        `json:"packets"`
	Bytes       uint64        `json:"bytes"` // RTP payload bytes
	First       time.Time     `json:"first"`
	Last        time.Time     `json:"last"`
	Duration    time.Duration `json:"duration_ns"`
	BitrateBPS  float64       `json:"bitrate_bps"`
	Expected    int64         `json:"expected"`
	// Lost is expected minus received (RFC 3550 A.3); duplicates make it
	// smaller and can make it negative, as in Wireshark.
	Lost         int64         `json:"lost"`
	Duplicates   uint64        `json:"duplicates"`
	Reordered    uint64        `json:"reordered"`
	JitterMS     float64       `json:"jitter_ms"`     // last value of the A.8 estimator
	MaxJitterMS  float64       `json:"max_jitter_ms"` // its largest value
	LargestGap   time.Duration `json:"largest_gap_ns"`
	LargestGapAt time.Time     `json:"largest_gap_at"`
	Keyframes    int           `json:"keyframes"`
	// KeyframeInterval is the longest time between two keyframes.
	KeyframeInterval time.Duration `json:"keyframe_interval_ns"`
	Resolutions      []Resolution  `json:"resolutions,omitempty"`
}

// Tracker accumulates one stream's packets in arrival order.
type Tracker struct {
	s       Stats
	c       codec.Codec
	started bool
	maxSeq  uint16
	cycles  uint32
	baseSeq uint32
	seen    [1024]uint32 // extended sequence numbers of recent packets, for duplicates
	// jitter state (A.8)
	transit   float64
	jitter    float64
	lastKey   time.Time
	lastWidth int
}

// New starts a tracker for a stream whose codec and clock rate come from the
// session description (codec may be codec.Unknown, clock 0 when unknown).
func New(ssrc uint32, pt uint8, c codec.Codec, clockRate uint32) *Tracker {
	t := &Tracker{c: c}
	t.s.SSRC, t.s.PayloadType, t.s.ClockRate = ssrc, pt, clockRate
	t.s.Codec = c.String()
	switch {
	case c == codec.Unknown:
		t.s.Kind = "unknown"
	case c.IsVideo():
		t.s.Kind = "video"
	default:
		t.s.Kind = "audio"
	}
	for i := range t.seen {
		t.seen[i] = ^uint32(0)
	}
	return t
}

// Add accounts one packet that arrived at the given time.
func (t *Tracker) Add(at time.Time, h *rtp.Header, payload []byte) {
	s := &t.s
	if !t.started {
		t.started = true
		t.maxSeq = h.SequenceNumber
		t.baseSeq = uint32(h.SequenceNumber)
		s.First = at
	} else {
		if gap := at.Sub(s.Last); gap > s.LargestGap {
			s.LargestGap, s.LargestGapAt = gap, s.Last
		}
	}
	s.Packets++
	s.Bytes += uint64(len(payload))
	s.Last = at

	// A.1: extend the sequence number relative to the highest seen.
	ext := t.cycles | uint32(h.SequenceNumber)
	switch d := h.SequenceNumber - t.maxSeq; {
	case d == 0 && s.Packets > 1:
		// same as highest: a duplicate, caught below
	case d < 1<<15: // ahead (or equal on the first packet)
		if h.SequenceNumber < t.maxSeq {
			t.cycles += 1 << 16
		}
		t.maxSeq = h.SequenceNumber
		ext = t.cycles | uint32(h.SequenceNumber)
	default: // behind: late or duplicate
		if h.SequenceNumber > t.maxSeq && t.cycles > 0 {
			ext = (t.cycles - 1<<16) | uint32(h.SequenceNumber)
		}
		if t.seen[ext%uint32(len(t.seen))] != ext {
			s.Reordered++
		}
	}
	slot := &t.seen[ext%uint32(len(t.seen))]
	if *slot == ext {
		s.Duplicates++
	}
	*slot = ext
	s.Expected = int64(t.cycles|uint32(t.maxSeq)) - int64(t.baseSeq) + 1
	s.Lost = s.Expected - int64(s.Packets)

	// A.8: interarrival jitter in timestamp units, reported in ms.
	if s.ClockRate > 0 {
		arrival := float64(at.UnixNano()) * float64(s.ClockRate) / 1e9
		transit := arrival - float64(h.Timestamp)
		if s.Packets > 1 {
			d := transit - t.transit
			// Timestamps wrap at 2^32: keep d within half the range.
			for d > 1<<31 {
				d -= 1 << 32
			}
			for d < -(1 << 31) {
				d += 1 << 32
			}
			if d < 0 {
				d = -d
			}
			t.jitter += (d - t.jitter) / 16
			ms := t.jitter * 1000 / float64(s.ClockRate)
			s.JitterMS = ms
			if ms > s.MaxJitterMS {
				s.MaxJitterMS = ms
			}
		}
		t.transit = transit
	}

	if t.c.IsVideo() && len(payload) > 0 {
		if info, err := codec.Inspect(t.c, payload); err == nil {
			if info.Keyframe && info.FrameStart && (t.lastKey.IsZero() || at.Sub(t.lastKey) > 10*time.Millisecond) {
				s.Keyframes++
				if !t.lastKey.IsZero() && at.Sub(t.lastKey) > s.KeyframeInterval {
					s.KeyframeInterval = at.Sub(t.lastKey)
				}
				t.lastKey = at
			}
			if info.Width > 0 && info.Height > 0 && (len(s.Resolutions) == 0 ||
				s.Resolutions[len(s.Resolutions)-1].Width != info.Width || s.Resolutions[len(s.Resolutions)-1].Height != info.Height) {
				s.Resolutions = append(s.Resolutions, Resolution{At: at, Width: info.Width, Height: info.Height})
			}
		}
	}
}

// Stats returns the summary so far.
func (t *Tracker) Stats() Stats {
	s := t.s
	s.Duration = s.Last.Sub(s.First)
	if s.Duration > 0 {
		s.BitrateBPS = float64(s.Bytes) * 8 / s.Duration.Seconds()
	}
	s.Resolutions = append([]Resolution(nil), t.s.Resolutions...)
	return s
}
