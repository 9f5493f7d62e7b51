package tui

import (
	"context"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/vapimon/vapimon/webhook"
)

func replayItems(t *testing.T) []ReplayItem {
	t.Helper()
	var items []ReplayItem
	for i, b := range callBodies(callID)[:4] {
		ev := event(t, 7, base.Add(b.at/100), b.body) // same recorded seq: a tape of several sessions
		items = append(items, ReplayItem{Event: ev, Outcome: outcome(7, webhook.SourceAck, "{}", time.Duration(i)*time.Millisecond)})
	}
	return items
}

func next(t *testing.T, ch <-chan any) any {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("nothing published")
		return nil
	}
}

func TestPlayerPublishesInOrder(t *testing.T) {
	t.Parallel()
	bus := webhook.NewBus()
	sub := bus.Subscribe(100)
	items := replayItems(t)
	p := NewPlayer(bus, items, "yesterday.jsonl")
	p.Speed(64)
	if err := p.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	outs := 0
	deadline := time.After(5 * time.Second)
	for len(seqs) < len(items) || outs < len(items) {
		select {
		case v := <-sub:
			switch v := v.(type) {
			case *webhook.Event:
				seqs = append(seqs, v.Seq)
				if v == items[len(seqs)-1].Event {
					t.Error("the recorded event was published without copying")
				}
				if v.Msg.Kind == webhook.TypeAssistantRequest && v.Deadline.IsZero() {
					t.Error("assistant-request replayed without a deadline")
				}
			case *webhook.Outcome:
				outs++
			}
		case <-deadline:
			t.Fatalf("got %d events and %d outcomes", len(seqs), outs)
		}
	}
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Errorf("events renumbered %v, want 1..%d", seqs, len(items))
			break
		}
	}
	if done, total, _, _ := p.Progress(); done != total {
		t.Errorf("progress %d/%d after the end", done, total)
	}
}

func TestPlayerPauseAndStep(t *testing.T) {
	t.Parallel()
	bus := webhook.NewBus()
	sub := bus.Subscribe(100)
	p := NewPlayer(bus, replayItems(t), "yesterday.jsonl")
	c := p.Control()
	if !c.TogglePause() {
		t.Fatal("TogglePause did not pause")
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	c.Step()
	ev, ok := next(t, sub).(*webhook.Event)
	if !ok || ev.Seq != 1 {
		t.Fatalf("step published %v, want event #1", ev)
	}
	if out, ok := next(t, sub).(*webhook.Outcome); !ok || out.Seq != 1 {
		t.Fatalf("step did not publish the reply at once: %v", out)
	}
	select {
	case v := <-sub:
		t.Fatalf("published %T while paused", v)
	case <-time.After(50 * time.Millisecond):
	}
	if d, total, paused, _ := c.Progress(); d != 1 || total != 4 || !paused {
		t.Errorf("progress %d/%d paused=%v", d, total, paused)
	}
	if got := c.Speed(1000); got != 64 {
		t.Errorf("speed capped at %v, want 64", got)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
}

func TestReplayKeys(t *testing.T) {
	t.Parallel()
	bus := webhook.NewBus()
	p := NewPlayer(bus, replayItems(t), "yesterday.jsonl")
	clk := newClock(base)
	m := NewModel(Options{Now: clk.Now, Replay: p.Control()}, nil)
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
	p := NewPlayer(bus, replayItems(t), "yesterday.jsonl")
	p.Speed(64)
	var out syncBuffer
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		errc <- Run(ctx, Options{Bus: bus, Replay: p.Control()}, nil,
			tea.WithInput(nil), tea.WithOutput(&out), tea.WithWindowSize(160, 48), tea.WithoutSignals())
	}()
	eventually(t, "the replayed transcript", func() bool { return out.Contains("Hi Ada") })
	eventually(t, "the first request", func() bool { return out.Contains("assistant-request") })
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("Run = %v", err)
	}
}
