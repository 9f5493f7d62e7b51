package tui

import (
	"fmt"
	"time"

	"charm.land/bubbles/v2/key"
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
	left := " " + m.shortHelpView(m.helpFor().ShortHelp())
	if top == layerHelp {
		left = " " + st.Footer.Render("? or esc: close help · ↑/↓ pgup/pgdn g/G: scroll")
	}
	if right == "" {
		return fit(left, w)
	}
	rw := cellWidth(right)
	lw := w - rw - 2
	if lw < 20 {
		return fit(" "+right, w)
	}
	return fit(left, lw) + "  " + right
}

// shortHelpMemo is the short help as last drawn and what it was drawn from. The footer
// draws it in every frame, and under a stream of events it seldom changes.
type shortHelpMemo struct {
	items    []shortHelpItem
	width    int
	sep, ell string
	out      string
	ok       bool
}

// shortHelpItem is what the help shows of a binding.
type shortHelpItem struct {
	key, desc string
	on        bool
}

// shortHelpView is m.help.ShortHelpView(bindings), drawn again only when the bindings'
// help, the width or the help's separators changed (NewModel and the theme's change of
// styles clear the memo).
func (m *Model) shortHelpView(bindings []key.Binding) string {
	h := &m.shortHelp
	same := h.ok && h.width == m.help.Width() && h.sep == m.help.ShortSeparator && h.ell == m.help.Ellipsis && len(h.items) == len(bindings)
	for i := 0; same && i < len(bindings); i++ {
		b, it := bindings[i], h.items[i]
		same = it.key == b.Help().Key && it.desc == b.Help().Desc && it.on == b.Enabled()
	}
	if same {
		return h.out
	}
	h.items = h.items[:0]
	for _, b := range bindings {
		h.items = append(h.items, shortHelpItem{key: b.Help().Key, desc: b.Help().Desc, on: b.Enabled()})
	}
	h.width, h.sep, h.ell = m.help.Width(), m.help.ShortSeparator, m.help.Ellipsis
	h.out, h.ok = m.help.ShortHelpView(bindings), true
	return h.out
}
