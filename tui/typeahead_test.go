package tui

import (
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/vapimon/vapimon/webhook"
)

// forwarding is a 240×40 model with an Operator, forwarding to your server, that has
// received the weather tool call (seq 1): the handler is asking your server about it.
func forwarding(t *testing.T) (*Model, *clock, *webhook.Event) {
	t.Helper()
	clk := newClock(base)
	m := newTestModel(clk, NewOperator())
	m.Update(tea.WindowSizeMsg{Width: 240, Height: 40})
	st := m.status
	st.Forward = "http://127.0.0.1:3000/webhook"
	m.Update(st)
	ev := event(t, 1, base, weatherBody)
	m.Update(ev)
	return m, clk, ev
}

// TestTypeAheadWhileServerAsked: while your server is asked about a tool call, the row
// says so and Enter opens a prompt to type ahead (it used to do nothing until the
// server's share of the deadline ran out, with the footer offering it); the answer typed
// ahead waits, and is sent at once when the operator is asked (your server failed).
func TestTypeAheadWhileServerAsked(t *testing.T) {
	t.Parallel()
	m, clk, ev := forwarding(t)
	if m.prompt != nil {
		t.Fatal("a prompt opened by itself while your server is asked")
	}
	m.focus = paneTools
	if s := screen(m); !strings.Contains(s, "asking your server (up to 9.3s)") {
		t.Errorf("the row does not say your server is asked:\n%s", s)
	}
	m.Update(press("enter"))
	if m.prompt == nil {
		t.Fatal("enter on the row does nothing")
	}
	clk.Advance(time.Second)
	if s := screen(m); !strings.Contains(s, "Type ahead") || !strings.Contains(s, "your server is asked first") {
		t.Errorf("the prompt does not say it is typing ahead:\n%s", s)
	}
	submit(m, "Sunny")
	if m.prompt != nil {
		t.Fatal("the prompt stayed open")
	}
	if s := screen(m); !strings.Contains(s, "typed ahead: sent if your server fails") {
		t.Errorf("the row does not say the answer waits:\n%s", s)
	}
	// Your server failed: the operator is asked, and the answer typed ahead goes at once.
	req := &opRequest{ev: ev, ctx: t.Context(), reply: make(chan webhook.Reply, 1)}
	m.Update(req)
	rep := reply(t, req)
	if !strings.Contains(string(rep.Body), `"result":"Sunny"`) {
		t.Errorf("reply = %s, want the answer typed ahead", rep.Body)
	}
	if m.prompt != nil || len(m.queue) != 0 {
		t.Errorf("prompt %v, queue %d after sending", m.prompt != nil, len(m.queue))
	}
}

// TestTypeAheadOpenWhenAsked: the operator is still typing ahead when the operator is
// asked: the prompt becomes the real one and the answer goes at enter.
func TestTypeAheadOpenWhenAsked(t *testing.T) {
	t.Parallel()
	m, clk, ev := forwarding(t)
	openAhead(m, clk)
	typeText(m, "Clou")
	req := &opRequest{ev: ev, ctx: t.Context(), reply: make(chan webhook.Reply, 1)}
	m.Update(req)
	if len(req.reply) != 0 {
		t.Fatal("a half-typed answer was sent")
	}
	if s := screen(m); strings.Contains(s, "Type ahead") || !strings.Contains(s, "what you type now is sent") {
		t.Errorf("the prompt does not say it is now the real one:\n%s", s)
	}
	submit(m, "dy")
	if rep := reply(t, req); !strings.Contains(string(rep.Body), `"result":"Cloudy"`) {
		t.Errorf("reply = %s", rep.Body)
	}
}

// TestTypeAheadServerAnswered: your server answers: the type-ahead request closes and
// nothing the operator typed is sent.
func TestTypeAheadServerAnswered(t *testing.T) {
	t.Parallel()
	m, _, _ := forwarding(t)
	if len(m.queue) != 1 || !m.queue[0].ahead {
		t.Fatalf("queue = %d, want the type-ahead request", len(m.queue))
	}
	m.Update(outcome(1, webhook.SourceForward, weatherReply, ms(40)))
	if len(m.queue) != 0 || m.prompt != nil {
		t.Errorf("queue %d, prompt %v after your server answered", len(m.queue), m.prompt != nil)
	}
	if s := screen(m); strings.Contains(s, "asking your server") {
		t.Errorf("the row still says your server is asked:\n%s", s)
	}
}

// TestNoTypeAheadWithoutForward: without --forward-to nothing is queued ahead (the
// operator's request comes at once).
func TestNoTypeAheadWithoutForward(t *testing.T) {
	t.Parallel()
	clk := newClock(base)
	m := newTestModel(clk, NewOperator())
	m.Update(tea.WindowSizeMsg{Width: 140, Height: 40})
	m.Update(event(t, 1, base, weatherBody))
	if len(m.queue) != 0 {
		t.Errorf("queue = %d without forwarding", len(m.queue))
	}
}

