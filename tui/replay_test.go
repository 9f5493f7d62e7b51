package tui

import (
	"context"
	"errors"
	"io"
	"strings"
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

// TestPlayerFollowsRecordedOrder checks that a reply is published where it came in the
// recording: a request received after a slow reply is not shown before that reply, and
// requests are played in the order they were received even when the tape wrote them in
// reply order.
func TestPlayerFollowsRecordedOrder(t *testing.T) {
	t.Parallel()
	bodies := callBodies(callID)
	tool := event(t, 1, base, toolCallsBody(callID, "call_1", "get_weather", `{"location":"Paris"}`))
	during := event(t, 2, base.Add(2*time.Second), bodies[1].body)
	after := event(t, 3, base.Add(10*time.Second), bodies[2].body)
	items := []ReplayItem{
		// The tape is written when the reply goes out: the slow tool call comes second.
		{Event: during, Outcome: outcome(2, webhook.SourceAck, "{}", ms(1))},
		{Event: tool, Outcome: outcome(1, webhook.SourceOperator, `{"results":[{"toolCallId":"call_1","result":"18C"}]}`, 9*time.Second)},
		{Event: after, Outcome: outcome(3, webhook.SourceAck, "{}", ms(1))},
	}
	bus := webhook.NewBus()
	sub := bus.Subscribe(100)
	p := NewPlayer(bus, items, "t.jsonl")
	p.Speed(64)
	if err := p.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	var got []string
	for range 6 {
		switch v := next(t, sub).(type) {
		case *webhook.Event:
			got = append(got, "event "+v.Type())
		case *webhook.Outcome:
			got = append(got, "reply "+v.Reply.Source)
		}
	}
	want := []string{"event tool-calls", "event status-update", "reply ack", "reply operator", "event speech-update", "reply ack"}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("published\n  %s\nwant\n  %s", strings.Join(got, ", "), strings.Join(want, ", "))
	}
	for seq, at := range map[uint64]time.Time{1: tool.Received, 2: during.Received, 3: after.Received} {
		if r := p.Recorded(seq); !r.Equal(at) {
			t.Errorf("Recorded(%d) = %v, want %v", seq, r, at)
		}
	}
}

// TestReplayShowsRecordedTimes checks the offline monitor: recorded times in the events
// pane, "■ finished N/N" at the end, and no tool-timeout banner (nothing can be answered).
func TestReplayShowsRecordedTimes(t *testing.T) {
	t.Parallel()
	bus := webhook.NewBus()
	sub := bus.Subscribe(100)
	recorded := time.Date(2026, 11, 29, 15, 9, 17, 365e6, time.Local)
	items := []ReplayItem{{Event: event(t, 1, recorded, callBodies(callID)[1].body), Outcome: outcome(1, webhook.SourceAck, "{}", ms(1))}}
	p := NewPlayer(bus, items, "t.jsonl")
	clk := newClock(base)
	m := NewModel(Options{Now: clk.Now, Replay: p.Control()}, nil)
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	if err := p.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	m.Update(batchMsg{items: []any{next(t, sub), next(t, sub)}})
	s := screen(m)
	for _, want := range []string{"15:09:17.365", "■ finished 1/1"} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q:\n%s", want, s)
		}
	}
	for _, bad := range []string{"10:00:00", "tool calls wait", "playing"} {
		if strings.Contains(s, bad) {
			t.Errorf("screen has %q:\n%s", bad, s)
		}
	}
	// Paused on a tool call whose reply the replay has not reached: it is not "lost".
	m.Update(event(t, 2, base, toolCallsBody(callID, "call_1", "get_weather", `{"location":"Paris"}`)))
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
	tool := event(t, 1, base, toolCallsBody(callID, "call_1", "get_weather", `{"location":"Paris"}`))
	p := NewPlayer(bus, []ReplayItem{{Event: tool, NoReply: true}}, "crash.jsonl")
	clk := newClock(base)
	m := NewModel(Options{Now: clk.Now, Replay: p.Control()}, nil)
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
	row := m.events.bySeq[ev.Seq]
	if got := detailSummary(&m.styles, row, clk.Now()); !strings.Contains(got, "no reply recorded") {
		t.Errorf("detail summary %q", got)
	}
}

// TestStreamPlayerHoldsLittle plays a long generated tape through NewStreamPlayer: the
// items are read as they are played (the look-ahead stays bounded), every request and
// reply is published in recorded order, and Recorded knows the latest requests.
func TestStreamPlayerHoldsLittle(t *testing.T) {
	t.Parallel()
	const n = 3 * replayWindow
	body := callBodies(callID)[1].body
	read := 0
	src := func() (ReplayItem, error) {
		if read >= n {
			return ReplayItem{}, io.EOF
		}
		read++
		// All at one recorded time: no waits, and nothing tells the player it may stop
		// reading ahead but its window limit.
		return ReplayItem{Event: event(t, uint64(read), base, body), Outcome: outcome(uint64(read), webhook.SourceAck, "{}", 0)}, nil
	}
	bus := webhook.NewBus()
	sub := bus.Subscribe(2 * n)
	p := NewStreamPlayer(bus, src, n, "big.jsonl")
	p.Speed(64)
	maxAhead := 0
	p.src = func() (ReplayItem, error) {
		p.mu.Lock()
		ahead := read - p.next
		p.mu.Unlock()
		maxAhead = max(maxAhead, ahead)
		return src()
	}
	if err := p.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if maxAhead > replayWindow {
		t.Errorf("read %d items ahead of playback, want at most %d", maxAhead, replayWindow)
	}
	events, outs := 0, 0
	var lastSeq uint64
	for events < n || outs < n {
		switch v := next(t, sub).(type) {
		case *webhook.Event:
			events++
			if v.Seq != lastSeq+1 {
				t.Fatalf("event seq %d after %d", v.Seq, lastSeq)
			}
			lastSeq = v.Seq
		case *webhook.Outcome:
			outs++
			if v.Seq > lastSeq {
				t.Fatalf("reply %d published before its request", v.Seq)
			}
		}
	}
	if done, total, _, _ := p.Progress(); done != n || total != n {
		t.Errorf("progress %d/%d", done, total)
	}
	if got := p.Recorded(n); !got.Equal(base) || !p.Recorded(n+1).IsZero() {
		t.Errorf("Recorded(%d) = %v", n, got)
	}
}

// TestStreamPlayerReadError: a tape that cannot be read to the end stops the replay with a
// notice saying why.
func TestStreamPlayerReadError(t *testing.T) {
	t.Parallel()
	bus := webhook.NewBus()
	sub := bus.Subscribe(10)
	sent := false
	p := NewStreamPlayer(bus, func() (ReplayItem, error) {
		if !sent {
			sent = true
			return ReplayItem{Event: event(t, 1, base, callBodies(callID)[1].body)}, nil
		}
		return ReplayItem{}, errors.New("line 9: not a tape record")
	}, 2, "bad.jsonl")
	if err := p.Run(t.Context()); err == nil || !strings.Contains(err.Error(), "line 9") {
		t.Fatalf("Run = %v", err)
	}
	if _, ok := next(t, sub).(*webhook.Event); !ok {
		t.Fatal("the readable request was not played")
	}
	if n, ok := next(t, sub).(webhook.Notice); !ok || !strings.Contains(n.Text, "replay stopped: line 9") {
		t.Errorf("published %+v, want a notice", n)
	}
}
