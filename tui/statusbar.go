package tui

import (
	"fmt"
	"path/filepath"

	"strings"

	"github.com/vapimon/vapimon/tui/sanitize"
	"github.com/vapimon/vapimon/webhook"
)

// statusLines draws the two status lines: where to point Vapi, and the counters.
func (m *Model) statusLines(w int) []string {
	st := &m.styles
	s := m.status
	clean := func(v string) string { return sanitize.Line(v, 300) }
	sep := st.Dim.Render(" · ")

	// Line 1: the URL to paste into Vapi, and the tunnel.
	var b strings.Builder
	b.WriteString(st.TitleFocus.Render(" vapimon "))
	if r := m.opts.Replay; r != nil {
		b.WriteString(st.StatusKey.Render("replay "))
		b.WriteString(st.StatusVal.Render(clean(r.Source)))
		if r.Progress != nil {
			done, total, paused, speed := r.Progress()
			switch {
			case done >= total:
				fmt.Fprintf(&b, "%s■ finished %d/%d", sep, done, total)
			case paused:
				fmt.Fprintf(&b, "%s⏸ paused %gx %d/%d", sep, speed, done, total)
			default:
				fmt.Fprintf(&b, "%s▶ playing %gx %d/%d", sep, speed, done, total)
			}
			b.WriteString(st.Dim.Render(" · times as recorded"))
		}
	} else {
		url := clean(s.PublicURL)
		if url != "" {
			b.WriteString(st.URL.Render(url))
			b.WriteString(st.Dim.Render(" ← paste into Vapi as the Server URL"))
		} else {
			url = clean(s.ListenURL)
			if url == "" {
				url = "(not listening)"
			}
			b.WriteString(st.URL.Render(url))
			note := clean(s.TunnelNote)
			switch {
			case s.Mode == webhook.ModeDemo:
				// Local only on purpose: nothing to warn about.
				b.WriteString(st.Dim.Render(" " + note))
			case note == "" && s.Tunnel == webhook.TunnelConnecting:
				b.WriteString(st.Dim.Render(" connecting to ngrok… answering locally meanwhile"))
			case note == "":
				note = "local only: set NGROK_AUTHTOKEN for a public URL"
				fallthrough
			default:
				b.WriteString(st.Warn.Render(" " + note))
			}
		}
		if s.Tunnel != "" && s.Tunnel != webhook.TunnelOff {
			ts := st.Warn // connecting, reconnecting
			switch s.Tunnel {
			case webhook.TunnelOnline:
				ts = st.OK
			case webhook.TunnelFailed:
				ts = st.Err
			}
			b.WriteString(sep + st.StatusKey.Render("tunnel ") + ts.Render(clean(string(s.Tunnel))))
			if s.PublicURL != "" && s.TunnelNote != "" {
				b.WriteString(st.Dim.Render(" " + clean(s.TunnelNote)))
			}
		}
	}
	line1 := b.String()

	// Line 2: counters, auth, forward, tape.
	b.Reset()
	kv := func(k, v string) {
		if b.Len() > 0 {
			b.WriteString(sep)
		} else {
			b.WriteString(" ")
		}
		if k != "" {
			b.WriteString(st.StatusKey.Render(k + " "))
		}
		b.WriteString(v)
	}
	// Narrow screens get short labels so the forward status still fits.
	narrow := w < 100
	label := func(long, short string) string {
		if narrow {
			return short
		}
		return long
	}
	kv(label("events", "ev"), st.StatusVal.Render(fmt.Sprint(m.eventCount)))
	if h := m.hiddenStatus(); h != "" {
		b.WriteString(st.Warn.Render(" ("+clean(h)+")") + st.Dim.Render(" H"))
	}
	// pending counts requests (messages Vapi waits on) and their tool calls with no answer
	// yet, as the quit question does.
	pend := st.StatusVal.Render("0")
	if t := m.waitTally(); t.requests > 0 {
		pend = st.Warn.Render(requestsText(t.requests, t.toolCalls))
		if narrow {
			// No room for the units: the tool calls only when they are not one a request.
			pend = st.Warn.Render(fmt.Sprint(t.requests))
			if t.toolCalls != t.requests && t.toolCalls > 0 {
				pend = st.Warn.Render(fmt.Sprintf("%d (%d tool calls)", t.requests, t.toolCalls))
			}
		}
	}
	kv(label("pending", "pend"), pend)
	auth := m.authStatus(narrow)
	kv("auth", auth)
	rej := st.StatusVal.Render("0 rejected")
	if m.rejected > 0 {
		rej = st.Err.Render(fmt.Sprintf("%d rejected", m.rejected))
	}
	kv("", rej)
	if s.Forward != "" {
		kv("fwd", m.fwdStatus())
	}
	if m.opts.SetIntercept != nil {
		state := st.StatusVal.Render("off")
		if m.intercept {
			state = st.Warn.Render("on: your server's replies wait for you")
		}
		kv("intercept", state+st.Dim.Render(" (i)"))
	}
	tape := clean(s.Tape)
	if tape == "" {
		tape = "off"
	}
	failed := ""
	if m.tapeFailed > 0 {
		// Requests are still answered, but the tape misses some: say it in the error
		// colour, before the path.
		failed = webhook.Thousands(m.tapeFailed) + map[bool]string{true: " write", false: " writes"}[m.tapeFailed == 1] + " failed "
	}
	// The tape path gives way first when the line is too long: the forward status and
	// counters matter more.
	if full := cellWidth(b.String()) + len(" · tape ") + len(failed) + cellWidth(tape); full > w {
		if base := filepath.Base(tape); base != tape {
			tape = "…" + string(filepath.Separator) + base
		}
	}
	kv("tape", st.Err.Render(failed)+st.StatusVal.Render(tape))
	tt := s.ToolTimeout
	if tt <= 0 {
		tt = webhook.DefaultToolTimeout
	}
	reminder := st.Dim.Render(fmt.Sprintf(" deadlines: each tool call's own server.timeoutSeconds from Vapi (the prompt shows which); %s (--tool-timeout) when it has none", fmtSeconds(tt)))
	out := []string{fit(line1, w)}
	if len(s.Warnings) > 0 {
		out = append(out, fit(m.warningLine(), w))
	}
	switch {
	case m.opts.Replay != nil:
		return append(out, fit(b.String(), w)) // nothing can be answered offline
	case !m.tallStatus():
		kv("tool timeout", st.StatusVal.Render(fmtSeconds(tt)))
		return append(out, fit(b.String(), w))
	}
	return append(out, fit(b.String(), w), fit(reminder, w))
}

