package replay

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Bound is one end of the range to replay (--from, --to): an offset from
// the first media packet of the capture, an instant, or a UTC time of day
// on the capture's first day. The zero Bound is unset: from the start, or to the
// end.
type Bound struct {
	kind   boundKind
	offset time.Duration
	at     time.Time
}

type boundKind uint8

const (
	boundUnset boundKind = iota
	boundOffset
	boundAt
	boundClock // offset holds the time since midnight UTC
)

// Offset is the Bound d after the first media packet of the capture.
func Offset(d time.Duration) Bound { return Bound{kind: boundOffset, offset: d} }

// At is the Bound at instant t of the capture clock.
func At(t time.Time) Bound { return Bound{kind: boundAt, at: t} }

// ParseBound reads a Bound: a Go duration ("30s", "1m30s") or a number of
// seconds is an offset from the first media packet of the capture; RFC 3339
// ("2026-11-21T06:15:30Z") is an instant; "15:04:05" (optionally with
// fractional seconds) is that UTC time on the capture's first day.
func ParseBound(s string) (Bound, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Bound{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return Bound{}, fmt.Errorf("time %q: negative offset", s)
		}
		return Offset(d), nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 {
		return Offset(time.Duration(f * float64(time.Second))), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return At(t), nil
	}
	for _, layout := range []string{"15:04:05.999999999", "15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			d := time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute +
				time.Duration(t.Second())*time.Second + time.Duration(t.Nanosecond())
			return Bound{kind: boundClock, offset: d}, nil
		}
	}
	return Bound{}, fmt.Errorf("time %q: want an offset (30s, 1m30s), an RFC 3339 time (2026-11-21T06:15:30Z) or a UTC time of day (06:15:30)", s)
}

// IsZero reports whether the bound is unset.
func (b Bound) IsZero() bool { return b.kind == boundUnset }

func (b Bound) String() string {
	switch b.kind {
	case boundOffset:
		return b.offset.String()
	case boundAt:
		return b.at.Format(time.RFC3339Nano)
	case boundClock:
		return time.Time{}.Add(b.offset).Format("15:04:05.999999999")
	}
	return ""
}

// resolve places the bound on the capture clock: start is the first media
// packet, day any instant of the capture's first day; unset is def.
func (b Bound) resolve(start, day, def time.Time) time.Time {
	switch b.kind {
	case boundOffset:
		return start.Add(b.offset)
	case boundAt:
		return b.at
	case boundClock:
		d := day.UTC()
		return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC).Add(b.offset)
	}
	return def
}
