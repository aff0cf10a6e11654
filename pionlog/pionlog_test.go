package pionlog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestLevelsAndNoFormattingWhenDisabled(t *testing.T) {
	var buf bytes.Buffer
	l := Factory(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))).NewLogger("ice")
	l.Tracef("trace %d", 1)
	l.Debugf("debug %d", 2)
	l.Infof("info %d", 3) // pion info is our debug: hidden
	l.Warnf("warn %d", 4) // pion warn is our info
	l.Errorf("error %d", 5)
	out := buf.String()
	for _, hidden := range []string{"trace 1", "debug 2", "info 3"} {
		if strings.Contains(out, hidden) {
			t.Errorf("%q logged at info level:\n%s", hidden, out)
		}
	}
	for _, shown := range []string{"warn 4", "error 5", "pion=ice"} {
		if !strings.Contains(out, shown) {
			t.Errorf("%q missing:\n%s", shown, out)
		}
	}
	if n := testing.AllocsPerRun(100, func() { l.Tracef("packet %d of %s", 7, "x") }); n > 0 {
		t.Errorf("a disabled trace allocates %.0f times", n)
	}
}

// Errors that only say a connection was closed are teardown, not alerts.
func TestClosedConnectionErrorsAreNotWarnings(t *testing.T) {
	var buf bytes.Buffer
	l := Factory(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))).NewLogger("udpmux")
	l.Errorf("Failed to write packet: %v", "io: read/write on closed pipe")
	l.Error("read udp 127.0.0.1:8189: use of closed network connection")
	l.Errorf("Failed to handle decrypted RTP: %s", "bad header")
	out := buf.String()
	if strings.Contains(out, "closed") {
		t.Errorf("closed-connection errors logged as warnings:\n%s", out)
	}
	if !strings.Contains(out, "bad header") || !strings.Contains(out, "level=WARN") {
		t.Errorf("a real error is not a warning:\n%s", out)
	}
}
