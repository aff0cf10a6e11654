package loadtest

import (
	"context"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bcastdev/bcast/config"
	"github.com/bcastdev/bcast/demo"
	"github.com/bcastdev/bcast/media"
	"github.com/bcastdev/bcast/server"
	"github.com/bcastdev/bcast/server/status"
)

func testLogger() *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("BCAST_TEST_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// startDemoServer runs a bcast server on loopback that publishes the
// built-in VP8+Opus clip as stream "demo", and returns its WHEP URL.
func startDemoServer(t *testing.T, maxViewers int) string {
	t.Helper()
	url, _ := startDemo(t, maxViewers)
	return url
}

// startDemo is startDemoServer that also returns the server.
func startDemo(t *testing.T, maxViewers int) (string, *server.Server) {
	t.Helper()
	cfg := config.Defaults()
	cfg.Addr = "127.0.0.1:0"
	cfg.ICEUDPPort = 0
	cfg.PublishToken = "test-publish-token"
	cfg.AdminToken = "test-admin-token"
	cfg.DumpDir = t.TempDir()
	cfg.MaxViewers = maxViewers
	srv, err := server.New(server.Options{Config: cfg, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served, published := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ctx, ln)
	}()
	go func() {
		defer close(published)
		video, audio := media.Loop(demo.OpenVideo), media.Loop(demo.OpenAudio)
		defer video.Close()
		defer audio.Close()
		_ = srv.PublishLocal(ctx, "demo", video, audio)
	}()
	t.Cleanup(func() {
		cancel()
		<-published
		<-served
		_ = srv.Close()
	})
	return "http://" + ln.Addr().String() + "/api/whep/demo", srv
}

// A viewer the server ends (kicked from the console) counts as dropped at
// once: the server's DTLS close_notify reaches it, as it would a browser.
func TestKickedViewersDrop(t *testing.T) {
	const viewers = 3
	url, srv := startDemo(t, 0)
	kicked := make(chan time.Time, 1)
	go func() {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			snap := srv.Snapshot()
			if len(snap.Streams) != 1 || len(snap.Streams[0].ViewerList) != viewers {
				continue
			}
			connected := 0
			for _, v := range snap.Streams[0].ViewerList {
				if v.State == "connected" {
					connected++
				}
			}
			if connected < viewers {
				continue
			}
			time.Sleep(500 * time.Millisecond)
			kicked <- time.Now()
			for _, v := range snap.Streams[0].ViewerList {
				if err := srv.Do(status.Action{Kind: status.ActionKick, Stream: "demo", Target: v.ID, By: "test"}); err != nil {
					t.Error(err)
				}
			}
			return
		}
	}()
	rep, err := Run(context.Background(), Config{URL: url, Viewers: viewers, Burst: true, Duration: 6 * time.Second, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-kicked:
	default:
		t.Fatal("viewers never all connected")
	}
	if rep.Dropped != viewers {
		t.Fatalf("dropped %d of %d kicked viewers", rep.Dropped, viewers)
	}
}

func checkOrdered(t *testing.T, name string, d Dist) {
	t.Helper()
	if !(d.P50 <= d.P90 && d.P90 <= d.P95 && d.P95 <= d.P99 && d.P99 <= d.Max) {
		t.Errorf("%s: percentiles out of order: %+v", name, d)
	}
}

func TestRunAgainstServer(t *testing.T) {
	if testing.Short() {
		t.Skip("real server and peers")
	}
	const viewers = 6
	url := startDemoServer(t, 0)
	var progress atomic.Int32
	var last atomic.Value
	rep, err := Run(context.Background(), Config{
		URL:      url,
		Viewers:  viewers,
		Burst:    true,
		Duration: 4 * time.Second,
		Logger:   testLogger(),
		Progress: func(p Progress) {
			progress.Add(1)
			last.Store(p)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	rep.WriteText(&text)
	t.Logf("report:\n%s", text.String())

	if rep.OK != viewers || rep.Failed != 0 || rep.Aborted != 0 || rep.Dropped != 0 || rep.DeleteFailed != 0 {
		t.Errorf("ok %d failed %d (%v) aborted %d dropped %d DELETE failed %d, want all %d ok",
			rep.OK, rep.Failed, rep.Failures, rep.Aborted, rep.Dropped, rep.DeleteFailed, viewers)
	}
	for name, d := range map[string]Dist{"POST": rep.PostMS, "connect": rep.ConnectMS,
		"first packet": rep.FirstPacketMS, "first keyframe": rep.FirstKeyframeMS, "startup": rep.StartupMS} {
		if d.N != viewers {
			t.Errorf("%s measured for %d viewers, want %d", name, d.N, viewers)
		}
		checkOrdered(t, name, d)
	}
	for name, d := range map[string]Dist{"loss": rep.LossPct, "NACKs": rep.NACKs, "PLIs": rep.PLIs,
		"freezes": rep.Freezes, "longest freeze": rep.LongestFreezeMS, "bitrate": rep.BitrateKbps} {
		checkOrdered(t, name, d)
	}
	tot := rep.Totals
	if tot.FramesComplete == 0 || tot.AudioPackets == 0 || tot.Packets <= tot.AudioPackets || tot.BitrateKbps <= 0 {
		t.Errorf("no media: %+v", tot)
	}
	if tot.Lost != 0 || tot.Expected == 0 {
		t.Errorf("lost %d of %d packets on loopback", tot.Lost, tot.Expected)
	}
	if progress.Load() == 0 {
		t.Error("progress never reported")
	} else if p := last.Load().(Progress); p.Joined != viewers || p.Connected != viewers {
		t.Errorf("last progress %+v, want all %d joined and connected", p, viewers)
	}
}

// Viewers the server refuses are failures, grouped by the server's reason.
func TestRunReportsRefusals(t *testing.T) {
	if testing.Short() {
		t.Skip("real server and peers")
	}
	url := startDemoServer(t, 1)
	rep, err := Run(context.Background(), Config{
		URL:      url,
		Viewers:  3,
		Burst:    true,
		Duration: 100 * time.Millisecond,
		Logger:   testLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK != 1 || rep.Failed != 2 {
		t.Fatalf("ok %d failed %d (%v), want 1 and 2", rep.OK, rep.Failed, rep.Failures)
	}
	for reason, n := range rep.Failures {
		if n != 2 || !strings.HasPrefix(reason, "HTTP 503: ") {
			t.Errorf("failure %q ×%d, want 2 × HTTP 503", reason, n)
		}
	}
	if rep.PostMS.N != 1 {
		t.Errorf("POST latency of %d viewers, want only the one answered 201", rep.PostMS.N)
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no URL", Config{Viewers: 1}, "URL"},
		{"not http", Config{URL: "ftp://x/y", Viewers: 1}, "URL"},
		{"no viewers", Config{URL: "http://127.0.0.1:1/api/whep/x"}, "viewers"},
		{"burst and ramp", Config{URL: "http://127.0.0.1:1/api/whep/x", Viewers: 1, Burst: true, Ramp: time.Second}, "exclude"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(context.Background(), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}
