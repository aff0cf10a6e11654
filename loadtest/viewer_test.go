package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"

	"github.com/bcastdev/bcast/client"
)

func TestJoinFailure(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		err  error
		want string
	}{
		{&client.StatusError{Code: 503, Reason: "server full: viewer limit 5 reached"}, "HTTP 503: server full: viewer limit 5 reached"},
		{fmt.Errorf("wrapped: %w", &client.StatusError{Code: 404}), "HTTP 404 Not Found"},
		{fmt.Errorf("%w: %w", client.ErrGatherTimeout, context.DeadlineExceeded), "ICE gathering did not complete"},
		{fmt.Errorf("POST http://x/y: %w", context.DeadlineExceeded), "no answer within 15s"},
		{fmt.Errorf("POST http://127.0.0.1:1/api/whep/x: %w", refused), "HTTP: connect: connection refused"},
		{errors.New("set remote description: bad"), "set remote description: bad"},
	}
	for _, tt := range tests {
		if got := joinFailure(tt.err); got != tt.want {
			t.Errorf("joinFailure(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// The counter sees every packet written through it, after the write
// succeeded, and only NACKs and PLIs.
func TestRTCPCounter(t *testing.T) {
	f := &rtcpCountFactory{}
	mine := &rtcpCounts{}
	f.pending = mine
	i, err := f.NewInterceptor("")
	if err != nil {
		t.Fatal(err)
	}
	f.pending = nil
	fail := false
	w := i.BindRTCPWriter(interceptor.RTCPWriterFunc(func(pkts []rtcp.Packet, _ interceptor.Attributes) (int, error) {
		if fail {
			return 0, errors.New("closed")
		}
		return len(pkts), nil
	}))
	for _, pkts := range [][]rtcp.Packet{
		{&rtcp.TransportLayerNack{MediaSSRC: 1, Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{3, 5})}},
		{&rtcp.PictureLossIndication{MediaSSRC: 1}},
		{&rtcp.ReceiverReport{}, &rtcp.PictureLossIndication{MediaSSRC: 1}},
	} {
		if _, err := w.Write(pkts, nil); err != nil {
			t.Fatal(err)
		}
	}
	fail = true
	_, _ = w.Write([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: 1}}, nil)
	if n, p := mine.nacks.Load(), mine.plis.Load(); n != 1 || p != 2 {
		t.Fatalf("counted %d NACKs and %d PLIs, want 1 and 2", n, p)
	}
}
