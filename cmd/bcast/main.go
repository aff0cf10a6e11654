// Command bcast is a WebRTC broadcast server with an operator console,
// continuous RTP dumps, offline replay and diagnosis, and a load tester.
// This package only wires the subcommands; the work lives in the packages.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"charm.land/fang/v2"
	"github.com/spf13/cobra"
)

// version and commit are set by the release build:
// -ldflags "-X main.version=v1.2.3 -X main.commit=abc123".
var (
	version = ""
	commit  = ""
)

// buildVersion falls back to the module build info for `go install` builds.
func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}

func buildCommit() string {
	if commit != "" {
		return commit
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return ""
}

func newRoot() *cobra.Command {
	serve := newServeCmd()
	root := &cobra.Command{
		Use:   "bcast",
		Short: "WebRTC broadcast server for the person on call",
		Long: "bcast serves a live WebRTC broadcast (WHIP in, WHEP out) with an operator console,\n" +
			"dumps every received RTP packet, and turns dumps into files and diagnoses offline.\n" +
			"Without a subcommand it runs `bcast serve`.",
		Args: cobra.NoArgs,
		RunE: serve.RunE,
	}
	root.Flags().AddFlagSet(serve.Flags())
	root.AddCommand(serve, newPublishCmd(), newWatchCmd(), newLoadtestCmd(), newConsoleCmd(), newDumpCmd(), newDiagnoseCmd(), newReplayCmd(), newVersionCmd())
	return root
}

func main() {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	opts := []fang.Option{fang.WithVersion(buildVersion())}
	if c := buildCommit(); c != "" {
		opts = append(opts, fang.WithCommit(c))
	}
	if err := fang.Execute(ctx, newRoot(), opts...); err != nil {
		os.Exit(1)
	}
}
