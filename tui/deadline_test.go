package tui

// The deadline as the operator sees it (issue 8 point 2): the prompt's countdown and the
// tool calls pane say how long Vapi waits and where that number came from, and the
// fallback leaves when the countdown says; and tape failures in the status bar (issue 9
// point 6).

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/vapimon/vapimon/webhook"
	"github.com/vapimon/vapimon/webhook/webhooktest"
)

// fourSecondTool is a tool-calls message whose tool asks Vapi to wait 4 s
// (server.timeoutSeconds on the tool, as Vapi sends it).
const fourSecondTool = `{"message":{"type":"tool-calls","call":{"id":"` + callID + `"},` +
	`"toolCallList":[{"id":"call_w","type":"function","function":{"name":"get_weather","arguments":{"location":"Paris"}}}],` +
	`"toolWithToolCallList":[{"type":"function","function":{"name":"get_weather"},"server":{"url":"https://example.com/tools","timeoutSeconds":4},` +
	`"toolCall":{"id":"call_w","type":"function","function":{"name":"get_weather","arguments":{"location":"Paris"}}}}]}}`

const fourSecondSource = "tool get_weather: server.timeoutSeconds 4"

// TestFlowPromptShowsDeadlineSource: with the prompt open on an event whose deadline is
// 4 s, the countdown runs from 3.6 s (the fallback leaves 0.4 s before Vapi gives up) and
// says where the 4 s came from; so does the tool calls pane.
func TestFlowPromptShowsDeadlineSource(t *testing.T) {
	t.Parallel()
	f := newFlow(t)
	ev := event(t, 1, base, fourSecondTool)
	ev.VapiDeadline = base.Add(4 * time.Second)
	ev.Deadline = ev.VapiDeadline.Add(-webhook.SafetyMargin(4 * time.Second))
	ev.BudgetSource = fourSecondSource
	req, done := respondAsync(t, t.Context(), f.op, ev)
	f.tm.Send(batchMsg{items: []any{ev, req}})
	f.waitFor("3.6s")
	f.clk.Advance(time.Second)
	f.tm.Send(tickMsg(f.clk.Now()))
	f.sync() // frames are cell diffs ("3.6s" → "2.6s" rewrites one cell): read the model
	f.quit()
	m := finalModel(t, f.tm)
	m.resize(160, 48)
	s := screen(m)
	if !strings.Contains(s, "2.6s left · "+fourSecondSource) {
		t.Errorf("the prompt's countdown does not say where its 4 s came from:\n%s", s)
	}
	m.prompt = nil // look at the tool calls pane underneath
	m.focus = paneTools
	if s := screen(m); !strings.Contains(s, "Vapi waits 4s ("+fourSecondSource+")") || !strings.Contains(s, "vapimon answers by 3.6s") {
		t.Errorf("the tool calls pane's detail does not give the deadline and its source:\n%s", s)
	}
	nothingSent(t, "the open prompt", done)
}

