package tui

// No keystroke reaches a caller by accident (issue 9 point 10): flows where keys meant for
// something else (quitting, closing a view) used to end up in an answer prompt that opened
// by itself, and were sent to a caller as the tool result.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

// flow is one teatest program with an Operator and a settable clock.
type flow struct {
	t   *testing.T
	clk *clock
	op  *Operator
	tm  *teatest.TestModel
}

func newFlow(t *testing.T) *flow {
	t.Helper()
	clk, op, tm := startFlow(t, 120, 40)
	return &flow{t: t, clk: clk, op: op, tm: tm}
}

// startFlow starts a teatest program of w×h over a test model with an Operator and a
// settable clock at base.
func startFlow(t *testing.T, w, h int) (*clock, *Operator, *teatest.TestModel) {
	t.Helper()
	clk := newClock(base)
	op := NewOperator()
	return clk, op, teatest.NewTestModel(t, newTestModel(clk, op), teatest.WithInitialTermSize(w, h))
}

// ask publishes a tool-calls event for a new call id and hands its request to the
// program, as Run's forwarder would; the returned channel has Respond's result.
func (f *flow) ask(seq uint64, tool string) <-chan respondResult {
	f.t.Helper()
	ev := event(f.t, seq, f.clk.Now(), toolCallsBody(callID, "call_"+tool, tool, `{"location":"Paris"}`))
	req, done := respondAsync(f.t, f.t.Context(), f.op, ev)
	f.tm.Send(batchMsg{items: []any{ev, req}})
	f.sync()
	return done
}

// keys sends each key and waits until the program has handled them.
func (f *flow) keys(keys ...tea.KeyPressMsg) {
	f.t.Helper()
	for _, k := range keys {
		f.tm.Send(k)
	}
	f.sync()
}

func (f *flow) sync() { f.tm.Send(syncMsg{}) }

// quit ends the program; a failure to end fails the test.
func (f *flow) quit() {
	f.t.Helper()
	quitProgram(f.t, f.tm)
}

// wantAnswer waits for Respond's result and checks that it answered with result, the
// answer the test expected (what).
func wantAnswer(t *testing.T, done <-chan respondResult, result, what string) {
	t.Helper()
	r := waitResult(t, done)
	if r.err != nil || !strings.Contains(string(r.rep.Body), fmt.Sprintf(`"result":%q`, result)) {
		t.Errorf("reply = %s (%v), want %s: %q", r.rep.Body, r.err, what, result)
	}
}

// waitFor waits until the program's output shows s.
func (f *flow) waitFor(s string) {
	f.t.Helper()
	teatest.WaitFor(f.t, f.tm.Output(), contains(s), waitOpts()...)
}

// submit types s into the open prompt and presses enter.
func (f *flow) submit(s string) {
	f.t.Helper()
	f.tm.Type(s)
	f.keys(press("enter"))
}

// later moves the clock past the prompt's grace period: the operator has had time to read.
func (f *flow) later() { f.clk.Advance(time.Second) }

// prompted asks (as ask does), waits for the prompt that opens by itself for the call, and
// lets its grace period pass, so that the next key is one the operator meant for it.
func (f *flow) prompted(seq uint64, tool string) <-chan respondResult {
	f.t.Helper()
	done := f.ask(seq, tool)
	f.waitFor("Answer tool call " + tool)
	f.later()
	return done
}

// nothingSent fails if Respond has returned (an answer went to the caller).
func nothingSent(t *testing.T, what string, done <-chan respondResult) {
	t.Helper()
	select {
	case r := <-done:
		t.Fatalf("%s: a reply went to the caller: %s (err %v)", what, r.rep.Body, r.err)
	default:
	}
}

// TestFlowQuitKeysAfterDefer reproduces the reported run: two calls waiting, the prompt
// opened by itself; the operator presses esc to get back to the panes, then q, y, enter to
// quit. esc used to open the next waiting call's prompt in place of the first, so q and y
// were typed into it and enter sent "qy" to that caller. Now esc goes back to the panes,
// where q asks to quit and y quits; no caller gets a typed answer.
func TestFlowQuitKeysAfterDefer(t *testing.T) {
	t.Parallel()
	f := newFlow(t)
	first := f.ask(1, "get_weather")
	second := f.ask(2, "get_time")
	f.waitFor("Answer tool call get_weather")
	f.later()
	f.keys(press("esc"))
	f.later()
	f.keys(press("q"), press("y"), press("enter"))
	nothingSent(t, "first call", first)
	nothingSent(t, "second call", second)
	m := finalModel(t, f.tm)
	if !m.quitting {
		t.Errorf("q, y did not quit (prompt open: %v, confirm: %v)", m.prompt != nil, m.confirmQuit)
	}
}

