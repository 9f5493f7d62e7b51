package tui

import (
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/vapimon/vapimon/webhook"
)

// TestVerifiedText checks that a request is called verified only when auth was on and
// passed; with auth none it says nothing was checked, in the warning colour.
func TestVerifiedText(t *testing.T) {
	t.Parallel()
	st := DefaultStyles()
	tests := []struct {
		name     string
		mode     webhook.AuthMode
		verified bool
		want     string
		warn     bool
	}{
		{"auth none", webhook.AuthNone, false, "not verified (auth none)", true},
		{"auth none, old handler says verified", webhook.AuthNone, true, "not verified (auth none)", true},
		{"no mode at all", "", true, "not verified (auth none)", true},
		{"secret passed", webhook.AuthSecret, true, "verified (secret)", false},
		{"hmac not passed", webhook.AuthMode("hmac"), false, "not verified (auth hmac)", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := verifiedText(&st, &webhook.Event{AuthMode: tt.mode, Verified: tt.verified})
			if s := ansi.Strip(got); s != tt.want {
				t.Errorf("text = %q, want %q", s, tt.want)
			}
			if warn := got == st.Warn.Render(tt.want); warn != tt.warn {
				t.Errorf("warning colour = %v, want %v (%q)", warn, tt.warn, got)
			}
		})
	}
}
