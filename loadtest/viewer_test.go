package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

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
