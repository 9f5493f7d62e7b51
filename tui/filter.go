package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
)

// The filter (/) narrows each of the three lists, calls, tool calls and events, to the rows
// whose own text contains it (lower case); the transcript shows the selected call whole.

// filterKey edits the filter being typed: enter keeps it, esc clears it.
func (m *Model) filterKey(k tea.KeyPressMsg) {
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
}

// visibleCalls returns the calls shown in the calls pane: those matching the filter.
func (m *Model) visibleCalls() []*call {
	all := m.calls.list()
	if m.filter == "" {
		return all
	}
	out := make([]*call, 0, len(all))
	for _, c := range all {
		if c.matches(m.filter) {
			out = append(out, c)
		}
	}
	return out
}

// toolRows returns the rows for the tools pane: the selected call's tool calls, or every
// call's (all is true), those matching the filter.
func (m *Model) toolRows() (rows []*toolRow, all bool) {
	rows, all = m.toolLog, true
	if c := m.calls.byID[m.selCall]; c != nil {
		rows, all = c.tools, false
	}
	if m.filter == "" {
		return rows, all
	}
	out := make([]*toolRow, 0, len(rows))
	for _, r := range rows {
		if r.matches(m.filter) {
			out = append(out, r)
		}
	}
	return out, all
}