// TestFlowDialogsCaptureKeys: a prompt that opens while help, a detail view or the filter
// is open waits behind it; the keys go to the view (q closes help and the detail view), the
// footer says a request waits, and keys typed within the grace period after the view closes
// do not answer. Each of these sent "qy" (or the filter text) to the caller before.
func TestFlowDialogsCaptureKeys(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		open  []tea.KeyPressMsg
		close []tea.KeyPressMsg // what the operator types, meant for the view
		shown string            // on screen while the view is open
	}{
		{"help", []tea.KeyPressMsg{press("?")}, []tea.KeyPressMsg{press("q"), press("y"), press("enter")}, "Help"},
		{"event detail", []tea.KeyPressMsg{press("4"), press("enter")}, []tea.KeyPressMsg{press("q"), press("y"), press("enter")}, "Request #"},
		{"filter", []tea.KeyPressMsg{press("/")}, []tea.KeyPressMsg{press("q"), press("y"), press("enter")}, "/ filter"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFlow(t)
			// Something to open the detail of: an informational event.
			f.tm.Send(batchMsg{items: []any{event(t, 1, base, callBodies(callID)[3].body)}})
			f.waitFor("Hi Ada")
			f.keys(tc.open...)
			f.waitFor(tc.shown)
			done := f.ask(2, "get_weather")
			f.waitFor("waits for your answer")
			f.later()
			f.keys(tc.close...)
			nothingSent(t, "keys meant for the "+tc.name, done)
			// The prompt is shown now, and takes keys once its grace period has passed.
			f.waitFor("Answer tool call get_weather")
			f.later()
			f.submit("Sunny")
			wantAnswer(t, done, "Sunny", "the answer typed once the prompt showed")
			f.quit()
		})
	}
}

// TestFlowQuitConfirmCapturesKeys: with the prompt open, ctrl+c asks to quit; while the
// question is open no key reaches the prompt (nor a call that arrives meanwhile), and keys
// typed right after n (stay) are ignored: the prompt has just been revealed.
func TestFlowQuitConfirmCapturesKeys(t *testing.T) {
	t.Parallel()
	f := newFlow(t)
	done := f.prompted(1, "get_weather")
	f.keys(press("ctrl+c"))
	f.waitFor("Quit vapimon?")
	second := f.ask(2, "get_time") // arrives while the question is open
	f.later()
	f.keys(press("a"), press("b"), press("tab"), press("esc")) // esc is "stay"
	f.keys(press("x"), press("enter"))                         // right after: within the grace period
	nothingSent(t, "first call", done)
	nothingSent(t, "second call", second)
	f.later()
	f.submit("ok")
	wantAnswer(t, done, "ok", "exactly the answer typed after the grace period")
	f.quit()
	nothingSent(t, "second call", second)
}

// TestFlowQInPromptIsALetter: in an open prompt q is part of the answer (the footer shows
// ctrl+c for quitting, not q), and typing it says so.
func TestFlowQInPromptIsALetter(t *testing.T) {
	t.Run("in a prompt opened by hand", func(t *testing.T) { testQOpenedByHand(t) })
	t.Parallel()
	f := newFlow(t)
	done := f.prompted(1, "get_weather")
	// The first key of a prompt that opened by itself is a letter too: an answer may
	// start with q, and the y after it must not confirm a quit that sends the fallback to
	// every waiting call. The hint says where q went.
	f.keys(press("q"))
	f.waitFor("ctrl+c quits")
	f.submit("uite sunny")
	wantAnswer(t, done, "quite sunny", "the typed answer")
	f.quit()

	// The footer of an open prompt.
	g := newFlow(t)
	_ = g.ask(1, "get_weather")
	footer := ansi.Strip(quitFinal(t, g.tm).footer(120))
	if !strings.Contains(footer, "ctrl+c quit") || strings.Contains(footer, "q quit") {
		t.Errorf("prompt footer = %q: want ctrl+c quit, not q quit", footer)
	}
}

// TestFlowAnswerStartingWithQ is the reported run: a prompt opens by itself and the
// operator types "quarterly". The q used to open "Quit vapimon?" and the y in the word
// confirmed it, sending the fallback to every waiting call.
func TestFlowAnswerStartingWithQ(t *testing.T) {
	t.Parallel()
	f := newFlow(t)
	done := f.prompted(1, "get_weather")
	f.submit("quarterly")
	wantAnswer(t, done, "quarterly", "the typed answer")
	f.quit()
}

// testQOpenedByHand: in a prompt the operator opened (enter on a pending call), q is a
// letter from the first key on.
func testQOpenedByHand(t *testing.T) {
	t.Parallel()
	f := newFlow(t)
	done := f.prompted(1, "get_weather")
	f.keys(press("esc"))
	f.keys(press("3"), press("enter"))
	f.later()
	f.keys(press("q"))
	f.waitFor("ctrl+c quits")
	f.submit("uiet")
	wantAnswer(t, done, "quiet", "the typed answer")
	f.quit()
}

// TestFlowQuitKeysAskBeforeTheyAreSent: someone who meant to quit as a prompt popped up
// presses q, y, enter (issue 9 point 10: "qy" reached a caller as its tool result). q is a
// letter, but an answer of nothing but the quit keys is not sent on the first enter: the
// prompt asks, and a second enter sends it.
func TestFlowQuitKeysAskBeforeTheyAreSent(t *testing.T) {
	t.Parallel()
	f := newFlow(t)
	done := f.prompted(1, "get_weather")
	f.submit("qy")
	f.waitFor("looks like the quit keys")
	nothingSent(t, "after q, y, enter", done)
	f.keys(press("enter"))
	wantAnswer(t, done, "qy", "the answer sent on the second enter")
	f.quit()

	// Opened by hand, the operator means what they type: sent at once.
	g := newFlow(t)
	done = g.prompted(1, "get_weather")
	g.keys(press("esc"))
	g.keys(press("3"), press("enter"))
	g.later()
	g.submit("q")
	wantAnswer(t, done, "q", "the typed answer")
	g.quit()
}
