package webhook

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vapimon/vapimon/webhook/webhooktest"
)

const exampleAnswers = `
tools:
  get_weather: "Paris: 18C, light rain"   # a result
  book_table: {error: "fully booked"}     # an error
  lookup_order:
    - when: {orderId: "A123"}
      result: "Order A123 shipped yesterday"
    - when: {orderId: 42}
      result: "Order 42 is numeric"
    - result: "No order {{orderId}}"
replies:
  assistant-request: {assistantId: "5a6b2c1d-0000-4000-8000-000000000001"}
assistants:
  - {id: "asst-2", name: "Sales"}
`

func toolEvent(calls ...ToolCall) *Event {
	return &Event{Msg: &Message{Type: TypeToolCalls, Kind: TypeToolCalls, ToolCalls: calls}}
}

func TestAnswersRespond(t *testing.T) {
	t.Parallel()
	set, err := ParseAnswers([]byte(exampleAnswers))
	if err != nil {
		t.Fatal(err)
	}
	a := NewAnswers(set)
	tests := []struct {
		name string
		ev   *Event
		want string // "" = pass
	}{
		{"result and error in one reply", toolEvent(ToolCall{ID: "1", Name: "get_weather", Arguments: json.RawMessage(`{}`)}, ToolCall{ID: "2", Name: "book_table", Arguments: json.RawMessage(`{}`)}),
			`{"results":[{"toolCallId":"1","name":"get_weather","result":"Paris: 18C, light rain"},{"toolCallId":"2","name":"book_table","error":"fully booked"}]}`},
		{"case match", toolEvent(ToolCall{ID: "3", Name: "lookup_order", Arguments: json.RawMessage(`{"orderId":"A123"}`)}),
			`{"results":[{"toolCallId":"3","name":"lookup_order","result":"Order A123 shipped yesterday"}]}`},
		{"numeric case", toolEvent(ToolCall{ID: "3", Name: "lookup_order", Arguments: json.RawMessage(`{"orderId":42}`)}),
			`{"results":[{"toolCallId":"3","name":"lookup_order","result":"Order 42 is numeric"}]}`},
		{"default case with template", toolEvent(ToolCall{ID: "4", Name: "lookup_order", Arguments: json.RawMessage(`{"orderId":"Z9"}`)}),
			`{"results":[{"toolCallId":"4","name":"lookup_order","result":"No order Z9"}]}`},
		{"one unknown tool passes the whole message", toolEvent(ToolCall{ID: "1", Name: "get_weather"}, ToolCall{ID: "5", Name: "unknown"}), ""},
		{"assistant-request reply", &Event{Msg: &Message{Type: TypeAssistantRequest, Kind: TypeAssistantRequest}}, `{"assistantId":"5a6b2c1d-0000-4000-8000-000000000001"}`},
		{"legacy function-call", &Event{Msg: &Message{Type: TypeFunctionCall, Kind: TypeFunctionCall, ToolCalls: []ToolCall{{Name: "book_table"}}}}, `{"result":"Error: fully booked"}`},
		{"no reply configured", &Event{Msg: &Message{Type: TypeTransferDestinationRequest, Kind: TypeTransferDestinationRequest}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := a.Respond(context.Background(), tt.ev)
			if tt.want == "" {
				if err != ErrPass {
					t.Fatalf("want pass, got %s %v", rep.Body, err)
				}
				return
			}
			if err != nil || string(rep.Body) != tt.want || rep.Source != SourceAnswers {
				t.Fatalf("got %s (%s, %v), want %s", rep.Body, rep.Source, err, tt.want)
			}
		})
	}
	// The fallback keeps the answers it has and errors the rest.
	fb := a.Fallback(toolEvent(ToolCall{ID: "1", Name: "get_weather"}, ToolCall{ID: "5", Name: "unknown"}), "vapimon: nobody answered within 18.5s")
	want := `{"results":[{"toolCallId":"1","name":"get_weather","result":"Paris: 18C, light rain"},{"toolCallId":"5","name":"unknown","error":"vapimon: nobody answered within 18.5s"}]}`
	if string(fb.Body) != want || fb.Source != SourceFallback {
		t.Fatalf("fallback %s", fb.Body)
	}
	// A hung server must not cost the call its assistant: the fallback uses the file.
	fb = a.Fallback(&Event{Msg: &Message{Type: TypeAssistantRequest, Kind: TypeAssistantRequest}}, "vapimon: nobody answered")
	if string(fb.Body) != `{"assistantId":"5a6b2c1d-0000-4000-8000-000000000001"}` || fb.Source != SourceAnswers {
		t.Fatalf("assistant-request fallback %s (%s)", fb.Body, fb.Source)
	}
	fb = a.Fallback(toolEvent(ToolCall{ID: "1", Name: "get_weather"}), "late")
	if fb.Source != SourceAnswers || !strings.Contains(string(fb.Body), "Paris") {
		t.Fatalf("fully answered fallback %s (%s)", fb.Body, fb.Source)
	}
	if fb = a.Fallback(&Event{Msg: &Message{Type: TypeTransferDestinationRequest, Kind: TypeTransferDestinationRequest}}, "why"); fb.Source != SourceFallback || string(fb.Body) != `{"error":"why"}` {
		t.Fatalf("transfer fallback %s (%s)", fb.Body, fb.Source)
	}
	if got := a.Assistants(); len(got) != 2 || got[0].ID != "asst-2" || got[1].ID != "5a6b2c1d-0000-4000-8000-000000000001" {
		t.Errorf("assistants = %+v", got)
	}
	if got := a.Suggest("book_table", json.RawMessage(`{}`)); len(got) != 1 || got[0] != (Suggestion{Text: "fully booked", IsError: true}) {
		t.Errorf("suggest = %v", got)
	}
	// The matching case first, templates filled with this call's arguments.
	got := a.Suggest("lookup_order", json.RawMessage(`{"orderId":"Z9"}`))
	if len(got) != 3 || got[0] != (Suggestion{Text: "No order Z9"}) || got[1] != (Suggestion{Text: "Order A123 shipped yesterday"}) {
		t.Errorf("suggest = %+v", got)
	}
}

func TestParseAnswersErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"tools:\n  f: {result: a, error: b}\n", "both result and error"},
		{"tools:\n  f: {resutl: a}\n", `unknown key "resutl"`},
		{"tools:\n  f: []\n", "empty list"},
		{"replies:\n  status-update: {}\n", "does not wait for a reply"},
		{"toolz: {}\n", `line 1: unknown key "toolz" (want tools, replies or assistants)`},
		{"assistants:\n  - {name: x}\n", "assistants[0] has no id"},
		{"tools: [\n", "answers:"},
	}
	for _, tt := range tests {
		_, err := ParseAnswers([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseAnswers(%q) = %v, want %q", tt.in, err, tt.want)
		}
	}
	if _, err := ParseAnswers([]byte(`{"tools":{"f":"json works too"}}`)); err != nil {
		t.Errorf("JSON answers: %v", err)
	}
	if _, err := ParseAnswers(nil); err != nil {
		t.Errorf("empty file: %v", err)
	}
}

func TestAnswersReloadKeepsLastGood(t *testing.T) {
	t.Parallel()
	path, a, next := watchedAnswers(t, "tools:\n  f: one\n")
	ctx := t.Context()
	result := func() string {
		rep, _ := a.Respond(ctx, toolEvent(ToolCall{ID: "1", Name: "f"}))
		return string(rep.Body)
	}
	// A broken file is reported and the previous answers stay. The file is replaced whole
	// (renamed into place, as most editors save): what is tested is its content, not a
	// half-written file (TestAnswersReloadSkipsATruncatedFile).
	webhooktest.WriteAtomic(t, path, "tools:\n  f: {bad: [\n")
	if n := next(); n.Level != "error" || !strings.Contains(n.Text, "still using the previous answers") {
		t.Fatalf("notice = %+v", n)
	}
	if !strings.Contains(result(), `"result":"one"`) {
		t.Fatalf("after a broken file: %s", result())
	}
	// A good file is taken.
	webhooktest.WriteAtomic(t, path, "tools:\n  f: two-longer\n")
	if n := next(); n.Level != "info" {
		t.Fatalf("notice = %+v", n)
	}
	if !strings.Contains(result(), `"result":"two-longer"`) {
		t.Fatalf("after reload: %s", result())
	}
}

