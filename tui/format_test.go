package tui

import (
	"testing"
	"time"

	"github.com/charmbracelet/colorprofile"

	"github.com/bcastdev/bcast/server/status"
)

func TestFormatBitrate(t *testing.T) {
	for in, want := range map[int64]string{
		-5:            "0 b/s",
		0:             "0 b/s",
		950:           "950 b/s",
		999:           "999 b/s",
		1000:          "1.00 kb/s",
		64_000:        "64.0 kb/s",
		125_400:       "125 kb/s",
		999_600:       "1.00 Mb/s",
		2_450_000:     "2.45 Mb/s",
		34_500_000:    "34.5 Mb/s",
		1_200_000_000: "1.20 Gb/s",
	} {
		if got := formatBitrate(in); got != want {
			t.Errorf("formatBitrate(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for in, want := range map[uint64]string{
		0:         "0 B",
		512:       "512 B",
		1024:      "1.00 KiB",
		1536:      "1.50 KiB",
		184 << 20: "184 MiB",
		41 << 30:  "41.0 GiB",
		3 << 40:   "3.00 TiB",
	} {
		if got := formatBytes(in); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", in, got, want)
		}
	}
	if got := formatByteRate(320 << 10); got != "320 KiB/s" {
		t.Errorf("formatByteRate = %q", got)
	}
}

func TestFormatDuration(t *testing.T) {
	for in, want := range map[time.Duration]string{
		-time.Second:                       "0s",
		0:                                  "0s",
		999 * time.Millisecond:             "0s",
		45 * time.Second:                   "45s",
		12*time.Minute + 3*time.Second:     "12m03s",
		time.Hour + 2*time.Minute + 59e9:   "1h02m",
		3*24*time.Hour + 4*time.Hour + 1e9: "3d04h",
	} {
		if got := formatDuration(in); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatSmall(t *testing.T) {
	checks := []struct{ got, want string }{
		{formatPercent(0), "0.0%"},
		{formatPercent(0.04), "0.0%"},
		{formatPercent(12.34), "12.3%"},
		{formatPercent(100), "100%"},
		{formatMS(0.8), "0.8 ms"},
		{formatMS(23.4), "23 ms"},
		{formatMS(1250), "1250 ms"},
		{formatCount(999), "999"},
		{formatCount(1520), "1.5k"},
		{formatCount(45_000), "45k"},
		{formatCount(1_200_000), "1.2M"},
		{formatFPS(30), "30 fps"},
		{formatFPS(29.97), "30.0 fps"},
		{formatSeconds(0), "off"},
		{formatSeconds(30), "30s"},
		{formatSeconds(90), "1m30s"},
		{formatSeconds(300), "5m"},
		{formatSeconds(3600), "1h"},
		{formatSeconds(5400), "1h30m"},
		{formatSeconds(86400), "24h"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestParseSeconds(t *testing.T) {
	for in, want := range map[string]int{
		"":       0,
		"  ":     0,
		"0":      0,
		"30":     30,
		"30s":    30,
		"5m":     300,
		"1h30m":  5400,
		"2H":     7200,
		"1d":     86400,
		" 10m ":  600,
		"1m30s":  90,
		"90000s": 90000,
	} {
		if got, err := parseSeconds(in); err != nil || got != want {
			t.Errorf("parseSeconds(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"x", "-5", "-1m", "5 m", "500ms", "1.5d", "400d", "1w"} {
		if got, err := parseSeconds(in); err == nil {
			t.Errorf("parseSeconds(%q) = %d, want an error", in, got)
		}
	}
}

func TestParseLimit(t *testing.T) {
	for in, want := range map[string]int{"0": 0, "50": 50, " 1000 ": 1000} {
		if got, err := parseLimit(in); err != nil || got != want {
			t.Errorf("parseLimit(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "ten", "1.5"} {
		if _, err := parseLimit(in); err == nil {
			t.Errorf("parseLimit(%q) accepted", in)
		}
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"hello":                          "hello",
		"héllo wörld 😀":                  "héllo wörld 😀",
		"red \x1b[31mtext\x1b[0m":        "red [31mtext[0m",
		"two\nlines\r\n\ttab":            "two lines   tab",
		"bell\a and \x9b csi":            "bell and  csi",
		"bidi \u202eevil\u202c override": "bidi evil override",
		"del\x7f":                        "del",
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUDPPart(t *testing.T) {
	st := newStyles(colorprofile.NoTTY, true)
	tests := []struct {
		sys  status.System
		want string
	}{
		{status.System{}, ""},
		{status.System{UDPDatagramsPerSend: 2.46, UDPGSO: true}, "udp 2.5/call"},
		{status.System{UDPDatagramsPerSend: 1, UDPGSO: false}, "udp 1.0/call no GSO"},
		{status.System{UDPDatagramsPerSend: 5, UDPGSO: true, UDPSendErrors: 12}, "udp 5.0/call 12 refused"},
	}
	for _, tt := range tests {
		if got := udpPart(st, &tt.sys); got != tt.want {
			t.Errorf("udpPart(%+v) = %q, want %q", tt.sys, got, tt.want)
		}
	}
}
