package main

import "github.com/spf13/cobra"

// extraCommands returns the fixture and replay commands (send, replay, fixtures).
func extraCommands() []*cobra.Command {
	return []*cobra.Command{
		newSendCmd(),
		newReplayCmd(),
		newFixturesCmd(),
		newControlCmd(),
		newSimulateCmd(),
		newTapesCmd(),
		newSecretCmd(),
	}
}
