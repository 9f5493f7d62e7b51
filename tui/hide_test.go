package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/vapimon/vapimon/webhook"
)

// TestHideKeyAndOnly: H hides the noisy types from the events pane and shows them again;
// the status bar says what is hidden; --only keeps one type (and rejected requests);
// calls and transcripts still get every request.
func TestHideKeyAndOnly(t *testing.T) {
	t.Parallel()
	m, _ := sized(t, 160, 48)
	m.focus = paneEvents
	m.Update(event(t, 1, base, `{"message":{"type":"speech-update","status":"started","role":"user","call":{"id":"`+callID+`"}}}`))
	m.Update(event(t, 2, base, `{"message":{"type":"status-update","status":"in-progress","call":{"id":"`+callID+`"}}}`))
	m.Update(rejected(3, base, "signature mismatch", 401))
	n := func() int { c, _ := m.eventsP.visible(m.events, m.filter); return c }
	if n() != 3 {
		t.Fatalf("%d rows before H, want 3", n())
	}
	m.Update(tea.KeyPressMsg{Code: 'H', Text: "H"})
	if n() != 2 {
		t.Errorf("%d rows after H, want 2 (speech-update hidden)", n())
	}
	if s := screen(m); !strings.Contains(s, "hiding 4 noisy types") || !strings.Contains(s, "4 Events · 3 · 1 rejected · 1 hidden (H)") {
		t.Errorf("status bar does not say what is hidden:\n%s", s)
	}
	if c := m.calls.byID[callID]; c == nil || c.events != 2 {
		t.Errorf("the call did not get every request: %+v", c)
	}
	m.Update(tea.KeyPressMsg{Code: 'H', Text: "H"})
	if n() != 3 || strings.Contains(screen(m), "hiding") {
		t.Errorf("after H again: %d rows, status %q", n(), screen(m))
	}

	clk := newClock(base)
	o := newTestModel(clk, nil)
	o.opts.Show = webhook.TypeFilter{Only: []string{"status-update"}, Hide: []string{"transcript"}}
	o.hiding = true
	o.applyTypeFilter()
	o.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	o.Update(event(t, 1, base, `{"message":{"type":"speech-update","status":"started","role":"user"}}`))
	o.Update(event(t, 2, base, `{"message":{"type":"status-update","status":"in-progress"}}`))
	o.Update(rejected(3, base, "signature mismatch", 401))
	if c, at := o.eventsP.visible(o.events, ""); c != 2 || at(0).seq != 2 || at(1).seq != 3 {
		t.Errorf("--only status-update: %d rows", c)
	}
	if s := screen(o); !strings.Contains(s, "only status-update; hiding transcript") {
		t.Errorf("status bar:\n%s", s)
	}
}
