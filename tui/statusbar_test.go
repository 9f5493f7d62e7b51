package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/webhook"
)

// TestReplayAuthTellsTheTruth: the replay monitor shows how the tape's requests were
// verified when they were recorded (fixtures.OfflineStatus), not "auth NONE" because the
// replay itself verifies nothing; a tape recorded without verification still warns.
func TestReplayAuthTellsTheTruth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		counts   fixtures.TapeCounts
		width    int
		want     string
		warned   bool
		wantNone bool
	}{
		{"verified tape", fixtures.TapeCounts{Records: 4, Verified: 4, AuthModes: []webhook.AuthMode{webhook.AuthHMAC}}, 160,
			"auth hmac when recorded: 4 of 4 requests verified", false, false},
		{"verified tape, narrow", fixtures.TapeCounts{Records: 4, Verified: 4, AuthModes: []webhook.AuthMode{webhook.AuthHMAC}}, 80,
			"auth hmac ", false, false},
		{"unverified tape", fixtures.TapeCounts{Records: 4, AuthModes: []webhook.AuthMode{webhook.AuthNone}}, 160,
			"auth none when recorded: requests were NOT verified", true, false},
		{"tape from before auth was recorded", fixtures.TapeCounts{Records: 4}, 160,
			"auth not recorded on the tape", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock(base)
			m := NewModel(Options{Now: clk.Now, Replay: &ReplayControl{Source: "t.jsonl"},
				Status: fixtures.OfflineStatus("t.jsonl", tt.counts)}, nil)
			m.resize(tt.width, 40)
			lines := m.statusLines(tt.width)
			line := lines[len(lines)-1]
			if s := ansi.Strip(line); !strings.Contains(s, tt.want) || strings.Contains(s, "NONE (unverified)") {
				t.Errorf("status bar = %q, want %q and no NONE (unverified)", s, tt.want)
			}
			if warned := strings.Contains(line, m.styles.Warn.Render(strings.TrimPrefix(tt.want, "auth "))); warned != tt.warned {
				t.Errorf("auth in the warning colour: %v, want %v:\n%q", warned, tt.warned, line)
			}
		})
	}
}

// TestDemoNoteIsNotAWarning: the demo is local on purpose; its note is not in the warning
// colour that "local only: set NGROK_AUTHTOKEN" uses.
func TestDemoNoteIsNotAWarning(t *testing.T) {
	t.Parallel()
	m, _ := sized(t, 160, 48)
	m.Update(webhook.Status{ListenURL: "http://127.0.0.1:4242", Mode: webhook.ModeDemo, TunnelNote: "demo: playing the weather scenario"})
	if line := m.statusLines(160)[0]; strings.Contains(line, m.styles.Warn.Render(" demo: playing the weather scenario")) {
		t.Errorf("the demo note is a warning: %q", line)
	}
	m.Update(webhook.Status{ListenURL: "http://127.0.0.1:4242", TunnelNote: "NGROK_AUTHTOKEN is not set"})
	if line := m.statusLines(160)[0]; !strings.Contains(line, m.styles.Warn.Render(" NGROK_AUTHTOKEN is not set")) {
		t.Errorf("a live local-only note is not a warning: %q", line)
	}
}

// TestWarningsMoveThePanesDown: the warnings line comes with the status that has warnings
// and goes with the one that has none; the panes start below it, and the screen keeps its
// size.
func TestWarningsMoveThePanesDown(t *testing.T) {
	t.Parallel()
	m, _ := sized(t, 120, 40)
	top := m.panes[paneCalls].y
	m.Update(webhook.Status{ListenURL: "http://0.0.0.0:4242", Warnings: []string{"--addr 0.0.0.0:4242 listens on every interface"}})
	if got := m.panes[paneCalls].y; got != top+1 {
		t.Errorf("with a warning the panes start at row %d, want %d", got, top+1)
	}
	checkScreen(t, screen(m), 120, 40)
	if s := screen(m); !strings.Contains(s, "⚠ --addr 0.0.0.0:4242 listens on every interface") {
		t.Errorf("warning not shown:\n%s", s)
	}
	m.Update(webhook.Status{ListenURL: "http://127.0.0.1:4242"})
	if got := m.panes[paneCalls].y; got != top {
		t.Errorf("without warnings the panes start at row %d, want %d", got, top)
	}
}

