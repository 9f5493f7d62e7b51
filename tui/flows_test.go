package tui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/vapimon/vapimon/webhook"
)

// syncMsg is ignored by the model; sending it waits until every earlier message has been
// handled (Program.Send returns once the loop has taken the message).
type syncMsg struct{}

type respondResult struct {
	rep webhook.Reply
	err error
}

// respondAsync runs Operator.Respond as the handler would, returning the request the
// forwarder would pass on and a channel with Respond's result.
func respondAsync(t *testing.T, ctx context.Context, op *Operator, ev *webhook.Event) (*opRequest, <-chan respondResult) {
	t.Helper()
	done := make(chan respondResult, 1)
	go func() {
		rep, err := op.Respond(ctx, ev)
		done <- respondResult{rep, err}
	}()
	select {
	case req := <-op.reqs:
		return req, done
	case <-time.After(5 * time.Second):
		t.Fatal("Respond did not hand the request to the monitor")
		return nil, nil
	}
}

func waitResult(t *testing.T, done <-chan respondResult) respondResult {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("Respond did not return")
		return respondResult{}
	}
}

func contains(s string) func([]byte) bool {
	return func(b []byte) bool { return bytes.Contains(b, []byte(s)) }
}

func waitOpts() []teatest.WaitForOption {
	return []teatest.WaitForOption{teatest.WithDuration(5 * time.Second), teatest.WithCheckInterval(10 * time.Millisecond)}
}

func finalModel(t *testing.T, tm *teatest.TestModel) *Model {
	t.Helper()
	return tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
}

func TestFlowAnswerByTyping(t *testing.T) {
	t.Parallel()
	clk := newClock(base)
	op := NewOperator()
	tm := teatest.NewTestModel(t, newTestModel(clk, op), teatest.WithInitialTermSize(120, 40))

	const tcID = "call_VaJOd8ZeZgWCEHDYomyCPfwN"
	ev := event(t, 1, base, toolCallsBody(callID, tcID, "get_weather", `{"location":"Paris"}`))
	req, done := respondAsync(t, t.Context(), op, ev)
	tm.Send(batchMsg{items: []any{ev, req}})
	teatest.WaitFor(t, tm.Output(), contains("Answer tool call"), waitOpts()...)

	// Keys typed within the grace period are ignored: they were meant for something else.
	tm.Type("x")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	tm.Send(syncMsg{})
	clk.Advance(time.Second)

	tm.Type("Paris: 18C, light rain")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	r := waitResult(t, done)
	if r.err != nil {
		t.Fatalf("Respond: %v", r.err)
	}
	if r.rep.Source != webhook.SourceOperator {
		t.Errorf("source = %q, want operator", r.rep.Source)
	}
	var got struct {
		Results []map[string]string `json:"results"`
	}
	if err := json.Unmarshal(r.rep.Body, &got); err != nil {
		t.Fatalf("reply %s: %v", r.rep.Body, err)
	}
	want := []map[string]string{{"toolCallId": tcID, "name": "get_weather", "result": "Paris: 18C, light rain"}}
	if len(got.Results) != 1 || !equalMaps(got.Results[0], want[0]) {
		t.Errorf("reply = %s, want results %v", r.rep.Body, want)
	}

	// The handler publishes the outcome; the tools pane shows who answered.
	tm.Send(outcome(1, webhook.SourceOperator, string(r.rep.Body), 1200*time.Millisecond))
	teatest.WaitFor(t, tm.Output(), contains("typed"), waitOpts()...)
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	m := finalModel(t, tm)
	if m.prompt != nil || len(m.queue) != 0 {
		t.Errorf("prompt still open after answering: %v, queue %d", m.prompt != nil, len(m.queue))
	}
	if rows := m.calls.byID[callID].tools; len(rows) != 1 || rows[0].source != webhook.SourceOperator || rows[0].result != "Paris: 18C, light rain" {
		t.Errorf("tool row = %+v", rows[0])
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestFlowDeadlinePasses(t *testing.T) {
	t.Parallel()
	clk := newClock(base)
	op := NewOperator()
	tm := teatest.NewTestModel(t, newTestModel(clk, op), teatest.WithInitialTermSize(120, 40))

	ev := event(t, 1, base, toolCallsBody(callID, "call_1", "lookup_order", `{"order":"A-17"}`))
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(200*time.Millisecond))
	defer cancel()
	req, done := respondAsync(t, ctx, op, ev)
	tm.Send(batchMsg{items: []any{ev, req}})
	teatest.WaitFor(t, tm.Output(), contains("Answer tool call"), waitOpts()...)

	r := waitResult(t, done)
	if !errors.Is(r.err, context.DeadlineExceeded) {
		t.Fatalf("Respond error = %v, want the context's deadline error", r.err)
	}
	// The handler now sends its fallback and publishes the outcome.
	fb := webhook.ErrorReply(ev.Msg, "vapimon: nobody answered within 18.5s")
	tm.Send(&webhook.Outcome{Seq: 1, Reply: fb, Latency: 18500 * time.Millisecond})
	teatest.WaitFor(t, tm.Output(), contains("fallback"), waitOpts()...)
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	m := finalModel(t, tm)
	if m.prompt != nil {
		t.Error("the prompt is still open after the deadline")
	}
	row := m.calls.byID[callID].tools[0]
	if !row.done || row.source != webhook.SourceFallback || !row.isErr {
		t.Errorf("tool row after fallback = %+v", row)
	}
	m.resize(120, 40)
	if s := screen(m); !strings.Contains(s, "fallback sent") {
		t.Errorf("the tools pane does not say the fallback was sent:\n%s", s)
	}
}

func TestFlowQuitWithPendingCall(t *testing.T) {
	t.Parallel()
	clk := newClock(base)
	tm := teatest.NewTestModel(t, newTestModel(clk, nil), teatest.WithInitialTermSize(100, 30))

	// A tool call the forward target is still answering.
	tm.Send(event(t, 1, base, toolCallsBody(callID, "call_1", "book_table", `{"people":4}`)))
	teatest.WaitFor(t, tm.Output(), contains("book_table"), waitOpts()...)

	tm.Type("q")
	teatest.WaitFor(t, tm.Output(), contains("Quit vapimon?"), waitOpts()...)
	tm.Type("n") // stay
	// Frames are cell diffs at a fixed rate: wait for the panes to be redrawn before
	// asking again, or both keys may land in one frame and nothing would change on screen.
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return len(b) > 0 }, waitOpts()...)
	tm.Type("q")
	teatest.WaitFor(t, tm.Output(), contains("Quit vapimon?"), waitOpts()...)
	tm.Type("y")
	m := finalModel(t, tm)
	if !m.quitting {
		t.Error("the program ended without quitting")
	}
}

