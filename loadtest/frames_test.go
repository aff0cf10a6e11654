package loadtest

import (
	"testing"
	"time"

	"github.com/bcastdev/bcast/codec"
)

const ms50 = 50 * time.Millisecond

// sim builds a video packet sequence with a fake clock: frames of
// consecutive sequence numbers, each with its own timestamp.
type sim struct {
	ext   int64
	ts    uint32
	steps []step
}

type step struct {
	at time.Duration
	p  packet
}

// frame appends a frame of n packets arriving at at, leaving out the
// packets at the indexes in drop, and returns the left-out ones.
func (s *sim) frame(at time.Duration, n int, key bool, drop ...int) []packet {
	s.ts += 3000
	var lost []packet
	for i := range n {
		p := packet{ext: s.ext, ts: s.ts, marker: i == n-1}
		if i == 0 {
			p.info = codec.FrameInfo{FrameStart: true, Keyframe: key}
		}
		s.ext++
		if contains(drop, i) {
			lost = append(lost, p)
			continue
		}
		s.steps = append(s.steps, step{at, p})
	}
	return lost
}

// at appends packets arriving at at.
func (s *sim) at(at time.Duration, pkts ...packet) {
	for _, p := range pkts {
		s.steps = append(s.steps, step{at, p})
	}
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestFrameTracker(t *testing.T) {
	type want struct {
		complete, incomplete, undecodable, freezes, plis uint64
		longest                                          time.Duration
		waiting                                          bool
	}
	tests := []struct {
		name  string
		build func(s *sim)
		end   time.Duration // finish time; 0: the last packet's
		want  want
	}{
		{
			name: "in order",
			build: func(s *sim) {
				s.frame(0, 3, true)
				s.frame(ms50, 2, false)
				s.frame(2*ms50, 2, false)
			},
			want: want{complete: 3},
		},
		{
			name: "reordered but complete",
			build: func(s *sim) {
				key := s.frame(0, 3, true, 0, 1, 2)
				s.at(0, key[2], key[0])
				s.at(time.Millisecond, key[1])
				delta := s.frame(ms50, 2, false, 0, 1)
				s.at(ms50, delta[1], delta[0])
			},
			want: want{complete: 2},
		},
		{
			name: "late repair within the window",
			build: func(s *sim) {
				s.frame(0, 3, true)
				lost := s.frame(ms50, 3, false, 1)
				for i := 2; i <= 4; i++ {
					s.frame(time.Duration(i)*ms50, 2, false)
				}
				s.at(5*ms50, lost...) // 200 ms after the gap was seen
			},
			want: want{complete: 5},
		},
		{
			name: "gap not repaired",
			build: func(s *sim) {
				s.frame(0, 3, true)
				s.frame(ms50, 3, false, 1) // seen at 50 ms, given up at 350 ms
				for i := 2; i <= 17; i++ {
					s.frame(time.Duration(i)*ms50, 2, false)
				}
				s.frame(18*ms50, 3, true)
			},
			// The 16 frames after the loss are complete but undecodable;
			// PLIs at 350 and 850 ms; nothing rendered from 0 to 900 ms.
			want: want{complete: 18, incomplete: 1, undecodable: 16, plis: 2, freezes: 1, longest: 18 * ms50},
		},
		{
			name: "still waiting at the end",
			build: func(s *sim) {
				s.frame(0, 2, true)
				s.frame(ms50, 2, false, 0)
				for i := 2; i <= 10; i++ {
					s.frame(time.Duration(i)*ms50, 2, false)
				}
			},
			end:  time.Second,
			want: want{complete: 10, incomplete: 1, undecodable: 9, plis: 1, freezes: 1, longest: time.Second, waiting: true},
		},
		{
			name: "start missed, PLI every 500 ms",
			// The start may still come until 300 ms: the frames until
			// then wait, and are undecodable when it does not.
			build: func(s *sim) {
				s.frame(0, 2, true, 0) // joined mid-frame
				for i := 1; i <= 10; i++ {
					s.frame(time.Duration(i)*100*time.Millisecond, 2, false)
				}
				s.frame(1100*time.Millisecond, 2, true)
			},
			want: want{complete: 11, incomplete: 1, undecodable: 10, plis: 2},
		},
		{
			name: "no marker: a new timestamp ends the frame",
			build: func(s *sim) {
				for i, key := range []bool{true, false, false} {
					s.ts += 3000
					s.at(time.Duration(i)*ms50,
						packet{ext: s.ext, ts: s.ts, info: codec.FrameInfo{FrameStart: true, Keyframe: key}},
						packet{ext: s.ext + 1, ts: s.ts})
					s.ext += 2
				}
				s.frame(3*ms50, 1, false)
			},
			want: want{complete: 4},
		},
		{
			name: "padding between frames",
			build: func(s *sim) {
				s.frame(0, 2, true)
				s.at(10*time.Millisecond, packet{ext: s.ext, ts: s.ts, padding: true})
				s.ext++
				s.frame(ms50, 2, false)
			},
			want: want{complete: 2},
		},
		{
			name: "jump beyond the ring",
			build: func(s *sim) {
				s.frame(0, 3, true)
				s.ext += 5000
				s.frame(ms50, 2, true)
			},
			want: want{complete: 2, incomplete: 1, plis: 1},
		},
		{
			name: "smooth stream ends with a pause",
			build: func(s *sim) {
				s.frame(0, 2, true)
				s.frame(ms50, 2, false)
			},
			end:  time.Second,
			want: want{complete: 2, freezes: 1, longest: time.Second - ms50},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s sim
			tt.build(&s)
			var c counters
			ft := newFrameTracker(&c)
			var plis uint64
			var last time.Duration
			for _, st := range s.steps {
				if ft.push(st.at, st.p) {
					plis++
				}
				last = st.at
			}
			end := tt.end
			if end == 0 {
				end = last
			}
			ft.finish(end)
			got := want{
				complete:    c.framesComplete.Load(),
				incomplete:  c.framesIncomplete.Load(),
				undecodable: c.framesUndecodable.Load(),
				freezes:     c.freezes.Load(),
				plis:        plis,
				longest:     time.Duration(c.longestFreeze.Load()),
				waiting:     ft.waiting,
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if tt.want.complete > tt.want.undecodable && c.firstKeyframe.Load() == 0 {
				t.Error("first keyframe not recorded")
			}
			// The longest gap between rendered frames (or to the end)
			// covers every freeze, and exists once two frames rendered.
			if gap := c.longestGap.Load(); gap > 0 && gap < c.longestFreeze.Load() && !tt.want.waiting ||
				tt.want.complete-tt.want.undecodable >= 2 && gap == 0 {
				t.Errorf("longest gap %v with longest freeze %v", time.Duration(gap), time.Duration(c.longestFreeze.Load()))
			}
		})
	}
}

func TestSeqCounter(t *testing.T) {
	tests := []struct {
		name                     string
		seqs                     []uint16
		expected, lost, received uint64
	}{
		{"none", nil, 0, 0, 0},
		{"wrap", []uint16{65534, 65535, 0, 1}, 4, 0, 4},
		{"gap", []uint16{10, 12}, 3, 1, 2},
		{"reordered", []uint16{10, 12, 11}, 3, 0, 3},
		{"duplicates are no negative loss", []uint16{10, 10, 11}, 2, 0, 3},
		{"older than the first, across the wrap", []uint16{1, 65535, 2}, 4, 1, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c seqCounter
			for _, s := range tt.seqs {
				c.push(s)
			}
			if c.expected() != tt.expected || c.lost() != tt.lost || c.received != tt.received {
				t.Errorf("expected %d lost %d received %d, want %d %d %d",
					c.expected(), c.lost(), c.received, tt.expected, tt.lost, tt.received)
			}
		})
	}
}

// The per-packet path must not allocate: at 1000 viewers it runs a
// hundred thousand times a second.
func TestFrameTrackerDoesNotAllocate(t *testing.T) {
	var c counters
	ft := newFrameTracker(&c)
	var sc seqCounter
	var seq uint16
	var now time.Duration
	allocs := testing.AllocsPerRun(1000, func() {
		for i := range 3 {
			info := codec.FrameInfo{FrameStart: i == 0, Keyframe: i == 0 && seq%300 == 0}
			if seq%97 == 5 {
				seq++ // a loss now and then
			}
			ft.push(now, packet{ext: sc.push(seq), ts: uint32(now / time.Millisecond * 90), marker: i == 2, info: info})
			seq++
		}
		now += 33 * time.Millisecond
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per frame", allocs)
	}
}
