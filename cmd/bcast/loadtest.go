package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/bcastdev/bcast/loadtest"
)

func newLoadtestCmd() *cobra.Command {
	var (
		viewers        int
		ramp, duration time.Duration
		burst, jsonOut bool
		maxFailuresPct float64
	)
	cmd := &cobra.Command{
		Use:   "loadtest URL",
		Short: "Measure a server's capacity with many browser-like WHEP viewers",
		Long: "loadtest joins N viewers of one stream from this process and holds them. Each viewer is a real WebRTC peer\n" +
			"that NACKs lost packets, asks for a keyframe (PLI) after a loss it cannot repair and sends receiver reports,\n" +
			"as a browser does, so the server does the work real viewers cause. The summary has join latencies, loss after\n" +
			"repair, complete and incomplete frames, and freezes. It fails when more than --max-failures percent of the\n" +
			"viewers cannot join, or when no viewer receives media.",
		Example: "  bcast loadtest http://localhost:8080/api/whep/demo -n 200 --ramp 20s --duration 60s\n" +
			"  bcast loadtest http://localhost:8080/api/whep/demo -n 500 --burst --json > run.json",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if burst && ramp > 0 {
				return errors.New("--ramp and --burst exclude each other: --burst joins all viewers at once")
			}
			stderr := cmd.ErrOrStderr()
			pl := newProgressLine(stderr)
			rep, err := loadtest.Run(cmd.Context(), loadtest.Config{
				URL:      args[0],
				Viewers:  viewers,
				Ramp:     ramp,
				Burst:    burst,
				Duration: duration,
				Logger:   newLogger(stderr, "warn"),
				Progress: pl.print,
			})
			pl.end()
			if err != nil {
				return err
			}
			if jsonOut {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return fmt.Errorf("writing JSON: %w", err)
				}
			} else {
				rep.WriteText(cmd.OutOrStdout())
			}
			return judge(rep, maxFailuresPct)
		},
	}
	f := cmd.Flags()
	f.IntVarP(&viewers, "viewers", "n", 10, "number of viewers")
	f.DurationVar(&ramp, "ramp", 0, "spread the joins evenly over this time (0 = all at once)")
	f.BoolVar(&burst, "burst", false, "join all viewers at once and send all their POSTs at the same instant")
	f.DurationVar(&duration, "duration", 30*time.Second, "hold the viewers this long after the last join (0 = until interrupted)")
	f.BoolVar(&jsonOut, "json", false, "print the report as JSON")
	f.Float64Var(&maxFailuresPct, "max-failures", 1, "percentage of viewers allowed to fail to join")
	return cmd
}

// judge turns a report into the command's exit status, for scripts and CI.
func judge(rep *loadtest.Report, maxFailuresPct float64) error {
	if pct := rep.FailedPct(); pct > maxFailuresPct {
		return fmt.Errorf("%d of %d viewers failed to join (%.1f%%, more than --max-failures %g%%)",
			rep.Failed, rep.Viewers, pct, maxFailuresPct)
	}
	if rep.OK == 0 {
		return errors.New("no viewer received media")
	}
	return nil
}

// progressLine shows the run's progress on stderr: one line rewritten in
// place on a terminal, a line every 5 seconds otherwise (a log file or CI
// output should not fill with a line a second).
type progressLine struct {
	w        io.Writer
	terminal bool
	last     time.Duration
	printed  bool
}

const progressLogInterval = 5 * time.Second

func newProgressLine(w io.Writer) *progressLine {
	return &progressLine{w: w, terminal: isTerminal(w)}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (l *progressLine) print(p loadtest.Progress) {
	line := fmt.Sprintf("%4.0fs  joined %d/%d  connected %d  failed %d  receiving %d  %.1f Mbit/s  frames %d complete %d incomplete  freezes %d",
		p.Elapsed.Seconds(), p.Joined, p.Viewers, p.Connected, p.Failed, p.Receiving, p.Kbps/1000,
		p.FramesComplete, p.FramesIncomplete, p.Freezes)
	if l.terminal {
		fmt.Fprintf(l.w, "\r%s\x1b[K", line)
		l.printed = true
		return
	}
	// Rounded: the ticks arrive a little early or late.
	if at := p.Elapsed.Round(time.Second); at-l.last >= progressLogInterval {
		l.last = at
		fmt.Fprintln(l.w, line)
	}
}

// end finishes the live line so that what follows starts on its own.
func (l *progressLine) end() {
	if l.printed {
		fmt.Fprintln(l.w)
	}
}
