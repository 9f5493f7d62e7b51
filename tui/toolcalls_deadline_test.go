package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/vapimon/vapimon/webhook"
)

// twoToolsBody is one message with two tools: get_weather has server.timeoutSeconds 20,
// lookup_order has none (so it would wait the assistant's 30), which makes the message's
// one deadline get_weather's 20s.
const twoToolsBody = `{"message":{"type":"tool-calls","call":{"id":"` + callID + `"},` +
	`"assistant":{"server":{"url":"https://x","timeoutSeconds":30}},` +
	`"toolCallList":[{"id":"call_w","type":"function","function":{"name":"get_weather","arguments":{"location":"Paris"}}},` +
	`{"id":"call_o","type":"function","function":{"name":"lookup_order","arguments":{"orderId":"A123"}}}],` +
	`"toolWithToolCallList":[{"type":"function","function":{"name":"get_weather"},"server":{"url":"https://x","timeoutSeconds":20},"toolCall":{"id":"call_w","type":"function","function":{"name":"get_weather","arguments":{"location":"Paris"}}}},` +
	`{"type":"function","function":{"name":"lookup_order"},"toolCall":{"id":"call_o","type":"function","function":{"name":"lookup_order","arguments":{"orderId":"A123"}}}}]}}`

// timedEvent is event with the deadline the handler computes (webhook.Timing).
func timedEvent(t *testing.T, seq uint64, body string) *webhook.Event {
	t.Helper()
	ev := event(t, seq, base, body)
	d := webhook.Timing(ev.Msg, base, 20*time.Second)
	ev.VapiDeadline, ev.Deadline, ev.BudgetSource = d.Vapi, d.Send, d.Source
	return ev
}

// TestDeadlineLabelPerTool: in a message with two tools, each row's deadline label is true
// of that row: get_weather's row names its own timeout; lookup_order's says the deadline
// was set by get_weather (it used to read "Vapi waits 20s (tool get_weather:
// server.timeoutSeconds 20)" as if that were lookup_order's own).
func TestDeadlineLabelPerTool(t *testing.T) {
	t.Parallel()
	ev := timedEvent(t, 1, twoToolsBody)
	if !strings.HasPrefix(ev.BudgetSource, "tool get_weather:") {
		t.Fatalf("fixture: budget source = %q, want get_weather's", ev.BudgetSource)
	}
	rows := newToolRows(ev, nil)
	weather := strings.Join(rows[0].deadlineText(), " · ")
	order := strings.Join(rows[1].deadlineText(), " · ")
	if !strings.Contains(weather, "Vapi waits 20s (tool get_weather: server.timeoutSeconds 20)") {
		t.Errorf("get_weather row = %q", weather)
	}
	if !strings.Contains(order, "set by tool get_weather: server.timeoutSeconds 20") || !strings.Contains(order, "one reply answers every tool") {
		t.Errorf("lookup_order row = %q: want it to say get_weather's timeout set the deadline", order)
	}
	if strings.Contains(order, "Vapi waits 20s (tool get_weather") {
		t.Errorf("lookup_order row = %q: still reads as its own timeout", order)
	}
}

// TestDeadlineLabelAnsweredAtOnce: a row answered at once (the fallback to a type nobody
// answers, the answers file) says how long the answer took, not "vapimon answers by 18.5s".
func TestDeadlineLabelAnsweredAtOnce(t *testing.T) {
	t.Parallel()
	m, _ := sized(t, 120, 40)
	ev := timedEvent(t, 1, `{"message":{"type":"call.endpointing.request","messages":[],"messagesOpenAIFormatted":[],"call":{"id":"`+callID+`"}}}`)
	m.Update(ev)
	m.Update(outcome(1, webhook.SourceFallback, `{"timeoutSeconds":1.5}`, ms(2)))
	rows := m.toolLog
	if len(rows) != 1 || !rows[0].done {
		t.Fatalf("rows = %d, want one answered", len(rows))
	}
	got := strings.Join(rows[0].deadlineText(), " · ")
	if strings.Contains(got, "vapimon answers by") || !strings.Contains(got, "answered in 2ms") {
		t.Errorf("deadline text of a row answered at once = %q", got)
	}
	if s := screen(m); strings.Contains(s, "vapimon answers by") {
		t.Errorf("the screen still says vapimon answers by:\n%s", s)
	}
}
