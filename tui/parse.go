package tui

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseSeconds reads a duration typed into a prompt: a bare number of
// seconds ("30"), a Go duration ("5m", "1h30m") or days ("1d"). Empty means
// 0, which each prompt interprets (permanent ban, slow mode off). The result
// is whole seconds because that is what status.Action carries.
func parseSeconds(s string) (int, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 {
			return 0, errors.New("duration must not be negative")
		}
		return n, nil
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration (try 30s, 5m, 2h, 1d)", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		d, err = time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration (try 30s, 5m, 2h, 1d)", s)
		}
	}
	switch {
	case d < 0:
		return 0, errors.New("duration must not be negative")
	case d > 0 && d < time.Second:
		return 0, errors.New("duration must be at least 1s")
	case d > 365*24*time.Hour:
		return 0, errors.New("duration must be at most a year")
	}
	return int(d / time.Second), nil
}

// parseLimit reads a viewer limit: a whole number, 0 for unlimited.
func parseLimit(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("enter a number (0 = unlimited)")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a viewer count (0 = unlimited)", s)
	}
	return n, nil
}
