package tui

import (
	"context"

	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/webhook"
)

// The offline player lives in fixtures with the rest of the tape (it needs no terminal).
// PlayerControl is how the monitor drives one; the other names below are a thin shim that
// keeps the monitor's tests as they were, to be replaced by fixtures' names.

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

// ReplayItem is fixtures.PlayItem (shim).
type ReplayItem = fixtures.PlayItem

// ReplaySource is fixtures.PlaySource (shim).
type ReplaySource = fixtures.PlaySource

// Player is a fixtures.Player with the name of what it plays (shim).
type Player struct {
	*fixtures.Player
	source string
}

// NewPlayer is fixtures.NewPlayerOf (shim).
func NewPlayer(bus *webhook.Bus, items []ReplayItem, source string) *Player {
	return &Player{fixtures.NewPlayerOf(bus, items), source}
}

// NewStreamPlayer is fixtures.NewPlayer (shim).
func NewStreamPlayer(bus *webhook.Bus, src ReplaySource, total int, source string) *Player {
	return &Player{fixtures.NewPlayer(bus, src, total), source}
}

// Control is PlayerControl (shim).
func (p *Player) Control() *ReplayControl { return PlayerControl(p.Player, p.source) }
