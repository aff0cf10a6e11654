package replay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bcastdev/bcast/inspect"
)

// Options says what to replay and where to.
type Options struct {
	// Paths are capture files or directories (bcast dump directories,
	// or any pcap/pcapng); directories expand to their captures in name
	// order, which for bcast segments is time order.
	Paths []string
	// SDP is a session description (the text, not a file name) for the
	// payload types a capture does not describe itself.
	SDP string
	// From and To limit the output to a time range on the capture clock
	// (offsets count from the capture's first media packet); unset
	// means the whole capture. Video starts at the first key frame at or
	// after From.
	From, To Bound
	// Stream selects "video", "audio", or one stream by SSRC (decimal
	// or 0x hex); empty selects the first video and the first audio
	// stream.
	Stream string
	// Out is the output file; its extension chooses the format: .ivf
	// (VP8/VP9/AV1), .h264 (H.264 Annex B), .ogg/.opus (Opus), .webm
	// (VP8/VP9/AV1 and/or Opus).
	Out string
	// Logger receives warnings and progress; nil discards.
	Logger *slog.Logger
}

// Summary says what Run wrote.
type Summary struct {
	Out    string `json:"out"`
	Format string `json:"format"`
	// Sync is how streams were placed on one timeline: "rtcp" (sender
	// reports, RFC 3550 §6.4.1) or "arrival" (first packet arrival).
	Sync string `json:"sync"`
	// Start is the capture-clock time of the output's time 0, Duration
	// the length of the output timeline.
	Start    time.Time       `json:"start"`
	Duration time.Duration   `json:"duration_ns"`
	Streams  []StreamSummary `json:"streams"`
	Warnings []string        `json:"warnings,omitempty"`
}

// StreamSummary is one replayed RTP stream.
type StreamSummary struct {
	SSRC        uint32 `json:"ssrc"`
	PayloadType uint8  `json:"payload_type"`
	Codec       string `json:"codec"`
	Kind        string `json:"kind"`
	// Packets counts the stream's RTP packets read (up to --to),
	// Repaired the packets that only a retransmission (RTX, RFC 4588)
	// delivered.
	Packets    uint64 `json:"packets"`
	Repaired   uint64 `json:"repaired"`
	Duplicates uint64 `json:"duplicates"`
	// Late counts packets that arrived after the reorder window had
	// given up on them (and were then left out).
	Late uint64 `json:"late"`
	// Lost counts sequence numbers never received, Gaps the runs of them.
	Lost uint64 `json:"lost"`
	Gaps uint64 `json:"gaps"`
	// FramesWritten counts frames (video) or packets (audio) written,
	// concealment packets excluded. FramesDropped counts frames that were
	// incomplete (a lost packet, no start or no marker) or undecodable;
	// FramesSkipped complete video frames left out after a loss because
	// the picture they reference is missing, up to the next key frame.
	FramesWritten int `json:"frames_written"`
	FramesDropped int `json:"frames_dropped"`
	FramesSkipped int `json:"frames_skipped"`
	// Filled is the audio written as loss concealment for missing
	// packets, in FillGaps runs.
	Filled   time.Duration `json:"filled_ns"`
	FillGaps int           `json:"fill_gaps"`
	// First and Last are the output times of the first and last frame
	// written; FirstAt and LastAt the same on the capture clock.
	First   time.Duration `json:"first_ns"`
	Last    time.Duration `json:"last_ns"`
	FirstAt time.Time     `json:"first_at"`
	LastAt  time.Time     `json:"last_at"`
}

// farFuture is the progress of a stream that will produce nothing more.
var farFuture = time.Unix(1<<40, 0)

