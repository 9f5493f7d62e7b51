package tui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/vapimon/vapimon/relay"
	"github.com/vapimon/vapimon/webhook"
	"github.com/vapimon/vapimon/webhook/vapischema"
	"github.com/vapimon/vapimon/webhook/webhooktest"
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
	return handedOver(t, op, "Respond did not hand the request to the monitor", func() (webhook.Reply, error) { return op.Respond(ctx, ev) })
}

// handedOver runs call (the operator's Respond or Intercept) in the background and returns
// the request it hands to the monitor and a channel with its result; none within 5s fails
// the test with failure.
func handedOver(t *testing.T, op *Operator, failure string, call func() (webhook.Reply, error)) (*opRequest, <-chan respondResult) {
	t.Helper()
	done := make(chan respondResult, 1)
	go func() {
		rep, err := call()
		done <- respondResult{rep, err}
	}()
	return receive(t, op.reqs, failure), done
}

func waitResult(t *testing.T, done <-chan respondResult) respondResult {
	t.Helper()
	return receive(t, done, "Respond did not return")
}

func contains(s string) func([]byte) bool {
	return func(b []byte) bool { return bytes.Contains(b, []byte(s)) }
}

func waitOpts() []teatest.WaitForOption {
	return []teatest.WaitForOption{teatest.WithDuration(15 * time.Second), teatest.WithCheckInterval(10 * time.Millisecond)}
}

func finalModel(t *testing.T, tm *teatest.TestModel) *Model {
	t.Helper()
	return tm.FinalModel(t, teatest.WithFinalTimeout(15*time.Second)).(*Model)
}

// quitProgram ends the program; a failure to end fails the test.
func quitProgram(t *testing.T, tm *teatest.TestModel) {
	t.Helper()
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
}

// quitFinal ends the program and returns its final model.
func quitFinal(t *testing.T, tm *teatest.TestModel) *Model {
	t.Helper()
	quitProgram(t, tm)
	return finalModel(t, tm)
}

func TestFlowAnswerByTyping(t *testing.T) {
	t.Parallel()
	clk, op, tm := startFlow(t, 120, 40)

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
	m := quitFinal(t, tm)
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
	_, op, tm := startFlow(t, 120, 40)

	ev := event(t, 1, base, toolCallsBody(callID, "call_1", "lookup_order", `{"order":"A-17"}`))
	ctx, expire := expiringContext(t)
	req, done := respondAsync(t, ctx, op, ev)
	tm.Send(batchMsg{items: []any{ev, req}})
	teatest.WaitFor(t, tm.Output(), contains("Answer tool call"), waitOpts()...)
	expire() // the handler's deadline passes, nobody typed

	r := waitResult(t, done)
	if !errors.Is(r.err, context.DeadlineExceeded) {
		t.Fatalf("Respond error = %v, want the context's deadline error", r.err)
	}
	// The handler now sends its fallback and publishes the outcome.
	fb := webhook.ErrorReply(ev.Msg, "vapimon: nobody answered within 18.5s")
	tm.Send(&webhook.Outcome{Seq: 1, Reply: fb, Latency: 18500 * time.Millisecond})
	teatest.WaitFor(t, tm.Output(), contains("fallback"), waitOpts()...)
	m := quitFinal(t, tm)
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
	m := quitFinal(t, tm)
	got := screen(m)
	checkScreen(t, got, 160, 48)
	if !strings.Contains(got, "Hi Ada, how can I help?") {
		t.Errorf("after resizing, the transcript line is not whole:\n%s", got)
	}
}

// interceptAsync runs Operator.Intercept as the forwarder would with the server's reply,
// returning the request the monitor is handed and a channel with Intercept's result.
func interceptAsync(t *testing.T, ctx context.Context, op *Operator, ev *webhook.Event, server webhook.Reply) (*opRequest, <-chan respondResult) {
	t.Helper()
	return handedOver(t, op, "Intercept did not hand the reply to the monitor", func() (webhook.Reply, error) { return op.Intercept(ctx, ev, server) })
}

// TestFlowIntercept runs the --intercept review in the program: the server's reply is
// shown, and the operator sends it as is, or edits it first.
func TestFlowIntercept(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		keys   func(tm *teatest.TestModel)
		want   string
		source string
	}{
		{"sent as is", func(tm *teatest.TestModel) {
			tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
		}, weatherReply, webhook.SourceForward},
		{"edited", func(tm *teatest.TestModel) {
			tm.Type("e")
			teatest.WaitFor(t, tm.Output(), contains("Edit your server's reply"), waitOpts()...)
			for range 5 {
				tm.Send(tea.KeyPressMsg{Code: tea.KeyDown})
			}
			tm.Send(tea.KeyPressMsg{Code: tea.KeyEnd})
			tm.Send(tea.KeyPressMsg{Code: tea.KeyLeft})
			for range 3 {
				tm.Send(tea.KeyPressMsg{Code: tea.KeyBackspace})
			}
			tm.Type("light rain")
			tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
		}, `{"results":[{"toolCallId":"call_1","name":"get_weather","result":"light rain"}]}`, webhook.SourceOperator},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk, op, tm := startFlow(t, 120, 40)
			ev := event(t, 1, base, weatherBody)
			req, done := interceptAsync(t, t.Context(), op, ev, serverReply(weatherReply))
			tm.Send(batchMsg{items: []any{ev, req}})
			teatest.WaitFor(t, tm.Output(), contains("Your server answered"), waitOpts()...)
			clk.Advance(time.Second) // past the grace period
			tt.keys(tm)
			r := waitResult(t, done)
			if r.err != nil {
				t.Fatalf("Intercept: %v", r.err)
			}
			if r.rep.Source != tt.source || !webhooktest.JSONEqual(t, r.rep.Body, []byte(tt.want)) {
				t.Errorf("reply from %s = %s, want from %s: %s", r.rep.Source, r.rep.Body, tt.source, tt.want)
			}
			// The handler writes it and publishes the outcome.
			tm.Send(&webhook.Outcome{Seq: 1, Reply: r.rep, Latency: 2 * time.Second})
			m := quitFinal(t, tm)
			if m.prompt != nil || len(m.queue) != 0 {
				t.Errorf("review still open after sending: %v, queue %d", m.prompt != nil, len(m.queue))
			}
			if row := m.calls.byID[callID].tools[0]; !row.done || row.source != tt.source {
				t.Errorf("tool row = %+v", row)
			}
			sch := vapischema.SkipIfMissing(t)
			if err := sch.Validate("ServerMessageResponseToolCalls", r.rep.Body); err != nil {
				t.Errorf("reply does not match the schema: %v", err)
			}
		})
	}
}

