package tui

import (
	"strings"
	"testing"
)

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
