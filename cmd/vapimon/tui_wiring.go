package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/vapimon/vapimon/relay"
	"github.com/vapimon/vapimon/tui"
	"github.com/vapimon/vapimon/webhook"
)

// runTUI runs the interactive monitor over a session. The operator is the last responder
// before the fallback: forwarding and the answers file are asked first. feed, when not
// nil, runs beside the monitor once the session listens (the demo's player) and must
// return when its context ends.
func runTUI(ctx context.Context, cfg relay.Config, keepCalls int, theme tui.Theme, feed func(context.Context, *relay.Session)) error {
	op := tui.NewOperator()
	cfg.Operator, cfg.Interceptor = op, op.Intercept
	cfg.Audio.Quiet = true // the meter shows each call's listen state
	if cfg.Control == nil {
		cfg.Control = relay.NewControlClientFromEnv()
	}
	s := relay.NewSession(cfg)
	if err := s.Start(ctx); err != nil {
		return err
	}
	opts := tui.Options{
		Bus:     s.Bus(),
		Status:  s.Status(),
		Suggest: s.Answers().Suggest, // fills {{arg}} templates from the call's arguments
		Assistants: func() []tui.Assistant {
			var out []tui.Assistant
			for _, a := range s.Answers().Assistants() {
				out = append(out, tui.Assistant{ID: a.ID, Name: a.Name})
			}
			return out
		},
		KeepCalls: keepCalls,
		Theme:     theme,
		Audio:     s.Listen(),
		Control:   s.Control,
	}
	if s.Forwarding() { // without your server there is nothing to intercept: no key for it
		opts.SetIntercept, opts.Intercept = s.SetIntercepting, s.Intercepting()
	}
	feedCtx, stopFeed := context.WithCancel(ctx)
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		defer s.RecoverPanic("demo player")
		if feed != nil {
			feed(feedCtx, s)
		}
	}()
	err := s.RunUI(ctx, func(ctx context.Context) error { return tui.Run(ctx, opts, op) })
	stopFeed()
	<-fed
	if serr := s.Shutdown(hurryOf(ctx)); err == nil {
		err = serr
	}
	// The terminal may be gone (that may be why we are here): a write that fails or hangs
	// must not hold up the exit.
	if msg := exitMessage(ctx, op); msg != "" {
		tryWrite(cfg.Stderr, msg+"\n")
	}
	if sum := s.TapeSummary(true); sum != "" {
		tryWrite(cfg.Stderr, sum+"\n")
	}
	return err
}

// exitMessage says, after the TUI, what ended it when it was a signal, and what became of
// the requests that were still waiting for the operator ("" when there is nothing to say).
func exitMessage(ctx context.Context, op *tui.Operator) string {
	var parts []string
	if ctx.Err() != nil {
		parts = append(parts, stopReason(ctx)+": shut down")
	}
	if n := op.Released(); n > 0 {
		parts = append(parts, fmt.Sprintf("%s waiting for you got the fallback reply", relay.Count(uint64(n), "request")))
	}
	if n := op.ReleasedHeld(); n > 0 {
		parts = append(parts, fmt.Sprintf("%s held for your review went out as your server sent %s", relay.Count(uint64(n), "reply"), map[bool]string{true: "it", false: "them"}[n == 1]))
	}
	if len(parts) == 0 {
		return ""
	}
	return "vapimon: " + strings.Join(parts, "; ")
}

var _ webhook.Responder = (*tui.Operator)(nil)
