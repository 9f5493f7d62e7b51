package tui

import (
	"strings"
	"testing"

	"github.com/vapimon/vapimon/webhook/webhooktest"
)

// TestFilterAppliesToEveryList: the filter narrows the calls, tool calls and events lists
// alike (it used to leave the tool calls pane out), each pane's title says so, and the help
// states the rule.
func TestFilterAppliesToEveryList(t *testing.T) {
	t.Parallel()
	m, _ := sized(t, 160, 48)
	feed(t, m, 1, base, callBodies(callID)[1:3]) // the call starts; the assistant speaks
	m.Update(event(t, 3, base, twoToolCalls))
	m.Update(press("/"))
	submit(m, "get_time")
	s := screen(m)
	webhooktest.Holds(t, "screen", s, "1 Calls · 1 live · filter get_time", "3 Tool calls · all calls · 2 pending · filter get_time", "4 Events · 3 · filter get_time", "get_time")
	rows, _ := m.toolRows()
	if len(rows) != 1 || rows[0].name != "get_time" {
		t.Errorf("tool calls pane under the filter: %d rows, want get_time only", len(rows))
	}
	if n, _ := m.eventsP.visible(m.events, m.filter); n != 1 {
		t.Errorf("events pane under the filter: %d rows, want the tool-calls request only", n)
	}
	if calls := m.visibleCalls(); len(calls) != 0 {
		t.Errorf("calls pane under the filter: %d calls, want none (no call's own text has get_time)", len(calls))
	}
	m.Update(press("esc"))
	if rows, _ := m.toolRows(); len(rows) != 2 {
		t.Errorf("esc did not clear the filter: %d tool rows", len(rows))
	}
	m.Update(press("?"))
	if s := screen(m); !strings.Contains(s, "The filter (/) narrows the three lists, calls, tool calls and events") {
		t.Errorf("the help does not say what the filter applies to:\n%s", s)
	}
}

// TestFilterEmptyListsSayTheFilter: under a filter that matches nothing, each pane says so
// in the same words (the tool calls pane used to say "No tool calls yet." beside the
// events pane's "No event matches the filter."), and the "all calls" row keeps the title's
// counts, adding how many match (it used to read "all calls (0, 0 live)" below "1 live").
func TestFilterEmptyListsSayTheFilter(t *testing.T) {
	t.Parallel()
	m, _ := sized(t, 160, 48)
	feed(t, m, 1, base, callBodies(callID)[1:3])
	m.Update(event(t, 3, base, twoToolCalls))
	m.Update(press("/"))
	submit(m, "nothing-matches-this")
	s := screen(m)
	webhooktest.Holds(t, "screen", s, "1 Calls · 1 live · filter", "all calls (1, 1 live; 0 match the filter)",
		"No tool call matches the filter.", "No event matches the filter.")
	lacks(t, "screen", s, "No tool calls yet.", "all calls (0, 0 live)")
	m.Update(press("esc"))
	webhooktest.Holds(t, "screen", screen(m), "all calls (1, 1 live)")
}

// TestPendingLeavesOutAnsweredCalls: the tool calls pane's "N pending" leaves out a call
// answered while the other calls of its message wait (its answer goes with theirs), as the
// status bar does.
func TestPendingLeavesOutAnsweredCalls(t *testing.T) {
	t.Parallel()
	m, _, _ := openPrompt(t, 160, 48, twoToolCalls)
	submit(m, "sunny")
	rows, all := m.toolRows()
	webhooktest.Holds(t, "tool calls title", m.toolsTitle(rows, all), "3 Tool calls · all calls · 1 pending")
	webhooktest.Holds(t, "screen", screen(m), "pending 1 request (1 tool call)")
}
