package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// layer is one of the things that can be open above the four panes. Several can be open at
// once (an answer prompt that opened by itself waits behind the help screen, and the quit
// question can come over anything); layerOrder says which one is on top, and the top one
// takes every key, wheel turn and click. key, helpFor, render, footer, wheel and click all
// ask layer() rather than testing the flags themselves, so the order is written once.
type layer int

const (
	layerPanes   layer = iota // nothing open: the focused pane takes the keys
	layerQuit                 // the quit confirmation
	layerFilter               // the filter being typed, in the footer
	layerHelp                 // the help screen
	layerDetail               // a request detail or an end-of-call report
	layerControl              // the action menu for a live call (say, mute, end...)
	layerPrompt               // an answer prompt, or the review of your server's reply
)

// layerOrder lists the layers topmost first. The dialogs (quit, filter, help, detail) come
// above the prompt: a prompt that opens while one of them is open waits behind it, and
// keys meant for the dialog never answer a caller.
var layerOrder = [...]layer{layerQuit, layerFilter, layerHelp, layerDetail, layerControl, layerPrompt}

// isOpen reports whether layer l is open; the panes always are.
func (m *Model) isOpen(l layer) bool {
	switch l {
	case layerQuit:
		return m.confirmQuit
	case layerFilter:
		return m.filtering
	case layerHelp:
		return m.showHelp
	case layerDetail:
		return m.detail != nil
	case layerControl:
		return m.ctl != nil
	case layerPrompt:
		return m.prompt != nil
	}
	return true
}

// layer returns the topmost open layer: the one that takes the keys.
func (m *Model) layer() layer { return m.layerUnder(-1) }

// layerUnder returns the topmost open layer below above (-1: from the top).
func (m *Model) layerUnder(above layer) layer {
	seen := above < 0
	for _, l := range layerOrder {
		switch {
		case !seen:
			seen = l == above
		case m.isOpen(l):
			return l
		}
	}
	return layerPanes
}

// key handles a key press: the topmost layer takes it. ctrl+c asks to quit from anywhere.
func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	top := m.layer()
	if top != layerQuit && k.String() == "ctrl+c" {
		return m.askQuit()
	}
	switch top {
	case layerQuit:
		return m.quitKey(k)
	case layerPrompt:
		return m.promptKey(k)
	case layerFilter:
		m.filterKey(k)
	case layerHelp:
		m.helpKey(k)
	case layerDetail:
		return m.detailKey(k)
	case layerControl:
		return m.controlKey(k)
	default:
		return m.panesKey(k)
	}
	return nil
}

// paste types pasted text into whatever takes text on top: the prompt's editor (once its
// grace period has passed) or the filter.
func (m *Model) paste(text string) {
	switch m.layer() {
	case layerPrompt:
		if !m.promptTakesKeys() {
			return
		}
		if ed := m.prompt.activeEditor(); ed != nil {
			ed.Insert(text)
		}
	case layerFilter:
		m.filterEd.Insert(text)
		m.filter = strings.ToLower(m.filterEd.Value())
	case layerDetail:
		if m.editing != nil {
			m.editing.ed.Insert(text)
		}
	}
}

// helpKey handles a key on the help screen: ? esc and q close it, the arrows scroll.
func (m *Model) helpKey(k tea.KeyPressMsg) {
	keys := &m.keys
	switch {
	case key.Matches(k, keys.Help) || k.String() == "esc" || k.String() == "q":
		m.showHelp = false
	case key.Matches(k, keys.Up):
		m.helpTop--
	case key.Matches(k, keys.Down):
		m.helpTop++
	case key.Matches(k, keys.PageUp):
		m.helpTop -= 10
	case key.Matches(k, keys.PageDown):
		m.helpTop += 10
	case key.Matches(k, keys.Top):
		m.helpTop = 0
	case key.Matches(k, keys.Bottom):
		m.helpTop = 1 << 30 // settle keeps it within the help's lines
	}
}

// wheel scrolls what is under the pointer, when the panes or a detail view are on top.
func (m *Model) wheel(ms tea.Mouse) {
	d := 0
	switch ms.Button {
	case tea.MouseWheelUp:
		d = -3
	case tea.MouseWheelDown:
		d = 3
	default:
		return
	}
	switch m.layer() {
	case layerDetail:
		m.detail.scroll(d)
	case layerPanes, layerFilter: // the filter is typed in the footer: the panes show
		if p, ok := m.paneAt(ms.X, ms.Y); ok {
			m.move(p, d)
		}
	}
}

// click focuses the pane under a left click and selects the row there, when the panes are
// on top.
func (m *Model) click(ms tea.Mouse) {
	if ms.Button != tea.MouseLeft || m.layer() != layerPanes {
		return
	}
	p, ok := m.paneAt(ms.X, ms.Y)
	if !ok {
		return
	}
	m.focus = p
	row := ms.Y - m.panes[p].y - 1
	if row < 0 || row >= m.panes[p].h-2 {
		return
	}
	switch p {
	case paneCalls:
		m.move(paneCalls, m.callsP.top+row-m.callsP.sel)
	case paneTools:
		rows, _ := m.toolRows()
		if i, ok := m.toolsP.rowAt(&m.styles, rows, row); ok {
			m.toolsP.follow = false
			m.toolsP.sel = i
		}
	case paneEvents:
		n, _ := m.eventsP.visible(m.events, m.filter)
		if m.eventsP.top+row < n {
			m.eventsP.follow = false
			m.eventsP.sel = m.eventsP.top + row
		}
	}
}
