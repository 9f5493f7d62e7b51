package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// key handles a key press according to what is open, topmost first: the quit confirmation,
// then the filter, help or detail view (dialogs: each takes every key while open, and an
// answer prompt that opened meanwhile waits behind it), then the prompt, then the focused
// pane. ctrl+c asks to quit from anywhere.
func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	keys := &m.keys
	if m.confirmQuit {
		switch {
		case key.Matches(k, keys.Yes):
			return m.quit()
		case key.Matches(k, keys.No):
			m.confirmQuit = false
		}
		return nil
	}
	if k.String() == "ctrl+c" {
		return m.askQuit()
	}
	if m.prompt != nil && !m.dialogOpen() {
		return m.promptKey(k)
	}
	if m.filtering {
		switch k.String() {
		case "esc":
			m.filtering = false
			m.filterEd.SetValue("")
			m.filter = ""
		case "enter":
			m.filtering = false
		default:
			m.filterEd.Update(k)
			m.filter = strings.ToLower(m.filterEd.Value())
		}
		return nil
	}
	if m.showHelp {
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
		}
		return nil
	}
	if m.detail != nil {
		return m.detailKey(k)
	}
	switch {
	case key.Matches(k, keys.Quit):
		return m.askQuit()
	case key.Matches(k, keys.Help):
		m.showHelp = true
		m.helpTop = 0
	case key.Matches(k, keys.NextPane):
		m.focus = (m.focus + 1) % numPanes
	case key.Matches(k, keys.PrevPane):
		m.focus = (m.focus + numPanes - 1) % numPanes
	case key.Matches(k, keys.FocusPane):
		m.focus = pane(k.String()[0] - '1')
	case key.Matches(k, keys.Filter):
		m.filtering = true
	case key.Matches(k, keys.Follow):
		m.toggleFollow()
	case m.opts.SetIntercept != nil && key.Matches(k, keys.Intercept):
		m.toggleIntercept()
	case m.opts.Replay != nil && m.replayKey(k):
	case k.String() == "esc" && m.filter != "":
		m.filterEd.SetValue("")
		m.filter = ""
	default:
		m.paneKey(k)
	}
	return nil
}

// dialogOpen reports whether a view that takes every key is open above the panes and any
// answer prompt: the quit confirmation, the filter being typed, help, or a detail view.
func (m *Model) dialogOpen() bool {
	return m.confirmQuit || m.filtering || m.showHelp || m.detail != nil
}

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

func (m *Model) toggleFollow() {
	switch m.focus {
	case paneTranscript:
		m.transP.follow = !m.transP.follow
		if !m.transP.follow {
			m.transP.top = max(m.transP.total-m.transP.h, 0)
		}
	case paneTools:
		m.toolsP.follow = !m.toolsP.follow
	default:
		m.eventsP.follow = !m.eventsP.follow
		if !m.eventsP.follow {
			n, _ := m.eventsP.visible(m.events, m.filter)
			m.eventsP.sel = n - 1
		}
	}
}

// replayKey drives an offline replay; it reports whether the key was one of its keys.
func (m *Model) replayKey(k tea.KeyPressMsg) bool {
	r := m.opts.Replay
	keys := &m.keys
	switch {
	case key.Matches(k, keys.PlayPause):
		if r.TogglePause != nil {
			if r.TogglePause() {
				m.setFlash("replay paused")
			} else {
				m.setFlash("replay playing")
			}
		}
	case key.Matches(k, keys.Step):
		if r.Step != nil {
			r.Step()
		}
	case key.Matches(k, keys.Faster):
		if r.Speed != nil {
			m.setFlash(fmt.Sprintf("replay speed %gx", r.Speed(2)))
		}
	case key.Matches(k, keys.Slower):
		if r.Speed != nil {
			m.setFlash(fmt.Sprintf("replay speed %gx", r.Speed(0.5)))
		}
	default:
		return false
	}
	return true
}

func (m *Model) setFlash(s string) {
	m.flash, m.flashAt = s, m.now()
}

// paneKey handles navigation in the focused pane.
func (m *Model) paneKey(k tea.KeyPressMsg) {
	keys := &m.keys
	delta := 0
	switch {
	case key.Matches(k, keys.Up):
		delta = -1
	case key.Matches(k, keys.Down):
		delta = 1
	case key.Matches(k, keys.PageUp):
		delta = -max(m.paneHeight()-1, 1)
	case key.Matches(k, keys.PageDown):
		delta = max(m.paneHeight()-1, 1)
	case key.Matches(k, keys.Top):
		delta = -1 << 30
	case key.Matches(k, keys.Bottom):
		delta = 1 << 30
	case key.Matches(k, keys.Open):
		m.open()
		return
	default:
		return
	}
	m.move(m.focus, delta)
}

func (m *Model) paneHeight() int {
	return max(m.panes[m.focus].h-2, 1)
}

