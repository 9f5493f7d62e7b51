package tui

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/vapimon/vapimon/webhook"
	"github.com/vapimon/vapimon/webhook/vapischema"
	"github.com/vapimon/vapimon/webhook/webhooktest"
)

// typeText sends each rune of s as a key press.
func typeText(m *Model, s string) {
	for _, r := range s {
		m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// submit types s into the open prompt (or the filter) and presses enter.
func submit(m *Model, s string) {
	typeText(m, s)
	m.Update(press("enter"))
}

// playKeys plays a table case's keys: "grace" moves the clock past the grace period,
// "text:..." types the text, any other is a key press; every state between them draws.
func playKeys(m *Model, clk *clock, keys []string) {
	for _, k := range keys {
		switch {
		case k == "grace":
			clk.Advance(time.Second)
		case strings.HasPrefix(k, "text:"):
			typeText(m, k[5:])
		default:
			m.Update(press(k))
		}
		_ = screen(m)
	}
}

// testAssistants are the assistants the prompt offers for an assistant-request.
func testAssistants() []Assistant {
	return []Assistant{{"5a6b-support", "Support"}, {"7c8d-sales", "Sales"}}
}

// ask hands an operator request for ev to the model and returns it.
func ask(t *testing.T, m *Model, ev *webhook.Event) *opRequest {
	t.Helper()
	req := &opRequest{ev: ev, ctx: t.Context(), reply: make(chan webhook.Reply, 1)}
	m.Update(batchMsg{items: []any{ev, req}})
	if m.prompt == nil {
		t.Fatal("no prompt opened")
	}
	return req
}

// openPrompt returns a w×h model with the prompt open on the request of body (seq 1), past
// its grace period, and that request.
func openPrompt(t *testing.T, w, h int, body string) (*Model, *clock, *opRequest) {
	t.Helper()
	m, clk := sized(t, w, h)
	req := ask(t, m, event(t, 1, base, body))
	clk.Advance(time.Second)
	return m, clk, req
}

func reply(t *testing.T, req *opRequest) webhook.Reply {
	t.Helper()
	select {
	case r := <-req.reply:
		return r
	default:
		t.Fatal("no reply was delivered")
		return webhook.Reply{}
	}
}

func noReply(t *testing.T, req *opRequest) {
	t.Helper()
	select {
	case r := <-req.reply:
		t.Fatalf("unexpected reply %s", r.Body)
	default:
	}
}

const twoToolCalls = `{"message":{"type":"tool-calls","call":{"id":"` + callID + `"},"toolCallList":[` +
	`{"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}},` +
	`{"id":"call_b","type":"function","function":{"name":"get_time","arguments":{"tz":"Europe/Paris"}}}],"toolWithToolCallList":[]}}`

const assistantRequest = `{"message":{"type":"assistant-request","call":{"id":"` + callID + `","type":"inboundPhoneCall"},"customer":{"number":"+14155550123"}}}`

const functionCall = `{"message":{"type":"function-call","call":{"id":"` + callID + `"},"functionCall":{"name":"get_weather","parameters":"{\"location\":\"Paris\"}"}}}`

// TestOperatorReplies answers each kind of request by keyboard and checks the reply against
// Vapi's response schema.
func TestOperatorReplies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   string
		keys   []string // "" entries are skipped; other entries are single keys or text
		schema string
		want   string // expected reply body (JSON, compared structurally)
	}{
		{
			name:   "tool result",
			body:   weatherBody,
			keys:   []string{"text:Paris: 18C", "enter"},
			schema: "ServerMessageResponseToolCalls",
			want:   `{"results":[{"toolCallId":"call_1","name":"get_weather","result":"Paris: 18C"}]}`,
		},
		{
			name:   "tool error",
			body:   weatherBody,
			keys:   []string{"text:weather service down", "ctrl+e"},
			schema: "ServerMessageResponseToolCalls",
			want:   `{"results":[{"toolCallId":"call_1","name":"get_weather","error":"weather service down"}]}`,
		},
		{
			name:   "multi-line answer is sent on one line",
			body:   weatherBody,
			keys:   []string{"text:18C", "alt+enter", "text:light rain", "enter"},
			schema: "ServerMessageResponseToolCalls",
			want:   `{"results":[{"toolCallId":"call_1","name":"get_weather","result":"18C light rain"}]}`,
		},
		{
			name:   "two calls answered in one reply, in order",
			body:   twoToolCalls,
			keys:   []string{"text:18C", "enter", "grace", "text:no clock here", "ctrl+e"},
			schema: "ServerMessageResponseToolCalls",
			want:   `{"results":[{"toolCallId":"call_a","name":"get_weather","result":"18C"},{"toolCallId":"call_b","name":"get_time","error":"no clock here"}]}`,
		},
		{
			name:   "suggestion from the answers file",
			body:   weatherBody,
			keys:   []string{"tab", "enter"},
			schema: "ServerMessageResponseToolCalls",
			want:   `{"results":[{"toolCallId":"call_1","name":"get_weather","result":"Paris: 18C, light rain"}]}`,
		},
		{
			name:   "answers-file template filled from the call's arguments",
			body:   toolCallsBody(callID, "call_1", "lookup_order", `{"orderId":"A123","qty":2}`),
			keys:   []string{"tab", "tab", "enter"},
			schema: "ServerMessageResponseToolCalls",
			want:   `{"results":[{"toolCallId":"call_1","name":"lookup_order","result":"Order A123: 2 items"}]}`,
		},
		{
			name:   "assistant picked from the list",
			body:   assistantRequest,
			keys:   []string{"down", "enter"},
			schema: "ServerMessageResponseAssistantRequest",
			want:   `{"assistantId":"7c8d-sales"}`,
		},
		{
			name:   "assistant id typed",
			body:   assistantRequest,
			keys:   []string{"text:0f1e-custom", "enter"},
			schema: "ServerMessageResponseAssistantRequest",
			want:   `{"assistantId":"0f1e-custom"}`,
		},
		{
			name:   "assistant-request refused with a message",
			body:   assistantRequest,
			keys:   []string{"text:Sorry, we are closed.", "ctrl+e"},
			schema: "ServerMessageResponseAssistantRequest",
			want:   `{"error":"Sorry, we are closed."}`,
		},
		{
			name: "legacy function-call",
			body: functionCall,
			keys: []string{"text:18C", "enter"},
			want: `{"result":"18C"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, clk := sizedWith(t, Options{
				Suggest: func(tool string, _ json.RawMessage) []webhook.Suggestion {
					if tool == "lookup_order" {
						return results("I could not find order {{orderId}}.", "Order {{ orderId }}: {{qty}} items")
					}
					return results("Paris: 18C, light rain")
				},
				Assistants: testAssistants,
			}, 120, 40)
			req := ask(t, m, event(t, 1, base, tt.body))
			clk.Advance(time.Second)
			playKeys(m, clk, tt.keys)
			rep := reply(t, req)
			if rep.Source != webhook.SourceOperator {
				t.Errorf("source = %q", rep.Source)
			}
			if !webhooktest.JSONEqual(t, rep.Body, []byte(tt.want)) {
				t.Errorf("reply = %s, want %s", rep.Body, tt.want)
			}
			replied(t, m, rep, tt.schema)
		})
	}
}

func TestPromptGraceAndEmptyAnswer(t *testing.T) {
	t.Parallel()
	m, clk := sized(t, 120, 40)
	req := ask(t, m, event(t, 1, base, toolCallsBody(callID, "call_1", "get_weather", `{}`)))
	submit(m, "typed while the prompt opened")
	noReply(t, req)
	if got := m.prompt.ed.Value(); got != "" {
		t.Errorf("keys during the grace period were taken: %q", got)
	}
	clk.Advance(400 * time.Millisecond)
	m.Update(press("enter"))
	noReply(t, req)
	if m.prompt == nil || m.prompt.hint == "" {
		t.Error("an empty answer was accepted silently")
	}
}

func TestPromptDeferAndReopen(t *testing.T) {
	t.Parallel()
	m, clk := sized(t, 120, 40)
	req1 := ask(t, m, event(t, 1, base, toolCallsBody(callID, "call_1", "first_tool", `{}`)))
	req2 := &opRequest{ev: event(t, 2, base, toolCallsBody(callID, "call_2", "second_tool", `{}`)), ctx: t.Context(), reply: make(chan webhook.Reply, 1)}
	m.Update(batchMsg{items: []any{req2.ev, req2}})
	if m.prompt.p.req != req1 {
		t.Fatal("the second request replaced the open prompt instead of queueing")
	}
	clk.Advance(time.Second)
	// Deferring goes back to the panes: the next queued request does not open in its
	// place (keys meant for the panes would answer it), the tool calls pane has focus.
	m.Update(press("esc"))
	if m.prompt != nil {
		t.Fatalf("deferring opened the next queued request (%d) in its place", m.prompt.p.seq)
	}
	if m.focus != paneTools {
		t.Errorf("focus after deferring = %v, want the tool calls pane", m.focus)
	}
	selectSeq(m, 2)
	m.Update(press("enter"))
	if m.prompt == nil || m.prompt.p.req != req2 {
		t.Fatal("enter on the second tool call did not open it")
	}
	clk.Advance(time.Second)
	submit(m, "two")
	if got := reply(t, req2); !webhooktest.JSONEqual(t, got.Body, []byte(`{"results":[{"toolCallId":"call_2","name":"second_tool","result":"two"}]}`)) {
		t.Errorf("second reply = %s", got.Body)
	}
	if m.prompt != nil {
		t.Fatal("a deferred request reopened by itself")
	}
	noReply(t, req1)
	// Reopen the deferred one from the tool calls pane.
	selectSeq(m, 1)
	m.Update(press("enter"))
	if m.prompt == nil || m.prompt.p.req != req1 {
		t.Fatal("enter on the deferred tool call did not reopen it")
	}
	clk.Advance(time.Second)
	submit(m, "one")
	if got := reply(t, req1); !webhooktest.JSONEqual(t, got.Body, []byte(`{"results":[{"toolCallId":"call_1","name":"first_tool","result":"one"}]}`)) {
		t.Errorf("first reply = %s", got.Body)
	}
}

func TestPromptClosesAtDeadline(t *testing.T) {
	t.Parallel()
	m, clk := sized(t, 120, 40)
	ev := event(t, 1, base, toolCallsBody(callID, "call_1", "get_weather", `{}`))
	ask(t, m, ev)
	clk.Advance(time.Second)
	typeText(m, "half an answer")
	clk.Set(ev.Deadline)
	m.Update(tickMsg(ev.Deadline))
	if m.prompt != nil {
		t.Error("the prompt is still open after the deadline")
	}
	s := screen(m)
	if !contains("deadline passed: fallback sent")([]byte(s)) {
		t.Errorf("the tools pane does not say the fallback was sent:\n%s", s)
	}
	if !contains("not sent: half an answer")([]byte(s)) {
		t.Errorf("the unsent answer is not shown:\n%s", s)
	}
	if m.pendingCount() != 0 {
		t.Errorf("pending = %d after the deadline", m.pendingCount())
	}
}

func TestOperatorRespond(t *testing.T) {
	t.Parallel()
	op := NewOperator()
	if op.Name() != "operator" {
		t.Errorf("Name = %q", op.Name())
	}
	// Types the operator does not answer are passed on at once: informational ones, and
	// the reply-expecting types a person cannot answer in time (endpointing) or at all
	// (voice-request audio). transfer-destination-request used to be among them, although
	// the README says the operator is asked (TestJSONAnswerTypes).
	for _, body := range []string{
		`{"message":{"type":"status-update","status":"in-progress"}}`,
		`{"message":{"type":"call.endpointing.request","messages":[],"messagesOpenAIFormatted":[]}}`,
		`{"message":{"type":"voice-request","text":"hi","sampleRate":16000}}`,
		`{"message":{"type":"tool-calls","toolCallList":[]}}`,
	} {
		if _, err := op.Respond(t.Context(), event(t, 1, base, body)); !errors.Is(err, webhook.ErrPass) {
			t.Errorf("Respond(%s) = %v, want ErrPass", body, err)
		}
	}
	if _, err := op.Respond(t.Context(), &webhook.Event{}); !errors.Is(err, webhook.ErrPass) {
		t.Errorf("Respond(rejected event) = %v, want ErrPass", err)
	}
	// Nobody reads the queue: Respond returns the context's error at the deadline.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := op.Respond(ctx, event(t, 2, base, assistantRequest)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("unanswered Respond = %v, want DeadlineExceeded", err)
	}
}

func TestOperatorQueueFull(t *testing.T) {
	t.Parallel()
	op := NewOperator()
	ev := event(t, 1, base, assistantRequest)
	for range operatorQueue {
		op.reqs <- &opRequest{ev: ev, ctx: t.Context(), reply: make(chan webhook.Reply, 1)}
	}
	if _, err := op.Respond(t.Context(), ev); !errors.Is(err, errQueueFull) {
		t.Errorf("Respond with a full queue = %v, want errQueueFull", err)
	}
}

// TestSchemaCheckBites makes sure the schema checks above can fail.
func TestSchemaCheckBites(t *testing.T) {
	t.Parallel()
	s := vapischema.SkipIfMissing(t)
	if err := s.Validate("ServerMessageResponseToolCalls", []byte(`{"results":"Paris: 18C"}`)); err == nil {
		t.Error("a malformed tool-calls reply passed the schema")
	}
}

// selectSeq focuses the tool calls pane on the row of request seq.
func selectSeq(m *Model, seq uint64) {
	m.focus = paneTools
	m.toolsP.follow = false
	rows, _ := m.toolRows()
	for i, r := range rows {
		if r.seq == seq {
			m.toolsP.sel = i
		}
	}
}

func TestExitMessage(t *testing.T) {
	t.Parallel()
	op := NewOperator()
	if got := op.ExitMessage(""); got != "" {
		t.Errorf("nothing to say, got %q", got)
	}
	if got := op.ExitMessage("SIGTERM"); got != "vapimon: SIGTERM: shut down" {
		t.Errorf("ExitMessage(SIGTERM) = %q", got)
	}
}
