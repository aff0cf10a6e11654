package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/bcastdev/bcast/client"
)

func newWatchCmd() *cobra.Command {
	var (
		out     string
		seconds float64
	)
	cmd := &cobra.Command{
		Use:   "watch URL",
		Short: "Watch a stream over WHEP like a viewer and save what arrives",
		Long: "watch connects to a WHEP endpoint as a viewer, prints receive statistics every second and,\n" +
			"with -o, records what arrives: .pcapng keeps the whole leg as received (decrypted RTP and\n" +
			"RTCP both ways, with the SDP) for `bcast dump info`, `replay` and `diagnose`; .ivf (VP8/VP9/AV1),\n" +
			".h264 or .ogg/.opus save one track's media.",
		Example: "  bcast watch http://localhost:8080/api/whep/demo -o viewer.pcapng --seconds 60\n" +
			"  bcast watch http://localhost:8080/api/whep/demo -o demo.ivf --seconds 10",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if seconds > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, time.Duration(seconds*float64(time.Second)))
				defer cancel()
			}
			return client.Watch(ctx, args[0], out, cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "record to this file (.pcapng: the whole leg; .ivf, .h264, .ogg, .opus: one track)")
	cmd.Flags().Float64Var(&seconds, "seconds", 0, "stop after this many seconds (0 = until interrupted)")
	return cmd
}
