package media

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// fakeSource yields samples of the given durations.
type fakeSource struct {
	mime   string
	durs   []time.Duration
	i      int
	closed int
}

func (f *fakeSource) MimeType() string  { return f.mime }
func (f *fakeSource) ClockRate() uint32 { return 90000 }
func (f *fakeSource) Channels() uint16  { return 0 }
func (f *fakeSource) Close() error      { f.closed++; return nil }
func (f *fakeSource) Next() (Sample, error) {
	if f.i == len(f.durs) {
		return Sample{}, io.EOF
	}
	f.i++
	return Sample{Data: []byte{byte(f.i)}, Duration: f.durs[f.i-1]}, nil
}

func TestLoop(t *testing.T) {
	file := vp8File([]byte{0x10}, []byte{0x11}, []byte{0x12})
	opens := 0
	src := Loop(func() (Source, error) { opens++; return OpenReader(bytes.NewReader(file), "l.ivf") })
	if src.MimeType() != MimeTypeVP8 || src.ClockRate() != 90000 {
		t.Fatalf("%s %d", src.MimeType(), src.ClockRate())
	}
	for i := range 10 {
		s, err := src.Next()
		if err != nil {
			t.Fatal(err)
		}
		if want := byte(0x10 + i%3); s.Data[0] != want || s.Duration != time.Second/30 {
			t.Fatalf("sample %d: %x %v, want %x", i, s.Data, s.Duration, want)
		}
	}
	if opens != 4 {
		t.Fatalf("%d opens for 10 samples of a 3-frame file, want 4", opens)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestLoopFailures(t *testing.T) {
	openErr := errors.New("no such clip")
	tests := []struct {
		name    string
		open    func(n int) (Source, error) // n counts opens from 0
		samples int                         // before the error
		errHas  string
	}{
		{"first open fails", func(int) (Source, error) { return nil, openErr }, 0, "no such clip"},
		{"reopen fails", func(n int) (Source, error) {
			if n > 0 {
				return nil, openErr
			}
			return &fakeSource{mime: MimeTypeVP8, durs: []time.Duration{1}}, nil
		}, 1, "looping: no such clip"},
		{"empty source does not spin", func(int) (Source, error) { return &fakeSource{mime: MimeTypeVP8}, nil }, 0, "no samples"},
		{"empty on the second pass", func(n int) (Source, error) {
			if n > 0 {
				return &fakeSource{mime: MimeTypeVP8}, nil
			}
			return &fakeSource{mime: MimeTypeVP8, durs: []time.Duration{1, 1}}, nil
		}, 2, "no samples"},
		{"codec changes", func(n int) (Source, error) {
			mime := MimeTypeVP8
			if n > 0 {
				mime = MimeTypeH264
			}
			return &fakeSource{mime: mime, durs: []time.Duration{1}}, nil
		}, 1, "codec changed from video/VP8 to video/H264"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			src := Loop(func() (Source, error) { n++; return tt.open(n - 1) })
			for i := range tt.samples {
				if _, err := src.Next(); err != nil {
					t.Fatalf("sample %d: %v", i, err)
				}
			}
			_, err := src.Next()
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.errHas)
			}
			if _, err2 := src.Next(); err2 == nil {
				t.Fatal("Next after an error succeeded")
			}
			if err := src.Close(); err != nil {
				t.Fatal(err)
			}
			if err := src.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
		})
	}
}

// TestPaceSchedule: each sample is delivered at start + the sum of the
// durations before it, exactly, over a long run of durations that do not
// divide a nanosecond tick evenly (no drift), and Pace returns nil at the end.
func TestPaceSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 3000 // 100 s of NTSC video
		d := time.Duration(1001 * int64(time.Second) / 30000)
		durs := make([]time.Duration, n)
		for i := range durs {
			durs[i] = d
			if i%3 == 0 {
				durs[i]++ // 33366667, 33366666, 33366666, ...
			}
		}
		start := time.Now()
		var due time.Duration
		i := 0
		err := Pace(t.Context(), &fakeSource{durs: durs}, func(s Sample) error {
			if at := time.Since(start); at != due {
				t.Fatalf("sample %d at %v, want %v", i, at, due)
			}
			// Work inside fn must not delay the schedule.
			time.Sleep(d / 2)
			due += s.Duration
			i++
			return nil
		})
		if err != nil || i != n {
			t.Fatalf("Pace: %v after %d samples", err, i)
		}
	})
}

// TestPaceBehind: a consumer that stalls for less than a second catches up;
// one that stalls for longer is resynchronised instead of sent a burst.
func TestPaceBehind(t *testing.T) {
	const d = 20 * time.Millisecond
	// Samples 6.. are due at 120, 140, 160 ... ms. After a 500 ms stall
	// ending at 600 ms, the overdue ones (6..30) go at once, then the
	// schedule holds.
	var catchUp []time.Duration
	for i := 6; i <= 32; i++ {
		catchUp = append(catchUp, max(600, time.Duration(i)*20))
	}
	tests := []struct {
		name  string
		stall time.Duration // in fn for sample 5
		want  []time.Duration
	}{
		{"catch up", 500 * time.Millisecond, catchUp},
		// A 1.5 s stall ends at 1600 ms, 1480 ms behind: the schedule
		// restarts there instead of bursting 74 samples.
		{"resync", 1500 * time.Millisecond, []time.Duration{1600, 1620, 1640, 1660}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				durs := make([]time.Duration, 6+len(tt.want))
				for i := range durs {
					durs[i] = d
				}
				start := time.Now()
				var at []time.Duration
				err := Pace(t.Context(), &fakeSource{durs: durs}, func(Sample) error {
					if len(at) == 5 {
						at = append(at, 0)
						time.Sleep(tt.stall)
						return nil
					}
					at = append(at, time.Since(start))
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				for i, want := range tt.want {
					if got := at[6+i]; got != want*time.Millisecond {
						t.Errorf("sample %d at %v, want %v", 6+i, got, want*time.Millisecond)
					}
				}
			})
		})
	}
}

func TestPaceStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		start := time.Now()
		n := 0
		err := Pace(ctx, &fakeSource{durs: []time.Duration{time.Hour, time.Hour}}, func(Sample) error {
			n++
			time.AfterFunc(time.Second, cancel)
			return nil
		})
		if !errors.Is(err, context.Canceled) || n != 1 || time.Since(start) != time.Second {
			t.Fatalf("Pace: %v after %d samples and %v", err, n, time.Since(start))
		}

		stop := errors.New("viewer gone")
		err = Pace(t.Context(), &fakeSource{durs: []time.Duration{1, 1, 1}}, func(Sample) error { return stop })
		if err != stop {
			t.Fatalf("Pace: %v, want fn's error unchanged", err)
		}

		broken := errors.New("disk error")
		err = Pace(t.Context(), Loop(func() (Source, error) { return nil, broken }), func(Sample) error { return nil })
		if !errors.Is(err, broken) {
			t.Fatalf("Pace: %v, want the source's error", err)
		}
	})
}
