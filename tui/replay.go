package tui

import (
	"context"

	"github.com/vapimon/vapimon/fixtures"
)

// The offline player lives in fixtures with the rest of the tape (it needs no terminal);
// PlayerControl is how the monitor drives one.

// PlayerControl returns the ReplayControl that lets the monitor's keys drive p, an offline
// replay of source (the tape path or scenario name, for the status bar).
func PlayerControl(p *fixtures.Player, source string) *ReplayControl {
	return &ReplayControl{
		Source:      source,
		TogglePause: p.TogglePause,
		Step:        p.Step,
		Speed:       p.Speed,
		Progress:    p.Progress,
		Recorded:    p.Recorded,
		Start:       func(ctx context.Context) { _ = p.Run(ctx) },
	}
}

// sourceNoReply is the Reply.Source of the outcome the player publishes for a request
// recorded without its reply; noReplyRecorded is how the monitor shows it.
const (
	sourceNoReply   = fixtures.SourceNoReply
	noReplyRecorded = "no reply recorded"
)
