package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// panesKey handles a key when nothing is open above the panes.
func (m *Model) panesKey(k tea.KeyPressMsg) tea.Cmd {
	keys := &m.keys
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
	case key.Matches(k, keys.Hide):
		m.toggleHide()
	case m.opts.SetIntercept != nil && key.Matches(k, keys.Intercept):
		m.toggleIntercept()
	case m.opts.Control != nil && (m.focus == paneCalls || m.focus == paneTranscript) && key.Matches(k, keys.Act):
		m.openControl()
	case m.opts.Replay != nil && m.replayKey(k):
	case m.audioKey(k):
	case k.String() == "esc" && m.filter != "":
		m.filterEd.SetValue("")
		m.filter = ""
	case m.focus == paneEvents && key.Matches(k, keys.CopyJSON):
		return m.copyRequest(m.eventsP.selected(m.events, m.filter), "json")
	default:
		if m.focus == paneEvents {
			if cmd, ok := m.inspectKey(k, m.eventsP.selected(m.events, m.filter)); ok {
				return cmd
			}
		}
		m.paneKey(k)
	}
	return nil
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
				if m.prompt != nil {
					m.prompt.byHand = true
				}
				return
			}
		}
	case paneEvents:
		if r := m.eventsP.selected(m.events, m.filter); r != nil {
			m.detail = newDetail(&m.styles, r, m.now(), m.width-2)
		}
	}
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
