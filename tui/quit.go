package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/vapimon/vapimon/tui/sanitize"
	"github.com/vapimon/vapimon/webhook"
)

// askQuit quits, or asks first when requests are waiting for a reply. Asked from an open
// answer prompt (ctrl+c while typing), the question ignores y, enter and q for the prompt's
// grace period, so that letters of the answer typed in the same burst do not confirm it.
func (m *Model) askQuit() tea.Cmd {
	if m.opts.Replay == nil && (m.waitTally().requests > 0 || m.queuedCount() > 0) {
		m.quitAsked = time.Time{}
		if m.layer() == layerPrompt {
			m.quitAsked = m.now()
		}
		m.confirmQuit = true
		return nil
	}
	return m.quit()
}

func (m *Model) quit() tea.Cmd {
	m.quitting = true
	m.confirmQuit = false
	return tea.Quit
}

// quitKey answers the quit question: y (or enter, q, ctrl+c again) quits, n or esc stays.
func (m *Model) quitKey(k tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(k, m.keys.Yes):
		if k.String() != "ctrl+c" && !m.quitAsked.IsZero() && m.now().Sub(m.quitAsked) < m.grace {
			return nil // typed with the answer, before the question could be read
		}
		return m.quit()
	case key.Matches(k, m.keys.No):
		m.confirmQuit = false
	}
	return nil
}

// confirmView asks before quitting with requests waiting, and says what becomes of them
// and of the calls they belong to.
func (m *Model) confirmView(w int) []string {
	st := &m.styles
	t := m.waitTally()
	var body []string
	warn := func(s string) {
		for _, l := range strings.Split(ansi.Wrap(s, max(w-4, 10), " "), "\n") {
			body = append(body, st.Warn.Render(l))
		}
	}
	if t.forYou > 0 {
		line := webhook.Count(uint64(t.forYou), "request") + map[bool]string{true: " still waits", false: " still wait"}[t.forYou == 1] + " for your answer"
		line += "."
		if n := t.forYouCalls; n > 0 {
			line += " " + webhook.Count(uint64(n), "tool call") + map[bool]string{true: " in it", false: " in them"}[t.forYou == 1] + map[bool]string{true: " has", false: " have"}[n == 1] + " no answer yet."
		}
		warn(line)
	}
	if other, calls := t.others(); other > 0 {
		warn(requestsText(other, calls) + map[bool]string{true: " waits", false: " wait"}[other == 1] + " for your server's reply.")
	}
	text := "The calls go on in Vapi. Quitting answers each waiting request at once with the fallback " +
		"reply: the answers file's answer where it has one, else an error that the assistant tells the " +
		"caller about (answers you already typed are kept). Then vapimon stops listening, so the calls' " +
		"next requests get no answer."
	if t.forYou == 0 {
		text = "The calls go on in Vapi."
		if other, _ := t.others(); other > 0 {
			text += " Your server gets a few seconds to answer; then each request still waiting gets the fallback reply."
		}
		text += " Then vapimon stops listening, so the calls' next requests get no answer."
	}
	switch {
	case m.status.Tape == "":
		// --no-record: no tape to point at.
	case m.tapeFailed > 0:
		text += " The tape lacks what its " + webhook.Count(m.tapeFailed, "failed write") + " held."
	default:
		text += " The tape has every request and reply."
	}
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
	body = append(body, "", m.shortHelpView(m.helpFor().ShortHelp()))
	return modalBox(st, "Quit vapimon?", body, w)
}
