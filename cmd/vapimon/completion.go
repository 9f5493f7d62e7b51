package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/vapimon/vapimon/fixtures"
)

// fixedCompletion completes a flag from a fixed list of values.
func fixedCompletion(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// fixtureCompletion completes built-in fixture names of the given kind ("" for all).
func fixtureCompletion(kind string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return fixtures.Completions(kind, ""), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeFixtureNames offers the built-in fixtures of kind ("" for every kind), with
// their descriptions, and the newest tape, and falls back to file names.
func completeFixtureNames(kind string) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		out := fixtures.Completions(kind, toComplete)
		if kind != fixtures.KindEvent && strings.HasPrefix(fixtures.LastTape, toComplete) {
			out = append(out, fixtures.LastTape+"\tthe newest tape (vapimon tapes)")
		}
		return out, cobra.ShellCompDirectiveDefault
	}
}
