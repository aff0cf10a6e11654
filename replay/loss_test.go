package replay

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/bcastdev/bcast/dump"
)

// TestReplayVideoLoss drops packets inside some video frames and one whole
// frame: those frames, and the ones after them up to the next key frame,
// are left out (counted), every other frame is written as sent, and the
// file decodes without a single complaint.
func TestReplayVideoLoss(t *testing.T) {
	needTools(t, "ffprobe", "ffmpeg")
	s := newSession(t, sessionOptions{mtu: 400, noAudio: true})
	packetsOf := map[int][]int{} // frame → indexes in s.packets
	for i, p := range s.packets {
		if p.video && !p.rtcp {
			packetsOf[p.frame] = append(packetsOf[p.frame], i)
		}
	}
	// A frame of at least three packets near each position.
	multi := func(from int) int {
		for f := from; ; f++ {
			if len(packetsOf[f]) >= 3 && !s.keyframes[f] {
				return f
			}
		}
	}
	midFrame, firstOfFrame, wholeFrame := multi(45), multi(130), multi(200)
	drop := map[int]bool{
		packetsOf[midFrame][1]:     true, // a middle packet
		packetsOf[firstOfFrame][0]: true, // the frame start
	}
	for _, i := range packetsOf[wholeFrame] {
		drop[i] = true // the whole frame: seen only as a gap
	}
	var kept []wire
	for i, p := range s.packets {
		if !drop[i] {
			kept = append(kept, p)
		}
	}
	nextKey := func(f int) int {
		for f++; !s.keyframes[f]; f++ {
		}
		return f
	}
	missing := map[int]bool{}
	for _, f := range []int{midFrame, firstOfFrame, wholeFrame} {
		for g := f; g < nextKey(f); g++ {
			missing[g] = true
		}
	}
	dir := writeDump(t, sdpFor("VP8"), kept, 0)
	out := filepath.Join(t.TempDir(), "out.ivf")
	sum := replayTo(t, out, Options{Paths: []string{dir}})

	want := len(s.video) - len(missing)
	if got := probeCounts(t, out)["video"]; got != want {
		t.Fatalf("ffprobe: %d frames, want %d", got, want)
	}
	decodeClean(t, out)
	st := sum.Streams[0]
	if st.FramesWritten != want || st.FramesDropped != 2 || st.FramesSkipped != len(missing)-3 || st.Gaps != 3 {
		t.Errorf("summary %+v: want %d written, 2 dropped, %d skipped, 3 gaps", st, want, len(missing)-3)
	}
	frames, _ := ivfFrames(t, out)
	i := 0
	for f := range s.video {
		if missing[f] {
			continue
		}
		if !bytes.Equal(frames[i], s.video[f].Data) {
			t.Fatalf("output frame %d is not source frame %d", i, f)
		}
		i++
	}
}

// TestReplayAudioLoss drops Opus packets: the gaps are concealed with
// packets of the same duration, so the output lasts as long as the source
// and stays in sync, and decoders accept the concealment packets.
func TestReplayAudioLoss(t *testing.T) {
	needTools(t, "ffprobe", "ffmpeg")
	s := newSession(t, sessionOptions{})
	lostAudio := map[int]bool{100: true, 101: true, 102: true, 300: true}
	var kept []wire
	for _, p := range s.packets {
		if !p.video && !p.rtcp && lostAudio[p.frame] {
			continue
		}
		kept = append(kept, p)
	}
	dir := writeDump(t, sdpFor("VP8"), kept, 0)
	srcDur := probeFloat(t, filepath.Join("..", "demo", "clip.ogg"), "", "format=duration")
	for _, name := range []string{"out.ogg", "out.webm"} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), name)
			sum := replayTo(t, out, Options{Paths: []string{dir}})
			decodeClean(t, out)
			if got := probeCounts(t, out)["audio"]; got != len(s.audio) {
				t.Errorf("%d audio packets, want %d: the lost ones concealed", got, len(s.audio))
			}
			if d := probeFloat(t, out, "", "format=duration"); math.Abs(d-srcDur) > 0.020 {
				t.Errorf("duration %.3f s, source %.3f s", d, srcDur)
			}
			a := sum.Streams[len(sum.Streams)-1]
			if a.Kind != "audio" || a.Lost != 4 || a.Gaps != 2 || a.FillGaps != 2 || a.Filled != 80*time.Millisecond ||
				a.FramesWritten != len(s.audio)-4 {
				t.Errorf("audio summary %+v: want 4 lost in 2 gaps, 80 ms concealed, %d written", a, len(s.audio)-4)
			}
		})
	}
}

