package server_test

import (
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/bcastdev/bcast/config"
	"github.com/bcastdev/bcast/server"
)

// validOffer returns a real recvonly (WHEP) or sendonly (WHIP) offer.
func validOffer(t *testing.T, dir webrtc.RTPTransceiverDirection) string {
	t.Helper()
	pc := newPC(t, peerAPI(t, nil))
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: dir}); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	return offer.SDP
}

func TestBadRequests(t *testing.T) {
	srv := startServer(t, nil)
	recvOffer := validOffer(t, webrtc.RTPTransceiverDirectionRecvonly)
	huge := "v=0\r\n" + strings.Repeat("a=x:"+strings.Repeat("y", 100)+"\r\n", 700)
	tests := []struct {
		name, method, path, token, ctype, body string
		code                                   int
		reason                                 string // substring of the one-line reason
	}{
		{"whip no token", "POST", "/api/whip/s", "", "application/sdp", recvOffer, 401, "token"},
		{"whip wrong token", "POST", "/api/whip/s", "nope", "application/sdp", recvOffer, 401, "token"},
		{"whip token prefix", "POST", "/api/whip/s", pubToken[:5], "application/sdp", recvOffer, 401, "token"},
		{"whip wrong type", "POST", "/api/whip/s", pubToken, "text/plain", "v=0", 415, "application/sdp"},
		{"whip garbage sdp", "POST", "/api/whip/s", pubToken, "application/sdp", "hello", 400, "SDP"},
		{"whip empty sdp", "POST", "/api/whip/s", pubToken, "application/sdp", "", 400, "empty"},
		{"whip recvonly offer", "POST", "/api/whip/s", pubToken, "application/sdp", recvOffer, 400, "sendonly"},
		{"whip too large", "POST", "/api/whip/s", pubToken, "application/sdp", huge, 413, "larger"},
		{"whip bad stream name", "POST", "/api/whip/a.b", pubToken, "application/sdp", recvOffer, 400, "stream name"},
		{"whep wrong type", "POST", "/api/whep/s", "", "application/json", "{}", 415, "application/sdp"},
		{"whep garbage sdp", "POST", "/api/whep/s", "", "application/sdp", "v=0\r\nm=bogus", 400, "SDP"},
		{"whep sendonly offer", "POST", "/api/whep/s", "", "application/sdp",
			strings.ReplaceAll(recvOffer, "a=recvonly", "a=sendonly"), 400, "recvonly"},
		{"whep no media", "POST", "/api/whep/s", "", "application/sdp",
			"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", 400, "no audio or video"},
		{"whep delete unknown", "DELETE", "/api/whep/s/deadbeef", "", "", "", 404, "no such"},
		{"whip delete unknown", "DELETE", "/api/whip/s/deadbeef", pubToken, "", "", 404, "no such"},
		{"whep patch", "PATCH", "/api/whep/s/deadbeef", "", "application/trickle-ice-sdpfrag", "a=x", 405, "trickle"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := httpDo(t, tc.method, srv.base+tc.path, tc.token, tc.ctype, strings.NewReader(tc.body))
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d (body %q)", resp.StatusCode, tc.code, body)
			}
			if !strings.Contains(body, tc.reason) {
				t.Fatalf("reason %q does not mention %q", body, tc.reason)
			}
			if strings.Count(strings.TrimSpace(body), "\n") != 0 {
				t.Fatalf("reason is not one line: %q", body)
			}
		})
	}
	if s := getStreams(t, srv.base, ""); len(s) != 0 {
		t.Fatalf("failed requests left streams behind: %+v", s)
	}
}

func TestCORS(t *testing.T) {
	srv := startServer(t, nil)
	for _, path := range []string{"/api/whip/s", "/api/whep/s"} {
		req, _ := http.NewRequest("OPTIONS", srv.base+path, nil)
		req.Header.Set("Origin", "https://elsewhere.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if resp.StatusCode/100 != 2 || h.Get("Access-Control-Allow-Origin") == "" ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
			!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "authorization") ||
			!strings.Contains(h.Get("Access-Control-Expose-Headers"), "Location") {
			t.Fatalf("%s preflight: %d %v", path, resp.StatusCode, h)
		}
	}
}

