package main

import (
	"context"
	"errors"
	"os"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/relay"
	"github.com/vapimon/vapimon/tui"
	"github.com/vapimon/vapimon/webhook"
)

// replayInTUI opens the monitor over a tape offline, as if its calls were happening now:
// `vapimon replay TAPE` without --to. Nothing is sent anywhere; the recorded replies are
// shown as they were. p pauses, n steps, + and - change the speed. The tape is read as it
// plays, so memory stays flat whatever its size.
func replayInTUI(cmd *cobra.Command, counts fixtures.TapeCounts, src fixtures.RecordSource, source string, audio relay.AudioConfig) error {
	if !term.IsTerminal(os.Stdout.Fd()) {
		return errors.New("replay: without --to, replay opens the monitor, which needs a terminal; to send the tape to a server, pass --to URL")
	}
	bus := webhook.NewBus()
	p := fixtures.NewPlayer(bus, fixtures.PlayRecords(src), counts.Records)
	opts := tui.Options{Bus: bus, Replay: tui.PlayerControl(p, source), Status: fixtures.OfflineStatus(source, counts)}
	// The calls' recorded audio (vapimon listen --listen) plays in step with the events.
	if am, play := relay.OfflineAudio(source, bus, p.Clock, audio, cmd.ErrOrStderr()); am != nil {
		opts.Audio = am
		ctx, cancel := context.WithCancel(cmd.Context())
		done := make(chan struct{})
		go func() { defer close(done); play(ctx) }()
		defer func() { cancel(); <-done }()
	}
	return tui.Run(cmd.Context(), opts, nil)
}