// TestForwardFailureWords: each kind of forward failure has its own words; none is read
// from the error text (which says something else on purpose here).
func TestForwardFailureWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		h    webhook.ForwardHealth
		want string
	}{
		{webhook.ForwardHealth{Failure: webhook.ForwardRefused}, "refused"},
		{webhook.ForwardHealth{Failure: webhook.ForwardTimeout}, "timed out"},
		{webhook.ForwardHealth{Failure: webhook.ForwardClosed}, "connection closed"},
		{webhook.ForwardHealth{Failure: webhook.ForwardStatus, Status: 503}, "HTTP 503"},
		{webhook.ForwardHealth{Failure: webhook.ForwardRedirect, Status: 302}, "HTTP 302 redirect"},
		{webhook.ForwardHealth{Failure: webhook.ForwardTooLarge, Status: 200}, "reply too large"},
		{webhook.ForwardHealth{Failure: webhook.ForwardUnusable, Status: 200}, "unusable reply"},
		{webhook.ForwardHealth{Failure: webhook.ForwardBusy}, "busy: not forwarded"},
		{webhook.ForwardHealth{Failure: webhook.ForwardDNS}, "unknown host"},
		{webhook.ForwardHealth{Failure: webhook.ForwardOther}, "failed"},
		{webhook.ForwardHealth{Failure: webhook.ForwardOther, Status: 500}, "HTTP 500"},
	}
	for _, tt := range tests {
		tt.h.Err = "connection refused: timeout, redirect, no such host" // misleading on purpose
		if got := fwdShortErr(&tt.h); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.h.Failure, got, tt.want)
		}
		if fwdOK(&tt.h) {
			t.Errorf("%s counts as a good exchange", tt.h.Failure)
		}
	}
}

// TestReplayedForwardFailureShown: a replayed request has no forward report, only the
// reply's ForwardFailed: its row and detail still say your server failed.
func TestReplayedForwardFailureShown(t *testing.T) {
	t.Parallel()
	m, _ := sized(t, 160, 48)
	m.Update(event(t, 1, base, toolCallsBody(callID, "call_1", "get_weather", `{"location":"Paris"}`)))
	o := outcome(1, webhook.SourceAnswers, `{"results":[{"toolCallId":"call_1","result":"sunny"}]}`, ms(2))
	o.Reply.ForwardFailed = "HTTP 500"
	m.Update(o)
	if s := screen(m); !strings.Contains(s, "✗ your server: HTTP 500 → answers file 2ms") {
		t.Errorf("events row lacks the forward failure:\n%s", s)
	}
}

// TestFilterAppliesToEveryList: the filter narrows the calls, tool calls and events lists
// alike (it used to leave the tool calls pane out), each pane's title says so, and the help
// states the rule.
func TestFilterAppliesToEveryList(t *testing.T) {
	t.Parallel()
	m, _ := sized(t, 160, 48)
	feed(t, m, 1, base, callBodies(callID)[1:3]) // the call starts; the assistant speaks
	m.Update(event(t, 3, base, twoToolCalls))
	m.Update(press("/"))
	typeText(m, "get_time")
	m.Update(press("enter"))
	s := screen(m)
	for _, want := range []string{"1 Calls · 1 live · filter get_time", "3 Tool calls · all calls · 2 pending · filter get_time", "4 Events · 3 · filter get_time", "get_time"} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q:\n%s", want, s)
		}
	}
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

// TestQuitSaysWhatHappens: the quit question says what becomes of the waiting requests
// (the fallback reply now: the answers file's answer or an error the caller hears about)
// and of their calls (they go on in Vapi, and nothing answers their next requests).
func TestQuitSaysWhatHappens(t *testing.T) {
	t.Parallel()
	m, clk := sized(t, 80, 24)
	ask(t, m, event(t, 1, base, toolCallsBody(callID, "call_1", "get_weather", `{"location":"Paris"}`)))
	clk.Advance(time.Second)
	typeText(m, "sunny")
	m.Update(press("ctrl+c"))
	s := strings.Join(strings.Fields(strings.ReplaceAll(screen(m), "│", " ")), " ")
	for _, want := range []string{"1 request still waits for your answer.", "The calls go on in Vapi.",
		"with the fallback reply", "else an error that the assistant", "tells the caller about",
		"Then vapimon stops listening", "not sent (enter not pressed): sunny"} {
		if !strings.Contains(s, want) {
			t.Errorf("the quit question lacks %q:\n%s", want, screen(m))
		}
	}
	checkScreen(t, screen(m), 80, 24)
}

// TestEmptyStateNamesTheAddress: the empty state's `vapimon send` hint names --to when
// vapimon listens elsewhere than send's default (--addr); it used to send the test to a
// port nothing listened on.
func TestEmptyStateNamesTheAddress(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ listen, want string }{
		{"http://127.0.0.1:4242", "run in another terminal: vapimon send tool-calls Or set"},
		{"http://127.0.0.1:5005", "run in another terminal: vapimon send tool-calls --to http://127.0.0.1:5005 Or set"},
	} {
		m, _ := sized(t, 160, 48)
		m.Update(webhook.Status{ListenURL: tt.listen})
		if s := strings.Join(strings.Fields(strings.ReplaceAll(screen(m), "│", " ")), " "); !strings.Contains(s, tt.want) {
			t.Errorf("listening on %s: the empty state lacks %q:\n%s", tt.listen, tt.want, screen(m))
		}
	}
}
