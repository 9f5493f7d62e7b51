package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vapimon/vapimon/webhook"
	"github.com/vapimon/vapimon/webhook/webhooktest"
)

// lacks fails when s holds any of the unwanted strings.
func lacks(t *testing.T, what, s string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(s, u) {
			t.Errorf("%s holds %q:\n%s", what, u, s)
		}
	}
}

// TestQuitSaysWhatHappens: the quit question says what becomes of the waiting requests
// (the fallback reply now: the answers file's answer or an error the caller hears about)
// and of their calls (they go on in Vapi, and nothing answers their next requests).
func TestQuitSaysWhatHappens(t *testing.T) {
	t.Parallel()
	m, _, _ := openPrompt(t, 80, 24, weatherBody)
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

// flat is the screen on one line of single spaces, box sides gone, for phrases that wrap.
func flat(m *Model) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(screen(m), "│", " ")), " ")
}

// TestQuitCountsAgree: the quit question, the status bar and the flash count the same
// things and say which: requests (messages Vapi waits on) and the tool calls of theirs
// that have no answer yet. A tool call answered while its message's other calls are not
// is not counted (it once was, as a second request).
func TestQuitCountsAgree(t *testing.T) {
	t.Parallel()
	t.Run("one message, first call answered", func(t *testing.T) {
		t.Parallel()
		m, _, _ := openPrompt(t, 160, 48, twoToolCalls)
		submit(m, "sunny")
		m.Update(press("ctrl+c"))
		s := flat(m)
		webhooktest.Holds(t, "quit question", s, "1 request still waits for your answer. 1 tool call in it has no answer yet.",
			"pending 1 request (1 tool call)")
		lacks(t, "quit question", s, "2 requests", "pending 2")
	})
	t.Run("three messages, five calls unanswered", func(t *testing.T) {
		t.Parallel()
		m, clk, _ := openPrompt(t, 160, 48, twoToolCalls)
		for seq := uint64(2); seq <= 3; seq++ {
			body := strings.ReplaceAll(strings.ReplaceAll(twoToolCalls, "call_a", fmt.Sprintf("call_a%d", seq)), "call_b", fmt.Sprintf("call_b%d", seq))
			ask(t, m, event(t, seq, base, body))
		}
		clk.Advance(time.Second)
		submit(m, "sunny")
		clk.Advance(time.Second) // the next call's prompt ignores keys for a moment
		m.Update(press("esc"))   // defer: the flash counts the requests
		webhooktest.Holds(t, "flash", flat(m), "3 requests wait for you")
		m.Update(press("ctrl+c"))
		s := flat(m)
		webhooktest.Holds(t, "quit question", s, "3 requests still wait for your answer. 5 tool calls in them have no answer yet.",
			"pending 3 requests (5 tool calls)")
		lacks(t, "quit question", s, "6 requests", "pending 6")
	})
}

// TestQuitTapeOnlyWhenRecorded: the quit question mentions the tape only when there is one
// (not under --no-record).
func TestQuitTapeOnlyWhenRecorded(t *testing.T) {
	t.Parallel()
	for _, tape := range []string{"", "vapimon-20251009.jsonl"} {
		m, clk := sizedWith(t, Options{Status: webhook.Status{ListenURL: "http://127.0.0.1:4242", Tape: tape}}, 120, 40)
		ask(t, m, event(t, 1, base, weatherBody))
		clk.Advance(time.Second)
		m.Update(press("ctrl+c"))
		s := flat(m)
		if got := strings.Contains(s, "tape has"); got != (tape != "") {
			t.Errorf("tape %q: quit question mentions the tape = %v:\n%s", tape, got, screen(m))
		}
	}
}

// TestQuitIgnoresTypingBurst: ctrl+c pressed while typing an answer opens the quit question,
// and a y typed in the same burst (within the prompt's grace period) does not confirm it;
// y once that period passed does.
func TestQuitIgnoresTypingBurst(t *testing.T) {
	t.Parallel()
	m, clk, _ := openPrompt(t, 120, 40, weatherBody)
	typeText(m, "sunn")
	m.Update(press("ctrl+c"))
	m.Update(press("y"))
	if m.quitting || !m.confirmQuit {
		t.Fatalf("a y in the typing burst answered the quit question (quitting %v)", m.quitting)
	}
	clk.Advance(time.Second)
	m.Update(press("y"))
	if !m.quitting {
		t.Error("y after the grace period did not quit")
	}
}
