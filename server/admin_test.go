package server_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/bcastdev/bcast/admin"
	"github.com/bcastdev/bcast/config"
	"github.com/bcastdev/bcast/server"
	"github.com/bcastdev/bcast/server/status"
)

// TestAdminAPI drives the console's remote path (package admin over HTTP)
// against a live server: snapshot, events, and every non-chat action with
// its refusals.
func TestAdminAPI(t *testing.T) {
	srv := startServer(t, nil)
	publish(t, srv.base, "v", vp8Cap, vp8Frames(t), opusPayloads(1000))
	v1 := watch(t, srv.base, "v", nil)
	v2 := watch(t, srv.base, "v", nil)
	waitFor(t, 10*time.Second, "both viewers receiving", func() bool {
		_, a := v1.video.snapshot()
		_, b := v2.video.snapshot()
		return len(a) > 20 && len(b) > 20
	})
	ctx := context.Background()

	if _, err := admin.New(srv.base, "", nil); err == nil {
		t.Error("admin.New with an empty token: no error")
	}
	bad, _ := admin.New(srv.base, "wrong", nil)
	var se *admin.StatusError
	if _, err := bad.Snapshot(ctx); !errors.As(err, &se) || se.Code != http.StatusUnauthorized {
		t.Fatalf("snapshot with a wrong token: %v, want 401", err)
	}

	c, err := admin.New(srv.base, adminToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var snap status.Snapshot
	waitFor(t, 5*time.Second, "a snapshot with system figures and bitrate", func() bool {
		snap, err = c.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return snap.System.RSSBytes > 0 && len(snap.Streams) == 1 && snap.Streams[0].Video != nil && snap.Streams[0].Video.BitrateBPS > 0
	})
	st := snap.Streams[0]
	if st.Name != "v" || !st.Live || st.Publisher == nil || len(st.ViewerList) != 2 || st.Viewers != 2 {
		t.Fatalf("stream in snapshot: %+v", st)
	}
	sys := snap.System
	if sys.Viewers != 2 || sys.Goroutines == 0 || sys.FDs <= 0 || sys.FDLimit <= 0 || sys.Cores == 0 || sys.DumpDir == "" {
		t.Fatalf("system in snapshot: %+v", sys)
	}

	// The event stream is up once an action's event comes back through it.
	events := c.Events()
	waitEvent := func(what string, match func(status.Event) bool) status.Event {
		t.Helper()
		timeout := time.After(5 * time.Second)
		for {
			select {
			case ev := <-events:
				if match(ev) {
					return ev
				}
			case <-timeout:
				t.Fatalf("no %s event", what)
			}
		}
	}
	got := make(chan status.Event, 1)
	go func() {
		got <- waitEvent("action", func(ev status.Event) bool { return ev.Kind == status.EventAction })
	}()
	for ok := false; !ok; {
		if err := c.Do(ctx, status.Action{Kind: status.ActionMaxViewers, Value: 2, By: "console"}); err != nil {
			t.Fatal(err)
		}
		select {
		case ev := <-got:
			if ev.Text != "viewer limit set to 2 (by console)" {
				t.Fatalf("action event %q", ev.Text)
			}
			ok = true
		case <-time.After(200 * time.Millisecond):
		}
	}
	if resp, body := httpDo(t, "POST", srv.base+"/api/whep/v", "", "application/sdp", strings.NewReader(validOffer(t, webrtc.RTPTransceiverDirectionRecvonly))); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("third viewer at limit 2: %d %s", resp.StatusCode, body)
	}

	kicked := st.ViewerList[0]
	if err := c.Do(ctx, status.Action{Kind: status.ActionKick, Stream: "v", Target: kicked.ID, By: "console"}); err != nil {
		t.Fatal(err)
	}
	ev := waitEvent("leave", func(ev status.Event) bool { return ev.Kind == status.EventLeave })
	if ev.Stream != "v" || !strings.Contains(ev.Text, "kicked by console") {
		t.Fatalf("leave event %+v", ev)
	}
	snap, _ = c.Snapshot(ctx)
	if vl := snap.Streams[0].ViewerList; len(vl) != 1 || vl[0].ID == kicked.ID {
		t.Fatalf("viewers after the kick: %+v", vl)
	}

	// The REST form of kick, and refusals with their status codes.
	other := snap.Streams[0].ViewerList[0].ID
	if resp, body := httpDo(t, "DELETE", srv.base+"/api/admin/streams/v/viewers/"+other, adminToken, "", nil); resp.StatusCode != 200 {
		t.Fatalf("DELETE viewer: %d %s", resp.StatusCode, body)
	}
	for _, tc := range []struct {
		name string
		a    status.Action
		code int
	}{
		{"unknown kind", status.Action{Kind: "reboot"}, 400},
		{"negative limit", status.Action{Kind: status.ActionMaxViewers, Value: -1}, 400},
		{"kick unknown viewer", status.Action{Kind: status.ActionKick, Stream: "v", Target: "nope"}, 404},
		{"capture unknown stream", status.Action{Kind: status.ActionCaptureStart, Stream: "zzz", Target: "x"}, 404},
		{"chat action on a bad stream name", status.Action{Kind: status.ActionChatClear, Stream: "../x"}, 400},
	} {
		err := c.Do(ctx, tc.a)
		if !errors.As(err, &se) || se.Code != tc.code || se.Reason == "" {
			t.Errorf("%s: %v, want %d with a reason", tc.name, err, tc.code)
		}
	}
	if resp, _ := httpDo(t, "POST", srv.base+"/api/admin/actions", adminToken, "application/json", strings.NewReader(`{"kind":"kick","bogus":1}`)); resp.StatusCode != 400 {
		t.Errorf("unknown JSON field: %d, want 400", resp.StatusCode)
	}
	// An unchanged snapshot is a 304 (retry: a housekeeping tick may fall
	// between the two requests); an action changes the ETag.
	etagOf := func(inm string) (int, string) {
		req, _ := http.NewRequest("GET", srv.base+"/api/admin/snapshot", nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		if inm != "" {
			req.Header.Set("If-None-Match", inm)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("ETag")
	}
	got304 := false
	for range 5 {
		_, etag := etagOf("")
		if code, _ := etagOf(etag); code == http.StatusNotModified {
			got304 = true
			_ = c.Do(ctx, status.Action{Kind: status.ActionMaxViewers, Value: 0})
			if code, _ := etagOf(etag); code != 200 {
				t.Fatalf("snapshot after an action: %d, want 200", code)
			}
			break
		}
	}
	if !got304 {
		t.Fatal("an unchanged snapshot never answered 304")
	}
	for _, path := range []string{"/api/admin/snapshot", "/api/admin/events"} {
		if resp, _ := httpDo(t, "GET", srv.base+path, "", "", nil); resp.StatusCode != 401 {
			t.Errorf("%s without token: %d, want 401", path, resp.StatusCode)
		}
	}
}

// TestEventsDropOldest: a subscriber that does not read keeps the newest
// events; publishing never blocks.
func TestEventsDropOldest(t *testing.T) {
	e := server.NewEvents()
	ch, cancel := e.Subscribe(3)
	for i := range 10 {
		e.Publish(status.Event{Text: string(rune('a' + i))})
	}
	var got string
	for range 3 {
		got += (<-ch).Text
	}
	if got != "hij" {
		t.Fatalf("kept %q, want the newest three \"hij\"", got)
	}
	cancel()
	cancel()
	if _, ok := <-ch; ok {
		t.Fatal("channel open after cancel")
	}
	e.Publish(status.Event{Text: "after"}) // no subscriber: no panic, no block
}

// TestAlertHandler: warnings become alert events with their attributes;
// info stays in the log only.
func TestAlertHandler(t *testing.T) {
	e := server.NewEvents()
	ch, cancel := e.Subscribe(8)
	defer cancel()
	var buf bytes.Buffer
	log := slog.New(server.AlertHandler(slog.NewTextHandler(&buf, nil), e, slog.LevelWarn)).With("stream", "s1")
	log.Info("fine")
	log.Warn("dump failing", "err", "no space left on device")
	log.Error("boom")
	for _, want := range []status.Event{
		{Kind: status.EventAlert, Stream: "s1", Level: "warn", Text: "dump failing err=no space left on device"},
		{Kind: status.EventAlert, Stream: "s1", Level: "error", Text: "boom"},
	} {
		ev := <-ch
		if ev.Kind != want.Kind || ev.Stream != want.Stream || ev.Level != want.Level || ev.Text != want.Text {
			t.Errorf("event %+v, want %+v", ev, want)
		}
	}
	select {
	case ev := <-ch:
		t.Errorf("unexpected event %+v", ev)
	default:
	}
	if n := strings.Count(buf.String(), "\n"); n != 3 {
		t.Errorf("log has %d lines, want 3:\n%s", n, buf.String())
	}
}

// TestIngestHealthInSnapshot: a lossy uplink shows in the snapshot as ingest
// loss and NACKs sent to the streamer, with a jitter figure.
func TestIngestHealthInSnapshot(t *testing.T) {
	srv := startServer(t, nil)
	publishVia(t, peerAPI(t, nil, &upstreamLoss{}), srv.base, "lossy", vp8Cap, vp8Frames(t), opusPayloads(1000))
	waitFor(t, 10*time.Second, "ingest loss and NACKs in the snapshot", func() bool {
		for _, st := range srv.Snapshot().Streams {
			if v := st.Video; st.Name == "lossy" && v != nil && v.Lost > 0 && v.NACKsSent >= uint64(v.Lost) && v.JitterMS > 0 {
				return true
			}
		}
		return false
	})
}

// TestChatInSnapshot: a stream with only a chat room (no WebRTC session)
// shows in the snapshot with its chat; chat actions through the admin API
// change what the snapshot reports.
func TestChatInSnapshot(t *testing.T) {
	srv := startServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, strings.Replace(srv.base, "http", "ws", 1)+"/api/chat/lobby", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":"join","nick":"early"}`)); err != nil {
		t.Fatal(err)
	}
	chatOf := func() *status.Chat {
		for _, st := range srv.Snapshot().Streams {
			if st.Name == "lobby" {
				return st.Chat
			}
		}
		return nil
	}
	waitFor(t, 5*time.Second, "the chat-only stream in the snapshot", func() bool {
		ch := chatOf()
		return ch != nil && ch.Connections == 1 && len(ch.Chatters) == 1 && ch.Chatters[0].Nick == "early"
	})
	resp, body := httpDo(t, "POST", srv.base+"/api/admin/actions", adminToken, "application/json",
		strings.NewReader(`{"kind":"chat_slow","stream":"lobby","seconds":7,"by":"test"}`))
	if resp.StatusCode != 200 {
		t.Fatalf("chat_slow: %d %s", resp.StatusCode, body)
	}
	if ch := chatOf(); ch == nil || ch.SlowModeSeconds != 7 {
		t.Fatalf("chat after slow mode: %+v", ch)
	}
	if resp, body := httpDo(t, "POST", srv.base+"/api/admin/actions", adminToken, "application/json",
		strings.NewReader(`{"kind":"chat_delete","stream":"lobby","target":"no-such-message"}`)); resp.StatusCode != 404 {
		t.Fatalf("deleting an unknown message: %d %s, want 404", resp.StatusCode, body)
	}
}

// TestEventsEndOnShutdown: a remote console's event stream ends when the
// server shuts down, instead of holding the shutdown until its timeout.
func TestEventsEndOnShutdown(t *testing.T) {
	cfg := config.Defaults()
	cfg.Addr, cfg.ICEUDPPort, cfg.PublishToken, cfg.AdminToken, cfg.DumpDir = "127.0.0.1:0", 0, pubToken, adminToken, t.TempDir()
	srv, err := server.New(server.Options{Config: cfg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/api/admin/events", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ended := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, resp.Body)
		ended <- err
	}()
	cancel()
	select {
	case <-ended:
	case <-time.After(20 * time.Second): // a hang detector, not a timing assertion
		t.Fatal("event stream still open after shutdown")
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}
