package tui

import (
	"strings"
	"testing"
	"time"
)

// TestPromptNewlineNote checks that the prompt says new lines are sent as spaces once the
// answer has one, and not before.
func TestPromptNewlineNote(t *testing.T) {
	t.Parallel()
	const note = "new lines are sent as spaces (Vapi wants one line)"
	m, clk := sized(t, 100, 40)
	ask(t, m, event(t, 1, base, toolCallsBody(callID, "call_1", "get_weather", `{"location":"Paris"}`)))
	clk.Advance(time.Second)
	typeText(m, "line one")
	if s := screen(m); strings.Contains(s, note) {
		t.Errorf("note shown for a one-line answer:\n%s", s)
	}
	m.Update(press("alt+enter"))
	typeText(m, "line two")
	if s := screen(m); !strings.Contains(s, note) {
		t.Errorf("note missing for a two-line answer:\n%s", s)
	}
}
