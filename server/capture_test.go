package server_test

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bcastdev/bcast/config"
	"github.com/bcastdev/bcast/inspect"
	"github.com/bcastdev/bcast/server/status"
)

func adminViewers(t *testing.T, base, stream string) []status.Viewer {
	t.Helper()
	resp, body := httpDo(t, "GET", base+"/api/admin/streams/"+stream+"/viewers", adminToken, "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("admin viewers: %d %s", resp.StatusCode, body)
	}
	var out []status.Viewer
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestViewerCapture: --dump-viewers 1 captures the first viewer's leg; the
// admin API starts and stops the capture of another; the capture holds
// exactly what that viewer received (its SSRC, after rewriting) and the RTCP
// it sent back.
func TestViewerCapture(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, func(c *config.Server) { c.DumpDir = dir; c.DumpViewers = 1 })
	publish(t, srv.base, "v", vp8Cap, vp8Frames(t), opusPayloads(1000))
	v1 := watch(t, srv.base, "v", nil)
	v2 := watch(t, srv.base, "v", nil)
	waitFor(t, 10*time.Second, "both viewers receiving", func() bool {
		_, a := v1.video.snapshot()
		_, b := v2.video.snapshot()
		return len(a) > 50 && len(b) > 50
	})
	vs := adminViewers(t, srv.base, "v")
	if len(vs) != 2 || vs[0].Capture == "" || vs[1].Capture != "" || vs[0].VideoCodec != "VP8" || vs[0].State != "connected" {
		t.Fatalf("viewers %+v: want the first captured, the second not", vs)
	}
	if resp, _ := httpDo(t, "POST", srv.base+"/api/admin/streams/v/viewers/"+vs[1].ID+"/capture", "", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("capture without admin token: %d", resp.StatusCode)
	}
	if resp, _ := httpDo(t, "POST", srv.base+"/api/admin/streams/v/viewers/nope/capture", adminToken, "", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("capture of an unknown viewer: %d", resp.StatusCode)
	}
	resp, body := httpDo(t, "POST", srv.base+"/api/admin/streams/v/viewers/"+vs[1].ID+"/capture", adminToken, "", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `"capture"`) {
		t.Fatalf("start capture: %d %s", resp.StatusCode, body)
	}
	time.Sleep(1500 * time.Millisecond)
	if resp, _ := httpDo(t, "DELETE", srv.base+"/api/admin/streams/v/viewers/"+vs[1].ID+"/capture", adminToken, "", nil); resp.StatusCode != 200 {
		t.Fatalf("stop capture: %d", resp.StatusCode)
	}
	if vs := adminViewers(t, srv.base, "v"); vs[1].Capture != "" {
		t.Fatalf("capture still on after DELETE: %+v", vs[1])
	}
	_ = v1.sess.Close(t.Context())
	waitFor(t, 5*time.Second, "viewer 1 gone", func() bool { return len(adminViewers(t, srv.base, "v")) == 1 })

	for _, c := range []struct {
		v    *viewer
		glob string
	}{{v1, "viewer-1-*.pcapng"}, {v2, "viewer-2-*.pcapng"}} {
		files, _ := filepath.Glob(filepath.Join(dir, "v", c.glob))
		if len(files) == 0 {
			t.Fatalf("no capture files %s", c.glob)
		}
		rep, err := inspect.Analyze(files, "")
		if err != nil {
			t.Fatal(err)
		}
		_, pkts := c.v.video.snapshot()
		var found bool
		for _, s := range rep.Streams {
			if s.SSRC == pkts[0].SSRC {
				found = true
				if s.Codec != "VP8" || s.Packets == 0 || s.Lost != 0 {
					t.Errorf("%s: %+v", c.glob, s.Stats)
				}
			}
		}
		if !found {
			t.Errorf("%s: the viewer's SSRC %d is not in the capture (%d streams)", c.glob, pkts[0].SSRC, len(rep.Streams))
		}
		if rep.Files[0].RTCP == 0 || !strings.HasPrefix(rep.Files[0].Leg, "viewer-") {
			t.Errorf("%s: %+v: want RTCP from the viewer and a viewer leg", c.glob, rep.Files[0])
		}
	}
}
