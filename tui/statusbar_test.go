package tui

import (
	"strings"
	"testing"

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
	m, _, _ := sizedWithWeather(t, 160, 48)
	o := outcome(1, webhook.SourceAnswers, `{"results":[{"toolCallId":"call_1","result":"sunny"}]}`, ms(2))
	o.Reply.ForwardFailed = "HTTP 500"
	m.Update(o)
	if s := screen(m); !strings.Contains(s, "✗ your server: HTTP 500 → answers file 2ms") {
		t.Errorf("events row lacks the forward failure:\n%s", s)
	}
}