// TestAnswersReloadSkipsATruncatedFile: a file written in place is empty between its
// truncation and its new content; a watcher that reads it then reports it and keeps the
// previous answers, and takes the content once it is there.
func TestAnswersReloadSkipsATruncatedFile(t *testing.T) {
	t.Parallel()
	path, a, next := watchedAnswers(t, "tools:\n  f: one\n")
	ctx := t.Context()
	// The writer stalls after truncating (O_TRUNC), for as long as the watcher needs.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if n := next(); n.Level != "error" || !strings.Contains(n.Text, "is empty") || !strings.Contains(n.Text, "still using the previous answers") {
		t.Fatalf("notice for a truncated file = %+v", n)
	}
	rep, _ := a.Respond(ctx, toolEvent(ToolCall{ID: "1", Name: "f"}))
	if !strings.Contains(string(rep.Body), `"result":"one"`) {
		t.Fatalf("while the file is empty: %s", rep.Body)
	}
	if _, err := f.WriteString("tools:\n  f: two\n"); err != nil {
		t.Fatal(err)
	}
	if n := next(); n.Level != "info" {
		t.Fatalf("notice once written = %+v", n)
	}
	rep, _ = a.Respond(ctx, toolEvent(ToolCall{ID: "1", Name: "f"}))
	if !strings.Contains(string(rep.Body), `"result":"two"`) {
		t.Fatalf("after the content was written: %s", rep.Body)
	}
}

// watchedAnswers writes content to an answers file, loads it and watches it every 5 ms
// until the test ends; next gives the watcher's next Notice.
func watchedAnswers(t *testing.T, content string) (path string, a *Answers, next func() Notice) {
	path = filepath.Join(t.TempDir(), "answers.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := LoadAnswers(path)
	if err != nil {
		t.Fatal(err)
	}
	bus := NewBus()
	sub := bus.Subscribe(8)
	go a.Watch(t.Context(), 5*time.Millisecond, bus)
	return path, a, func() Notice {
		t.Helper()
		select {
		case v := <-sub:
			return v.(Notice)
		case <-time.After(10 * time.Second): // a failure detector, not a timing assertion
			t.Fatal("no notice after the file changed")
		}
		return Notice{}
	}
}

func TestLoadAnswersMissingFile(t *testing.T) {
	t.Parallel()
	_, err := LoadAnswers(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("err = %v", err)
	}
}

func TestExampleAnswersFileParses(t *testing.T) {
	t.Parallel()
	a, err := LoadAnswers(filepath.Join("..", "fixtures", "answers.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := a.ToolNames(); strings.Join(got, ",") != "book_table,get_weather,lookup_order" {
		t.Errorf("tools = %v", got)
	}
}

func TestToolCallsReplyEscapes(t *testing.T) {
	t.Parallel()
	in := []ToolResult{
		{ToolCallID: `id"1`, Name: "a<b>&c", Result: "line1\nline2 \u2028 é \x00 \xff"},
		{ToolCallID: "id2", Name: "n", Error: `back\slash`, IsError: true},
		{ToolCallID: "id3", Name: "n", IsError: true},
	}
	var got struct {
		Results []map[string]string `json:"results"`
	}
	body := ToolCallsReply(in)
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	want := []map[string]string{
		{"toolCallId": `id"1`, "name": "a<b>&c", "result": "line1 line2 \u2028 é \x00 \ufffd"},
		{"toolCallId": "id2", "name": "n", "error": `back\slash`},
		{"toolCallId": "id3", "name": "n", "error": ""},
	}
	for i := range want {
		for k, v := range want[i] {
			if got.Results[i][k] != v {
				t.Errorf("results[%d].%s = %q, want %q", i, k, got.Results[i][k], v)
			}
		}
		if len(got.Results[i]) != len(want[i]) {
			t.Errorf("results[%d] = %v", i, got.Results[i])
		}
	}
}
