package tui

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/vapimon/vapimon/webhook"
	"github.com/vapimon/vapimon/webhook/webhooktest"
)

// TestRun drives the real Run: events published on the bus reach the screen through the
// forwarder, keys typed on the input answer the operator request, and quitting releases
// requests still waiting.
func TestRun(t *testing.T) {
	t.Parallel()
	bus := webhook.NewBus()
	op := NewOperator()
	inW, out, cancel, errc := startRun(t, Options{Bus: bus, PromptGrace: -1, Status: webhook.Status{ListenURL: "http://127.0.0.1:4242"}}, op,
		tea.WithWindowSize(120, 40), tea.WithoutSignals())
	webhooktest.Eventually(t, 5*time.Second, "the first frame", func() bool { return out.Contains("127.0.0.1:4242") })

	ev := event(t, 1, time.Now(), toolCallsBody(callID, "call_1", "get_weather", `{"location":"Oslo"}`))
	bus.Publish(ev)
	done := respond(t, op, ev)
	webhooktest.Eventually(t, 5*time.Second, "the prompt", func() bool { return out.Contains("Answer tool call") })
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
	done2 := respond(t, op, ev2)
	webhooktest.Eventually(t, 5*time.Second, "the second prompt", func() bool { return out.Contains("Rome") })
	cancel()
	if err := runEnded(t, errc, "its context ended"); err != nil {
		t.Errorf("Run returned %v after its context ended", err)
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
	_, out, _, errc := startRun(t, Options{Bus: bus, Suggest: func(string, json.RawMessage) []webhook.Suggestion { panic("suggest failed") }}, op,
		tea.WithInput(nil), tea.WithWindowSize(120, 40), tea.WithoutSignals())
	webhooktest.Eventually(t, 5*time.Second, "the first frame", func() bool { return out.Contains("vapimon") })
	ev := event(t, 1, time.Now(), toolCallsBody(callID, "call_1", "get_weather", `{}`))
	bus.Publish(ev)
	done := respond(t, op, ev)
	if err := runEnded(t, errc, "a panic"); !errors.Is(err, tea.ErrProgramPanic) {
		t.Errorf("Run = %v, want an error wrapping tea.ErrProgramPanic", err)
	}
	if r := waitResult(t, done); !errors.Is(r.err, ErrOperatorGone) {
		t.Errorf("Respond after the panic = %v, want ErrOperatorGone", r.err)
	}
}

// TestRunTerminalClosed: when the terminal's input ends (tmux kill-session, an SSH drop:
// EOF or EIO on the tty), Run ends as a quit does, returns nil, and the request waiting for
// the operator gets ErrOperatorGone so that the handler sends its fallback.
func TestRunTerminalClosed(t *testing.T) {
	t.Parallel()
	bus := webhook.NewBus()
	op := NewOperator()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out webhooktest.Buffer
	errc := make(chan error, 1)
	input := func(gone func()) (io.Reader, func()) { return &watchedInput{File: r, gone: gone}, func() {} }
	go func() {
		errc <- run(t.Context(), NewModel(Options{Bus: bus, PromptGrace: -1}, op), op, input,
			tea.WithOutput(&out), tea.WithWindowSize(120, 40))
	}()
	webhooktest.Eventually(t, 5*time.Second, "the first frame", func() bool { return out.Contains("vapimon") })
	ev := event(t, 1, time.Now(), toolCallsBody(callID, "call_1", "get_weather", `{}`))
	bus.Publish(ev)
	done := respond(t, op, ev)
	webhooktest.Eventually(t, 5*time.Second, "the prompt", func() bool { return out.Contains("Answer tool call") })
	w.Close() // the terminal goes away
	if err := runEnded(t, errc, "its input ended"); err != nil {
		t.Errorf("Run = %v after the terminal closed, want nil (an orderly quit)", err)
	}
	if r := waitResult(t, done); !errors.Is(r.err, ErrOperatorGone) {
		t.Errorf("Respond after the terminal closed = %v, want ErrOperatorGone", r.err)
	}
}

// TestWatchedInputAnyError: a read error of any kind (EIO on a hung-up tty, a closed file)
// reads as EOF and calls gone once.
func TestWatchedInputAnyError(t *testing.T) {
	t.Parallel()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	r.Close()
	calls := 0
	in := &watchedInput{File: r, gone: func() { calls++ }}
	for range 2 {
		if n, err := in.Read(make([]byte, 8)); n != 0 || err != io.EOF {
			t.Errorf("Read = %d, %v; want 0, EOF", n, err)
		}
	}
	if calls != 1 {
		t.Errorf("gone called %d times, want once", calls)
	}
}

// blockingWriter takes output until block is closed, then blocks every write until
// release is closed: a terminal that no longer takes output (stopped with Ctrl-S, or a
// pane nobody reads).
type blockingWriter struct {
	webhooktest.Buffer
	block   chan struct{}
	release chan struct{}
}

func (b *blockingWriter) Write(p []byte) (int, error) {
	select {
	case <-b.block:
		<-b.release
	default:
	}
	return b.Buffer.Write(p)
}

// TestRunSignalReleasesPromptsFirst: when the caller's context ends (a signal), the
// requests waiting for the operator are released at once, even while the screen cannot be
// torn down because the terminal takes no output.
func TestRunSignalReleasesPromptsFirst(t *testing.T) {
	t.Parallel()
	bus := webhook.NewBus()
	op := NewOperator()
	out := &blockingWriter{block: make(chan struct{}), release: make(chan struct{})}
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		errc <- Run(ctx, Options{Bus: bus, PromptGrace: -1}, op,
			tea.WithInput(nil), tea.WithOutput(out), tea.WithWindowSize(120, 40))
	}()
	defer func() {
		close(out.release)
		<-errc
	}()
	webhooktest.Eventually(t, 5*time.Second, "the first frame", func() bool { return out.Contains("vapimon") })
	ev := event(t, 1, time.Now(), toolCallsBody(callID, "call_1", "get_weather", `{}`))
	bus.Publish(ev)
	done := respond(t, op, ev)
	webhooktest.Eventually(t, 5*time.Second, "the prompt", func() bool { return out.Contains("Answer tool call") })
	close(out.block) // the terminal stops taking output
	cancel()
	if r := waitResult(t, done); !errors.Is(r.err, ErrOperatorGone) {
		t.Errorf("Respond after the signal = %v, want ErrOperatorGone", r.err)
	}
}