func TestMetrics(t *testing.T) {
	srv := startServer(t, nil)
	frames := vp8Frames(t)
	publish(t, srv.base, "m", vp8Cap, frames, opusPayloads(1000))
	v := watch(t, srv.base, "m", nil)
	waitFor(t, 10*time.Second, "frames", func() bool { f, _ := v.video.snapshot(); return len(f) > 10 })
	waitFor(t, 5*time.Second, "a bitrate", func() bool {
		s := getStreams(t, srv.base, "")
		return len(s) == 1 && s[0].Video != nil && s[0].Video.BitrateBPS > 0
	})
	resp, body := httpDo(t, "GET", srv.base+"/metrics", "", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("metrics: %d", resp.StatusCode)
	}
	for _, want := range []string{
		`bcast_ingest_packets_total{kind="video",stream="m"}`,
		`bcast_ingest_bitrate_bps{kind="video",stream="m"}`,
		`bcast_ingest_lost_packets{kind="audio",stream="m"}`,
		`bcast_viewers{stream="m"} 1`,
		`bcast_egress_packets_total{stream="m"}`,
		`bcast_viewer_join_seconds_bucket`,
		`bcast_http_requests_total{code="201",route="whep"} 1`,
		`process_open_fds`,
		`bcast_open_fds`,
		`bcast_udp_datagrams_total`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// The viewer got its picture: its wait for the first keyframe was
	// observed (the pion publisher answers the PLI).
	if n := metricValue(body, "bcast_viewer_first_frame_seconds_count"); n != 1 {
		t.Errorf("first frame observed %v times, want 1 (one viewer)", n)
	}
	if n := metricValue(body, "bcast_keyframe_response_seconds_count"); n < 0 {
		t.Errorf("keyframe response histogram missing")
	}
	// The stream says the same to the console and /api/streams.
	if j := getStreams(t, srv.base, "")[0].Joins; j == nil || j.Count != 1 || j.JoinP95MS <= 0 || j.FirstFrameP95MS <= 0 {
		t.Errorf("stream joins %+v, want one join with its times", j)
	}
	// With UDP GSO a frame's packets leave in one send per viewer, so the
	// sockets made fewer system calls than they sent datagrams.
	datagrams, sends := metricValue(body, "bcast_udp_datagrams_total"), metricValue(body, "bcast_udp_sends_total")
	if datagrams <= 0 || sends <= 0 {
		t.Errorf("udp counters: %v datagrams in %v sends", datagrams, sends)
	}
	if metricValue(body, "bcast_udp_gso") == 1 && sends >= datagrams {
		t.Errorf("UDP GSO on but %v sends for %v datagrams", sends, datagrams)
	}
	// The console shows the same per second.
	waitFor(t, 5*time.Second, "UDP figures in the snapshot", func() bool {
		return srv.Snapshot().System.UDPDatagramsPerSend > 0
	})
	s := getStreams(t, srv.base, "")
	if len(s) != 1 || s[0].Video == nil || s[0].Video.BitrateBPS <= 0 || s[0].Video.Codec != "VP8" || s[0].Audio == nil {
		t.Fatalf("streams: %+v", s)
	}
	if s[0].Publisher != nil {
		t.Fatal("publisher address shown without the admin token")
	}
}

// TestNATIP: with --nat-ip every IPv4 candidate in the answer carries that
// address (IPv6 host candidates are left alone: 1:1 NAT is an IPv4 matter).
func TestNATIP(t *testing.T) {
	srv := startServer(t, func(c *config.Server) { c.NATIP = "203.0.113.7" })
	resp, body := httpDo(t, "POST", srv.base+"/api/whep/n", "", "application/sdp",
		strings.NewReader(validOffer(t, webrtc.RTPTransceiverDirectionRecvonly)))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	n := 0
	for _, line := range strings.Split(body, "\n") {
		if f := strings.Fields(line); strings.HasPrefix(line, "a=candidate:") && len(f) > 4 && !strings.Contains(f[4], ":") {
			n++
			if f[4] != "203.0.113.7" {
				t.Errorf("candidate without the NAT address: %s", line)
			}
		}
	}
	if n == 0 {
		t.Fatal("answer has no candidates")
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "/api/whep/n/") {
		t.Fatalf("Location %q", loc)
	}
	if !resp.Close {
		t.Error("WHEP answer keeps the connection open; want Connection: close (no idle fd per viewer)")
	}
	if resp, body := httpDo(t, "DELETE", srv.base+loc, "", "", nil); resp.StatusCode != 200 {
		t.Fatalf("DELETE: %d %s", resp.StatusCode, body)
	}
}

// TestICEIPs: --ice-ips limits the addresses that carry ICE: the answer
// offers only those candidates, and media flows over them.
func TestICEIPs(t *testing.T) {
	srv := startServer(t, func(c *config.Server) { c.ICEIPs = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} })
	for _, a := range srv.ICEAddrs() {
		if !strings.HasPrefix(a.String(), "127.0.0.1:") {
			t.Errorf("ICE socket on %s", a)
		}
	}
	resp, body := httpDo(t, "POST", srv.base+"/api/whep/ice", "", "application/sdp",
		strings.NewReader(validOffer(t, webrtc.RTPTransceiverDirectionRecvonly)))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	for _, line := range strings.Split(body, "\n") {
		if f := strings.Fields(line); strings.HasPrefix(line, "a=candidate:") && len(f) > 4 && f[4] != "127.0.0.1" {
			t.Errorf("candidate outside --ice-ips: %s", line)
		}
	}
	publish(t, srv.base, "ice2", vp8Cap, vp8Frames(t), opusPayloads(1000))
	v := watch(t, srv.base, "ice2", nil)
	waitFor(t, 10*time.Second, "video over the allowed address", func() bool {
		frames, _ := v.video.snapshot()
		return len(frames) > 10
	})
}

func TestICEIPsMatchingNothing(t *testing.T) {
	cfg := config.Defaults()
	cfg.ICEUDPPort, cfg.PublishToken, cfg.AdminToken, cfg.DumpDir = 0, "p", "a", t.TempDir()
	cfg.ICEIPs = []netip.Prefix{netip.MustParsePrefix("192.0.2.123/32")}
	_, err := server.New(server.Options{Config: cfg, Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "ice-ips") {
		t.Fatalf("New with --ice-ips matching no local address: %v, want an error naming ice-ips", err)
	}
}

// metricValue returns the value of an unlabelled metric in a Prometheus
// text exposition, or -1.
func metricValue(body, name string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}