func TestFlowQuitWithoutPendingCallDoesNotAsk(t *testing.T) {
	t.Parallel()
	tm := teatest.NewTestModel(t, newTestModel(newClock(base), nil), teatest.WithInitialTermSize(100, 30))
	tm.Type("q")
	if m := finalModel(t, tm); m.confirmQuit {
		t.Error("asked to confirm with nothing pending")
	}
}

func TestFlowResize(t *testing.T) {
	t.Parallel()
	clk := newClock(base)
	tm := teatest.NewTestModel(t, newTestModel(clk, nil), teatest.WithInitialTermSize(80, 24))
	// Wait for the first frame: the program's own initial size message is handled by then.
	teatest.WaitFor(t, tm.Output(), contains("vapimon"), waitOpts()...)
	tm.Send(tea.WindowSizeMsg{Width: 0, Height: 0}) // the first size may be 0x0
	tm.Send(tea.WindowSizeMsg{Width: 30, Height: 8})
	teatest.WaitFor(t, tm.Output(), contains("40x12"), waitOpts()...) // too small: a message, no panic
	tm.Send(batchMsg{items: []any{event(t, 1, base, callBodies(callID)[3].body)}})
	tm.Send(tea.WindowSizeMsg{Width: 160, Height: 48})
	teatest.WaitFor(t, tm.Output(), contains("--tool-timeout"), waitOpts()...) // the third status line
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	m := finalModel(t, tm)
	got := screen(m)
	checkScreen(t, got, 160, 48)
	if !strings.Contains(got, "Hi Ada, how can I help?") {
		t.Errorf("after resizing, the transcript line is not whole:\n%s", got)
	}
}