// move moves the selection (or scrolls) in pane p by delta rows.
func (m *Model) move(p pane, delta int) {
	switch p {
	case paneCalls:
		calls := m.visibleCalls()
		sel := min(max(m.callsP.sel+delta, 0), len(calls))
		m.callsP.sel = sel
		if sel == 0 {
			m.selCall = ""
		} else {
			m.selCall = calls[sel-1].id
		}
		m.transP.follow = true
		m.toolsP.follow = true
	case paneTranscript:
		m.transP.scroll(delta)
	case paneTools:
		rows, _ := m.toolRows()
		m.toolsP.follow = false
		m.toolsP.sel = min(max(m.toolsP.sel+delta, 0), max(len(rows)-1, 0))
	case paneEvents:
		n, _ := m.eventsP.visible(m.events, m.filter)
		if m.eventsP.follow {
			m.eventsP.sel = n - 1
		}
		m.eventsP.sel = min(max(m.eventsP.sel+delta, 0), max(n-1, 0))
		m.eventsP.follow = m.eventsP.sel == n-1 && delta > 0
	}
}

// open acts on the selected row of the focused pane.
func (m *Model) open() {
	switch m.focus {
	case paneCalls:
		c := m.calls.byID[m.selCall]
		if c == nil {
			return
		}
		if c.isEnded && c.report != nil {
			m.detail = reportDetail(&m.styles, c, max(m.width-2, 20))
			return
		}
		m.focus = paneTranscript
	case paneTools:
		rows, _ := m.toolRows()
		if len(rows) == 0 {
			return
		}
		r := rows[min(max(m.toolsP.sel, 0), len(rows)-1)]
		for _, p := range m.queue {
			if p.seq == r.seq && !p.done {
				p.deferred = false
				for _, pr := range p.rows {
					pr.deferred = false
				}
				m.openPrompt(p)
				return
			}
		}
	case paneEvents:
		if r := m.eventsP.selected(m.events, m.filter); r != nil {
			m.detail = newDetail(&m.styles, r, m.now(), m.width-2)
		}
	}
}

func (m *Model) detailKey(k tea.KeyPressMsg) tea.Cmd {
	d := m.detail
	keys := &m.keys
	switch {
	case key.Matches(k, keys.Close):
		m.detail = nil
	case key.Matches(k, keys.Up):
		d.scroll(-1)
	case key.Matches(k, keys.Down):
		d.scroll(1)
	case key.Matches(k, keys.PageUp):
		d.scroll(-max(d.h-1, 1))
	case key.Matches(k, keys.PageDown):
		d.scroll(max(d.h-1, 1))
	case key.Matches(k, keys.Top):
		d.scroll(-1 << 30)
	case key.Matches(k, keys.Bottom):
		d.scroll(1 << 30)
	case key.Matches(k, keys.JumpHeaders), key.Matches(k, keys.JumpRequest), key.Matches(k, keys.JumpServer), key.Matches(k, keys.JumpReply):
		if d.marks == nil {
			return nil
		}
		sec := secHeaders
		switch {
		case key.Matches(k, keys.JumpRequest):
			sec = secRequest
		case key.Matches(k, keys.JumpServer):
			sec = secServer
		case key.Matches(k, keys.JumpReply):
			sec = secReply
		}
		if !d.jump(sec) {
			m.setFlash("this request has no " + map[section]string{secHeaders: "headers", secRequest: "body", secServer: "exchange with your server", secReply: "reply"}[sec] + " section")
		}
	case key.Matches(k, keys.CopyJSON):
		if d.json == "" {
			m.setFlash("nothing to copy")
			return nil
		}
		m.setFlash(fmt.Sprintf("copied %d bytes of JSON (OSC 52)", len(d.json)))
		return tea.SetClipboard(d.json)
	case key.Matches(k, keys.CopyCallID):
		if d.callID == "" {
			m.setFlash("no call id")
			return nil
		}
		m.setFlash("copied the call id (OSC 52)")
		return tea.SetClipboard(d.callID)
	case key.Matches(k, keys.Quit):
		return m.askQuit()
	}
	return nil
}

// paneAt returns the pane under a screen position.
func (m *Model) paneAt(x, y int) (pane, bool) {
	for p := paneCalls; p < numPanes; p++ {
		if m.panes[p].contains(x, y) {
			return p, true
		}
	}
	return 0, false
}

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
	if m.confirmQuit {
		return
	}
	if m.detail != nil {
		m.detail.scroll(d)
		return
	}
	if m.prompt != nil || m.showHelp {
		return
	}
	if p, ok := m.paneAt(ms.X, ms.Y); ok {
		m.move(p, d)
	}
}

func (m *Model) click(ms tea.Mouse) {
	if ms.Button != tea.MouseLeft || m.prompt != nil || m.dialogOpen() {
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
