package loadtest

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/bcastdev/bcast/codec"
)

// lossFactory makes every viewer lose video packets after SRTP, before the
// NACK generator sees them, as a bad network would: after the first
// keyframe's first packet, every 25th packet once (a NACK repairs it) and,
// 300 ms later, 10 consecutive packets for good (retransmissions included:
// only a keyframe helps).
type lossFactory struct {
	dropped atomic.Uint64
}

func (f *lossFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &lossy{f: f}, nil
}

type lossy struct {
	interceptor.NoOp
	f *lossFactory
}

func (l *lossy) BindRemoteStream(info *interceptor.StreamInfo, r interceptor.RTPReader) interceptor.RTPReader {
	c := codec.FromMime(info.MimeType)
	if !c.IsVideo() {
		return r
	}
	seen := map[uint16]bool{}
	var (
		keyAt     time.Time
		permanent bool
		permFrom  uint16
		p         rtp.Packet
	)
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		for {
			n, attr, err := r.Read(b, a)
			if err != nil || p.Unmarshal(b[:n]) != nil {
				return n, attr, err
			}
			seq := p.SequenceNumber
			// Nothing is lost before the first keyframe has begun: a
			// receiver cannot NACK what precedes its first packet, and
			// the stream's next keyframe may be after the test's end.
			started := !keyAt.IsZero()
			if info, _ := codec.Inspect(c, p.Payload); info.Keyframe && !started {
				keyAt = time.Now()
			}
			first := !seen[seq]
			seen[seq] = true
			if first && !permanent && !keyAt.IsZero() && time.Since(keyAt) >= 300*time.Millisecond {
				// From a new packet, not a retransmission of an older one.
				permanent, permFrom = true, seq
			}
			if permanent && seq-permFrom < 10 || started && first && seq%25 == 0 {
				l.f.dropped.Add(1)
				a = nil // the attributes may hold the dropped packet's parsed header
				continue
			}
			return n, attr, nil
		}
	})
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
	loss := &lossFactory{}
	rep, err := run(context.Background(), Config{
		URL:      url,
		Viewers:  viewers,
		Duration: 4 * time.Second,
		Logger:   testLogger(),
	}, hooks{
		interceptors: []interceptor.Factory{loss},
		// The loss happens after SRTP, which has seen the packet: without
		// this, its replay protection would discard the retransmission a
		// real loss (before SRTP) lets through.
		settings: func(se *webrtc.SettingEngine) { se.DisableSRTPReplayProtection(true) },
	})
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
