package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vapimon/vapimon/webhook"
)

// TestStreamHoldsFrames: in the running program (Model.frames set), a batch of bus values
// that follows a drawn frame within streamFrame shows the last frame again and asks for a
// refresh, which draws the new state; a key, or a batch asking the operator, draws at once.
func TestStreamHoldsFrames(t *testing.T) {
	t.Parallel()
	m, _ := sized(t, 160, 48)
	m.frames = &frameMemo{}
	status := func(seq uint64) batchMsg {
		body := fmt.Sprintf(`{"message":{"type":"status-update","status":"in-progress","call":{"id":"call-%d"}}}`, seq)
		return batchMsg{items: []any{event(t, seq, base, body)}}
	}
	_, cmd := m.Update(status(1))
	if cmd != nil {
		t.Fatal("the first batch asked for a refresh: there was no frame to hold")
	}
	first := screen(m)
	if !strings.Contains(first, "call-1") {
		t.Fatalf("first frame lacks call-1:\n%s", first)
	}
	_, cmd = m.Update(status(2))
	if cmd == nil {
		t.Fatal("a batch right after a frame did not ask for a refresh")
	}
	if s := screen(m); s != first {
		t.Fatalf("a held frame was drawn again:\n%s", s)
	}
	if _, again := m.Update(status(3)); again != nil {
		t.Error("a second refresh was asked while one is on its way")
	}
	msg := cmd() // the tea.Tick: waits out the rest of streamFrame
	if _, ok := msg.(frameRefreshMsg); !ok {
		t.Fatalf("refresh command gave %T", msg)
	}
	m.Update(msg)
	if s := screen(m); !strings.Contains(s, "call-3") {
		t.Fatalf("the refresh did not draw the new state:\n%s", s)
	}

	// A key draws at once, even right after a frame.
	m.Update(status(4))
	m.Update(press("j"))
	if s := screen(m); !strings.Contains(s, "call-4") {
		t.Errorf("a key did not draw at once:\n%s", s)
	}
	// A batch asking the operator draws at once: the prompt must show.
	ev := event(t, 5, base, weatherBody)
	m.Update(batchMsg{items: []any{ev, &opRequest{ev: ev, ctx: t.Context(), reply: make(chan webhook.Reply, 1)}}})
	if m.frames.hold {
		t.Error("a batch that opens a prompt held the frame")
	}
	if s := screen(m); !strings.Contains(s, "get_weather") {
		t.Errorf("the prompt's tool is not on the screen at once:\n%s", s)
	}
	// Past streamFrame, a batch draws.
	m.frames.at = time.Now().Add(-2 * streamFrame)
	m.Update(status(6))
	if m.frames.hold {
		t.Error("a batch long after the last frame held it")
	}
}
