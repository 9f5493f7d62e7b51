package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/webhook"
	"github.com/vapimon/vapimon/webhook/webhooktest"
)

func replayItems(t *testing.T) []fixtures.PlayItem {
	t.Helper()
	var items []fixtures.PlayItem
	for i, b := range callBodies(callID)[:4] {
		ev := event(t, 7, base.Add(b.at/100), b.body) // same recorded seq: a tape of several sessions
		items = append(items, fixtures.PlayItem{Event: ev, Outcome: outcome(7, webhook.SourceAck, "{}", time.Duration(i)*time.Millisecond)})
	}
	return items
}

func next(t *testing.T, ch <-chan any) any {
	t.Helper()
	return receive(t, ch, "nothing published")
}

func TestReplayKeys(t *testing.T) {
	t.Parallel()
	bus := webhook.NewBus()
	p := fixtures.NewPlayerOf(bus, replayItems(t))
	clk := newClock(base)
	m := NewModel(Options{Now: clk.Now, Replay: PlayerControl(p, "yesterday.jsonl")}, nil)
	m.Update(press("p"))
	if _, _, paused, _ := p.Progress(); !paused {
		t.Error("p did not pause")
	}
	m.Update(press("+"))
	m.Update(press("+"))
	m.Update(press("-"))
	if _, _, _, speed := p.Progress(); speed != 2 {
		t.Errorf("speed %v after + + -, want 2", speed)
	}
	m.Update(press("n"))
	m.resize(160, 48)
	if s := screen(m); !contains("replay yesterday.jsonl")([]byte(s)) || !contains("paused 2x 0/4")([]byte(s)) {
		t.Errorf("status bar:\n%s", s)
	}
}

// TestRunReplay runs the monitor over a player, as `vapimon replay TAPE` does: Run starts
// the player once subscribed, so the first request is not missed.
func TestRunReplay(t *testing.T) {
	t.Parallel()
	bus := webhook.NewBus()
	p := fixtures.NewPlayerOf(bus, replayItems(t))
	p.Speed(64)
	_, out, cancel, errc := startRun(t, Options{Bus: bus, Replay: PlayerControl(p, "yesterday.jsonl")}, nil,
		tea.WithInput(nil), tea.WithWindowSize(160, 48), tea.WithoutSignals())
	webhooktest.Eventually(t, 5*time.Second, "the replayed transcript", func() bool { return out.Contains("Hi Ada") })
	webhooktest.Eventually(t, 5*time.Second, "the first request", func() bool { return out.Contains("assistant-request") })
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("Run = %v", err)
	}
}

// TestReplayShowsRecordedTimes checks the offline monitor: recorded times in the events
// pane, "■ finished N/N" at the end, and no tool-timeout banner (nothing can be answered).
func TestReplayShowsRecordedTimes(t *testing.T) {
	t.Parallel()
	bus := webhook.NewBus()
	sub := bus.Subscribe(100)
	recorded := time.Date(2026, 11, 29, 15, 9, 17, 365e6, time.Local)
	items := []fixtures.PlayItem{{Event: event(t, 1, recorded, callBodies(callID)[1].body), Outcome: outcome(1, webhook.SourceAck, "{}", ms(1))}}
	p := fixtures.NewPlayerOf(bus, items)
	clk := newClock(base)
	m := NewModel(Options{Now: clk.Now, Replay: PlayerControl(p, "t.jsonl")}, nil)
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	if err := p.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	m.Update(batchMsg{items: []any{next(t, sub), next(t, sub)}})
	s := screen(m)
	webhooktest.Holds(t, "screen", s, "15:09:17.365", "■ finished 1/1")
	for _, bad := range []string{"10:00:00", "tool calls wait", "playing"} {
		if strings.Contains(s, bad) {
			t.Errorf("screen has %q:\n%s", bad, s)
		}
	}
	// Paused on a tool call whose reply the replay has not reached: it is not "lost".
	m.Update(event(t, 2, base, weatherBody))
	clk.Advance(time.Minute)
	m.Update(tickMsg(clk.Now()))
	if s := screen(m); strings.Contains(s, "no outcome seen") {
		t.Errorf("offline, a reply not reached yet is called lost:\n%s", s)
	}
}

// TestReplayNoReplyRecorded: a request the tape holds without its reply is published with
// an outcome that says so at once, and the monitor shows "no reply recorded" in the events
// pane, the tool-calls pane and the request detail, never "waiting" or a countdown.
func TestReplayNoReplyRecorded(t *testing.T) {
	t.Parallel()
	bus := webhook.NewBus()
	sub := bus.Subscribe(100)
	tool := event(t, 1, base, weatherBody)
	p := fixtures.NewPlayerOf(bus, []fixtures.PlayItem{{Event: tool, NoReply: true}})
	clk := newClock(base)
	m := NewModel(Options{Now: clk.Now, Replay: PlayerControl(p, "crash.jsonl")}, nil)
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	if err := p.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	ev, ok := next(t, sub).(*webhook.Event)
	if !ok {
		t.Fatal("the request was not published first")
	}
	out, ok := next(t, sub).(*webhook.Outcome)
	if !ok || out.Seq != ev.Seq || out.Reply.Source != sourceNoReply {
		t.Fatalf("published %+v, want the no-reply outcome of request %d", out, ev.Seq)
	}
	m.Update(batchMsg{items: []any{ev, out}})
	clk.Advance(time.Minute)
	m.Update(tickMsg(clk.Now()))
	s := screen(m)
	if strings.Count(s, "no reply recorded") < 2 {
		t.Errorf("the events and tool-calls panes should both say no reply recorded:\n%s", s)
	}
	for _, bad := range []string{"waiting", "fallback sent", "deadline passed", "no outcome seen"} {
		if strings.Contains(s, bad) {
			t.Errorf("screen says %q for a request without recorded reply:\n%s", bad, s)
		}
	}
	row := m.events.bySeq.get(ev.Seq)
	if got := detailSummary(&m.styles, row, clk.Now()); !strings.Contains(got, "no reply recorded") {
		t.Errorf("detail summary %q", got)
	}
}
