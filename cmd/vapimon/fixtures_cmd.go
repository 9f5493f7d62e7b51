package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/tui"
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
			if asJSON {
				list := fixtures.List()
				if list == nil {
					list = []fixtures.Fixture{}
				}
				return writeJSON(cmd.OutOrStdout(), list)
			}
			return printFixtureList(cmd.OutOrStdout(), fixtures.List())
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
"vapimon replay FILE" reads back.`,
		Example: `  vapimon fixtures show tool-calls
  vapimon fixtures show inbound-call --json > call.jsonl`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeFixtureNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			recs, err := loadRecords(cmd, args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asTape {
				for i := range recs {
					line, err := json.Marshal(recs[i])
					if err != nil {
						return err
					}
					if _, err := fmt.Fprintf(out, "%s\n", line); err != nil {
						return err
					}
				}
				return nil
			}
			text, err := prettyBodies(recs)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if isTerminal(out) {
				text = tui.Sanitize(text) // bodies from a tape file are untrusted
			}
			_, err = io.WriteString(out, text)
			return err
		},
	}
	cmd.Flags().BoolVar(&asTape, "json", false, "print the records as tape lines (JSON Lines)")
	return cmd
}

// prettyBodies indents one body, or a list of bodies.
func prettyBodies(recs []fixtures.Record) (string, error) {
	var doc []byte
	if len(recs) == 1 {
		doc = recs[0].Body
	} else {
		var buf bytes.Buffer
		buf.WriteByte('[')
		for i, r := range recs {
			if i > 0 {
				buf.WriteByte(',')
			}
			body := bytes.TrimSpace(r.Body)
			if !json.Valid(body) {
				return "", fmt.Errorf("event %d (seq %d) is not JSON", i+1, r.Seq)
			}
			buf.Write(body)
		}
		buf.WriteByte(']')
		doc = buf.Bytes()
	}
	var out bytes.Buffer
	if err := json.Indent(&out, bytes.TrimSpace(doc), "", "  "); err != nil {
		return "", fmt.Errorf("body is not JSON: %w", err)
	}
	out.WriteByte('\n')
	return out.String(), nil
}

// printFixtureList prints the fixtures grouped by kind, in catalog order.
func printFixtureList(w io.Writer, list []fixtures.Fixture) error {
	var kinds []string
	byKind := map[string][]fixtures.Fixture{}
	for _, fx := range list {
		if _, ok := byKind[fx.Kind]; !ok {
			kinds = append(kinds, fx.Kind)
		}
		byKind[fx.Kind] = append(byKind[fx.Kind], fx)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for i, k := range kinds {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		fmt.Fprintln(tw, kindHeading(k))
		for _, fx := range byKind[k] {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", fx.Name, fx.Type, fx.Description)
		}
	}
	return tw.Flush()
}

func kindHeading(kind string) string {
	switch kind {
	case "event":
		return "EVENTS (vapimon send NAME)"
	case "scenario":
		return "SCENARIOS (vapimon replay NAME --to URL)"
	}
	return kind
}
