package tui

import (
	"fmt"
	"time"

	"github.com/charmbracelet/x/ansi"
)

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
