package tui

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/vapimon/vapimon/tui/sanitize"
	"github.com/vapimon/vapimon/webhook"
)

// fwdOK reports whether an exchange with the developer's server went well: no failure,
// and a 2xx reply that vapimon could use.
func fwdOK(h *webhook.ForwardHealth) bool {
	return h.Failure == webhook.ForwardOK && h.Err == "" && h.Status >= 200 && h.Status < 300
}

// fwdShortErr is a few words for what went wrong with a forward ("refused", "timed out",
// "HTTP 500", "unusable reply"), for rows and the status bar, from the kind of failure the
// forwarder reported. The detail view has the whole message.
func fwdShortErr(h *webhook.ForwardHealth) string {
	switch h.Failure {
	case webhook.ForwardRefused:
		return "refused"
	case webhook.ForwardTimeout:
		return "timed out"
	case webhook.ForwardClosed:
		return "connection closed"
	case webhook.ForwardRedirect:
		return fmt.Sprintf("HTTP %d redirect", h.Status)
	case webhook.ForwardTooLarge:
		return "reply too large"
	case webhook.ForwardUnusable:
		return "unusable reply"
	case webhook.ForwardBusy:
		return "busy: not forwarded"
	case webhook.ForwardDNS:
		return "unknown host"
	}
	// ForwardStatus, ForwardOther, or a report without a kind.
	if h.Status != 0 && (h.Status < 200 || h.Status >= 300) {
		return fmt.Sprintf("HTTP %d", h.Status)
	}
	return "failed"
}

// fwdTag is an event row's forward result: "✓ your server 200 3ms" or "✗ your server:
// refused".
func fwdTag(st *Styles, h *webhook.ForwardHealth) string {
	if fwdOK(h) {
		return st.OK.Render(fmt.Sprintf("✓ your server %d %s", h.Status, fmtLatency(h.Latency)))
	}
	return st.Err.Render("✗ your server: " + fwdShortErr(h))
}

// rowFwdTag is a request's forward result: from the forwarder's report when there is one,
// else from the reply's ForwardFailed (an offline replay has no forward reports, and a
// dropped screen update loses one), "" when the request was not forwarded.
func rowFwdTag(st *Styles, r *eventRow) string {
	switch {
	case r.fwd != nil:
		return fwdTag(st, r.fwd)
	case r.out != nil && r.out.Reply.ForwardFailed != "":
		return st.Err.Render("✗ your server: " + sanitize.Line(r.out.Reply.ForwardFailed, 40))
	}
	return ""
}

// shortTarget shortens a forward URL for the status bar: a loopback host is dropped
// (":3999/hook"), other hosts keep their name; the scheme goes.
func shortTarget(target string) string {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return sanitize.Line(target, 40)
	}
	host := u.Hostname()
	out := u.Host
	switch host {
	case "127.0.0.1", "localhost", "::1", "0.0.0.0":
		out = ":" + u.Port()
		if u.Port() == "" {
			out = host
		}
	}
	if p := strings.TrimSuffix(u.Path, "/"); p != "" {
		out += p
	}
	return sanitize.Line(out, 40)
}

// noteHealth records a forward exchange: the status bar shows the latest (with how many
// times in a row the same failure happened) and the event's row its own result.
func (m *Model) noteHealth(h webhook.ForwardHealth) {
	h.Target = sanitize.Line(h.Target, 300)
	h.Err = sanitize.Line(h.Err, 1000)
	prev := m.health
	switch {
	case fwdOK(&h):
		m.fwdRepeat = 0
	case !prev.At.IsZero() && !fwdOK(&prev) && fwdShortErr(&prev) == fwdShortErr(&h):
		m.fwdRepeat++
	default:
		m.fwdRepeat = 1
	}
	m.health = h
	if h.Seq != 0 {
		if row := m.events.bySeq.get(h.Seq); row != nil {
			hh := h
			row.fwd = &hh
		}
	}
}

// fwdStatus is the status bar's forward item: "fwd :3999 ✓ 200 3ms" or
// "fwd :3999 ✗ refused 3×".
func (m *Model) fwdStatus() string {
	st := &m.styles
	target := m.status.Forward
	if m.health.Target != "" && !strings.Contains(target, ",") {
		target = m.health.Target
	}
	out := st.StatusVal.Render(shortTarget(target))
	h := &m.health
	switch {
	case h.At.IsZero():
	case fwdOK(h):
		out += st.OK.Render(fmt.Sprintf(" ✓ %d %s", h.Status, fmtLatency(h.Latency)))
	default:
		s := " ✗ " + fwdShortErr(h)
		if m.fwdRepeat > 1 {
			s += fmt.Sprintf(" %d×", m.fwdRepeat)
		}
		out += st.Err.Render(s)
	}
	return out
}

// fwdFailLine is a prompt's line about your server's failed answer: "your server: HTTP
// 200 ✗ unusable reply: …", "your server: no reply ✗ no reply from … within 9.3s"; a
// status failure's text names its status already ("your server ✗ HTTP 500 from …").
func fwdFailLine(h *webhook.ForwardHealth) string {
	what := "no reply"
	if h.Status != 0 {
		what = fmt.Sprintf("HTTP %d", h.Status)
	}
	switch {
	case h.Err == "":
		return "your server: " + what
	case h.Failure == webhook.ForwardStatus:
		return "your server ✗ " + h.Err
	}
	return "your server: " + what + " ✗ " + h.Err
}
