package main

import (
	"fmt"
	"os"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/tui"
	"github.com/vapimon/vapimon/webhook"
)

// replayInTUI opens the monitor over a tape offline, as if its calls were happening now:
// `vapimon replay TAPE` without --to. Nothing is sent anywhere; the recorded replies are
// shown as they were. p pauses, n steps, + and - change the speed. The tape is read as it
// plays, so memory stays flat whatever its size.
func replayInTUI(cmd *cobra.Command, stream *fixtures.Stream, source string) error {
	if !term.IsTerminal(os.Stdout.Fd()) {
		return fmt.Errorf("replay: without --to, replay opens the monitor, which needs a terminal; to send the tape to a server, pass --to URL")
	}
	src, closeTape, err := stream.Open()
	if err != nil {
		return err
	}
	defer closeTape()
	bus := webhook.NewBus()
	p := tui.NewStreamPlayer(bus, replaySource(src), stream.Counts.Records, source)
	opts := tui.Options{
		Bus:    bus,
		Replay: p.Control(),
		Status: webhook.Status{Tunnel: "off", TunnelNote: "offline replay: nothing is sent anywhere", Tape: source},
	}
	return tui.Run(cmd.Context(), opts, nil)
}

// replaySource turns tape records into the player's items as it reads them.
func replaySource(src fixtures.RecordSource) tui.ReplaySource {
	return func() (tui.ReplayItem, error) {
		rec, err := src.Next()
		if err != nil {
			return tui.ReplayItem{}, err
		}
		return replayItem(rec), nil
	}
}

// replayItem turns a tape record back into the event and outcome the handler published.
func replayItem(rec fixtures.Record) tui.ReplayItem {
	ev := &webhook.Event{
		Seq: rec.Seq, Received: rec.Time, Method: rec.Method, Path: rec.Path,
		Header: rec.Header, Body: rec.Body, Verified: rec.Verified,
		AuthMode: webhook.AuthMode(rec.Auth), Rejected: rec.Rejected, Status: rec.Status,
	}
	if ev.Method == "" {
		ev.Method = "POST"
	}
	if ev.Rejected == "" {
		if msg, err := webhook.Parse(rec.Body); err == nil {
			ev.Msg = msg
			if d := webhook.Timing(msg, ev.Received, webhook.DefaultToolTimeout); d.Budget > 0 {
				ev.VapiDeadline, ev.Deadline, ev.BudgetSource = d.Vapi, d.Send, d.Source
			}
		} else {
			ev.Rejected, ev.Status = err.Error(), 400
		}
	}
	item := tui.ReplayItem{Event: ev, NoReply: rec.NoReply}
	if r := rec.Reply; r != nil {
		item.Outcome = &webhook.Outcome{
			Seq:      rec.Seq,
			Reply:    webhook.Reply{Status: r.Status, Header: r.Header, Body: r.Body, Source: r.Source, Note: r.Note},
			Latency:  time.Duration(r.LatencyMs * float64(time.Millisecond)),
			Attempts: r.Attempts,
			WriteErr: r.WriteErr,
		}
	}
	return item
}
