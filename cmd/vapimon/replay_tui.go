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
// shown as they were. p pauses, n steps, + and - change the speed.
func replayInTUI(cmd *cobra.Command, recs []fixtures.Record, source string) error {
	if !term.IsTerminal(os.Stdout.Fd()) {
		return fmt.Errorf("replay: without --to, replay opens the monitor, which needs a terminal; to send the tape to a server, pass --to URL")
	}
	bus := webhook.NewBus()
	p := tui.NewPlayer(bus, replayItems(recs), source)
	opts := tui.Options{
		Bus:    bus,
		Replay: p.Control(),
		Status: webhook.Status{Tunnel: "off", TunnelNote: "offline replay: nothing is sent anywhere", Tape: source},
	}
	return tui.Run(cmd.Context(), opts, nil)
}

// replayItems turns tape records back into the events and outcomes the handler published.
func replayItems(recs []fixtures.Record) []tui.ReplayItem {
	items := make([]tui.ReplayItem, 0, len(recs))
	for _, rec := range recs {
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
				if b := webhook.Budget(msg.Kind, webhook.DefaultToolTimeout); b > 0 {
					ev.VapiDeadline = ev.Received.Add(b)
					ev.Deadline = ev.VapiDeadline.Add(-webhook.SafetyMargin(b))
				}
			} else {
				ev.Rejected, ev.Status = err.Error(), 400
			}
		}
		item := tui.ReplayItem{Event: ev}
		if r := rec.Reply; r != nil {
			item.Outcome = &webhook.Outcome{
				Seq:      rec.Seq,
				Reply:    webhook.Reply{Status: r.Status, Header: r.Header, Body: r.Body, Source: r.Source, Note: r.Note},
				Latency:  time.Duration(r.LatencyMs * float64(time.Millisecond)),
				Attempts: r.Attempts,
				WriteErr: r.WriteErr,
			}
		}
		items = append(items, item)
	}
	return items
}
