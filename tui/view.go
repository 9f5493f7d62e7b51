package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/vapimon/vapimon/tui/sanitize"
	"github.com/vapimon/vapimon/webhook"
)

// The smallest terminal the monitor draws on.
const (
	minWidth  = 40
	minHeight = 12
)

// resize lays out the panes for a w×h terminal.
func (m *Model) resize(w, h int) {
	m.width, m.height = w, h
	m.help.SetWidth(max(w, 0))
	bh := h - m.statusHeight() - 1
	if w < minWidth || h < minHeight {
		return
	}
	lw := max(w*2/5, 30)
	rw := w - lw
	top := m.statusHeight()
	ch := bh / 2
	th := bh * 3 / 5
	m.panes[paneCalls] = rect{0, top, lw, ch}
	m.panes[paneTools] = rect{0, top + ch, lw, bh - ch}
	m.panes[paneTranscript] = rect{lw, top, rw, th}
	m.panes[paneEvents] = rect{lw, top + th, rw, bh - th}
	m.callsP.SetSize(lw-2, ch-2)
	m.toolsP.SetSize(lw-2, bh-ch-2)
	m.transP.SetSize(rw-2, th-2)
	m.eventsP.SetSize(rw-2, bh-th-2)
	if m.detail != nil {
		m.detail.SetSize(w-2, bh-2)
	}
}

// View implements tea.Model.
func (m *Model) View() tea.View {
	content := ""
	if !m.quitting {
		// The last frame, drawn as the program quits, is blank: some terminals (tmux, after
		// a resize) leave what the alternate screen showed in the shell's screen.
		if f := m.frames; f != nil && f.hold {
			content = f.content // a held frame (Model.holdFrame): the screen waits for the refresh
		} else {
			content = m.render()
			if f != nil {
				f.content = content
			}
		}
	}
	v := tea.NewView(content)
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "vapimon"
	if n := m.queuedCount(); n > 0 {
		v.WindowTitle = "vapimon · answer needed"
	}
	return v
}

func (m *Model) render() string {
	w, h := m.width, m.height
	if w <= 0 || h <= 0 {
		return ""
	}
	if w < minWidth || h < minHeight {
		return fit("vapimon needs at least 40x12", w)
	}
	st := &m.styles
	lines := make([]string, 0, h)
	lines = append(lines, m.statusLines(w)...)
	bh := m.bodyHeight()
	top := m.layer()
	// The body is the topmost full-screen layer: the quit question is a box over what was
	// there, and the filter is typed in the footer.
	body := top
	for body == layerQuit || body == layerFilter {
		body = m.layerUnder(body)
	}
	switch body {
	case layerHelp:
		hl := m.helpLines(w - 2)
		ht := m.helpScroll(len(hl))
		title := "Help"
		if pos := scrollPos(ht, bh-2, len(hl)); pos != "" {
			title += " · " + pos + " (↑/↓ scroll)"
		}
		lines = append(lines, box(st, title, hl[ht:], w, bh, true)...)
	case layerDetail:
		if m.editing != nil {
			lines = append(lines, m.editView(w-2, bh-2)...)
			break
		}
		d := m.detail
		title := d.title
		if len(d.lines) > d.h {
			title += " · " + scrollPos(d.clamp(d.top), d.h, len(d.lines))
		}
		lines = append(lines, box(st, title, d.View(), w, bh, true)...)
	default:
		lines = append(lines, m.renderPanes()...)
	}
	lines = append(lines, m.footer(w))

	// The box over it: only the topmost layer is drawn as one.
	var ov []string
	switch top {
	case layerQuit:
		ov = m.confirmView(min(w-4, 64))
	case layerPrompt:
		ov = m.promptView(min(max(w-4, 40), 100), bh)
	case layerControl:
		ov = m.controlView(min(w-4, 72))
	}
	if ov != nil {
		ow := ansi.StringWidth(ov[0])
		x := max((w-ow)/2, 0)
		y := m.statusHeight() + max((bh-len(ov))/2, 0)
		overlay(lines, ov, x, y, w)
	}
	return strings.Join(lines, "\n")
}

// bodyHeight is the height below the status bar and above the footer.
func (m *Model) bodyHeight() int { return m.height - m.statusHeight() - 1 }

