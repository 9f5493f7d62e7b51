package tui

import (
	"fmt"
	"strings"

	"github.com/vapimon/vapimon/webhook"
)

// The events pane shows the requests that pass its type filter (--only, and --hide or the
// noisy types while the H key has them hidden). Calls, transcripts and tool calls are fed
// by every request all the same, and the tape records them all: only the list is shorter.

// hideSet is what the H key hides: --hide's types, else the noisy ones.
func (m *Model) hideSet() []string {
	if len(m.opts.Show.Hide) > 0 {
		return m.opts.Show.Hide
	}
	return webhook.NoisyTypes
}

// applyTypeFilter gives the events pane the filter in force.
func (m *Model) applyTypeFilter() {
	f := webhook.TypeFilter{Only: m.opts.Show.Only}
	if m.hiding {
		f.Hide = m.hideSet()
	}
	m.eventsP.setTypes(f)
}

// toggleHide shows or hides the hide set (the H key).
func (m *Model) toggleHide() {
	m.hiding = !m.hiding
	m.applyTypeFilter()
	if m.hiding {
		m.setFlash("events pane: hiding " + strings.Join(m.hideSet(), ", ") + " (H shows them)")
	} else {
		m.setFlash("events pane: showing " + strings.Join(m.hideSet(), ", ") + " again")
	}
}

// hiddenStatus is the status bar's word on what the events pane leaves out ("" when it
// shows everything).
func (m *Model) hiddenStatus() string {
	var parts []string
	if o := m.opts.Show.Only; len(o) > 0 {
		parts = append(parts, "only "+strings.Join(o, ","))
	}
	switch {
	case m.hiding && len(m.opts.Show.Hide) == 0:
		parts = append(parts, fmt.Sprintf("hiding %d noisy types", len(webhook.NoisyTypes)))
	case m.hiding:
		parts = append(parts, "hiding "+strings.Join(m.hideSet(), ","))
	}
	return strings.Join(parts, "; ")
}

// setTypes sets the pane's type filter; the rows it shows are worked out again.
func (p *eventsPane) setTypes(f webhook.TypeFilter) {
	p.types = f
	p.typesGen++
}

// showsRow reports whether a row passes the pane's type filter: a rejected request, or one
// without a type, always does.
func (p *eventsPane) showsRow(r *eventRow) bool {
	return r.isRejected || r.msgType == "" || p.types.PassesType(r.msgType, r.kind)
}