// authStatus is the status bar's auth item, from the typed mode: a warning when nothing is
// verified (or nothing is known about verification), else the configured description, or
// on a narrow screen just the mode. An offline replay says how the tape was verified when
// it was recorded (fixtures.OfflineStatus), never that the replay itself is unverified.
func (m *Model) authStatus(narrow bool) string {
	st := &m.styles
	s := m.status
	text := sanitize.Line(s.Auth, 300)
	offline := s.Mode == webhook.ModeOffline
	switch {
	case offline && s.AuthMode == webhook.AuthNone:
		if narrow || text == "" {
			return st.Warn.Render("NONE when recorded")
		}
		return st.Warn.Render(text)
	case s.AuthMode == webhook.AuthNone, s.AuthMode == "" && text == "" && !offline:
		return st.Warn.Render("NONE (unverified)")
	case narrow && s.AuthMode != "":
		return st.StatusVal.Render(string(s.AuthMode)) // the help and --help say the rest
	case text == "":
		return st.StatusVal.Render(sanitize.Line(string(s.AuthMode), 40))
	}
	return st.StatusVal.Render(text)
}

// warningLine lists the session's warnings (Status.Warnings), on a status line of their
// own so that they are never cut off by the counters.
func (m *Model) warningLine() string {
	st := &m.styles
	parts := make([]string, 0, len(m.status.Warnings))
	for _, w := range m.status.Warnings {
		if w = sanitize.Line(w, 300); w != "" {
			parts = append(parts, w)
		}
	}
	return st.Warn.Render(" ⚠ " + strings.Join(parts, " · "))
}
