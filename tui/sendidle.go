package tui

import (
	"strings"
	"time"

	"github.com/vapimon/vapimon/webhook"
)

// DefaultCallIdle is --call-idle's default: how long a call started by vapimon send or
// replay may go without events before the monitor shows it as ended.
const DefaultCallIdle = time.Minute

// fromVapimon reports whether a request was sent by vapimon itself (send, replay, the
// demo, a resend): its User-Agent is vapimon's.
func fromVapimon(ev *webhook.Event) bool {
	return strings.HasPrefix(ev.Header.Get("User-Agent"), "vapimon/")
}

// noteSender remembers whether every request of a call so far came from vapimon: such a
// call (one `vapimon send`, a replay cut short) never gets an end-of-call-report, and
// ends after Options.CallIdle instead of staying live for ever.
func (c *call) noteSender(ev *webhook.Event, first bool) {
	c.bySend = fromVapimon(ev) && (first || c.bySend)
}

// endIdleSent ends the live calls started by vapimon that have had no event for
// Options.CallIdle (zero: never).
func (m *Model) endIdleSent(now time.Time) {
	d := m.opts.CallIdle
	if d <= 0 {
		return
	}
	for _, c := range m.calls.byID {
		if c.bySend && c.live() && now.Sub(c.last) >= d {
			c.markEnded(c.last, "idle "+d.String()+": sent by vapimon, no end-of-call-report")
			m.calls.dirty = true
		}
	}
}
