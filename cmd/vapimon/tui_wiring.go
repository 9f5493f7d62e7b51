package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vapimon/vapimon/tui"
	"github.com/vapimon/vapimon/webhook"
)

// runTUI runs the interactive monitor over a listening session. The operator is the last
// responder before the fallback: forwarding and the answers file are asked first.
func runTUI(ctx context.Context, f *listenFlags, stderr io.Writer) error {
	op := tui.NewOperator()
	s, err := startSession(ctx, f, stderr, op)
	if err != nil {
		return err
	}
	opts := tuiOptions(s)
	wireIntercept(s, op, &opts)
	go func() {
		// The TUI does not read serveErr itself: say on screen if the server stops.
		if err := <-s.serveErr; err != nil {
			s.bus.Publish(webhook.Notice{Time: time.Now(), Level: "error", Text: "the HTTP server stopped: " + err.Error() + " (restart vapimon)"})
		}
	}()
	runErr := tui.Run(ctx, opts, op)
	if err := s.shutdown(); err != nil && runErr == nil {
		runErr = err
	}
	if s.tape != nil {
		fmt.Fprintf(stderr, "vapimon: tape saved: %s (replay it with: vapimon replay %s)\n", s.tape.Path(), s.tape.Path())
	}
	return runErr
}

func tuiOptions(s *session) tui.Options {
	st := s.status.get()
	for _, w := range s.warnings {
		st.TunnelNote = strings.TrimSpace(st.TunnelNote + " · warning: " + w)
	}
	return tui.Options{
		Bus:     s.bus,
		Status:  st,
		Suggest: s.answers.Suggest, // fills {{arg}} templates from the call's arguments
		Assistants: func() []tui.Assistant {
			var out []tui.Assistant
			for _, a := range s.answers.Assistants() {
				out = append(out, tui.Assistant{ID: a.ID, Name: a.Name})
			}
			return out
		},
		KeepCalls: s.cfg.keepCalls,
	}
}

var _ webhook.Responder = (*tui.Operator)(nil)
