package demo

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/bcastdev/bcast/media"
)

func readAll(t *testing.T, s media.Source) []media.Sample {
	t.Helper()
	var out []media.Sample
	for {
		smp, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("after %d samples: %v", len(out), err)
		}
		out = append(out, smp)
	}
}

func total(samples []media.Sample) (d time.Duration) {
	for _, s := range samples {
		d += s.Duration
	}
	return d
}

// vp8Keyframe reads the VP8 frame tag (RFC 6386 §9.1): bit 0 of the first
// byte is 0 for a keyframe, which carries the start code 9d 01 2a.
func vp8Keyframe(frame []byte) bool {
	return len(frame) >= 6 && frame[0]&1 == 0 && frame[3] == 0x9d && frame[4] == 0x01 && frame[5] == 0x2a
}

func TestClip(t *testing.T) {
	if n := len(clipIVF) + len(clipOgg); n > 600<<10 {
		t.Errorf("clip is %d bytes: keep the binary small (< 600 KB)", n)
	}
	tests := []struct {
		name     string
		open     func() (media.Source, error)
		mime     string
		samples  int // expected count
		slack    int
		duration time.Duration // of each sample
	}{
		// 10 s at 30 fps.
		{"video", OpenVideo, media.MimeTypeVP8, 300, 0, time.Second / 30},
		// 10 s of 20 ms packets, plus one for the encoder's pre-skip.
		{"audio", OpenAudio, media.MimeTypeOpus, 500, 2, 20 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.open()
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.MimeType() != tt.mime {
				t.Fatalf("MimeType %q, want %q", s.MimeType(), tt.mime)
			}
			got := readAll(t, s)
			if len(got) < tt.samples || len(got) > tt.samples+tt.slack {
				t.Fatalf("%d samples, want %d (+%d)", len(got), tt.samples, tt.slack)
			}
			for i, smp := range got {
				if smp.Duration != tt.duration || len(smp.Data) == 0 {
					t.Fatalf("sample %d: %d bytes, %v, want %v", i, len(smp.Data), smp.Duration, tt.duration)
				}
			}
			if d := total(got); d < 10*time.Second-50*time.Millisecond || d > 10*time.Second+50*time.Millisecond {
				t.Errorf("clip lasts %v, want 10 s", d)
			}
		})
	}
}

// TestVideoKeyframes: the clip starts on a keyframe (a viewer can decode
// the first frame and the loop restarts cleanly) and has one every 2 s
// (a joining viewer waits at most that long).
func TestVideoKeyframes(t *testing.T) {
	s, err := OpenVideo()
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range readAll(t, s) {
		if want := i%60 == 0; vp8Keyframe(f.Data) != want {
			t.Errorf("frame %d: keyframe %v, want %v", i, !want, want)
		}
	}
}

// TestLoop: the demo stream loops with a continuous timeline, and each pass
// of the video restarts on a keyframe.
func TestLoop(t *testing.T) {
	tests := []struct {
		open func() (media.Source, error)
		pass int // samples per pass
	}{
		{OpenVideo, 300},
		{OpenAudio, 0}, // counted below
	}
	a, err := OpenAudio()
	if err != nil {
		t.Fatal(err)
	}
	tests[1].pass = len(readAll(t, a))
	for _, tt := range tests {
		src := media.Loop(tt.open)
		var d time.Duration
		for i := range 3*tt.pass + 1 {
			smp, err := src.Next()
			if err != nil {
				t.Fatalf("%s sample %d: %v", src.MimeType(), i, err)
			}
			if media.Kind(src) == "video" && i%tt.pass == 0 && !vp8Keyframe(smp.Data) {
				t.Fatalf("pass %d starts on a non-keyframe", i/tt.pass)
			}
			d += smp.Duration
		}
		if d < 30*time.Second {
			t.Errorf("%s: 3 passes last %v, want > 30 s", src.MimeType(), d)
		}
		if err := src.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
