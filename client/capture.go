package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/bcastdev/bcast/dump"
	"github.com/bcastdev/bcast/inspect"
)

// capturedPacket is one RTP packet of a capture and when it arrived there.
type capturedPacket struct {
	at  time.Time
	pkt *rtp.Packet
}

// capturedTrack is one RTP stream of a capture to re-publish.
type capturedTrack struct {
	codec   inspect.PayloadType
	fmtp    string
	packets []capturedPacket
}

// loadCapture reads the first video and the first audio RTP stream of the
// capture files (bcast dumps or any pcap of plain RTP), with codecs from the
// embedded SDP or sdpOverride.
func loadCapture(files []string, sdpOverride string) ([]*capturedTrack, error) {
	bySSRC := map[uint32]*capturedTrack{}
	kinds := map[string]uint32{}
	for _, path := range files {
		r, err := dump.Open(path)
		if err != nil {
			return nil, err
		}
		for {
			p, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				_ = r.Close()
				return nil, err
			}
			if p.RTCP {
				continue
			}
			var pkt rtp.Packet
			if pkt.Unmarshal(p.Payload) != nil || len(pkt.Payload) == 0 {
				continue
			}
			t := bySSRC[pkt.SSRC]
			if t == nil {
				desc := sdpOverride
				if ifs := r.Interfaces(); desc == "" && p.Interface < len(ifs) {
					desc = ifs[p.Interface].Description
				}
				pt, ok := inspect.PayloadTypes(desc)[pkt.PayloadType]
				if !ok || pt.Codec == 0 || kinds[pt.Kind] != 0 {
					continue // unknown codec (rtx, fec) or a second stream of a kind
				}
				t = &capturedTrack{codec: pt, fmtp: inspect.Fmtp(desc, pkt.PayloadType)}
				bySSRC[pkt.SSRC] = t
				kinds[pt.Kind] = pkt.SSRC
			}
			// The capture's header extensions were negotiated for another
			// session: never send them under the new session's IDs.
			pkt.Extension, pkt.Extensions = false, nil
			pkt.Payload = append([]byte(nil), pkt.Payload...)
			t.packets = append(t.packets, capturedPacket{at: p.Time, pkt: &pkt})
		}
		_ = r.Close()
	}
	var out []*capturedTrack
	for _, kind := range []string{"video", "audio"} {
		if ssrc, ok := kinds[kind]; ok {
			out = append(out, bySSRC[ssrc])
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no RTP stream with a known codec in the capture (give its SDP with --sdp)")
	}
	return out, nil
}

// PublishCapture re-publishes the RTP of a capture (a bcast dump, a viewer
// capture or any pcap of plain RTP) to a WHIP endpoint with its original
// pacing, to reproduce an incident on a staging server. Payloads are sent as
// captured; SSRC, payload type and header extensions are the new session's.
func PublishCapture(ctx context.Context, log *slog.Logger, url, token string, files []string, sdpOverride string, loop bool) error {
	tracks, err := loadCapture(files, sdpOverride)
	if err != nil {
		return err
	}
	pc, err := newPeer(log)
	if err != nil {
		return err
	}
	defer pc.Close()
	locals := make([]*webrtc.TrackLocalStaticRTP, len(tracks))
	for i, t := range tracks {
		mime := t.codec.Kind + "/" + t.codec.Name
		if t.codec.Codec != 0 {
			mime = t.codec.Codec.MimeType()
		}
		capability := webrtc.RTPCodecCapability{MimeType: mime, ClockRate: t.codec.ClockRate, SDPFmtpLine: t.fmtp}
		if t.codec.Kind == "audio" && strings.EqualFold(t.codec.Name, "opus") {
			capability.Channels = 2
		}
		local, err := webrtc.NewTrackLocalStaticRTP(capability, t.codec.Kind, "bcast-replay")
		if err != nil {
			return fmt.Errorf("track: %w", err)
		}
		if err := addSender(pc, local); err != nil {
			return err
		}
		locals[i] = local
	}
	sess, failed, err := connect(ctx, pc, url, token)
	if err != nil || sess == nil {
		return err
	}
	defer func() { _ = sess.Close(context.Background()) }()
	log.Info("re-publishing capture", "url", url, "session", sess.Location, "files", len(files))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-failed:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		err := playCapture(ctx, tracks, locals)
		select {
		case <-failed:
			return errors.New("connection to the server was lost")
		default:
		}
		if errors.Is(err, context.Canceled) {
			return nil
		}
		if err != nil {
			return err
		}
		if !loop {
			time.Sleep(tailDelay) // let the last packets arrive before DELETE
			return nil
		}
	}
}

// playCapture sends every track's packets at their captured offsets from
// the earliest packet, on one schedule so audio and video keep their timing.
func playCapture(ctx context.Context, tracks []*capturedTrack, locals []*webrtc.TrackLocalStaticRTP) error {
	var first time.Time
	for _, t := range tracks {
		if len(t.packets) > 0 && (first.IsZero() || t.packets[0].at.Before(first)) {
			first = t.packets[0].at
		}
	}
	next := make([]int, len(tracks))
	start := time.Now()
	for {
		best := -1
		for i, t := range tracks {
			if next[i] < len(t.packets) && (best < 0 || t.packets[next[i]].at.Before(tracks[best].packets[next[best]].at)) {
				best = i
			}
		}
		if best < 0 {
			return nil
		}
		p := tracks[best].packets[next[best]]
		next[best]++
		if wait := time.Until(start.Add(p.at.Sub(first))); wait > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		}
		if err := locals[best].WriteRTP(p.pkt); err != nil && !errors.Is(err, io.ErrClosedPipe) {
			return fmt.Errorf("send: %w", err)
		}
	}
}
