package tui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/vapimon/vapimon/webhook"
)

// syncBuffer is a bytes.Buffer safe for the program's writer and the test's reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Contains(sub string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Contains(s.b.Bytes(), []byte(sub))
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRun drives the real Run: events published on the bus reach the screen through the
// forwarder, keys typed on the input answer the operator request, and quitting releases
// requests still waiting.
func TestRun(t *testing.T) {
	t.Parallel()
	bus := webhook.NewBus()
	op := NewOperator()
	inR, inW := io.Pipe()
	defer inW.Close()
	var out syncBuffer
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		errc <- Run(ctx, Options{Bus: bus, PromptGrace: -1, Status: webhook.Status{ListenURL: "http://127.0.0.1:4242"}}, op,
			tea.WithInput(inR), tea.WithOutput(&out), tea.WithWindowSize(120, 40), tea.WithoutSignals())
	}()
	eventually(t, "the first frame", func() bool { return out.Contains("127.0.0.1:4242") })

	ev := event(t, 1, time.Now(), toolCallsBody(callID, "call_1", "get_weather", `{"location":"Oslo"}`))
	bus.Publish(ev)
	done := make(chan respondResult, 1)
	go func() {
		rep, err := op.Respond(t.Context(), ev)
		done <- respondResult{rep, err}
	}()
	eventually(t, "the prompt", func() bool { return out.Contains("Answer tool call") })
	if _, err := inW.Write([]byte("4C and snow\r")); err != nil {
		t.Fatal(err)
	}
	r := waitResult(t, done)
	if r.err != nil {
		t.Fatalf("Respond: %v", r.err)
	}
	var body struct {
		Results []struct{ ToolCallID, Result string }
	}
	if err := json.Unmarshal(r.rep.Body, &body); err != nil || len(body.Results) != 1 ||
		body.Results[0].ToolCallID != "call_1" || body.Results[0].Result != "4C and snow" {
		t.Fatalf("reply = %s (%v)", r.rep.Body, err)
	}

	// A second request is still waiting when the monitor stops.
	ev2 := event(t, 2, time.Now(), toolCallsBody(callID, "call_2", "get_weather", `{"location":"Rome"}`))
	bus.Publish(ev2)
	done2 := make(chan respondResult, 1)
	go func() {
		rep, err := op.Respond(t.Context(), ev2)
		done2 <- respondResult{rep, err}
	}()
	eventually(t, "the second prompt", func() bool { return out.Contains("Rome") })
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("Run returned %v after its context ended", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if r := waitResult(t, done2); !errors.Is(r.err, ErrOperatorGone) || !errors.Is(r.err, context.Canceled) {
		t.Errorf("pending Respond after exit = %v, want ErrOperatorGone (a context.Canceled)", r.err)
	}
	if _, err := op.Respond(t.Context(), ev2); !errors.Is(err, ErrOperatorGone) {
		t.Errorf("Respond after exit = %v, want ErrOperatorGone", err)
	}
}

// TestForwardCoalesces checks that a burst of bus values reaches the program in a few
// messages, not one per value, and that the bus's drop count travels with them.
func TestForwardCoalesces(t *testing.T) {
	t.Parallel()
	bus := webhook.NewBus()
	sub := bus.Subscribe(100000)
	const n = 20000
	for i := range n {
		bus.Publish(webhook.Notice{Text: "x", Level: "info", Time: time.Unix(int64(i), 0)})
	}
	got := make(chan batchMsg, n)
	counter := &countModel{got: got}
	p := tea.NewProgram(counter, tea.WithInput(nil), tea.WithOutput(io.Discard), tea.WithoutRenderer(), tea.WithoutSignals())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	fwdDone := make(chan error, 1)
	go func() { fwdDone <- forward(ctx, p, sub, nil, bus) }()
	runDone := make(chan error, 1)
	go func() { _, err := p.Run(); runDone <- err }()

	total, msgs := 0, 0
	for total < n {
		select {
		case b := <-got:
			total += len(b.items)
			msgs++
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d of %d values arrived", total, n)
		}
	}
	if msgs > n/100 {
		t.Errorf("%d values arrived in %d messages: not coalesced", n, msgs)
	}
	cancel()
	if err := <-fwdDone; err != nil {
		t.Error(err)
	}
	p.Quit()
	<-runDone
}

type countModel struct{ got chan<- batchMsg }

func (c *countModel) Init() tea.Cmd { return nil }
func (c *countModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if b, ok := msg.(batchMsg); ok {
		c.got <- b
	}
	return c, nil
}
func (c *countModel) View() tea.View { return tea.NewView("") }

// TestRunPanicIsReported makes the model panic (a Suggest callback that panics when the
// prompt opens): Run must return the panic as an error, not hang or report success, and
// the waiting handler must be released.
func TestRunPanicIsReported(t *testing.T) {
	t.Parallel()
	bus := webhook.NewBus()
	op := NewOperator()
	var out syncBuffer
	errc := make(chan error, 1)
	go func() {
		errc <- Run(t.Context(), Options{Bus: bus, Suggest: func(string, json.RawMessage) []string { panic("suggest failed") }}, op,
			tea.WithInput(nil), tea.WithOutput(&out), tea.WithWindowSize(120, 40), tea.WithoutSignals())
	}()
	eventually(t, "the first frame", func() bool { return out.Contains("vapimon") })
	ev := event(t, 1, time.Now(), toolCallsBody(callID, "call_1", "get_weather", `{}`))
	bus.Publish(ev)
	done := make(chan respondResult, 1)
	go func() {
		rep, err := op.Respond(t.Context(), ev)
		done <- respondResult{rep, err}
	}()
	select {
	case err := <-errc:
		if !errors.Is(err, tea.ErrProgramPanic) {
			t.Errorf("Run = %v, want an error wrapping tea.ErrProgramPanic", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after a panic")
	}
	if r := waitResult(t, done); !errors.Is(r.err, ErrOperatorGone) {
		t.Errorf("Respond after the panic = %v, want ErrOperatorGone", r.err)
	}
}