// TestFlowInterceptDeadline: nobody decides before the deadline. Intercept sends the
// server's reply unchanged (not the fallback), and the screen says so.
func TestFlowInterceptDeadline(t *testing.T) {
	t.Parallel()
	clk, op, tm := startFlow(t, 160, 48)
	ev := event(t, 1, base, weatherBody)
	ctx, expire := expiringContext(t)
	req, done := interceptAsync(t, ctx, op, ev, serverReply(weatherReply))
	tm.Send(batchMsg{items: []any{ev, req}})
	teatest.WaitFor(t, tm.Output(), contains("Your server answered"), waitOpts()...)
	expire() // the handler's deadline passes, nobody decided

	r := waitResult(t, done)
	if r.err != nil || r.rep.Source != webhook.SourceForward || string(r.rep.Body) != weatherReply {
		t.Fatalf("Intercept at the deadline = %+v, %v; want the server's reply unchanged", r.rep, r.err)
	}
	if !strings.Contains(r.rep.Note, "deadline passed") {
		t.Errorf("note = %q", r.rep.Note)
	}
	// The monitor's clock reaches the deadline: the review closes and says what was sent.
	clk.Set(ev.Deadline)
	teatest.WaitFor(t, tm.Output(), contains("reply was sent"), waitOpts()...)
	tm.Send(&webhook.Outcome{Seq: 1, Reply: r.rep, Latency: 18500 * time.Millisecond})
	m := quitFinal(t, tm)
	if m.prompt != nil {
		t.Error("the review is still open after the deadline")
	}
	row := m.calls.byID[callID].tools[0]
	if !row.done || row.source != webhook.SourceForward || row.result != "18C" || row.isErr {
		t.Errorf("tool row = %+v", row)
	}
	m.resize(160, 48)
	s := screen(m)
	if !strings.Contains(s, "→ 18C · your server") || !strings.Contains(s, "reply sent unchanged") {
		t.Errorf("the tools pane does not show the server's reply went out at the deadline:\n%s", s)
	}
	if strings.Contains(s, "fallback") {
		t.Errorf("the screen speaks of a fallback:\n%s", s)
	}
}

// TestFlowInterceptThroughForwarder puts the real forwarder in front: a developer's server
// on loopback answers, the forwarder hands its reply to Operator.Intercept, and the reply
// the operator replaced comes out of the forwarder.
func TestFlowInterceptThroughForwarder(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, weatherReply)
	}))
	defer srv.Close()
	fwd := relay.NewForwarder([]relay.Route{{Type: "*", URL: srv.URL}}, relay.ForwardOptions{})
	clk := newClock(base)
	op := NewOperator()
	fwd.SetIntercept(op.Intercept)
	tm := teatest.NewTestModel(t, newTestModel(clk, op), teatest.WithInitialTermSize(120, 40))

	ev := event(t, 1, base, weatherBody)
	req, done := handedOver(t, op, "the forwarder did not hand the server's reply to the operator",
		func() (webhook.Reply, error) { return fwd.Respond(t.Context(), ev) })
	tm.Send(batchMsg{items: []any{ev, req}})
	teatest.WaitFor(t, tm.Output(), contains("Your server answered"), waitOpts()...)
	clk.Advance(time.Second)
	tm.Type("r")
	teatest.WaitFor(t, tm.Output(), contains("Replace your server's reply"), waitOpts()...)
	tm.Type("typed instead")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	r := waitResult(t, done)
	if r.err != nil {
		t.Fatalf("Respond: %v", r.err)
	}
	want := `{"results":[{"toolCallId":"call_1","name":"get_weather","result":"typed instead"}]}`
	if r.rep.Source != webhook.SourceOperator || !webhooktest.JSONEqual(t, r.rep.Body, []byte(want)) {
		t.Errorf("forwarder returned %s from %s, want %s from the operator", r.rep.Body, r.rep.Source, want)
	}
	quitProgram(t, tm)
}

// expiringContext returns a context that ends, with context.DeadlineExceeded, when expire
// is called: a handler's deadline passing exactly when the test says, rather than after a
// wall-clock time a loaded machine may overrun before the prompt is even shown.
func expiringContext(t *testing.T) (context.Context, func()) {
	t.Helper()
	ctx, cancel := context.WithCancelCause(t.Context())
	t.Cleanup(func() { cancel(nil) })
	return &deadlineErrCtx{ctx}, func() { cancel(context.DeadlineExceeded) }
}

// deadlineErrCtx reports its cause (context.DeadlineExceeded) as its error, as a context
// whose deadline passed does.
type deadlineErrCtx struct{ context.Context }

func (c *deadlineErrCtx) Err() error {
	if c.Context.Err() == nil {
		return nil
	}
	return context.Cause(c.Context)
}
