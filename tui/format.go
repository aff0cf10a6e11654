package tui

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The console shows every number with its unit so that an operator reading
// one cell never has to guess the scale. The helpers below keep at most three
// significant digits, which is what fits a narrow column and what the eye can
// compare at a glance.

// formatBitrate renders bits per second in decimal units (as network rates
// are quoted): "950 b/s", "64.0 kb/s", "2.50 Mb/s".
func formatBitrate(bps int64) string {
	if bps < 0 {
		bps = 0
	}
	return scaled(float64(bps), 1000, []string{"b/s", "kb/s", "Mb/s", "Gb/s", "Tb/s"})
}

// formatBytes renders a size in binary units (as file systems report them):
// "512 B", "1.50 KiB", "120 MiB".
func formatBytes(n uint64) string {
	return scaled(float64(n), 1024, []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"})
}

// formatByteRate renders bytes per second, e.g. the dump writer's rate.
func formatByteRate(bytesPerSecond float64) string {
	if bytesPerSecond < 0 {
		bytesPerSecond = 0
	}
	return scaled(bytesPerSecond, 1024, []string{"B/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s"})
}

// scaled divides v by base until it is below 1000 and prints it with three
// significant digits; the base unit is printed without decimals because it
// counts whole things (bits, bytes).
func scaled(v, base float64, units []string) string {
	if v < 999.5 {
		return strconv.FormatFloat(v, 'f', 0, 64) + " " + units[0]
	}
	i := 0
	for v >= 999.5 && i < len(units)-1 {
		v /= base
		i++
	}
	switch {
	case v < 9.995:
		return strconv.FormatFloat(v, 'f', 2, 64) + " " + units[i]
	case v < 99.95:
		return strconv.FormatFloat(v, 'f', 1, 64) + " " + units[i]
	default:
		return strconv.FormatFloat(v, 'f', 0, 64) + " " + units[i]
	}
}

// formatDuration renders an age or an uptime with its two most significant
// units: "45s", "12m03s", "1h02m", "3d04h". Negative durations (clock skew
// between a remote server and its clients) read as "0s".
func formatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	default:
		return fmt.Sprintf("%dd%02dh", s/86400, s%86400/3600)
	}
}

// formatSeconds renders a setting given in whole seconds the way the prompt
// accepts it back ("30s", "5m", "1h30m"); 0 reads as "off".
func formatSeconds(n int) string {
	if n <= 0 {
		return "off"
	}
	var b strings.Builder
	for _, u := range []struct {
		secs int
		unit string
	}{{3600, "h"}, {60, "m"}, {1, "s"}} {
		if v := n / u.secs; v > 0 {
			b.WriteString(strconv.Itoa(v) + u.unit)
			n -= v * u.secs
		}
	}
	return b.String()
}

// formatPercent renders a percentage with one decimal below 100: "0.4%".
func formatPercent(p float64) string {
	if p < 0 {
		p = 0
	}
	if p >= 99.95 {
		return strconv.FormatFloat(p, 'f', 0, 64) + "%"
	}
	return strconv.FormatFloat(p, 'f', 1, 64) + "%"
}

// formatMS renders milliseconds: "0.8 ms", "23 ms", "1250 ms".
func formatMS(ms float64) string {
	if ms < 0 {
		ms = 0
	}
	if ms < 9.95 {
		return strconv.FormatFloat(ms, 'f', 1, 64) + " ms"
	}
	return strconv.FormatFloat(ms, 'f', 0, 64) + " ms"
}

// formatCount renders a counter compactly for narrow columns: "999",
// "1.2k", "45k", "1.2M".
func formatCount(n uint64) string {
	switch {
	case n < 1000:
		return strconv.FormatUint(n, 10)
	case n < 9950:
		return strconv.FormatFloat(float64(n)/1e3, 'f', 1, 64) + "k"
	case n < 999500:
		return strconv.FormatFloat(float64(n)/1e3, 'f', 0, 64) + "k"
	case n < 9950000:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + "M"
	default:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 0, 64) + "M"
	}
}

// formatFPS renders a frame rate: "30 fps", "29.97 fps" would be noise, so
// one decimal only when the rate is not whole.
func formatFPS(fps float64) string {
	if fps == float64(int64(fps)) {
		return strconv.FormatInt(int64(fps), 10) + " fps"
	}
	return strconv.FormatFloat(fps, 'f', 1, 64) + " fps"
}

// plural renders a count with its noun: "1 stream", "2 streams".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// durationSeconds converts the float seconds of the status JSON.
func durationSeconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second))
}