// TestDeadlineFromHandlerWithPromptOpen drives the real path: a webhook.Handler with the
// Operator as its responder, the monitor running with the prompt open, nobody typing. The
// fallback must reach the caller when the event's deadline says (not before it, and before
// Vapi's deadline: a check of the deadline's correctness, not of speed), and the prompt must
// show the deadline's source as the handler computed it.
func TestDeadlineFromHandlerWithPromptOpen(t *testing.T) {
	t.Parallel()
	bus := webhook.NewBus()
	events := bus.Subscribe(64)
	op := NewOperator()
	h := webhook.NewHandler(webhook.Config{Responders: []webhook.Responder{op}, Bus: bus, ToolTimeout: 4 * time.Second})
	srv := httptest.NewServer(h)
	defer srv.Close()

	_, out, cancel, errc := startRun(t, Options{Bus: bus}, op, tea.WithWindowSize(160, 48))
	// Waits here are generous (a loaded machine): only the fallback's timing is checked.
	webhooktest.Eventually(t, 15*time.Second, "the first frame", func() bool { return out.Contains("vapimon") })

	type result struct {
		at   time.Time
		code int
		body []byte
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Post(srv.URL, "application/json", strings.NewReader(fourSecondTool))
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		res <- result{at: time.Now(), code: resp.StatusCode, body: b, err: err}
	}()
	var ev *webhook.Event
	for ev == nil {
		select {
		case v := <-events:
			ev, _ = v.(*webhook.Event)
		case <-time.After(15 * time.Second):
			t.Fatal("the handler published no event")
		}
	}
	if got := ev.VapiDeadline.Sub(ev.Received); got != 4*time.Second {
		t.Errorf("Vapi's wait for this tool = %s, want 4s", got)
	}
	if ev.BudgetSource == "" {
		t.Error("the handler gave no source for the deadline")
	}
	webhooktest.Eventually(t, 15*time.Second, "the prompt with the deadline's source", func() bool {
		return out.Contains("Answer tool call get_weather") && out.Contains(ev.BudgetSource)
	})
	var r result
	select {
	case r = <-res:
	case <-time.After(20 * time.Second):
		t.Fatal("no reply within 20 s for a 4 s tool")
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.code != http.StatusOK || !bytes.Contains(r.body, []byte(`"error"`)) || !bytes.Contains(r.body, []byte(`"call_w"`)) {
		t.Errorf("reply HTTP %d %s, want the fallback's error for call_w", r.code, r.body)
	}
	// Not before the event's deadline (the operator had until then), and before Vapi's own
	// (then the caller would have heard nothing): the margin between the two is what the
	// deadline is for. How late after the event's deadline it comes is the machine's
	// scheduling (105 ms once on a loaded 2-core machine), not the deadline's correctness.
	const early = 100 * time.Millisecond
	if off := r.at.Sub(ev.Deadline); off < -early || !r.at.Before(ev.VapiDeadline) {
		t.Errorf("the fallback arrived %s from the event's deadline (%s after receipt), want from %s before it to before Vapi's deadline (%s after receipt)",
			off, ev.Deadline.Sub(ev.Received), early, ev.VapiDeadline.Sub(ev.Received))
	}
	t.Logf("fallback arrived %s after the deadline (%s after receipt; Vapi waits %s, source %q)",
		r.at.Sub(ev.Deadline), r.at.Sub(ev.Received), ev.VapiDeadline.Sub(ev.Received), ev.BudgetSource)
	cancel()
	if err := <-errc; err != nil {
		t.Error(err)
	}
}

// TestStatusBarTapeFailures: failed tape writes (webhook.TapeHealth) are counted in the
// status bar in the error colour; the count never goes back when reports arrive out of
// order.
func TestStatusBarTapeFailures(t *testing.T) {
	t.Parallel()
	clk := newClock(base)
	tm := teatest.NewTestModel(t, newTestModel(clk, nil), teatest.WithInitialTermSize(160, 48))
	tm.Send(batchMsg{items: []any{webhook.TapeHealth{Failed: 1588, Err: "write tape t.jsonl: no space left on device"}, webhook.TapeHealth{Failed: 1500}}})
	teatest.WaitFor(t, tm.Output(), contains("1,588 writes failed"), waitOpts()...)
	m := quitFinal(t, tm)
	m.resize(160, 48)
	raw := m.View().Content
	if !strings.Contains(raw, m.styles.Err.Render("1,588 writes failed ")) {
		t.Errorf("the failed-write count is not in the error colour:\n%q", m.statusLines(160)[1])
	}
	if s := screen(m); !strings.Contains(s, "tape 1,588 writes failed vapimon-20251009.jsonl") {
		t.Errorf("status bar:\n%s", strings.Join(strings.Split(s, "\n")[:3], "\n"))
	}
	one := newTestModel(clk, nil)
	one.resize(160, 48)
	one.ingest(webhook.TapeHealth{Failed: 1, Err: "x"})
	if s := ansi.Strip(one.statusLines(160)[1]); !strings.Contains(s, "tape 1 write failed ") {
		t.Errorf("one failure: %q", s)
	}
}