// TestTypeAheadAskedBehindAnotherPrompt: the operator is asked about a forwarded call
// while answering another: it opens next, as any request does.
func TestTypeAheadAskedBehindAnotherPrompt(t *testing.T) {
	t.Parallel()
	m, clk, ev := forwarding(t)
	other := ask(t, m, event(t, 2, base, toolCallsBody(callID, "call_2", "get_time", `{}`)))
	req := &opRequest{ev: ev, ctx: t.Context(), reply: make(chan webhook.Reply, 1)}
	m.Update(req)
	clk.Advance(time.Second)
	submit(m, "noon")
	_ = reply(t, other)
	if m.prompt == nil || m.prompt.p.req != req {
		t.Fatal("the forwarded call's prompt did not open next")
	}
}

// TestTypeAheadWaitsForYourServer: a type-ahead request is not one the operator was asked:
// the quit question, the counts and the window title put it with the requests waiting for
// your server (found in review: it was counted as waiting for the operator's answer).
func TestTypeAheadWaitsForYourServer(t *testing.T) {
	t.Parallel()
	m, _, _ := forwarding(t)
	tl := m.waitTally()
	if req, _ := tl.others(); tl.forYou != 0 || req != 1 {
		t.Errorf("tally %+v: want the request counted as waiting for your server", tl)
	}
	if got := m.View().WindowTitle; got != "vapimon" {
		t.Errorf("window title = %q while only your server is asked", got)
	}
	m.focus = paneTools
	m.Update(press("q"))
	if s := screen(m); !strings.Contains(s, "your server") || strings.Contains(s, "waits for your answer") {
		t.Errorf("the quit question does not say the request waits for your server:\n%s", s)
	}
}

// TestTypeAheadKeptWhenTheMonitorQuits: an answer typed ahead is what goes when your
// server fails after the monitor has quit (found in review: the fallback went instead).
func TestTypeAheadKeptWhenTheMonitorQuits(t *testing.T) {
	t.Parallel()
	m, clk, ev := forwarding(t)
	typeAhead(m, clk, "Sunny")
	m.op.close()
	if msg := m.op.ExitMessage(""); !strings.Contains(msg, "1 answer typed ahead while your server was asked: sent if it fails") {
		t.Errorf("exit message %q does not say an answer typed ahead is kept", msg)
	}
	rep, err := m.op.Respond(t.Context(), ev)
	if err != nil || !strings.Contains(string(rep.Body), `"result":"Sunny"`) || rep.Source != webhook.SourceOperator {
		t.Errorf("Respond after quit = %s (%s), %v: want the answer typed ahead", rep.Body, rep.Source, err)
	}
}

// TestTypeAheadKeptForTheHandler: the handler, out of time before it asks the operator
// (a shutdown while your server was asked), takes the answer typed ahead (webhook.Keeper).
func TestTypeAheadKeptForTheHandler(t *testing.T) {
	t.Parallel()
	m, clk, ev := forwarding(t)
	if _, err := m.op.Kept(ev); !errors.Is(err, webhook.ErrPass) {
		t.Errorf("Kept before anything was typed = %v, want ErrPass", err)
	}
	typeAhead(m, clk, "Sunny")
	rep, err := m.op.Kept(ev)
	if err != nil || !strings.Contains(string(rep.Body), `"result":"Sunny"`) {
		t.Errorf("Kept = %s, %v: want the answer typed ahead", rep.Body, err)
	}
}

// TestTypeAheadDroppedSaysSo: your server answers in time after the operator typed ahead:
// the flash says what was typed was not sent (found by a new user: it vanished silently).
func TestTypeAheadDroppedSaysSo(t *testing.T) {
	t.Parallel()
	m, clk, _ := forwarding(t)
	typeAhead(m, clk, "Sunny")
	m.Update(outcome(1, webhook.SourceForward, weatherReply, ms(40)))
	if s := screen(m); !strings.Contains(s, "what you typed ahead was not sent") {
		t.Errorf("nothing says the answer typed ahead was dropped:\n%s", s)
	}
}

// openAhead opens the type-ahead prompt of the selected row (the only one) and lets its
// grace period pass.
func openAhead(m *Model, clk *clock) {
	m.focus = paneTools
	m.Update(press("enter"))
	clk.Advance(time.Second)
}

// typeAhead types answer ahead for the selected row and sends it with enter.
func typeAhead(m *Model, clk *clock, answer string) {
	openAhead(m, clk)
	submit(m, answer)
}

// TestTypeAheadUsesTheForwardTimeout: with --forward-timeout, your server's share is that
// (within the deadline), and the row says so; the monitor used to assume half the time left.
func TestTypeAheadUsesTheForwardTimeout(t *testing.T) {
	t.Parallel()
	clk := newClock(base)
	m := newTestModel(clk, NewOperator())
	m.Update(tea.WindowSizeMsg{Width: 240, Height: 40})
	st := m.status
	st.Forward, st.ForwardTimeout = "http://127.0.0.1:3000/webhook", 3*time.Second
	m.Update(st)
	m.Update(event(t, 1, base, weatherBody))
	m.focus = paneTools
	if s := screen(m); !strings.Contains(s, "asking your server (up to 3s)") {
		t.Errorf("the row does not give your server's share from --forward-timeout:\n%s", s)
	}
}
