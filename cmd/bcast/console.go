package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/bcastdev/bcast/admin"
	"github.com/bcastdev/bcast/tui"
)

func newConsoleCmd() *cobra.Command {
	var (
		token    string
		readOnly bool
	)
	cmd := &cobra.Command{
		Use:   "console URL",
		Short: "Attach the operator console to a running server over its admin API",
		Long: "console shows the same live operator console as `bcast serve` for a server elsewhere:\n" +
			"stream health, viewers, system figures, chat with moderation, alerts. Several operators\n" +
			"may attach at once. --readonly hides every action.",
		Example: "  bcast console http://stream.example.com:8080 --admin-token \"$BCAST_ADMIN_TOKEN\"\n" +
			"  bcast console http://localhost:8080 --readonly",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if token == "" {
				token = os.Getenv("BCAST_ADMIN_TOKEN")
			}
			if !term.IsTerminal(os.Stdout.Fd()) || !term.IsTerminal(os.Stdin.Fd()) {
				return errors.New("invalid terminal: the console needs an interactive terminal (for scripts, use GET /api/admin/snapshot)")
			}
			c, err := admin.New(args[0], token, nil)
			if err != nil {
				return err
			}
			defer c.Close()
			if _, err := c.Snapshot(cmd.Context()); err != nil {
				return fmt.Errorf("cannot reach %s: %w", args[0], err)
			}
			return tui.Run(cmd.Context(), c, tui.Options{ReadOnly: readOnly, Title: "bcast console " + args[0]})
		},
	}
	cmd.Flags().StringVar(&token, "admin-token", "", "the server's admin token (default $BCAST_ADMIN_TOKEN)")
	cmd.Flags().BoolVar(&readOnly, "readonly", false, "show only; hide every action")
	return cmd
}
