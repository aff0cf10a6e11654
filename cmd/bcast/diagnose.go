package main

import (
	"fmt"
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
			"its SDP) and finds anomalies on each leg: loss (bursts, worst seconds), duplicates, reordering,\n" +
			"timestamp jumps and steps back, sequence discontinuities, SSRC restarts, frame-boundary errors,\n" +
			"H.264 FU-A/STAP-A errors, missing or rare keyframes, video frozen after loss, freezes, jitter,\n" +
			"PLI and NACK storms, header-extension problems, unknown payload types; resolution and parameter-set\n" +
			"changes and Opus DTX as info. The viewer leg may use other SSRCs, payload types, offsets and\n" +
			"extension IDs than the ingest leg: its packets are aligned with the ingest's by payload, which shows\n" +
			"payloads and headers modified on the way and which missing packets the server had. Each anomaly is\n" +
			"attributed to the streamer's side or the viewer's side.",
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
			return rep.WriteText(cmd.OutOrStdout())
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
