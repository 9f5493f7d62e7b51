package tui

import (
	"strings"
	"testing"
	"time"
)

// TestCallWhoAndIdle checks the calls pane's caller label (number, "web" for a web call,
// "unknown" otherwise) and that a live call without events for two minutes shows "idle"
// with its clock stopped.
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
			if r := row(); !strings.Contains(r, "idle") || !strings.Contains(r, "0:00") {
				t.Errorf("calls row %q after 2.5 minutes of silence, want idle with the clock stopped at 0:00", r)
			}
		})
	}
}
