package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
	"github.com/vapimon/vapimon/fixtures/report"
)

func newTapesCmd() *cobra.Command {
	var o report.TapesOptions
	cmd := &cobra.Command{
		Use:   "tapes",
		Short: "List the recorded tapes, newest first; offer to delete old ones",
		Long: `List the tapes "vapimon listen" recorded in the state directory, newest first: when each
started, its size, how many calls, events and rejected requests it holds, and the first
caller. "last" names the newest one: vapimon replay last, vapimon fixtures show last.

--keep-tapes 30d lists the tapes last written more than 30 days ago and offers to delete
them: it asks on a terminal, and deletes without asking only with --yes. Nothing is ever
deleted silently.`,
		Example: `  vapimon tapes
  vapimon tapes --json | jq -r '.[0].path'
  vapimon tapes --keep-tapes 30d`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Confirm = func(q string) bool { return confirm(cmd, q) }
			return report.Tapes(cmd.OutOrStdout(), o)
		},
	}
	fs := cmd.Flags()
	fs.BoolVar(&o.JSON, "json", false, "print the tapes as a JSON list (with --keep-tapes: the old ones, nothing deleted)")
	fs.StringVar(&o.Keep, "keep-tapes", "", "offer to delete the tapes last written longer ago than this (30d, 2w, 36h)")
	fs.BoolVar(&o.Yes, "yes", false, "with --keep-tapes: delete without asking")
	fs.StringVar(&o.Dir, "dir", "", "tape folder (default: tapes in the state directory)")
	_ = cmd.MarkFlagDirname("dir")
	return cmd
}

// confirm asks a yes/no question on a terminal; without one (a pipe, a script) the answer
// is no, so that nothing is deleted that nobody agreed to.
func confirm(cmd *cobra.Command, question string) bool {
	in, ok := cmd.InOrStdin().(*os.File)
	if !ok || !term.IsTerminal(in.Fd()) {
		fmt.Fprintln(cmd.ErrOrStderr(), "not a terminal: nothing deleted without --yes")
		return false
	}
	fmt.Fprint(cmd.OutOrStdout(), question)
	answer, _ := bufio.NewReader(in).ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(answer))
	return a == "y" || a == "yes"
}
