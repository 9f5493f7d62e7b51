package main

import (
	"context"
	"errors"
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
	runErr := runMonitor(ctx, s, opts, op)
	if err := s.shutdown(); err != nil && runErr == nil {
		runErr = err
	}
	if sum := s.tapeSummary(true); sum != "" {
		// The terminal may be gone (that may be why we are here): a write that fails or
		// hangs must not hold up the exit.
		tryWrite(stderr, sum+"\n")
	}
	return runErr
}

// runMonitor runs the TUI until the operator quits, the terminal closes or a signal comes.
// Once a signal came, it waits at most tuiStopWait for the TUI to give the terminal back:
// the operator's prompts are released at the signal (tui.Run does that first), and a
// terminal that takes no more output must not keep the callers waiting for the shutdown.
func runMonitor(ctx context.Context, s *session, opts tui.Options, op *tui.Operator) error {
	done := make(chan error, 1)
	go func() {
		err := errors.New("the monitor stopped unexpectedly (details in the log file)")
		defer func() { done <- err }()
		defer s.recoverPanic("monitor")
		err = tui.Run(ctx, opts, op)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	select {
	case err := <-done:
		return err
	case <-time.After(tuiStopWait):
		s.log.Warn("the monitor did not give the terminal back in time: shutting down without it", "wait", tuiStopWait)
		return nil
	}
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
