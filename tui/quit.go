package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/vapimon/vapimon/tui/sanitize"
)

// askQuit quits, or asks first when tool calls are waiting for an answer.
func (m *Model) askQuit() tea.Cmd {
	if m.opts.Replay == nil && (m.pendingCount() > 0 || m.queuedCount() > 0) {
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
	body = append(body, "", m.shortHelpView(m.helpFor().ShortHelp()))
	return modalBox(st, "Quit vapimon?", body, w)
}
