package main

import (
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
caller; a tape with nothing on it is marked empty. "last" names the newest tape that holds
a record: vapimon replay last, vapimon fixtures show last.

--keep-tapes 30d lists the tapes last written more than 30 days ago and offers to delete
them: it asks on a terminal, and deletes without asking only with --yes. Nothing is ever
deleted silently.`,
		Example: `  vapimon tapes
  vapimon tapes --json | jq -r '[.[] | select(.empty | not)][0].path'
  vapimon tapes --keep-tapes 30d`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Confirm = func(q string) bool { return report.Confirm(cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr(), q) }
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
