package main

import (
	"context"
	"errors"
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
	runErr := runMonitor(ctx, s, opts, op)
	if err := s.shutdown(); err != nil && runErr == nil {
		runErr = err
	}
	// The terminal may be gone (that may be why we are here): a write that fails or hangs
	// must not hold up the exit.
	if msg := exitMessage(ctx, op); msg != "" {
		tryWrite(stderr, msg+"\n")
	}
	if sum := s.tapeSummary(true); sum != "" {
		tryWrite(stderr, sum+"\n")
	}
	return runErr
}

// exitMessage says, after the TUI, what ended it when it was a signal, and what became of
// the requests that were still waiting for the operator ("" when there is nothing to say).
func exitMessage(ctx context.Context, op *tui.Operator) string {
	var parts []string
	if ctx.Err() != nil {
		parts = append(parts, stopReason(ctx)+": shut down")
	}
	if n := op.Released(); n > 0 {
		parts = append(parts, fmt.Sprintf("%s waiting for you got the fallback reply", count(uint64(n), "request")))
	}
	if len(parts) == 0 {
		return ""
	}
	return "vapimon: " + strings.Join(parts, "; ")
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
		Theme:     s.cfg.theme,
	}
}

var _ webhook.Responder = (*tui.Operator)(nil)
