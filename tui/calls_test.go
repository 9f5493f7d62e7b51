package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

// TestCallWhoAndIdle checks the calls pane's caller label (number, "web" for a web call,
// "unknown" otherwise) and that a live call without events for two minutes shows "idle"
// with its age still counting (its clock used to stop at the last event: "idle 0:00"
// after "live 1:59").
func TestCallWhoAndIdle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, call string
		want       string
	}{
		{"phone call with a number", `"call":{"id":"aaaaaaaa-1","type":"inboundPhoneCall","customer":{"number":"+14155550123"}}`, "+14155550123"},
		{"web call", `"call":{"id":"aaaaaaaa-1","type":"webCall"}`, "web"},
		{"no customer, no type", `"call":{"id":"aaaaaaaa-1"}`, "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, clk := sized(t, 160, 48)
			m.Update(event(t, 1, base, `{"message":{"type":"status-update","status":"in-progress",`+tt.call+`}}`))
			row := func() string {
				for _, l := range strings.Split(screen(m), "\n") {
					if strings.Contains(l, "aaaaaaaa ") && !strings.Contains(l, "Transcript") {
						return l
					}
				}
				return ""
			}
			if r := row(); !strings.Contains(r, "aaaaaaaa "+tt.want) || !strings.Contains(r, "live") {
				t.Errorf("calls row %q, want caller %q and live", r, tt.want)
			}
			clk.Advance(idleAfter + 30*time.Second)
			if r := row(); !strings.Contains(r, "idle") || !strings.Contains(r, "2:30") {
				t.Errorf("calls row %q after 2.5 minutes of silence, want idle with the call's age, 2:30", r)
			}
		})
	}
}

// TestSentCallsEndWhenIdle: a call whose requests all came from vapimon send ends after
// Options.CallIdle without events; a call Vapi sent stays live (idle), and so does a sent
// call when CallIdle is zero.
func TestSentCallsEndWhenIdle(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		ua       string
		idle     time.Duration
		wantEnds bool
	}{
		{"sent by vapimon", "vapimon/dev", time.Minute, true},
		{"sent by Vapi", "Vapi/1.0", time.Minute, false},
		{"sent by vapimon, call-idle 0", "vapimon/dev", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock(base)
			m := newTestModel(clk, nil)
			m.opts.CallIdle = tc.idle
			m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
			ev := event(t, 1, base, `{"message":{"type":"status-update","status":"in-progress","call":{"id":"bbbbbbbb-1"}}}`)
			ev.Header.Set("User-Agent", tc.ua)
			m.Update(ev)
			c := m.calls.byID["bbbbbbbb-1"]
			clk.Advance(59 * time.Second)
			m.Update(tickMsg(clk.Now()))
			if !c.live() {
				t.Fatal("ended before the idle time")
			}
			clk.Advance(2 * time.Second)
			m.Update(tickMsg(clk.Now()))
			if c.live() == tc.wantEnds {
				t.Fatalf("live %v after 61s without events, want ended %v", c.live(), tc.wantEnds)
			}
			if tc.wantEnds && (!strings.Contains(c.reason, "sent by vapimon") || !c.ended.Equal(base)) {
				t.Errorf("reason %q, ended %s: want the idle reason and the time of the last event", c.reason, c.ended)
			}
		})
	}
}

// TestCallClockCountsThrough: the calls pane's clock is the call's age from its first
// event while it is new, idle or live, and its length once it ended: it never goes back
// (it showed "new 0:40", then "idle 0:00", then "ended 2:13").
func TestCallClockCountsThrough(t *testing.T) {
	t.Parallel()
	m, clk := sized(t, 160, 48)
	const id = "bbbbbbbb-1"
	m.Update(event(t, 1, base, `{"message":{"type":"speech-update","status":"started","role":"assistant","call":{"id":"`+id+`"}}}`))
	row := func() string {
		for _, l := range strings.Split(screen(m), "\n") {
			if strings.Contains(l, "bbbbbbbb ") && !strings.Contains(l, "Transcript") {
				return l
			}
		}
		return ""
	}
	for _, step := range []struct {
		advance     time.Duration
		state, want string
	}{
		{40 * time.Second, "new", "0:40"},
		{idleAfter, "idle", "2:40"},
	} {
		clk.Advance(step.advance)
		if r := row(); !strings.Contains(r, step.state) || !strings.Contains(r, step.want) {
			t.Errorf("calls row %q, want %s %s", r, step.state, step.want)
		}
	}
	clk.Advance(10 * time.Second)
	m.Update(event(t, 2, clk.Now(), `{"message":{"type":"end-of-call-report","endedReason":"customer-ended-call","call":{"id":"`+id+`"}}}`))
	clk.Advance(time.Minute)
	if r := row(); !strings.Contains(r, "ended") || !strings.Contains(r, "2:50") {
		t.Errorf("calls row %q, want ended 2:50 (its length, no longer counting)", r)
	}
}