// Run replays a capture into opts.Out. It reads the captures twice: once
// to list the RTP streams and their sender reports, once to assemble and
// write the selected streams. A replay that fails, or writes no frame,
// removes the output; one interrupted by ctx keeps what it wrote, which is
// a complete file.
func Run(ctx context.Context, opts Options) (*Summary, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Out == "" {
		return nil, errors.New("no output file")
	}
	ext := strings.ToLower(filepath.Ext(opts.Out))
	f, ok := formatOf(ext)
	if !ok {
		return nil, fmt.Errorf("%s: unknown output format %q: want .ivf, .h264, .ogg/.opus or .webm", opts.Out, ext)
	}
	sel, err := parseSelector(opts.Stream)
	if err != nil {
		return nil, err
	}
	files, err := inspect.Expand(opts.Paths)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no .pcapng/.pcap files in %s", strings.Join(opts.Paths, " "))
	}
	if outAbs, err := filepath.Abs(opts.Out); err == nil {
		for _, in := range files {
			if a, err := filepath.Abs(in); err == nil && a == outAbs {
				return nil, fmt.Errorf("%s is an input", opts.Out)
			}
		}
	}
	override := payloadTypes(opts.SDP)
	if strings.TrimSpace(opts.SDP) != "" && len(override) == 0 {
		return nil, errors.New("--sdp: no payload types in the session description (want m= and a=rtpmap lines)")
	}

	c, err := scan(ctx, files, override)
	if err != nil {
		return nil, err
	}
	// Offsets count from the first media packet of the capture, so that
	// they mean the same whichever streams the range selects.
	start := c.mediaStart()
	from := opts.From.resolve(start, c.first, time.Time{})
	to := opts.To.resolve(start, c.first, farFuture)
	if !to.After(from) {
		return nil, fmt.Errorf("--to (%v) is not after --from (%v)", opts.To, opts.From)
	}
	video, audio, err := c.pick(sel, f, opts.Out, from, to)
	if err != nil {
		return nil, err
	}
	sum := &Summary{Out: opts.Out, Format: f.name, Warnings: c.warnings}
	for _, s := range []*stream{video, audio} {
		if s == nil || sel.bySSRC {
			continue
		}
		if others := c.others(s); len(others) > 0 {
			o := others[0]
			sum.Warnings = append(sum.Warnings, fmt.Sprintf("the capture has %d more %s stream(s), first %v from %s UTC (a reconnect?); --stream or --from selects it",
				len(others), s.kind(), o, o.first.UTC().Format("15:04:05.000")))
		}
	}
	for _, s := range c.unmapped() {
		if s.packets >= minPackets {
			sum.Warnings = append(sum.Warnings, fmt.Sprintf("%v ignored: no SDP gives a codec for its payload type (pass --sdp)", s))
		}
	}
	var selected []*stream
	for _, s := range []*stream{video, audio} {
		if s == nil {
			continue
		}
		if s.typ.ClockRate == 0 {
			return nil, fmt.Errorf("%v: no clock rate in the SDP's rtpmap", s)
		}
		selected = append(selected, s)
	}
	clocks, useSR := c.clocks(selected)
	sum.Sync = "arrival"
	if useSR {
		sum.Sync = "rtcp"
	}

	o, err := createOut(opts.Out)
	if err != nil {
		return nil, err
	}
	var vspec, aspec *trackSpec
	if video != nil {
		vspec = &trackSpec{codec: video.codec(), id: video.key.ssrc}
	}
	if audio != nil {
		aspec = &trackSpec{codec: audio.codec(), channels: audio.typ.Channels, id: audio.key.ssrc}
		if aspec.channels == 0 {
			aspec.channels = 2 // RFC 7587 §7: opus/48000/2 always
		}
	}
	sk, err := newSink(ext, o, vspec, aspec)
	if err != nil {
		o.close()
		os.Remove(opts.Out)
		return nil, err
	}
	r := newRun(c, sk, from, to, log)
	for i, s := range selected {
		r.addTrack(s, clocks[i])
	}
	log.Info("replay", "out", opts.Out, "files", len(files), "streams", len(r.tracks), "sync", sum.Sync,
		"from", opts.From.resolve(start, c.first, start), "to", opts.To.String())
	err = r.run(ctx)
	if cerr := sk.close(); err == nil {
		err = cerr
	}
	written := 0
	for _, t := range r.tracks {
		written += t.sum.FramesWritten
	}
	if err == nil && written == 0 {
		err = errors.New("no complete frame in the selected range")
	}
	if err != nil && ctx.Err() != nil && written > 0 {
		// Interrupted: what was written is a valid file; keep it.
		return nil, fmt.Errorf("%w: %s holds the %d frames written until then", err, opts.Out, written)
	}
	if err != nil {
		os.Remove(opts.Out)
		return nil, err
	}
	sum.Start = r.mux.t0
	for _, t := range r.tracks {
		sum.Streams = append(sum.Streams, *t.sum)
		sum.Duration = max(sum.Duration, t.end)
	}
	return sum, nil
}

// syncClock maps a stream's RTP timestamps to the capture clock. It
// extends 32-bit timestamps (they wrap after 13 h at 90 kHz) relative to
// the highest so far, and places them with one anchor: the first packet's
// timestamp at its sender-report time or arrival time.
type syncClock struct {
	rate      int64
	anchorExt int64
	anchorAt  time.Time
	highest   int64
}

func newSyncClock(ts uint32, rate uint32, at time.Time) *syncClock {
	ext := int64(1)<<32 | int64(ts)
	return &syncClock{rate: int64(rate), anchorExt: ext, anchorAt: at, highest: ext}
}

func (k *syncClock) extend(ts uint32) int64 {
	e := k.highest + int64(int32(ts-uint32(k.highest)))
	if e > k.highest {
		k.highest = e
	}
	return e
}

func (k *syncClock) at(ext int64) time.Time {
	return k.anchorAt.Add(k.duration(ext - k.anchorExt))
}

// duration converts timestamp units without overflow for any realistic
// span.
func (k *syncClock) duration(units int64) time.Duration {
	return time.Duration(units/k.rate)*time.Second + time.Duration(units%k.rate*int64(time.Second)/k.rate)
}

// maxSRSkew is how far apart two streams' network paths may differ
// before their sender reports are taken for different clocks.
const maxSRSkew = 5 * time.Second

// clocks places the selected streams on one timeline. With sender reports
// for all of them (RFC 3550 §6.4.1: the same sender's NTP clock for every
// stream) each stream's first packet gets its sender time, and the whole
// sender clock is shifted onto the capture clock by the smallest
// difference between arrival and sender time; this is lip sync as the
// receiver would have played it. Otherwise each stream starts at its
// first packet's arrival.
func (c *capture) clocks(streams []*stream) ([]*syncClock, bool) {
	out := make([]*syncClock, len(streams))
	for i, s := range streams {
		out[i] = newSyncClock(s.firstTS, s.typ.ClockRate, s.first)
	}
	if len(streams) < 2 {
		return out, false
	}
	sender := make([]time.Time, len(streams))
	shift := time.Duration(math.MaxInt64)
	for i, s := range streams {
		sr, ok := c.srs[s.key.ssrc]
		if !ok {
			return out, false
		}
		sender[i] = sr.ntp.Add(out[i].duration(int64(int32(s.firstTS - sr.rtpTime))))
		shift = min(shift, s.first.Sub(sender[i]))
	}
	for i, s := range streams {
		if d := s.first.Sub(sender[i]) - shift; d > maxSRSkew {
			return out, false
		}
	}
	for i := range streams {
		out[i].anchorAt = sender[i].Add(shift)
	}
	return out, true
}
