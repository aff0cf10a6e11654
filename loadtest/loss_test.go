package loadtest

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/bcastdev/bcast/codec"
)

// lossy makes every viewer lose video packets after SRTP, before anything
// else sees them, as a bad network would: after the first keyframe's first
// packet, every 25th packet once (a NACK repairs it) and, 300 ms later, 10
// consecutive packets for good (retransmissions included: only a keyframe
// helps).
type lossy struct {
	dropped atomic.Uint64
}

func (l *lossy) newDrop() func(video bool, p *rtp.Packet) bool {
	seen := map[uint16]bool{}
	var (
		keyAt     time.Time
		permanent bool
		permFrom  uint16
	)
	return func(video bool, p *rtp.Packet) bool {
		if !video {
			return false
		}
		seq := p.SequenceNumber
		// Nothing is lost before the first keyframe has begun: a
		// receiver cannot NACK what precedes its first packet, and the
		// stream's next keyframe may be after the test's end.
		started := !keyAt.IsZero()
		if info, _ := codec.Inspect(codec.VP8, p.Payload); info.Keyframe && !started {
			keyAt = time.Now()
		}
		first := !seen[seq]
		seen[seq] = true
		if first && !permanent && !keyAt.IsZero() && time.Since(keyAt) >= 300*time.Millisecond {
			// From a new packet, not a retransmission of an older one.
			permanent, permFrom = true, seq
		}
		if permanent && seq-permFrom < 10 || started && first && seq%25 == 0 {
			l.dropped.Add(1)
			return true
		}
		return false
	}
}

// With loss, viewers behave like browsers: they NACK and get repairs, and
// a loss that is not repaired costs a frame, a PLI and the frames up to the
// next keyframe.
func TestRunRepairsAndRecovers(t *testing.T) {
	if testing.Short() {
		t.Skip("real server and peers")
	}
	const viewers = 3
	url := startDemoServer(t, 0)
	loss := &lossy{}
	rep, err := run(context.Background(), Config{
		URL:      url,
		Viewers:  viewers,
		Duration: 4 * time.Second,
		Logger:   testLogger(),
	}, hooks{newDrop: loss.newDrop})
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	rep.WriteText(&text)
	t.Logf("dropped %d packets; report:\n%s", loss.dropped.Load(), text.String())

	tot := rep.Totals
	switch {
	case rep.OK != viewers:
		t.Fatalf("ok %d (failures %v), want %d", rep.OK, rep.Failures, viewers)
	case tot.NACKs == 0:
		t.Error("no NACKs sent")
	case tot.Lost < 10*viewers:
		t.Errorf("lost %d, want at least the %d dropped for good", tot.Lost, 10*viewers)
	case tot.Lost >= loss.dropped.Load():
		t.Errorf("lost %d of %d dropped: nothing repaired", tot.Lost, loss.dropped.Load())
	}
	if tot.FramesIncomplete < viewers || tot.PLIs < viewers || tot.FramesUndecodable == 0 {
		t.Errorf("frames incomplete %d, undecodable %d, PLIs %d: want an incomplete frame and a PLI per viewer and undecodable frames",
			tot.FramesIncomplete, tot.FramesUndecodable, tot.PLIs)
	}
	if tot.FramesComplete == 0 || rep.FirstKeyframeMS.N != viewers {
		t.Errorf("frames complete %d, first keyframe for %d viewers", tot.FramesComplete, rep.FirstKeyframeMS.N)
	}
}
