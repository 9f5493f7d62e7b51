package tui

import (
	"fmt"
	"path/filepath"

	"charm.land/bubbles/v2/key"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
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
	pend := st.StatusVal.Render("0")
	if n := m.pendingCount(); n > 0 {
		pend = st.Warn.Render(fmt.Sprint(n))
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
		failed = fmtCount(m.tapeFailed) + map[bool]string{true: " write", false: " writes"}[m.tapeFailed == 1] + " failed "
	}
	// The tape path gives way first when the line is too long: the forward status and
	// counters matter more.
	if full := ansi.StringWidth(b.String()) + len(" · tape ") + len(failed) + ansi.StringWidth(tape); full > w {
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

// fmtCount formats n with thousands separators: 1588 → "1,588".
func fmtCount(n uint64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func fmtSeconds(d time.Duration) string {
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", d.Seconds()), "0"), ".") + "s"
}

// footer is the bottom line: the filter being typed, or short help and the latest notice.
func (m *Model) footer(w int) string {
	st := &m.styles
	top := m.layer()
	waiting := ""
	if m.isOpen(layerPrompt) && top != layerPrompt && top != layerQuit {
		// The prompt that opened meanwhile waits behind this view: say so, loudly.
		waiting = st.Warn.Render("⚑ a request waits for your answer: " + map[bool]string{true: "enter or esc", false: "esc"}[top == layerFilter] + " to answer it")
	}
	if top == layerFilter {
		ed := m.filterEd.View(st, max(w-12, 1), 1, true)
		line := st.TitleFocus.Render(" / filter ")
		if len(ed) > 0 {
			line += ed[0]
		}
		line += st.Dim.Render("  enter keep · esc clear")
		if waiting != "" {
			line += "  " + waiting
		}
		return fit(line, w)
	}
	var right string
	now := m.now()
	switch {
	case waiting != "":
		right = waiting
	case m.flash != "" && now.Sub(m.flashAt) < 5*time.Second:
		right = st.Notice.Render(m.flash)
	case m.dropped > 0:
		right = st.Warn.Render(fmt.Sprintf("%d screen updates dropped (the tape has them)", m.dropped))
	case m.notice.Text != "" && now.Sub(m.notice.Time) < 30*time.Second:
		ns := st.Notice
		if m.notice.Level == "error" {
			ns = st.Err
		}
		right = ns.Render(m.notice.Text)
	}
	left := " " + m.help.ShortHelpView(m.helpFor().ShortHelp())
	if top == layerHelp {
		left = " " + st.Footer.Render("? or esc: close help")
	}
	if right == "" {
		return fit(left, w)
	}
	rw := ansi.StringWidth(right)
	lw := w - rw - 2
	if lw < 20 {
		return fit(" "+right, w)
	}
	return fit(left, lw) + "  " + right
}

func (m *Model) callsTitle(calls []*call) string {
	t := "1 Calls"
	if live := m.calls.liveCount(); live > 0 {
		t += fmt.Sprintf(" · %d live", live)
	}
	if m.filter != "" {
		t += " · filter " + m.filterEd.Value()
	}
	return t
}

func (m *Model) transcriptTitle(c *call) string {
	t := "2 Transcript"
	if c == nil {
		return t
	}
	t += " · " + c.short
	if others := m.calls.liveCount(); others > 0 {
		if c.live() {
			others--
		}
		switch {
		case others == 1:
			t += " · 1 other call live"
		case others > 1:
			t += fmt.Sprintf(" · %d other calls live", others)
		}
	}
	if sp := speakingLabel(&c.transcript); sp != "" {
		t += " · " + sp
	}
	if !m.transP.follow {
		t += " · paused (f follows)"
	}
	return t
}

func (m *Model) toolsTitle(rows []*toolRow, all bool) string {
	t := "3 Tool calls"
	if all {
		t += " · all calls"
	}
	if n := m.pendingCount(); n > 0 {
		t += fmt.Sprintf(" · %d pending", n)
	}
	if m.filter != "" {
		t += " · filter " + m.filterEd.Value()
	}
	return t
}

func (m *Model) eventsTitle() string {
	t := fmt.Sprintf("4 Events · %d", m.eventCount)
	if m.rejected > 0 {
		t += fmt.Sprintf(" · %d rejected", m.rejected)
	}
	if m.filter != "" {
		t += " · filter " + m.filterEd.Value()
	}
	if !m.eventsP.follow {
		t += " · paused (f follows)"
	}
	return t
}

// confirmView asks before quitting with requests waiting, and says what becomes of them
// and of the calls they belong to.
func (m *Model) confirmView(w int) []string {
	st := &m.styles
	n := m.pendingCount()
	what := "requests still wait"
	if n == 1 {
		what = "request still waits"
	}
	body := []string{st.Warn.Render(fmt.Sprintf("%d %s for your answer.", n, what))}
	text := "The calls go on in Vapi. Quitting answers each waiting request at once with the fallback " +
		"reply: the answers file's answer where it has one, else an error that the assistant tells the " +
		"caller about (answers you already typed are kept). Then vapimon stops listening, so the calls' " +
		"next requests get no answer. The tape has everything."
	body = append(body, strings.Split(ansi.Wrap(text, max(w-4, 10), " "), "\n")...)
	if pr := m.prompt; pr != nil {
		if typed := sanitize.Line(strings.TrimSpace(pr.ed.Value()), 0); typed != "" {
			body = append(body, st.Dim.Render(ansi.Truncate("not sent (enter not pressed): "+typed, max(w-4, 10), "…")))
		}
	}
	if held := m.heldCount(); held > 0 {
		body = append(body, fmt.Sprintf("%d repl%s from your server held for review %s sent as is.", held,
			map[bool]string{true: "y", false: "ies"}[held == 1], map[bool]string{true: "is", false: "are"}[held == 1]))
	}
	body = append(body, "", m.help.ShortHelpView(m.helpFor().ShortHelp()))
	return modalBox(st, "Quit vapimon?", body, w)
}

// helpLines is the full help screen for the current focus.
func (m *Model) helpLines(w int) []string {
	st := &m.styles
	hm := m.help
	hm.ShowAll = true
	var out []string
	out = append(out, st.TitleFocus.Render("Keys ("+paneNames[m.focus]+" pane)"), "")
	out = append(out, strings.Split(hm.View(m.helpFor()), "\n")...)
	k := &m.keys
	out = append(out, "", st.TitleFocus.Render("Answering a tool call"), "")
	out = append(out, strings.Split(hm.FullHelpView([][]key.Binding{{k.Send, k.Newline, k.SendError}, {k.Suggest, k.Defer}}), "\n")...)
	out = append(out, "")
	paragraphs := []string{
		"The filter (/) narrows the three lists, calls, tool calls and events, to the rows whose text " +
			"contains what you type: a message type, a call id, a caller's number, a tool's name, arguments " +
			"or result. The transcript shows the selected call whole. enter keeps the filter, esc clears it.",
		"When a tool call arrives and no answers-file entry or forward target answers it, a prompt opens " +
			"with the arguments and the last words of the call. Type the result and press enter (alt+enter " +
			"or ctrl+j for a new line), ctrl+e to send it as an error, tab for earlier answers and the " +
			"answers file, esc to answer later from the tool calls pane.",
		"Vapi waits the tool's server.timeoutSeconds (else the assistant's, else the phone number's; " +
			"20 s by default, at most 300 s) and then gives up; vapimon reads that number from each message " +
			"and sends its fallback just before. The prompt and the tool calls pane say where the number came " +
			"from; --tool-timeout is used only when the message names none. To get more time, raise " +
			"server.timeoutSeconds on the tool in Vapi. assistant-request has a fixed 7.5 s limit.",
	}
	for i, p := range paragraphs {
		if i > 0 {
			out = append(out, "")
		}
		out = append(out, strings.Split(ansi.Wrap(p, max(w, 20), " "), "\n")...)
	}
	out = append(out, "", st.TitleFocus.Render("Request detail and end-of-call report (enter on an event or ended call)"), "")
	server := k.JumpServer
	server.SetHelp("s", "your server (when forwarded)")
	out = append(out, strings.Split(hm.FullHelpView([][]key.Binding{{k.JumpHeaders, k.JumpRequest, server, k.JumpReply}, {k.CopyJSON, k.CopyCallID, k.Close}, {k.Up, k.Down, k.Top, k.Bottom}}), "\n")...)
	out = append(out, "")
	out = append(out, strings.Split(ansi.Wrap("y copies the JSON of the section shown, as it was sent: the request, your server's reply, "+
		"or the reply to Vapi (at the end of the view, the last section on screen); the flash says which.", max(w, 20), " "), "\n")...)
	if m.opts.SetIntercept != nil {
		out = append(out, "", st.TitleFocus.Render("Reviewing your server's replies (intercept)"), "")
		defer_ := k.Defer
		defer_.SetHelp("esc", "review later")
		out = append(out, strings.Split(hm.FullHelpView([][]key.Binding{{k.Intercept, k.SendAsIs, k.Edit}, {k.Replace, k.Back, defer_}}), "\n")...)
		out = append(out, "")
		p := "With intercept on (i, or --intercept), a reply your server gives to a message that expects one " +
			"waits for you before it goes to Vapi: enter sends it as is, e edits the JSON (enter sends it; problems " +
			"Vapi would have with it are listed first, and enter again sends it anyway), r replaces it with a typed " +
			"answer. When the deadline passes first, your server's reply is sent unchanged."
		out = append(out, strings.Split(ansi.Wrap(p, max(w, 20), " "), "\n")...)
	}
	return out
}
