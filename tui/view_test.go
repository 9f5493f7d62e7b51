package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/vapimon/vapimon/webhook"
)

// viewState is the part of the model that View used to change (clamping the help's scroll,
// rewriting selections and scroll positions): View must leave it as it finds it.
func viewState(m *Model) string {
	s := fmt.Sprintf("help %d · calls %d/%d · transcript %d/%d/%v · tools %d/%d · events %d/%d · sel %q shown %q",
		m.helpTop, m.callsP.sel, m.callsP.top, m.transP.top, m.transP.total, m.transP.follow,
		m.toolsP.sel, m.toolsP.top, m.eventsP.sel, m.eventsP.top, m.selCall, m.shownCall)
	if d := m.detail; d != nil {
		s += fmt.Sprintf(" · detail %d %dx%d", d.top, d.w, d.h)
	}
	return s
}

// TestViewIsPure: View draws the state it is given and changes none of it, even state that
// Update has not settled yet (out of range on purpose here); the screen it draws is the
// one it draws once Update has settled that state.
func TestViewIsPure(t *testing.T) {
	t.Parallel()
	scenes := []struct {
		name  string
		build func(m *Model)
		spoil func(m *Model)
	}{
		{"panes", func(m *Model) {
			m.Update(press("j"))
		}, func(m *Model) {
			m.callsP.sel, m.callsP.top = 99, 40
			m.eventsP.follow, m.eventsP.sel, m.eventsP.top = false, -5, 1000
			m.toolsP.follow, m.toolsP.sel, m.toolsP.top = false, 50, 50
			m.transP.follow, m.transP.top = false, 10000
		}},
		{"help", func(m *Model) { m.Update(press("?")) }, func(m *Model) { m.helpTop = 1000 }},
		{"detail", func(m *Model) {
			m.Update(press("4"))
			m.Update(press("enter"))
		}, func(m *Model) { m.detail.top = 1 << 20 }},
	}
	for _, sc := range scenes {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			m, _ := sized(t, 80, 24)
			feed(t, m, 1, base, callBodies(callID))
			m.Update(outcome(10, webhook.SourceOperator, `{"results":[{"toolCallId":"call_VaJOd8ZeZgWCEHDYomyCPfwN","result":"sunny"}]}`, ms(800)))
			sc.build(m)
			sc.spoil(m)
			before := viewState(m)
			first := screen(m)
			if after := viewState(m); after != before {
				t.Fatalf("View changed the state:\nbefore %s\nafter  %s", before, after)
			}
			if again := screen(m); again != first {
				t.Errorf("a second View drew another screen:\n%s\n---\n%s", first, again)
			}
			m.Update(tea.WindowSizeMsg{Width: 80, Height: 24}) // settles
			if settled := screen(m); settled != first {
				t.Errorf("the screen differs once settled:\n%s\n--- settled ---\n%s", first, settled)
			}
		})
	}
}

// TestLastFrameIsBlank: the frame drawn as the monitor quits is blank (still on the
// alternate screen). With a full last frame, tmux left part of the monitor in the shell
// after the window had grown (100x30 to 120x40, then q: ten lines of panes above the
// prompt); with a blank one nothing is left.
func TestLastFrameIsBlank(t *testing.T) {
	t.Parallel()
	m, _ := sized(t, 100, 30)
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	if m.View().Content == "" {
		t.Fatal("the monitor draws nothing before quitting")
	}
	_, cmd := m.Update(press("q"))
	if cmd == nil || !m.quitting {
		t.Fatal("q did not quit")
	}
	if v := m.View(); v.Content != "" || !v.AltScreen {
		t.Errorf("last frame: %d bytes, alt screen %v; want a blank frame on the alternate screen", len(v.Content), v.AltScreen)
	}
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

// TestEmptyStateSignsTheHint: when the listener verifies requests (--secret), the empty
// state's `vapimon send` hint signs the test with the secret named by its variable (it used
// to send it unsigned, to a 401), and never shows the secret itself.
func TestEmptyStateSignsTheHint(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		listen string
		mode   webhook.AuthMode
		want   string
	}{
		{"http://127.0.0.1:4242", webhook.AuthSecret, `run in another terminal: vapimon send tool-calls --secret "$VAPI_WEBHOOK_SECRET" (VAPI_WEBHOOK_SECRET`},
		{"http://127.0.0.1:5005", webhook.AuthSecret, `vapimon send tool-calls --to http://127.0.0.1:5005 --secret "$VAPI_WEBHOOK_SECRET"`},
		{"http://127.0.0.1:4242", webhook.AuthHMAC, `vapimon send tool-calls --auth hmac --secret "$VAPI_WEBHOOK_SECRET"`},
		{"http://127.0.0.1:4242", webhook.AuthBearer, `vapimon send tool-calls --auth bearer --secret "$VAPI_WEBHOOK_SECRET"`},
	} {
		m, _ := sized(t, 160, 48)
		m.Update(webhook.Status{ListenURL: tt.listen, AuthMode: tt.mode, Auth: "x-vapi-secret"})
		s := strings.Join(strings.Fields(strings.ReplaceAll(screen(m), "│", " ")), " ")
		if !strings.Contains(s, tt.want) {
			t.Errorf("auth %s on %s: the empty state lacks %q:\n%s", tt.mode, tt.listen, tt.want, screen(m))
		}
	}
}

// TestHelpTopAndBottom: in the help screen g and G (home and end) go to its top and its
// bottom, as they do in the panes and the detail view (only the arrows and pgup/pgdn did).
func TestHelpTopAndBottom(t *testing.T) {
	t.Parallel()
	m, _ := sized(t, 80, 24)
	m.Update(press("?"))
	first := screen(m)
	if strings.Contains(first, "ignore OSC 52.") {
		t.Fatal("the whole help fits at 80x24: use a smaller screen for this test")
	}
	m.Update(press("G"))
	if s := screen(m); !strings.Contains(s, "ignore OSC 52.") {
		t.Errorf("G did not go to the end of the help:\n%s", s)
	}
	m.Update(press("g"))
	if s := screen(m); s != first {
		t.Errorf("g did not go back to the top of the help:\n%s", s)
	}
}