func (m *Model) renderPanes() []string {
	st := &m.styles
	now := m.now()
	calls := m.visibleCalls()
	counts := callCounts{total: len(m.calls.byID), live: m.calls.liveCount(), filtered: m.filter != ""}
	left := box(st, m.callsTitle(calls), m.callsP.View(st, calls, counts, m.callsSel(calls), now, m.focus == paneCalls),
		m.panes[paneCalls].w, m.panes[paneCalls].h, m.focus == paneCalls)
	rows, all := m.toolRows()
	tools := m.toolsP.View(st, rows, all, now, m.focus == paneTools)
	if len(rows) == 0 && m.filter != "" && len(tools) > 0 {
		tools = []string{st.Dim.Render("No tool call matches the filter.")} // as the events pane says
	}
	left = append(left, box(st, m.toolsTitle(rows, all), tools,
		m.panes[paneTools].w, m.panes[paneTools].h, m.focus == paneTools)...)
	c := m.selectedCall()
	var trans []string
	if c == nil {
		trans = m.emptyText(m.panes[paneTranscript].w - 2)
	} else if ml := m.meterLine(c.id, m.panes[paneTranscript].w-2); ml != "" {
		// The meter takes the pane's first row while the call is listened.
		tp := m.transP
		tp.h--
		trans = append([]string{ml}, tp.View(st, c, now)...)
	} else {
		trans = m.transP.View(st, c, now)
	}
	right := box(st, m.transcriptTitle(c), trans,
		m.panes[paneTranscript].w, m.panes[paneTranscript].h, m.focus == paneTranscript)
	right = append(right, box(st, m.eventsTitle(), m.eventsP.View(st, m.events, m.filter, m.focus == paneEvents, now),
		m.panes[paneEvents].w, m.panes[paneEvents].h, m.focus == paneEvents)...)
	out := make([]string, len(left))
	for i := range left {
		r := ""
		if i < len(right) {
			r = right[i]
		}
		out[i] = left[i] + r
	}
	return out
}

// statusHeight is the height of the status bar: three lines on a comfortable terminal (the
// third is the tool timeout reminder), two on a small one, and one more for the session's
// warnings when there are any.
func (m *Model) statusHeight() int {
	h := 2
	if m.tallStatus() {
		h = 3
	}
	if len(m.status.Warnings) > 0 {
		h++
	}
	return h
}

// tallStatus reports whether the status bar has room for the deadline reminder line.
func (m *Model) tallStatus() bool { return m.height >= 40 && m.opts.Replay == nil }

// emptyText is what the transcript pane says before the first call: where to point Vapi
// when there is a public URL, else how to try vapimon locally.
func (m *Model) emptyText(w int) []string {
	st := &m.styles
	// Paragraphs are wrapped; a command is a line of its own, never cut, to copy whole.
	var paras []string
	command := ""
	switch {
	case m.opts.Replay != nil:
		paras = []string{"No calls yet: the replay has not reached one."}
	case m.status.PublicURL != "":
		paras = []string{"No calls yet. Point a Vapi assistant's Server URL at the URL above, or run `vapimon demo` to see a whole call."}
	case m.status.Mode == webhook.ModeDemo:
		paras = []string{"No calls yet: the demo call starts in a moment."}
	case m.status.Tunnel == webhook.TunnelConnecting:
		paras = []string{"No calls yet. ngrok is connecting: the public URL for Vapi shows above once it is up. Meanwhile vapimon answers locally; to try it, run in another terminal:"}
		command = "  " + m.sendHint()
	default:
		paras = []string{"No calls yet. This URL is local only, so Vapi cannot reach it. To try vapimon, run in another terminal:",
			"Or set NGROK_AUTHTOKEN for a tunnel, or pass --public-url, or run `vapimon demo` to see a whole call."}
		command = "  " + m.sendHint()
	}
	var out []string
	for i, p := range paras {
		for _, l := range strings.Split(ansi.Wrap(p, max(w, 20), " "), "\n") {
			out = append(out, st.Dim.Render(l))
		}
		if i == 0 && command != "" {
			out = append(out, st.StatusVal.Render(command))
			if note := m.sendHintNote(); note != "" {
				for _, l := range strings.Split(ansi.Wrap(note, max(w, 20), " "), "\n") {
					out = append(out, st.Dim.Render(l))
				}
			}
		}
	}
	return out
}

// defaultSendTo is where `vapimon send` posts when given no --to: the default --addr.
const defaultSendTo = "http://127.0.0.1:4242"

// sendHint is the command that sends a test request to this listener: with --to when it
// does not listen where `vapimon send` posts by default, and signed (the secret named by
// its variable, never written out) when the listener verifies requests: unsigned, the test
// gets a 401.
func (m *Model) sendHint() string {
	hint := "vapimon send tool-calls"
	if u := strings.TrimRight(m.status.ListenURL, "/"); u != "" && u != defaultSendTo {
		hint += " --to " + sanitize.Line(u, 200)
	}
	const secret = ` --secret "$VAPI_WEBHOOK_SECRET"`
	switch m.status.AuthMode {
	case webhook.AuthSecret:
		hint += secret
	case webhook.AuthBearer:
		hint += " --auth bearer" + secret
	case webhook.AuthHMAC:
		hint += " --auth hmac" + secret
	}
	return hint
}

// sendHintNote says what the signed send hint needs; "" when the listener verifies nothing.
func (m *Model) sendHintNote() string {
	switch m.status.AuthMode {
	case webhook.AuthSecret:
		return "  (VAPI_WEBHOOK_SECRET holding the secret vapimon checks, or the test gets a 401)"
	case webhook.AuthBearer, webhook.AuthHMAC:
		return "  (VAPI_WEBHOOK_SECRET holding the secret vapimon checks, and the --auth-header and --hmac-* flags vapimon was started with, or the test gets a 401)"
	}
	return ""
}
