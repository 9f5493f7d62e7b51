package relay

import (
	"context"
	"fmt"
	"io"
)

// RunHeadless runs a session headless (`vapimon listen --headless`): it prints the
// session as JSON lines on stdout until ctx ends (a signal, see WatchSignals) or the server
// fails, then shuts it down, hurrying when HurryOf(ctx) says so, and says what the tape
// holds on cfg.Stderr.
func RunHeadless(ctx context.Context, cfg Config, stdout io.Writer) error {
	s := NewSession(cfg)
	if err := s.Start(ctx); err != nil {
		return err
	}
	s.StreamJSON(stdout)
	err := s.Wait(ctx)
	if ctx.Err() != nil {
		TryWrite(cfg.Stderr, fmt.Sprintf("vapimon: %s: shutting down: replies from your server get up to %s, then every request still waiting gets its fallback (Ctrl-C again: at once)\n", StopReason(ctx), ShutdownGrace))
	}
	if serr := s.Shutdown(HurryOf(ctx)); err == nil {
		err = serr
	}
	if sum := s.TapeSummary(false); sum != "" {
		TryWrite(cfg.Stderr, sum+"\n")
	}
	return err
}
