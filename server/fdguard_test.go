//go:build linux

package server_test

import (
	"net/http"
	"strings"
	"syscall"
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/bcastdev/bcast/sysinfo"
)

// TestFDHeadroomRefusesViewers: when file descriptors run low the server
// answers 503 with Retry-After instead of failing in the middle of a join.
func TestFDHeadroomRefusesViewers(t *testing.T) {
	srv := startServer(t, nil)
	offer := validOffer(t, webrtc.RTPTransceiverDirectionRecvonly)
	var orig syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
		t.Fatal(err)
	}
	low := orig
	low.Cur = uint64(sysinfo.OpenFDs() + 60) // just under the server's reserve of 64, room for the test's own sockets
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	resp, body := httpDo(t, "POST", srv.base+"/api/whep/f", "", "application/sdp", strings.NewReader(offer))
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "file descriptors") {
		t.Fatalf("got %d %q (Retry-After %q), want 503 naming file descriptors", resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}
	resp, body = httpDo(t, "POST", srv.base+"/api/whep/f", "", "application/sdp", strings.NewReader(offer))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("after restoring the limit: %d %s", resp.StatusCode, body)
	}
}
