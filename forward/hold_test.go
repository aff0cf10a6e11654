package forward

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// recBatcher records corks and the writes between them, as "[" and "]"
// around "viewer:sequence" entries.
type recBatcher struct {
	mu        sync.Mutex
	log       []string
	coalesces bool
}

func (b *recBatcher) Cork()   { b.add("[") }
func (b *recBatcher) Uncork() { b.add("]") }
func (b *recBatcher) Coalesces() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.coalesces
}
func (b *recBatcher) add(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.log = append(b.log, s)
}

func (b *recBatcher) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.log, " ")
}

// heldTrack is a video track whose batcher coalesces, with one viewer "a".
func heldTrack(t *testing.T) (*recBatcher, *Track) {
	src := vp8
	src.PayloadType = 100
	b := &recBatcher{coalesces: true}
	tr := NewTrack(TrackInfo{Kind: webrtc.RTPCodecTypeVideo, Codec: src}, nil, WithBatcher(b))
	t.Cleanup(tr.Close)
	holdViewer(t, tr, "a", b)
	return b, tr
}

// holdViewer binds a viewer whose writes go to b's log with sequence
// numbers relative to its first packet.
func holdViewer(t *testing.T, tr *Track, name string, b *recBatcher) {
	t.Helper()
	d := NewDownTrack(webrtc.RTPCodecTypeVideo, "s")
	if _, err := d.Bind(&fakeContext{codecs: []webrtc.RTPCodecParameters{vp8}, ssrc: 1, w: &captureWriter{}}); err != nil {
		t.Fatal(err)
	}
	d.writer = &relWriter{name: name, b: b}
	d.SetSource(tr)
}

// relWriter logs "name:n" for the n-th packet (from 0) written to it.
type relWriter struct {
	captureWriter
	name string
	b    *recBatcher
	n    int
}

func (w *relWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.b.add(fmt.Sprintf("%s:%d", w.name, w.n))
	w.n++
	return len(payload), nil
}

