package server_test

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/bcastdev/bcast/config"
	"github.com/bcastdev/bcast/demo"
	"github.com/bcastdev/bcast/media"
	"github.com/bcastdev/bcast/server"
	"github.com/bcastdev/bcast/sysinfo"
)

// TestResourcesReturnToBaseline: 20 viewers join a live stream and leave
// (half with DELETE, half by closing their connection); the server's
// goroutines and file descriptors come back to where they were.
func TestResourcesReturnToBaseline(t *testing.T) {
	srv := startServer(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = srv.PublishLocal(ctx, "r", media.Loop(demo.OpenVideo), media.Loop(demo.OpenAudio)) }()
	waitFor(t, 5*time.Second, "the stream", func() bool { s := getStreams(t, srv.base, ""); return len(s) == 1 && s[0].Live })
	time.Sleep(200 * time.Millisecond)
	g0, fd0 := runtime.NumGoroutine(), sysinfo.OpenFDs()

	var viewers []*viewer
	for range 20 {
		viewers = append(viewers, watch(t, srv.base, "r", nil))
	}
	waitFor(t, 10*time.Second, "all viewers connected and receiving audio", func() bool {
		for _, v := range viewers {
			if _, p := v.audio.snapshot(); len(p) == 0 {
				return false
			}
		}
		return true
	})
	if s := getStreams(t, srv.base, ""); s[0].Viewers != 20 {
		t.Fatalf("%d viewers, want 20", s[0].Viewers)
	}
	for i, v := range viewers {
		if i%2 == 0 {
			_ = v.sess.Close(context.Background())
		}
		_ = v.pc.Close()
	}
	waitFor(t, 20*time.Second, "viewers gone and goroutines/fds back to baseline", func() bool {
		s := getStreams(t, srv.base, "")
		return len(s) == 1 && s[0].Viewers == 0 && runtime.NumGoroutine() <= g0+2 && sysinfo.OpenFDs() <= fd0+2
	})
}

// TestUnconnectedViewerReaped: a viewer that gets its answer but never
// completes ICE is removed after the connect timeout, freeing its slot.
func TestUnconnectedViewerReaped(t *testing.T) {
	srv := startServerOpts(t, func(c *config.Server) { c.MaxViewers = 1 }, server.Options{ConnectTimeout: 500 * time.Millisecond})
	resp, body := httpDo(t, "POST", srv.base+"/api/whep/z", "", "application/sdp",
		strings.NewReader(validOffer(t, webrtc.RTPTransceiverDirectionRecvonly)))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if s := getStreams(t, srv.base, ""); len(s) != 1 || s[0].Viewers != 1 {
		t.Fatalf("streams %+v", s)
	}
	waitFor(t, 5*time.Second, "the silent viewer to be reaped", func() bool { return len(getStreams(t, srv.base, "")) == 0 })
	watch(t, srv.base, "z", nil) // the slot is free again
}
