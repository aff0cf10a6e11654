package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bcastdev/bcast/diagnose"
	"github.com/bcastdev/bcast/inspect"
)

func newDiagnoseCmd() *cobra.Command {
	var (
		asJSON                     bool
		sdpFile, viewSDP, htmlFile string
	)
	cmd := &cobra.Command{
		Use:   "diagnose [--json] [--html FILE] [--sdp F] [--viewer-sdp F] INGEST [VIEWER]",
		Short: "Say whether a corruption came from the streamer's side or the viewer's side, with evidence",
		Long: "diagnose reads a capture of the ingest leg (a dump directory or files) and optionally one of a\n" +
			"viewer leg (`bcast watch -o viewer.pcapng`, a server viewer capture, or any pcap of plain RTP with\n" +
			"its SDP), finds anomalies on each leg — loss, duplicates, timestamp jumps, SSRC restarts, freezes,\n" +
			"missing or rare keyframes, header extensions the leg never negotiated, unknown payload types,\n" +
			"video-orientation values the streamer never sent — and attributes each to a side.\n" +
			"The viewer leg may use other SSRCs, payload types and offsets than the ingest leg.",
		Example: "  bcast diagnose dumps/live viewer.pcapng\n  bcast diagnose --json dumps/live dumps/live/viewer-3-20261121T061500Z-0001.pcapng",
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := diagnose.Options{}
			var err error
			if opts.SDP, err = readOptional(sdpFile); err != nil {
				return err
			}
			if opts.ViewerSDP, err = readOptional(viewSDP); err != nil {
				return fmt.Errorf("--viewer-sdp: %w", err)
			}
			if opts.Ingest, err = legFiles(args[0], true); err != nil {
				return err
			}
			if len(args) == 2 {
				if opts.Viewer, err = legFiles(args[1], false); err != nil {
					return err
				}
			}
			rep, err := diagnose.Run(opts)
			if err != nil {
				return err
			}
			if htmlFile != "" {
				f, err := os.Create(htmlFile)
				if err != nil {
					return fmt.Errorf("--html: %w", err)
				}
				if err := rep.WriteHTML(f); err != nil {
					_ = f.Close()
					return fmt.Errorf("--html: %w", err)
				}
				if err := f.Close(); err != nil {
					return fmt.Errorf("--html: %w", err)
				}
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), rep)
			}
			printDiagnosis(cmd.OutOrStdout(), rep)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print one JSON object {"verdict", "findings"}`)
	cmd.Flags().StringVar(&sdpFile, "sdp", "", "SDP of the ingest capture when it carries none")
	cmd.Flags().StringVar(&viewSDP, "viewer-sdp", "", "SDP of the viewer capture when it carries none")
	cmd.Flags().StringVar(&htmlFile, "html", "", "also write a self-contained timeline page (bitrate, keyframes, findings of both legs)")
	return cmd
}

// legFiles expands a leg's path; in a dump directory the ingest leg is the
// segments that are not viewer captures.
func legFiles(path string, ingest bool) ([]string, error) {
	files, err := inspect.Expand([]string{path})
	if err != nil {
		return nil, err
	}
	var keep []string
	for _, f := range files {
		if ingest && strings.HasPrefix(filepath.Base(f), "viewer-") && len(files) > 1 {
			continue
		}
		keep = append(keep, f)
	}
	if len(keep) == 0 {
		return nil, fmt.Errorf("no .pcapng/.pcap files in %s", path)
	}
	return keep, nil
}

func printDiagnosis(w io.Writer, rep *diagnose.Report) {
	fmt.Fprintf(w, "verdict: %s\n", rep.Verdict)
	if len(rep.Findings) == 0 {
		fmt.Fprintln(w, "no anomalies found")
		return
	}
	for _, f := range rep.Findings {
		fmt.Fprintf(w, "- %s on the %s leg (%s), %s: %s\n    at %.1f–%.1f s (%s–%s UTC)\n", f.Class, f.Leg, f.Side, f.Stream,
			f.Evidence, f.FromS, f.ToS, f.From.UTC().Format("15:04:05.000"), f.To.UTC().Format("15:04:05.000"))
	}
}