// respond runs op.Respond for ev in the background, as the handler does once it has
// published ev, and returns a channel with its result.
func respond(t *testing.T, op *Operator, ev *webhook.Event) <-chan respondResult {
	done := make(chan respondResult, 1)
	go func() {
		rep, err := op.Respond(t.Context(), ev)
		done <- respondResult{rep, err}
	}()
	return done
}

// startRun runs the real Run in the background on a pipe for input and a Buffer for
// output (with progOpts after those). It returns the input's writer, the output, the
// cancel of Run's context and Run's result; the test's end closes and cancels them.
func startRun(t *testing.T, opts Options, op *Operator, progOpts ...tea.ProgramOption) (*io.PipeWriter, *webhooktest.Buffer, context.CancelFunc, <-chan error) {
	t.Helper()
	inR, inW := io.Pipe()
	t.Cleanup(func() { inW.Close() })
	out := &webhooktest.Buffer{}
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	errc := make(chan error, 1)
	progOpts = append([]tea.ProgramOption{tea.WithInput(inR), tea.WithOutput(out)}, progOpts...)
	go func() { errc <- Run(ctx, opts, op, progOpts...) }()
	return inW, out, cancel, errc
}

// runEnded waits for Run's result on errc; why says what should have ended it.
func runEnded(t *testing.T, errc <-chan error, why string) error {
	t.Helper()
	return receive(t, errc, "Run did not return after "+why)
}

// TestRunSignalDrawsBlankLastFrame: when the caller's context ends (SIGTERM, SIGINT,
// SIGQUIT), the program quits through the model as q does, so its last frame is blank:
// tmux, after a resize, otherwise leaves the last frame in the shell's screen.
func TestRunSignalDrawsBlankLastFrame(t *testing.T) {
	t.Parallel()
	out := &webhooktest.Buffer{}
	m := NewModel(Options{Status: webhook.Status{ListenURL: "http://127.0.0.1:4242"}}, nil)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, m, nil, nil, tea.WithInput(nil), tea.WithOutput(out), tea.WithWindowSize(80, 24))
	}()
	webhooktest.Eventually(t, 5*time.Second, "the first frame", func() bool { return out.Contains("127.0.0.1:4242") })
	cancel()
	if err := runEnded(t, errc, "its context ended"); err != nil {
		t.Fatalf("run returned %v", err)
	}
	if !m.quitting || m.View().Content != "" {
		t.Errorf("the last frame after the signal is not blank (quitting %v):\n%s", m.quitting, m.View().Content)
	}
}
