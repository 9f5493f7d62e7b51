package main

import (
	"context"
	"os"

	"github.com/vapimon/vapimon/relay"
	"github.com/vapimon/vapimon/tui"
	"github.com/vapimon/vapimon/webhook"
)

// runTUI runs the interactive monitor over a session. The operator is the last responder
// before the fallback: forwarding and the answers file are asked first. feed, when not
// nil, runs beside the monitor once the session listens (the demo's player) and must
// return when its context ends.
func runTUI(ctx context.Context, cfg relay.Config, opts tui.Options, feed func(context.Context, *relay.Session)) error {
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
	opts = tui.SessionOptions(s, opts)
	editor := os.Getenv("VISUAL")
	if editor == "" {
		editor = os.Getenv("EDITOR")
	}
	opts.Inspect = &tui.Inspect{URL: s.Status().ListenURL, Auth: cfg.Auth, UserAgent: userAgent(), Editor: editor}
	err := s.RunFront(ctx, func(ctx context.Context) error { return tui.Run(ctx, opts, op) }, feed)
	// The terminal may be gone (that may be why we are here): a write that fails or hangs
	// must not hold up the exit.
	stopped := ""
	if ctx.Err() != nil {
		stopped = relay.StopReason(ctx)
	}
	if msg := op.ExitMessage(stopped); msg != "" {
		relay.TryWrite(cfg.Stderr, msg+"\n")
	}
	if sum := s.TapeSummary(true); sum != "" {
		relay.TryWrite(cfg.Stderr, sum+"\n")
	}
	return err
}

var _ webhook.Responder = (*tui.Operator)(nil)
