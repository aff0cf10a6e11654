package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := buildCommit()
			if len(c) > 12 {
				c = c[:12]
			}
			out := "bcast " + buildVersion()
			if c != "" {
				out += " (" + c + ")"
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "%s %s/%s %s\n", out, runtime.GOOS, runtime.GOARCH, runtime.Version())
			return err
		},
	}
}
