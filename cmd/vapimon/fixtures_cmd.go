package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/fixtures/report"
	"github.com/vapimon/vapimon/tui/sanitize"
)

func newFixturesCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "fixtures",
		Short: "List the built-in Vapi events and call scenarios",
		Long: `List the built-in fixtures: one realistic event for every Vapi message type (send one
with "vapimon send NAME") and whole-call scenarios (replay one with "vapimon replay NAME
--to URL"). "vapimon fixtures show NAME" prints one as JSON.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if asJSON {
				return report.WriteList(out, fixtures.List())
			}
			return report.FixtureList(out, fixtures.List(), report.Width(out))
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the list as JSON")
	cmd.AddCommand(newFixturesShowCmd())
	return cmd
}

func newFixturesShowCmd() *cobra.Command {
	var asTape bool
	cmd := &cobra.Command{
		Use:   "show NAME|FILE",
		Short: "Print a fixture, scenario or tape as pretty JSON",
		Long: `Print the body of a built-in event as indented JSON; for a scenario or a tape, a JSON list
of its bodies. With --json, print the records themselves as tape lines (JSON Lines), which
"vapimon replay FILE" reads back. A request the tape holds without its reply (vapimon
stopped before answering it) is named on standard error: "no reply recorded", and so is
each call's audio recorded beside it (vapimon listen --listen). A tape is
read as it is printed, so any size works.`,
		Example: `  vapimon fixtures show tool-calls
  vapimon fixtures show inbound-call --json > call.jsonl`,
		Args:              oneFixtureArg("show needs a fixture name or file, e.g. vapimon fixtures show tool-calls (vapimon fixtures lists them)"),
		ValidArgsFunction: completeFixtureNames(""),
		RunE: func(cmd *cobra.Command, args []string) error {
			stream, src, closeTape, err := report.Open(cmd.ErrOrStderr(), args[0])
			if err != nil {
				return err
			}
			defer closeTape()
			out := cmd.OutOrStdout()
			opts := report.ShowOptions{Tape: asTape, Single: stream.Counts.Records == 1, Terminal: report.IsTerminal(out)}
			if err := report.Show(out, cmd.ErrOrStderr(), src, opts); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			refs, err := stream.Audio()
			for _, r := range refs {
				fmt.Fprintln(cmd.ErrOrStderr(), sanitize.Line(r.Describe(), 0))
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&asTape, "json", false, "print the records as tape lines (JSON Lines)")
	return cmd
}
