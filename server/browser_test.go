package server_test

import (
	"context"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browser starts headless Chromium (the Debian package) with a fake camera
// and microphone. It fails, not skips, when Chromium is missing: the
// real-browser path is a feature, and CI installs it.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium not found: install it (apt-get install chromium); .ci/run does")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", "fps=30"),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns"),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// evalUntil evaluates expr in the page until it returns true.
func evalUntil(t *testing.T, ctx context.Context, timeout time.Duration, what, expr string, diag string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](diag))
			t.Fatalf("timed out after %s waiting for %s (%s)", timeout, what, state)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestBrowserPublishAndWatch: Chromium publishes its fake camera through the
// publish page over WHIP; a second page plays it over WHEP and keeps decoding
// frames.
func TestBrowserPublishAndWatch(t *testing.T) {
	srv := startServer(t, nil)
	pub := browser(t)
	if err := chromedp.Do(pub, chromedp.Navigate(fmt.Sprintf("%s/publish?stream=cam&token=%s&autostart=1", srv.base, pubToken))); err != nil {
		t.Fatal(err)
	}
	evalUntil(t, pub, 20*time.Second, "the publish page to go live", `window.bcastPublishState === "live"`,
		`JSON.stringify({state: window.bcastPublishState, err: window.bcastPublishError})`)

	view, cancel := chromedp.NewContext(pub) // a second tab in the same browser
	defer cancel()
	if err := chromedp.Do(view, chromedp.Navigate(srv.base+"/?stream=cam")); err != nil {
		t.Fatal(err)
	}
	diag := `JSON.stringify({state: window.bcastState, stats: window.bcastStats})`
	evalUntil(t, view, 30*time.Second, "the player to decode frames", `window.bcastStats.framesDecoded > 30`, diag)
	num := func(expr string) float64 {
		t.Helper()
		v, err := chromedp.Run(view, chromedp.Evaluate[float64](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return v
	}
	before := num(`window.bcastStats.framesDecoded`)
	time.Sleep(3 * time.Second)
	after := num(`window.bcastStats.framesDecoded`)
	if after-before < 20 {
		t.Fatalf("decoding stalled: %v frames in 3 s", after-before)
	}
	w, audio := num(`window.bcastStats.width`), num(`window.bcastStats.audioPacketsReceived`)
	state, err := chromedp.Run(view, chromedp.Evaluate[string](`window.bcastState`))
	if err != nil {
		t.Fatal(err)
	}
	if w <= 0 || audio <= 0 || state != "playing" {
		t.Fatalf("width %v, audio packets %v, state %q", w, audio, state)
	}
	s := getStreams(t, srv.base, "")
	if len(s) != 1 || !s[0].Live || s[0].Viewers != 1 || s[0].Video == nil {
		t.Fatalf("streams: %+v", s)
	}
}
