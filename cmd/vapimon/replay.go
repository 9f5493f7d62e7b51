package main

import (
	"errors"
	"os"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/fixtures/report"
	"github.com/vapimon/vapimon/relay"
	"github.com/vapimon/vapimon/tui"
)

// replayFlags are the flags of `vapimon replay`.
type replayFlags struct {
	auth    authFlags
	to      string
	speed   float64
	instant bool
	keep    bool
	compare bool
	timeout time.Duration
	json    bool
	strict  bool
	// includeRejected sends the requests that were rejected when recorded.
	includeRejected bool
	// audio is --play and --player for the offline monitor (no --to).
	audio relay.AudioConfig
}

func newReplayCmd() *cobra.Command {
	f := &replayFlags{}
	cmd := &cobra.Command{
		Use:   "replay TAPE|SCENARIO",
		Short: "Replay a recorded tape or a built-in scenario to a server",
		Long: `Send every request of a tape (a recording made by "vapimon listen") or of a built-in
scenario to --to, in order and at the recorded pacing (--speed 4 is four times faster,
--instant does not wait), signed as Vapi would sign them for --auth. A progress bar shows
while it runs; then a summary: requests sent, 2xx replies, failures, and replies Vapi would
not accept (Vapi's response schemas and vapimon's own rules, as in "vapimon send").
--compare also compares each reply with the recorded one: any difference fails the run
(the summary counts and lists them, "3 replies differ"). A reply Vapi can use that is
still worth a look (HTTP 201, every tool result an error, an assistant-request or transfer
answered with an error...) is marked ⚠; --strict fails on it.

Each request waits its recorded gap after the previous reply came in, so a slow reply
delays the rest of the call instead of causing a burst. Requests that were rejected when
recorded (a bad signature, a body that was not JSON) are skipped; --include-rejected sends
them, and one that gets its recorded status again counts as "as recorded".

Call ids, tool-call ids and timestamps are made fresh unless --keep is given; with --keep
every body is sent byte for byte as recorded. The exit status is 1 when anything failed,
so a replay can run in CI.`,
		Example: `  vapimon replay inbound-call --to http://localhost:3000/vapi
  vapimon replay ~/.local/state/vapimon/tapes/2026-11-29T14-33-27.jsonl --to http://localhost:3000/vapi --instant --compare
  vapimon replay transfer --to https://example.com/vapi --secret "$VAPI_SECRET" --speed 4`,
		Args:              oneFixtureArg("replay needs a tape, scenario or fixture name, e.g. vapimon replay inbound-call --to URL (vapimon fixtures lists them)"),
		ValidArgsFunction: completeFixtureNames(""),
		RunE:              func(cmd *cobra.Command, args []string) error { return runReplay(cmd, f, args[0]) },
	}
	fs := cmd.Flags()
	fs.StringVar(&f.to, "to", "", "URL to send every request to, used as given (http:// is added when there is no scheme)")
	fs.Float64Var(&f.speed, "speed", 1, "pacing: 1 keeps the recorded gaps, 4 is four times faster")
	fs.BoolVar(&f.instant, "instant", false, "send each request as soon as the previous reply is in")
	fs.BoolVar(&f.keep, "keep", false, "send bodies byte for byte as recorded: no fresh ids or timestamps")
	fs.BoolVar(&f.compare, "compare", false, "compare each reply with the recorded one and show the differences; any difference fails the run")
	fs.DurationVar(&f.timeout, "timeout", fixtures.DefaultSendTimeout, "give up on each reply after this long")
	fs.BoolVar(&f.json, "json", false, "print one JSON line per request and a summary line")
	fs.BoolVar(&f.strict, "strict", false, "fail also on replies Vapi can use that have a warning (⚠)")
	fs.BoolVar(&f.includeRejected, "include-rejected", false, "also send the requests that were rejected when recorded")
	fs.BoolVar(&f.audio.Play, "play", false, "without --to: play the calls' recorded audio (vapimon listen --listen) in step with the replay, through a player on PATH")
	fs.StringVar(&f.audio.Player, "player", "", "without --to: player command reading raw 16-bit PCM on stdin ({rate} {channels} {layout} replaced; implies --play)")
	f.auth.register(cmd)
	return cmd
}

func runReplay(cmd *cobra.Command, f *replayFlags, arg string) error {
	if err := fixtures.CheckSpeed(f.speed); err != nil {
		return err
	}
	stream, src, closeTape, err := report.Open(cmd.ErrOrStderr(), arg)
	if err != nil {
		return err
	}
	defer closeTape()
	if f.to == "" { // the monitor over the tape, offline
		if !term.IsTerminal(os.Stdout.Fd()) {
			return errors.New("replay: without --to, replay opens the monitor, which needs a terminal; to send the tape to a server, pass --to URL")
		}
		// The calls' recorded audio (vapimon listen --listen) plays in step with the events.
		return tui.RunReplay(cmd.Context(), stream.Counts, src, arg, relay.OfflineAudio(arg, f.audio, cmd.ErrOrStderr()))
	}
	if f.audio.Play || f.audio.Player != "" {
		return errors.New("--play and --player play a tape's recorded audio in the offline monitor: drop --to (a server gets the requests, not the audio)")
	}
	to, err := fixtures.NormalizeTarget(f.to)
	if err != nil {
		return err
	}
	auth, err := f.auth.config()
	if err != nil {
		return err
	}
	failed, err := report.ReplayTo(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), src, stream.Counts, report.ReplayOptions{
		To: to, Auth: auth, Speed: f.speed, Instant: f.instant, Compare: f.compare, IncludeRejected: f.includeRejected,
		Keep: f.keep, Timeout: f.timeout, JSON: f.json, Strict: f.strict, UserAgent: userAgent(),
	})
	if err == nil && failed {
		err = exitError{code: 1}
	}
	return err
}
