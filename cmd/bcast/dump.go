package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bcastdev/bcast/inspect"
)

func newDumpCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dump",
		Short: "List and inspect RTP dumps (bcast's own or any pcap/pcapng)",
	}
	cmd.AddCommand(newDumpLsCmd(), newDumpInfoCmd())
	return cmd
}

func newDumpLsCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "ls [DIR]",
		Short:   "List dump segments (stream, leg, time range, size, packets) and the chat, metrics and server logs beside them",
		Example: "  bcast dump ls\n  bcast dump ls /var/lib/bcast/dumps",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "./dumps"
			if len(args) == 1 {
				dir = args[0]
			} else if env := os.Getenv("BCAST_DUMP_DIR"); env != "" {
				dir = env
			}
			files, err := inspect.Expand([]string{dir})
			if err != nil {
				return fmt.Errorf("dump ls: %w", err)
			}
			var list []inspect.File
			for _, f := range files {
				rep, err := inspect.Analyze([]string{f}, "")
				if rep != nil && len(rep.Files) == 1 {
					list = append(list, rep.Files[0])
				}
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "warning: %v\n", err)
				}
			}
			logs, err := inspect.Logs([]string{dir})
			if err != nil {
				return fmt.Errorf("dump ls: %w", err)
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), append(list, logs...))
			}
			if err := printFiles(cmd.OutOrStdout(), list); err != nil {
				return err
			}
			if len(logs) == 0 {
				return nil
			}
			fmt.Fprintln(cmd.OutOrStdout())
			return printLogs(cmd.OutOrStdout(), logs)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newDumpInfoCmd() *cobra.Command {
	var (
		asJSON  bool
		sdpFile string
	)
	cmd := &cobra.Command{
		Use:   "info [--json] [--sdp F] PATH...",
		Short: "Per RTP stream: SSRC, payload type, codec, packets, loss, jitter, gaps, keyframes",
		Long: "info reads dump segments (joined in time order), dump directories or any pcap/pcapng\n" +
			"with plain RTP over UDP and reports each RTP stream after RFC 3550 Appendix A.\n" +
			"Codecs come from the SDP stored in bcast dumps, or from --sdp for other captures.",
		Example: "  bcast dump info dumps/live\n  bcast dump info --json --sdp call.sdp capture.pcapng",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sdp := ""
			if sdpFile != "" {
				b, err := os.ReadFile(sdpFile)
				if err != nil {
					return fmt.Errorf("--sdp: %w", err)
				}
				sdp = string(b)
			}
			files, err := inspect.Expand(args)
			if err != nil {
				return err
			}
			if len(files) == 0 {
				return fmt.Errorf("no .pcapng/.pcap files in %s", strings.Join(args, " "))
			}
			rep, err := inspect.Analyze(files, sdp)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), rep)
			}
			return printStreams(cmd.OutOrStdout(), rep)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&sdpFile, "sdp", "", "SDP file describing the payload types of captures without one")
	return cmd
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printFiles(w io.Writer, files []inspect.File) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "STREAM\tLEG\tSTART (UTC)\tDURATION\tSIZE\tPACKETS\tDROPPED\tFILE\t")
	for _, f := range files {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t\n", dash(f.Stream), dash(f.Leg), f.Start.UTC().Format("2006-01-02 15:04:05"),
			f.End.Sub(f.Start).Round(time.Millisecond), humanBytes(f.Size), f.Packets, f.Dropped, f.Path)
	}
	return tw.Flush()
}

func printLogs(w io.Writer, logs []inspect.File) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "STREAM\tLOG\tSTART (UTC)\tDURATION\tSIZE\tLINES\tFILE\t")
	for _, f := range logs {
		start := "-"
		if !f.Start.IsZero() {
			start = f.Start.UTC().Format("2006-01-02 15:04:05")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t\n", dash(f.Stream), f.Kind, start,
			f.End.Sub(f.Start).Round(time.Second), humanBytes(f.Size), f.Lines, f.Path)
	}
	return tw.Flush()
}

func printStreams(w io.Writer, rep *inspect.Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "SSRC\tPT\tCODEC\tKIND\tPACKETS\tDURATION\tKBIT/S\tLOST\tDUP\tREORD\tJITTER MS\tMAX GAP\tKEYFRAMES\tMAX KF INT\tFROM\t")
	for _, s := range rep.Streams {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%d\t%s\t%.0f\t%d\t%d\t%d\t%.2f\t%s\t%d\t%s\t%s\t\n",
			s.SSRC, s.PayloadType, s.Codec, s.Kind, s.Packets, s.Duration.Round(time.Millisecond), s.BitrateBPS/1000,
			s.Lost, s.Duplicates, s.Reordered, s.JitterMS, s.LargestGap.Round(time.Millisecond), s.Keyframes,
			s.KeyframeInterval.Round(time.Millisecond), s.From)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range rep.Streams {
		if len(s.Resolutions) > 1 {
			fmt.Fprintf(w, "SSRC %d resolution changes:", s.SSRC)
			for _, r := range s.Resolutions {
				fmt.Fprintf(w, " %s %dx%d", r.At.UTC().Format("15:04:05.000"), r.Width, r.Height)
			}
			fmt.Fprintln(w)
		}
	}
	for id, n := range rep.SSRCChanges {
		fmt.Fprintf(w, "SSRC changed %d time(s) for %s\n", n, id)
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
