package replay

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// selector is a parsed --stream.
type selector struct {
	kind   string // "video", "audio" or "" (both)
	ssrc   uint32
	bySSRC bool
}

func parseSelector(s string) (selector, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "":
		return selector{}, nil
	case "video", "audio":
		return selector{kind: strings.ToLower(s)}, nil
	}
	v, err := strconv.ParseUint(s, 0, 32) // decimal, or 0x hex
	if err != nil {
		return selector{}, fmt.Errorf("--stream %q: want video, audio or an SSRC (decimal or 0x hex)", s)
	}
	return selector{ssrc: uint32(v), bySSRC: true}, nil
}

// minPackets keeps a stray datagram that happens to look like RTP with a
// mapped payload type (a foreign capture has all kinds of UDP) from being
// taken for "the first video stream".
const minPackets = 3

// pick chooses the streams to write: with no selector the first video and
// the first audio stream (by first packet) with media in the range,
// preferring the streamer's leg of a bcast dump over viewer legs that
// carry the same media again; then checks them against what the output
// format can hold.
func (c *capture) pick(sel selector, f format, out string, from, to time.Time) (video, audio *stream, err error) {
	name := filepath.Base(out)
	if sel.bySSRC {
		var s *stream
		for _, cand := range c.streams {
			if cand.key.ssrc == sel.ssrc && (s == nil || s.role == roleRTX) {
				s = cand
			}
		}
		switch {
		case s == nil:
			return nil, nil, fmt.Errorf("--stream: no RTP stream with SSRC %d (0x%08x) in the capture", sel.ssrc, sel.ssrc)
		case s.role == roleUnknown:
			return nil, nil, c.noCodec([]*stream{s})
		case s.role == roleRTX && s.repairs != nil:
			return nil, nil, fmt.Errorf("--stream: %v is the retransmission (RTX) stream of %v; select that one", s, s.repairs)
		case s.kind() == "video":
			video = s
		case s.kind() == "audio":
			audio = s
		default:
			return nil, nil, fmt.Errorf("--stream: %v is %s, not audio or video that %s can hold", s, s.typ.Name, name)
		}
	} else {
		if sel.kind != "audio" {
			video = c.firstOf("video", from, to)
		}
		if sel.kind != "video" {
			audio = c.firstOf("audio", from, to)
		}
	}
	explicit := sel.kind != "" || sel.bySSRC
	if f.video == nil && video != nil {
		if explicit {
			return nil, nil, fmt.Errorf("%s needs %s; --stream %s selected video", name, f.wantAudio, sel)
		}
		video = nil
	}
	if f.audio == nil && audio != nil {
		if explicit {
			return nil, nil, fmt.Errorf("%s needs %s; --stream %s selected audio", name, f.wantVideo, sel)
		}
		audio = nil
	}
	if video != nil && !f.video(video.codec()) {
		hint := ""
		if f.audio != nil && audio != nil {
			hint = " (--stream audio writes the audio alone)"
		}
		return nil, nil, fmt.Errorf("%s needs %s; the capture's video is %s%s", name, f.wantVideo, codecName(video), hint)
	}
	if audio != nil && !f.audio(audio.codec()) {
		hint := ""
		if f.video != nil && video != nil {
			hint = " (--stream video writes the video alone)"
		}
		return nil, nil, fmt.Errorf("%s needs %s; the capture's audio is %s%s", name, f.wantAudio, codecName(audio), hint)
	}
	if video != nil || audio != nil {
		return video, audio, nil
	}
	want := f.wantVideo
	switch {
	case f.video == nil || sel.kind == "audio":
		want = f.wantAudio
	case f.audio != nil && sel.kind == "":
		want += " or " + f.wantAudio
	}
	if unknown := c.unmapped(); len(unknown) > 0 {
		return nil, nil, fmt.Errorf("%s needs %s: %w", name, want, c.noCodec(unknown))
	}
	what := "video or audio"
	switch {
	case f.video == nil || sel.kind == "audio":
		what = "audio"
	case f.audio == nil || sel.kind == "video":
		what = "video"
	}
	return nil, nil, fmt.Errorf("%s needs %s; the capture has no %s stream", name, want, what)
}

func (s selector) String() string {
	if s.bySSRC {
		return strconv.FormatUint(uint64(s.ssrc), 10)
	}
	return s.kind
}

func codecName(s *stream) string {
	if s.typ.Name != "" {
		return s.typ.Name
	}
	return s.codec().String()
}

// candidates are the media streams default selection chooses from: those
// of the streamer's leg when the capture is a bcast dump with one (viewer
// legs carry the same media again), else all.
func (c *capture) candidates() []*stream {
	ingest := false
	for _, s := range c.streams {
		if s.leg == "ingest" && s.kind() != "" {
			ingest = true
		}
	}
	var out []*stream
	for _, s := range c.streams {
		if s.kind() != "" && (!ingest || s.leg == "ingest") {
			out = append(out, s)
		}
	}
	return out
}

// mediaStart is the arrival of the first media packet: where offsets in
// --from and --to count from.
func (c *capture) mediaStart() time.Time {
	var start time.Time
	for _, s := range c.candidates() {
		if s.packets >= minPackets && (start.IsZero() || s.first.Before(start)) {
			start = s.first
		}
	}
	if start.IsZero() {
		return c.first
	}
	return start
}

// firstOf returns the first stream of a kind (by first packet) with media
// in [from, to): a capture that spans a reconnect has a new SSRC after
// it, and a range after the reconnect means that one.
func (c *capture) firstOf(kind string, from, to time.Time) *stream {
	var first *stream
	for _, n := range []uint64{minPackets, 1} {
		for _, s := range c.candidates() {
			if s.kind() != kind || s.packets < n {
				continue
			}
			if !s.last.Before(from) && s.first.Before(to) {
				return s
			}
			if first == nil {
				first = s
			}
		}
	}
	return first
}

// others lists the streams of the same kind as s that selection passed
// over: a reconnect, or simulcast layers.
func (c *capture) others(s *stream) []*stream {
	var out []*stream
	for _, o := range c.candidates() {
		if o != s && o.kind() == s.kind() && o.packets >= minPackets {
			out = append(out, o)
		}
	}
	return out
}

// unmapped lists the streams whose payload type no SDP describes.
func (c *capture) unmapped() []*stream {
	var out []*stream
	for _, s := range c.streams {
		if s.role == roleUnknown && s.packets >= minPackets {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		for _, s := range c.streams {
			if s.role == roleUnknown {
				out = append(out, s)
			}
		}
	}
	return out
}

func (c *capture) noCodec(streams []*stream) error {
	names := make([]string, 0, 3)
	for i, s := range streams {
		if i == 3 {
			names = append(names, fmt.Sprintf("and %d more", len(streams)-3))
			break
		}
		names = append(names, s.String())
	}
	return fmt.Errorf("no codec for %s: the capture has no SDP for its payload type; pass --sdp FILE with the session description (a=rtpmap lines)",
		strings.Join(names, ", "))
}