func TestHoldFrameWritesViewerByViewer(t *testing.T) {
	src := vp8
	src.PayloadType = 100
	tests := []struct {
		name      string
		coalesces bool
		kind      webrtc.RTPCodecType
		write     func(tr *Track)
		want      string
	}{
		{
			name: "frame held until its marker, then per viewer", coalesces: true,
			write: func(tr *Track) { feed(tr, 5, 10, 1000, vp8Key, vp8Cont, vp8Cont) },
			want:  "[ a:0 a:1 a:2 b:0 b:1 b:2 ]",
		},
		{
			name: "a new timestamp flushes a frame whose marker was lost", coalesces: true,
			write: func(tr *Track) {
				writeOne(tr, 10, 1000, false, vp8Key)
				writeOne(tr, 11, 1000, false, vp8Cont)
				writeOne(tr, 13, 4000, true, vp8Delta)
			},
			want: "[ a:0 a:1 b:0 b:1 ] [ a:2 b:2 ]",
		},
		{
			name: "without GSO packets go out as they come, each fan-out corked", coalesces: false,
			write: func(tr *Track) { feed(tr, 5, 10, 1000, vp8Key, vp8Cont) },
			want:  "[ a:0 b:0 ] [ a:1 b:1 ]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &recBatcher{coalesces: tt.coalesces}
			tr := NewTrack(TrackInfo{Kind: webrtc.RTPCodecTypeVideo, Codec: src}, nil, WithBatcher(b))
			defer tr.Close()
			holdViewer(t, tr, "a", b)
			holdViewer(t, tr, "b", b)
			tt.write(tr)
			if got := b.String(); got != tt.want {
				t.Fatalf("writes %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHoldLimits(t *testing.T) {
	b, tr := heldTrack(t)
	// A keyframe larger than maxHeld packets leaves in maxHeld steps.
	writeOne(tr, 0, 1000, false, vp8Key)
	for i := 1; i < maxHeld; i++ {
		writeOne(tr, uint16(i), 1000, false, vp8Cont)
	}
	if got := strings.Count(b.String(), "a:"); got != maxHeld {
		t.Fatalf("%d packets written after %d held, want all", got, maxHeld)
	}
	// The rest of a frame whose marker never comes leaves after maxHold.
	writeOne(tr, maxHeld, 1000, false, vp8Cont)
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(b.String(), "a:") < maxHeld+1 {
		if time.Now().After(deadline) {
			t.Fatalf("held packet never flushed: %s", b)
		}
		time.Sleep(time.Millisecond)
	}
	if got := strings.Count(b.String(), "["); got != 2 {
		t.Fatalf("%d corked fan-outs, want 2: %s", got, b)
	}
}

// When the sockets stop coalescing (GSO refused at run time), a held frame
// leaves at once and later packets are not held.
func TestHoldStopsWithoutGSO(t *testing.T) {
	b, tr := heldTrack(t)
	writeOne(tr, 1, 1000, false, vp8Key)
	b.mu.Lock()
	b.coalesces = false
	b.mu.Unlock()
	writeOne(tr, 2, 1000, false, vp8Cont)
	if got, want := b.String(), "[ a:0 ] [ a:1 ]"; got != want {
		t.Fatalf("writes %q, want %q", got, want)
	}
}

// Audio is never held: one packet every 20 ms has nothing to batch with
// for one viewer. Its fan-out is corked all the same, so the viewers'
// datagrams share system calls.
func TestAudioNotHeld(t *testing.T) {
	opus := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, PayloadType: 111}
	b := &recBatcher{coalesces: true}
	tr := NewTrack(TrackInfo{Kind: webrtc.RTPCodecTypeAudio, Codec: opus}, nil, WithBatcher(b))
	defer tr.Close()
	d := NewDownTrack(webrtc.RTPCodecTypeAudio, "s")
	if _, err := d.Bind(&fakeContext{codecs: []webrtc.RTPCodecParameters{opus}, ssrc: 1, w: &captureWriter{}}); err != nil {
		t.Fatal(err)
	}
	d.writer = &relWriter{name: "a", b: b}
	d.SetSource(tr)
	writeOne(tr, 1, 960, false, []byte{1, 2, 3})
	writeOne(tr, 2, 1920, false, []byte{1, 2, 3})
	if got, want := b.String(), "[ a:0 ] [ a:1 ]"; got != want {
		t.Fatalf("writes %q, want %q", got, want)
	}
}

func writeOne(tr *Track, seq uint16, ts uint32, marker bool, payload []byte) {
	p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 100, SequenceNumber: seq, Timestamp: ts, SSRC: 5, Marker: marker}, Payload: payload}
	raw, _ := p.Marshal()
	tr.Write(p, raw)
}

// A keyframe reaches the viewers waiting for one before those already
// playing: b joined after a's first keyframe, so b gets the next one
// first.
func TestKeyframeToWaitingViewersFirst(t *testing.T) {
	b, tr := heldTrack(t)
	writeOne(tr, 1, 1000, true, vp8Key)
	holdViewer(t, tr, "b", b)
	writeOne(tr, 2, 4000, true, vp8Delta) // b still waits: not sent to b
	writeOne(tr, 3, 7000, false, vp8Key)
	writeOne(tr, 4, 7000, true, vp8Cont)
	if got, want := b.String(), "[ a:0 ] [ a:1 ] [ b:0 b:1 a:2 a:3 ]"; got != want {
		t.Fatalf("writes %q, want %q", got, want)
	}
}

// recObserver records the latencies a track reports.
type recObserver struct {
	mu                sync.Mutex
	responses, firsts []time.Duration
}

func (o *recObserver) KeyframeResponse(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.responses = append(o.responses, d)
}

func (o *recObserver) FirstKeyframe(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.firsts = append(o.firsts, d)
}

// A viewer's wait for its first keyframe is reported once, when the
// keyframe is sent to it; a keyframe that answers a request reports how
// long the streamer took, and one nobody asked for reports nothing.
func TestObserver(t *testing.T) {
	src := vp8
	src.PayloadType = 100
	obs := &recObserver{}
	b := &recBatcher{coalesces: true}
	tr := NewTrack(TrackInfo{Kind: webrtc.RTPCodecTypeVideo, Codec: src}, nil, WithBatcher(b), WithObserver(obs))
	defer tr.Close()
	holdViewer(t, tr, "a", b) // attaching asks for a keyframe
	time.Sleep(20 * time.Millisecond)
	writeOne(tr, 1, 1000, true, vp8Key)
	writeOne(tr, 2, 4000, true, vp8Delta)
	writeOne(tr, 3, 7000, true, vp8Key) // unrequested
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.firsts) != 1 || obs.firsts[0] < 20*time.Millisecond {
		t.Errorf("first-keyframe waits %v, want one of at least 20 ms", obs.firsts)
	}
	if len(obs.responses) != 1 || obs.responses[0] < 20*time.Millisecond {
		t.Errorf("keyframe responses %v, want one of at least 20 ms", obs.responses)
	}
}
