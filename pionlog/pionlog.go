// Package pionlog adapts pion's leveled logger interface onto log/slog so
// that pion's messages share the server's log format, level and sink.
package pionlog

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"

	"github.com/pion/logging"
)

// Factory returns a pion LoggerFactory that logs through l. pion's levels
// are tuned for its own developers: its warnings are mostly routine (a
// closed socket at teardown, a candidate that failed), so each pion level is
// logged one step lower, and trace goes below debug.
func Factory(l *slog.Logger) logging.LoggerFactory { return factory{l} }

type factory struct{ l *slog.Logger }

func (f factory) NewLogger(scope string) logging.LeveledLogger {
	return logger{f.l.With("pion", scope)}
}

type logger struct{ l *slog.Logger }

func (g logger) log(level slog.Level, msg string) {
	g.l.Log(context.Background(), level, msg)
}

// logf formats only when the level is enabled: pion traces per packet, and
// formatting a discarded message would allocate on the media path.
func (g logger) logf(level slog.Level, format string, args ...any) {
	if g.l.Enabled(context.Background(), level) {
		g.l.Log(context.Background(), level, fmt.Sprintf(format, args...))
	}
}

func (g logger) Trace(msg string) { g.log(slog.LevelDebug-4, msg) }
func (g logger) Tracef(format string, args ...any) {
	g.logf(slog.LevelDebug-4, format, args...)
}
func (g logger) Debug(msg string) { g.log(slog.LevelDebug-2, msg) }
func (g logger) Debugf(format string, args ...any) {
	g.logf(slog.LevelDebug-2, format, args...)
}
func (g logger) Info(msg string) { g.log(slog.LevelDebug, msg) }
func (g logger) Infof(format string, args ...any) {
	g.logf(slog.LevelDebug, format, args...)
}
func (g logger) Warn(msg string) { g.log(slog.LevelInfo, msg) }
func (g logger) Warnf(format string, args ...any) {
	g.logf(slog.LevelInfo, format, args...)
}
func (g logger) Error(msg string) { g.log(errorLevel(msg), msg) }
func (g logger) Errorf(format string, args ...any) {
	if g.l.Enabled(context.Background(), slog.LevelWarn) {
		msg := fmt.Sprintf(format, args...)
		g.log(errorLevel(msg), msg)
	}
}

// errorLevel is where a pion error goes: a warning, unless it only says a
// connection was already closed. Those come by the hundred when many
// viewers leave at once (a packet still in flight for a closed muxed
// conn) and would bury the operator's real alerts.
func errorLevel(msg string) slog.Level {
	if strings.Contains(msg, "closed pipe") || strings.Contains(msg, net.ErrClosed.Error()) {
		return slog.LevelInfo
	}
	return slog.LevelWarn
}
