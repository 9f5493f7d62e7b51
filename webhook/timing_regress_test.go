package webhook

import (
	"testing"
	"time"
)

// Issue 8 point 2: "the effective timeout is the tool's server.timeoutSeconds, else the
// assistant's, else the phone number's, else --tool-timeout (which becomes the default,
// not an override)". A tool whose own timeout is longer than the assistant's or than
// --tool-timeout must get its own: the README tells users to raise the tool's
// server.timeoutSeconds when they need more time to type. Today the message-wide source
// is the starting minimum, so a tool's 60 s is cut to --tool-timeout's 20 s (and the
// fallback goes at 18.5 s while Vapi still waits 41.5 s more). Repro against the binary:
// `vapimon listen --headless --forward-to http://HUNG` and a tool-calls message whose
// tool has server.timeoutSeconds 60: the forward gets 9.3 s and the fallback goes at
// 18.5 s.
func TestRegressTimingToolLongerThanDefault(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 29, 14, 0, 0, 0, time.UTC)
	tests := []struct {
		name             string
		assistant, phone string
		tools            []string
		toolTimeout      time.Duration
		want             time.Duration
	}{
		{"tool 60 over --tool-timeout 20", "", "", []string{"60"}, 20 * time.Second, 60 * time.Second},
		{"tool 60 over the assistant's 30", "30", "", []string{"60"}, 0, 60 * time.Second},
		{"tool 300 over the phone number's 25", "", "25", []string{"300"}, 0, 300 * time.Second},
		{"two long tools: the earliest of them", "", "", []string{"90", "45"}, 0, 45 * time.Second},
	}
	for _, tt := range tests {
		d := Timing(timedMessage(t, tt.assistant, tt.phone, tt.tools...), t0, tt.toolTimeout)
		if d.Budget != tt.want {
			t.Errorf("%s: budget %s (%s), want %s", tt.name, d.Budget, d.Source, tt.want)
		}
	}
}