// TestReplayReorderDuplicatesRTX delivers the same session with packets
// reordered, duplicated, and some lost and repaired by RTX (RFC 4588) a
// round trip later, plus RTX padding probes: the output is byte for byte
// the output of the clean session.
func TestReplayReorderDuplicatesRTX(t *testing.T) {
	s := newSession(t, sessionOptions{mtu: 600, audioDelay: 30 * time.Millisecond})
	clean := writeDump(t, sdpFor("VP8"), s.packets, 0)

	rng := rand.New(rand.NewPCG(1, 2))
	var (
		rtxSeq   uint16 = 40000
		repaired int
	)
	messy := slices.Clone(s.packets)
	var extra []wire
	for i, p := range messy {
		if p.rtcp {
			continue
		}
		switch r := rng.IntN(100); {
		case r < 3 && p.video: // lost, repaired by RTX 60 ms later
			var pk rtp.Packet
			if err := pk.Unmarshal(p.data); err != nil {
				t.Fatal(err)
			}
			rtxPk := rtp.Packet{Header: pk.Header, Payload: binary.BigEndian.AppendUint16(nil, pk.SequenceNumber)}
			rtxPk.Payload = append(rtxPk.Payload, pk.Payload...)
			rtxPk.SSRC, rtxPk.PayloadType, rtxPk.SequenceNumber = rtxSSRC, ptRTX, rtxSeq
			rtxPk.Extension, rtxPk.Extensions = false, nil
			rtxSeq++
			b, err := rtxPk.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			extra = append(extra, wire{at: p.at.Add(60 * time.Millisecond), data: b})
			messy[i].data = nil
			repaired++
		case r < 8: // captured twice
			extra = append(extra, wire{at: p.at.Add(time.Duration(rng.IntN(40)) * time.Millisecond), data: p.data})
		}
	}
	// Bandwidth probes: RTX packets of padding only (RFC 3550 §5.1 P bit).
	for i := range 5 {
		pad := rtp.Packet{Header: rtp.Header{Version: 2, Padding: true, PayloadType: ptRTX, SequenceNumber: rtxSeq, SSRC: rtxSSRC}, PaddingSize: 200}
		rtxSeq++
		b, err := pad.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		extra = append(extra, wire{at: base.Add(time.Duration(i) * time.Second), data: b})
	}
	messy = slices.DeleteFunc(append(messy, extra...), func(w wire) bool { return w.data == nil })
	slices.SortStableFunc(messy, func(a, b wire) int { return a.at.Compare(b.at) })
	// Reorder: swap neighbours, keeping arrival times in capture order.
	for i := 0; i+3 < len(messy); i++ {
		if rng.IntN(10) == 0 {
			j := i + 1 + rng.IntN(3)
			messy[i].data, messy[j].data, messy[i].rtcp, messy[j].rtcp = messy[j].data, messy[i].data, messy[j].rtcp, messy[i].rtcp
		}
	}
	messyDir := writeDump(t, sdpFor("VP8"), messy, 0)

	for _, name := range []string{"out.ivf", "out.ogg", "out.webm"} {
		t.Run(name, func(t *testing.T) {
			want := filepath.Join(t.TempDir(), "clean-"+name)
			replayTo(t, want, Options{Paths: []string{clean}})
			got := filepath.Join(t.TempDir(), name)
			sum := replayTo(t, got, Options{Paths: []string{messyDir}})
			a, _ := os.ReadFile(want)
			b, _ := os.ReadFile(got)
			if !bytes.Equal(a, b) {
				t.Fatalf("output of the messy capture (%d bytes) differs from the clean one (%d bytes); summary %+v", len(b), len(a), sum)
			}
			for _, st := range sum.Streams {
				if st.Lost != 0 || st.Duplicates == 0 {
					t.Errorf("%+v: want no loss and some duplicates", st)
				}
				if st.Kind == "video" && st.Repaired != uint64(repaired) {
					t.Errorf("%d packets repaired by RTX, want %d", st.Repaired, repaired)
				}
			}
		})
	}
}

// TestReplayTruncated cuts a dump segment at random offsets, as a crash
// would: replay still succeeds and writes every frame completed before
// the cut, as sent.
func TestReplayTruncated(t *testing.T) {
	s := newSession(t, sessionOptions{mtu: 500})
	dir := writeDump(t, sdpFor("VP8"), s.packets, 0)
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcapng"))
	if len(files) != 1 {
		t.Fatalf("%d segments, want 1", len(files))
	}
	whole, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	frameOf := map[uint16]int{}
	packetsIn := map[int]int{}
	for _, p := range s.packets {
		if p.video && !p.rtcp {
			frameOf[p.seq] = p.frame
			packetsIn[p.frame]++
		}
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for range 3 {
		cut := len(whole)/5 + rng.IntN(len(whole)*7/10)
		torn := filepath.Join(t.TempDir(), "torn.pcapng")
		if err := os.WriteFile(torn, whole[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		// What survived the cut, read back with the dump reader.
		have := map[int]int{}
		r, err := dump.Open(torn)
		if err != nil {
			t.Fatal(err)
		}
		for {
			p, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			var h rtp.Header
			if _, err := h.Unmarshal(p.Payload); err == nil && !p.RTCP && h.SSRC == videoSSRC {
				have[frameOf[h.SequenceNumber]]++
			}
		}
		r.Close()
		complete := 0
		for have[complete] == packetsIn[complete] && have[complete] > 0 {
			complete++
		}
		out := filepath.Join(t.TempDir(), "out.ivf")
		sum := replayTo(t, out, Options{Paths: []string{torn}})
		frames, _ := ivfFrames(t, out)
		if len(frames) != complete || sum.Streams[0].FramesWritten != complete {
			t.Fatalf("cut at %d of %d bytes: %d frames written, want the %d complete ones", cut, len(whole), len(frames), complete)
		}
		for i, f := range frames {
			if !bytes.Equal(f, s.video[i].Data) {
				t.Fatalf("cut at %d: frame %d differs", cut, i)
			}
		}
	}
}
