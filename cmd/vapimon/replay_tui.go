package main

import (
	"errors"

	"github.com/spf13/cobra"
	"github.com/vapimon/vapimon/fixtures"
)

// replayInTUI opens the monitor over a tape offline, as if its calls were happening now:
// `vapimon replay TAPE` without --to.
//
// TODO(lead/TUI): feed recs to the TUI (without a listener) instead of this error. The
// records are already resolved (fixture, scenario or tape file) and warnings printed; they
// are not freshened.
func replayInTUI(cmd *cobra.Command, recs []fixtures.Record) error {
	_, _ = cmd, recs
	return errors.New("replay: --to URL is required (the offline TUI replay is coming)")
}
