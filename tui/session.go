package tui

import (
	"context"
	"fmt"
	"strings"

	"github.com/vapimon/vapimon/relay/listen"
	"github.com/vapimon/vapimon/webhook"
)

// Session is what the monitor needs of a listening session (relay.Session): where events
// come from, the status, the answers file's suggestions, the intercept switch and live-call
// control.
type Session interface {
	Bus() *webhook.Bus
	Status() webhook.Status
	Answers() *webhook.Answers
	Forwarding() bool
	SetIntercepting(on bool)
	Intercepting() bool
	Control(ctx context.Context, callID, controlURL string, c webhook.Control) webhook.ControlResult
	// Listen is the session's live listening (the l, P, m, M, [ and ] keys); nil for none.
	Listen() *listen.Manager
}

// SessionOptions returns opts with what comes from a started session s: its bus, status
// and live-call control, suggestions and assistants from its answers file, and the
// intercept key when it forwards (without your server there is nothing to intercept).
func SessionOptions(s Session, opts Options) Options {
	opts.Bus, opts.Status, opts.Control = s.Bus(), s.Status(), s.Control
	opts.Suggest = s.Answers().Suggest // fills {{arg}} templates from the call's arguments
	opts.Assistants = func() []Assistant {
		var out []Assistant
		for _, a := range s.Answers().Assistants() {
			out = append(out, Assistant{ID: a.ID, Name: a.Name})
		}
		return out
	}
	if s.Forwarding() {
		opts.SetIntercept, opts.Intercept = s.SetIntercepting, s.Intercepting()
	}
	if m := s.Listen(); m != nil {
		opts.Audio = m
	}
	return opts
}

// ExitMessage is what vapimon says once the monitor has closed: what stopped it (stopped,
// e.g. "SIGINT", when a signal did; "" otherwise) and what became of the requests that
// were still waiting for the operator; "" when there is nothing to say.
func (o *Operator) ExitMessage(stopped string) string {
	var parts []string
	if stopped != "" {
		parts = append(parts, stopped+": shut down")
	}
	if n := o.Released(); n > 0 {
		parts = append(parts, fmt.Sprintf("%s waiting for you got the fallback reply", webhook.Count(uint64(n), "request")))
	}
	if n := o.typedAhead(); n > 0 {
		parts = append(parts, fmt.Sprintf("%s typed ahead while your server was asked: sent if it fails", webhook.Count(uint64(n), "answer")))
	}
	if n := o.ReleasedHeld(); n > 0 {
		parts = append(parts, fmt.Sprintf("%s held for your review went out as your server sent %s", webhook.Count(uint64(n), "reply"), map[bool]string{true: "it", false: "them"}[n == 1]))
	}
	if len(parts) == 0 {
		return ""
	}
	return "vapimon: " + strings.Join(parts, "; ")
}
