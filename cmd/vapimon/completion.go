package main

import (
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

// completeFixtureNames offers the built-in fixtures and scenarios, with their descriptions,
// and falls back to file names.
func completeFixtureNames(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return fixtures.Completions("", toComplete), cobra.ShellCompDirectiveDefault
}
