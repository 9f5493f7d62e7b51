package main

import (
	"github.com/vapimon/vapimon/relay"
	"github.com/vapimon/vapimon/tui"
)

// wireIntercept connects --intercept and the TUI's toggle key to the forwarder: while on,
// every reply the developer's server gives to a message that expects one is shown to the
// operator (op) before it goes to Vapi. Without --forward-to there is nothing to intercept
// and opts is left as is (no key, nothing in the status bar).
func wireIntercept(s *session, op *tui.Operator, opts *tui.Options) {
	if s.forward == nil || op == nil {
		return
	}
	fwd := s.forward
	opts.SetIntercept = func(on bool) {
		if on {
			fwd.SetIntercept(op.Intercept)
		} else {
			fwd.SetIntercept(nil)
		}
	}
	opts.Intercept = s.cfg.tunnel.intercept
	opts.SetIntercept(opts.Intercept)
}

var _ relay.InterceptFunc = (*tui.Operator)(nil).Intercept
