package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/bcastdev/bcast/replay"
)

func newReplayCmd() *cobra.Command {
	var (
		sdpFile, from, to, stream, out string
		asJSON, verbose                bool
	)
	cmd := &cobra.Command{
		Use:   "replay [--sdp F] [--from D --to D] [--stream video|audio|SSRC] -o OUT PATH...",
		Short: "Turn a time range of an RTP dump (or any pcap of plain RTP) back into a playable file",
		Long: "replay reads dump segments (joined in time order), dump directories or any pcap/pcapng with\n" +
			"plain RTP over UDP, reassembles the frames and writes them by OUT's extension:\n" +
			"  .ivf         VP8/VP9/AV1 video\n" +
			"  .h264        H.264 Annex B video\n" +
			"  .ogg, .opus  Opus audio\n" +
			"  .webm        VP8/VP9/AV1 video and Opus audio, in sync (either may be missing)\n" +
			"Codecs come from the SDP stored in bcast dumps, or from --sdp for other captures.\n" +
			"Lost video packets drop the frame and the following ones up to the next key frame (a\n" +
			"corrupt frame is never written); lost audio is concealed so it stays continuous.\n" +
			"--from/--to take offsets from the start (30s, 1m30s), RFC 3339 times, or a UTC time of\n" +
			"day (15:04:05) on the capture's first day; video starts at a key frame.",
		Example: "  bcast replay -o show.webm dumps/live\n" +
			"  bcast replay --from 06:15:00 --to 06:20:00 -o missed.ogg dumps/live\n" +
			"  bcast replay --sdp call.sdp --stream 0x1234abcd -o cam.ivf capture.pcapng",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := replay.Options{Paths: args, Stream: stream, Out: out}
			if sdpFile != "" {
				b, err := os.ReadFile(sdpFile)
				if err != nil {
					return fmt.Errorf("--sdp: %w", err)
				}
				opts.SDP = string(b)
			}
			var err error
			if opts.From, err = replay.ParseBound(from); err != nil {
				return fmt.Errorf("--from: %w", err)
			}
			if opts.To, err = replay.ParseBound(to); err != nil {
				return fmt.Errorf("--to: %w", err)
			}
			level := slog.LevelWarn
			if verbose {
				level = slog.LevelDebug
			}
			opts.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			sum, err := replay.Run(cmd.Context(), opts)
			if err != nil {
				return fmt.Errorf("replay: %w", err)
			}
			printReplaySummary(cmd.ErrOrStderr(), sum)
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), sum)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "output file: .ivf, .h264, .ogg/.opus or .webm (required)")
	cmd.Flags().StringVar(&sdpFile, "sdp", "", "session description (SDP) file for captures that carry none")
	cmd.Flags().StringVar(&from, "from", "", "start: offset (30s), RFC 3339 time, or UTC time of day (15:04:05)")
	cmd.Flags().StringVar(&to, "to", "", "end, as --from")
	cmd.Flags().StringVar(&stream, "stream", "", "video, audio, or an SSRC (decimal or 0x hex); default: first video and first audio")
	cmd.Flags().BoolVar(&asJSON, "json", false, "also print the summary as JSON on stdout")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "log each frame left out")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// printReplaySummary tells the operator what the file holds and what the
// capture was missing.
func printReplaySummary(w io.Writer, s *replay.Summary) {
	fmt.Fprintf(w, "wrote %s (%s): %s from %s UTC", s.Out, s.Format, s.Duration.Round(time.Millisecond),
		s.Start.UTC().Format("2006-01-02 15:04:05.000"))
	if len(s.Streams) > 1 {
		sync := "their sender reports (RTCP)"
		if s.Sync != "rtcp" {
			sync = "the arrival of their first packets (no sender reports)"
		}
		fmt.Fprintf(w, ", streams aligned by %s", sync)
	}
	fmt.Fprintln(w)
	for _, st := range s.Streams {
		fmt.Fprintf(w, "  %s SSRC %d (0x%08x) %s: ", st.Kind, st.SSRC, st.SSRC, st.Codec)
		if st.Kind == "video" {
			fmt.Fprintf(w, "%d frames written, %d dropped (incomplete), %d skipped (after loss, to the next key frame)",
				st.FramesWritten, st.FramesDropped, st.FramesSkipped)
		} else {
			fmt.Fprintf(w, "%d packets written, %s concealed in %d gaps", st.FramesWritten, st.Filled.Round(time.Millisecond), st.FillGaps)
		}
		fmt.Fprintf(w, "; %d RTP packets read, %d lost in %d gaps, %d repaired by RTX, %d duplicates, %d late; %s to %s UTC\n",
			st.Packets, st.Lost, st.Gaps, st.Repaired, st.Duplicates, st.Late,
			st.FirstAt.UTC().Format("15:04:05.000"), st.LastAt.UTC().Format("15:04:05.000"))
	}
	for _, warn := range s.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
}
