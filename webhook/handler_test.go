package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const toolCallsBody = `{"message":{"type":"tool-calls","timestamp":1760000006200,"call":{"id":"call-1"},
 "toolCallList":[{"id":"call_A","type":"function","function":{"name":"get_weather","arguments":{"location":"Paris"}}},
                 {"id":"call_B","type":"function","function":{"name":"book_table","arguments":"{\"people\":4}"}}],
 "toolWithToolCallList":[]}}`

// memRecorder keeps records and the order of record/write calls.
type memRecorder struct {
	mu    sync.Mutex
	evs   []*Event
	outs  []*Outcome
	order *[]string
}

func (r *memRecorder) Received(ev *Event) error { return nil }

func (r *memRecorder) Replied(ev *Event, out *Outcome) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, ev)
	r.outs = append(r.outs, out)
	if r.order != nil {
		*r.order = append(*r.order, "record")
	}
	return nil
}

type orderWriter struct {
	*httptest.ResponseRecorder
	order *[]string
}

func (w orderWriter) WriteHeader(code int) {
	*w.order = append(*w.order, "write")
	w.ResponseRecorder.WriteHeader(code)
}

func answersFor(t *testing.T, yaml string) *Answers {
	t.Helper()
	set, err := ParseAnswers([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return NewAnswers(set)
}

func do(h http.Handler, method, body string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/vapi/webhook?x=1", strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, req)
	return rr
}

// first returns the first value of type T in vs.
func first[T any](t *testing.T, vs []any) T {
	t.Helper()
	for _, v := range vs {
		if x, ok := v.(T); ok {
			return x
		}
	}
	var zero T
	t.Fatalf("no %T among %v", zero, vs)
	return zero
}

func drain(ch <-chan any) []any {
	var out []any
	for {
		select {
		case v := <-ch:
			out = append(out, v)
		default:
			return out
		}
	}
}

func TestHandlerAnswersToolCallsAndRecordsFirst(t *testing.T) {
	t.Parallel()
	bus := NewBus()
	sub := bus.Subscribe(16)
	var order []string
	rec := &memRecorder{order: &order}
	ans := answersFor(t, "tools:\n  get_weather: \"{{location}}: 18C\"\n  book_table: {error: fully booked}\n")
	h := NewHandler(Config{Responders: []Responder{ans}, Fallback: ans.Fallback, Recorder: rec, Bus: bus})

	req := httptest.NewRequest(http.MethodPost, "/vapi", strings.NewReader(toolCallsBody))
	w := orderWriter{httptest.NewRecorder(), &order}
	h.ServeHTTP(w, req)

	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	want := `{"results":[{"toolCallId":"call_A","name":"get_weather","result":"Paris: 18C"},{"toolCallId":"call_B","name":"book_table","error":"fully booked"}]}`
	if got := w.Body.String(); got != want {
		t.Fatalf("body\n got %s\nwant %s", got, want)
	}
	if strings.Join(order, ",") != "record,write" {
		t.Fatalf("order = %v, want the record written before the reply", order)
	}
	if !bytes.Equal(rec.evs[0].Body, []byte(toolCallsBody)) {
		t.Fatal("recorded body differs from the received bytes")
	}
	var msgs []any
	for _, v := range drain(sub) {
		if n, ok := v.(Notice); ok && strings.Contains(n.Text, "no server.timeoutSeconds") {
			continue // the payload names no timeout: said once for the call
		}
		msgs = append(msgs, v)
	}
	if len(msgs) != 2 {
		t.Fatalf("bus got %d values, want event+outcome (+ the deadline notice): %v", len(msgs), msgs)
	}
	ev, ok := msgs[0].(*Event)
	if !ok || ev.Type() != TypeToolCalls || ev.CallID() != "call-1" || ev.Path != "/vapi" || ev.Deadline.IsZero() {
		t.Fatalf("first bus value = %#v", msgs[0])
	}
	if got := ev.VapiDeadline.Sub(ev.Received); got != DefaultToolTimeout {
		t.Errorf("vapi deadline after %v, want %v", got, DefaultToolTimeout)
	}
	out, ok := msgs[1].(*Outcome)
	if !ok || out.Seq != ev.Seq || out.Reply.Source != SourceAnswers {
		t.Fatalf("second bus value = %#v", msgs[1])
	}
}

func TestHandlerBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		method     string
		body       string
		wantStatus int
		wantBody   string
		wantReason string
	}{
		{"get", http.MethodGet, "", 405, `{"error":"method not allowed: Vapi sends POST"}`, "GET request refused"},
		{"too large", http.MethodPost, `{"message":{"type":"hang","pad":"` + strings.Repeat("x", 2048) + `"}}`, 413, `{"error":"body too large"}`, "larger than 1 KiB: answered 413"},
		{"broken json", http.MethodPost, `{"message":{"type":"hang"`, 400, "", "body is not valid JSON"},
		{"no type", http.MethodPost, `{"message":{"call":{}}}`, 400, `{"error":"message has no \"type\" string"}`, `no "type"`},
		{"no message", http.MethodPost, `{"type":"tool-calls"}`, 400, "", `no "message" object`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bus := NewBus()
			sub := bus.Subscribe(8)
			rec := &memRecorder{}
			h := NewHandler(Config{MaxBody: 1024, Recorder: rec, Bus: bus})
			rr := do(h, tt.method, tt.body)
			if rr.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d", rr.Code, tt.wantStatus)
			}
			if tt.wantBody != "" && rr.Body.String() != tt.wantBody {
				t.Errorf("body %s, want %s", rr.Body, tt.wantBody)
			}
			if !json.Valid(rr.Body.Bytes()) {
				t.Errorf("error body is not JSON: %s", rr.Body)
			}
			if tt.method == http.MethodGet && rr.Header().Get("Allow") != "POST" {
				t.Errorf("Allow = %q", rr.Header().Get("Allow"))
			}
			if len(rec.evs) != 1 || !strings.Contains(rec.evs[0].Rejected, tt.wantReason) {
				t.Fatalf("recorded %+v, want a rejection containing %q", rec.evs, tt.wantReason)
			}
			ev := drain(sub)[0].(*Event)
			if ev.Status != tt.wantStatus || ev.Rejected == "" {
				t.Errorf("published event = %+v", ev)
			}
		})
	}
}

func TestHandlerUnknownTypeAcknowledged(t *testing.T) {
	t.Parallel()
	bus := NewBus()
	sub := bus.Subscribe(8)
	h := NewHandler(Config{Bus: bus})
	rr := do(h, http.MethodPost, `{"message":{"type":"future-thing","x":1}}`)
	if rr.Code != 200 || rr.Body.String() != "{}" {
		t.Fatalf("got %d %s", rr.Code, rr.Body)
	}
	ev := drain(sub)[0].(*Event)
	if ev.Msg == nil || ev.Msg.Known || ev.Rejected != "" {
		t.Fatalf("event = %+v", ev)
	}
}

func TestHandlerInformationalAckedAtOnce(t *testing.T) {
	t.Parallel()
	h := NewHandler(Config{Bus: NewBus()})
	rr := do(h, http.MethodPost, `{"message":{"type":"status-update","status":"in-progress"}}`)
	if rr.Code != 200 || rr.Body.String() != "{}" || rr.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("got %d %q %s", rr.Code, rr.Header().Get("Content-Type"), rr.Body)
	}
}

func TestHandlerAuthFailureIsGeneric(t *testing.T) {
	t.Parallel()
	v, err := NewVerifier(AuthConfig{Mode: AuthSecret, Secrets: []string{"s3cret-value"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, hdr := range [][]string{nil, {"X-Vapi-Secret", "wrong"}} {
		bus := NewBus()
		sub := bus.Subscribe(8)
		rec := &memRecorder{}
		h := NewHandler(Config{Verifier: v, Bus: bus, Recorder: rec})
		rr := do(h, http.MethodPost, `{"message":{"type":"hang"}}`, hdr...)
		if rr.Code != 401 || rr.Body.String() != `{"error":"unauthorized"}` {
			t.Fatalf("got %d %s", rr.Code, rr.Body)
		}
		ev := drain(sub)[0].(*Event)
		if !strings.HasPrefix(ev.Rejected, "auth failed: ") || len(ev.Rejected) < 20 {
			t.Errorf("operator reason = %q", ev.Rejected)
		}
		if ev.Verified {
			t.Error("rejected event marked verified")
		}
		for _, vs := range rec.evs[0].Header {
			for _, s := range vs {
				if strings.Contains(s, "wrong") {
					t.Errorf("recorded header leaks the sent secret: %q", s)
				}
			}
		}
	}
	// The right secret passes.
	h := NewHandler(Config{Verifier: v, Bus: NewBus()})
	if rr := do(h, http.MethodPost, `{"message":{"type":"hang"}}`, "X-Vapi-Secret", "s3cret-value"); rr.Code != 200 {
		t.Fatalf("valid secret: %d %s", rr.Code, rr.Body)
	}
}

func TestHandlerFallbackBeforeDeadline(t *testing.T) {
	t.Parallel()
	blocker := ResponderFunc{N: "slow", F: func(ctx context.Context, ev *Event) (Reply, error) {
		<-ctx.Done()
		return Reply{}, ctx.Err()
	}}
	h := NewHandler(Config{ToolTimeout: time.Second, Responders: []Responder{blocker}, Bus: NewBus()})
	start := time.Now()
	rr := do(h, http.MethodPost, toolCallsBody)
	took := time.Since(start)
	if took >= time.Second {
		t.Fatalf("reply took %v, past Vapi's 1s deadline", took)
	}
	var got struct {
		Results []ToolResult `json:"results"`
	}
	if err := json.Unmarshal(rr.Body.Bytes(), &got); err != nil || len(got.Results) != 2 {
		t.Fatalf("body %s: %v", rr.Body, err)
	}
	for i, r := range got.Results {
		if r.Error == "" || !strings.Contains(r.Error, "nobody answered") {
			t.Errorf("result %d = %+v, want an error saying nobody answered", i, r)
		}
	}
	if got.Results[0].ToolCallID != "call_A" || got.Results[1].ToolCallID != "call_B" {
		t.Errorf("ids = %+v", got.Results)
	}
}

func TestHandlerNoResponderFallsBackAtOnce(t *testing.T) {
	t.Parallel()
	h := NewHandler(Config{Bus: NewBus()})
	rr := do(h, http.MethodPost, toolCallsBody)
	want := `{"results":[{"toolCallId":"call_A","name":"get_weather","error":"vapimon: no answer configured for this tool"},{"toolCallId":"call_B","name":"book_table","error":"vapimon: no answer configured for this tool"}]}`
	if rr.Body.String() != want {
		t.Fatalf("body\n got %s\nwant %s", rr.Body, want)
	}
}

func TestHandlerResponderChainAndPanic(t *testing.T) {
	t.Parallel()
	bus := NewBus()
	sub := bus.Subscribe(8)
	boom := ResponderFunc{N: "boom", F: func(ctx context.Context, ev *Event) (Reply, error) { panic("kaboom") }}
	pass := ResponderFunc{N: "pass", F: func(ctx context.Context, ev *Event) (Reply, error) { return Reply{}, ErrPass }}
	ok := ResponderFunc{N: "operator", F: func(ctx context.Context, ev *Event) (Reply, error) {
		return JSONReply(AssistantRequestReply("asst-1"), ""), nil
	}}
	h := NewHandler(Config{Responders: []Responder{boom, pass, ok}, Bus: bus})
	rr := do(h, http.MethodPost, `{"message":{"type":"assistant-request"}}`)
	if rr.Body.String() != `{"assistantId":"asst-1"}` {
		t.Fatalf("body %s", rr.Body)
	}
	var out *Outcome
	for _, v := range drain(sub) {
		if o, isOut := v.(*Outcome); isOut {
			out = o
		}
	}
	if out == nil || out.Reply.Source != "operator" || len(out.Attempts) != 1 || !strings.Contains(out.Attempts[0], "boom: internal error: kaboom") {
		t.Fatalf("outcome = %+v", out)
	}
}

func TestHandlerInFlightCap(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{})
	release := make(chan struct{})
	hold := ResponderFunc{N: "hold", F: func(ctx context.Context, ev *Event) (Reply, error) {
		close(entered)
		<-release
		return JSONReply([]byte(`{"results":[]}`), ""), nil
	}}
	h := NewHandler(Config{MaxInFlight: 1, Responders: []Responder{hold}, Bus: NewBus()})
	done := make(chan int)
	go func() { done <- do(h, http.MethodPost, toolCallsBody).Code }()
	<-entered
	if rr := do(h, http.MethodPost, `{"message":{"type":"hang"}}`); rr.Code != 503 {
		t.Fatalf("second request got %d, want 503", rr.Code)
	}
	close(release)
	if code := <-done; code != 200 {
		t.Fatalf("first request got %d", code)
	}
	if rr := do(h, http.MethodPost, `{"message":{"type":"hang"}}`); rr.Code != 200 {
		t.Fatalf("after release got %d", rr.Code)
	}
}

func TestHandlerInformationalForwardFailureStillAcks(t *testing.T) {
	t.Parallel()
	down := ResponderFunc{N: "forward", F: func(ctx context.Context, ev *Event) (Reply, error) {
		return Reply{Status: 500, Body: []byte("oops")}, nil
	}}
	bus := NewBus()
	sub := bus.Subscribe(8)
	h := NewHandler(Config{Responders: []Responder{down}, Bus: bus})
	rr := do(h, http.MethodPost, `{"message":{"type":"end-of-call-report"}}`)
	if rr.Code != 200 || rr.Body.String() != "{}" {
		t.Fatalf("got %d %s", rr.Code, rr.Body)
	}
	out := drain(sub)[1].(*Outcome)
	if len(out.Attempts) != 1 || !strings.Contains(out.Attempts[0], "HTTP 500") {
		t.Fatalf("attempts = %v", out.Attempts)
	}
}

func TestHeadlessLines(t *testing.T) {
	t.Parallel()
	bus := NewBus()
	sub := bus.Subscribe(16)
	h := NewHandler(Config{Bus: bus})
	do(h, http.MethodPost, toolCallsBody)
	do(h, http.MethodPost, `nope`)
	bus.Publish(Status{ListenURL: "http://127.0.0.1:4242", Tunnel: TunnelOff, AuthMode: AuthNone, Auth: "none: requests are NOT verified", Mode: ModeDemo,
		Warnings: []string{"--addr 0.0.0.0:4242 listens on every interface"}})
	bus.Close()
	var buf bytes.Buffer
	if err := WriteHeadless(context.Background(), &buf, sub, bus); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	kinds := []string{}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line is not JSON: %s", l)
		}
		kinds = append(kinds, m["kind"].(string))
		switch m["kind"] {
		case "event":
			if m["type"] != "tool-calls" || m["callId"] != "call-1" || m["verified"] != false || m["authMode"] != "none" || m["seq"] != 1.0 || m["path"] != "/vapi/webhook?x=1" {
				t.Errorf("event line %s", l)
			}
		case "reply":
			if m["source"] != "fallback" || m["status"] != 200.0 || m["body"] == nil || m["latencyMs"] == nil {
				t.Errorf("reply line %s", l)
			}
		case "rejected":
			if m["status"] != 400.0 || !strings.Contains(m["reason"].(string), "not valid JSON") {
				t.Errorf("rejected line %s", l)
			}
		case "status":
			if m["listen"] != "http://127.0.0.1:4242" || m["tunnel"] != "off" || m["authMode"] != "none" || m["mode"] != "demo" ||
				fmt.Sprint(m["warnings"]) != "[--addr 0.0.0.0:4242 listens on every interface]" {
				t.Errorf("status line %s", l)
			}
		case "notice":
			if m["level"] != "info" || !strings.Contains(m["text"].(string), "call call-1: no server.timeoutSeconds in the payload") {
				t.Errorf("notice line %s", l)
			}
		}
	}
	if strings.Join(kinds, ",") != "event,notice,reply,rejected,status" {
		t.Fatalf("kinds = %v\n%s", kinds, buf.String())
	}
}

func TestBusDropsPerSubscriber(t *testing.T) {
	t.Parallel()
	bus := NewBus()
	slow := bus.Subscribe(1)
	fast := bus.Subscribe(10)
	for i := 0; i < 5; i++ {
		bus.Publish(i)
	}
	if bus.DroppedFor(slow) != 4 || bus.DroppedFor(fast) != 0 || bus.Dropped() != 4 {
		t.Fatalf("dropped slow %d fast %d total %d", bus.DroppedFor(slow), bus.DroppedFor(fast), bus.Dropped())
	}
	bus.Unsubscribe(slow)
	if _, ok := <-slow; !ok {
		t.Fatal("buffered value lost on unsubscribe")
	}
	if _, ok := <-slow; ok {
		t.Fatal("channel not closed after unsubscribe")
	}
	bus.Publish(5) // must not panic on the closed channel
	if len(fast) != 6 {
		t.Fatalf("fast got %d", len(fast))
	}
	bus.Close()
	bus.Publish(6)
}

func TestHandlerDeadlineAfterInstantResponder(t *testing.T) {
	t.Parallel()
	ans := answersFor(t, "tools:\n  other: x\n") // instant, and passes on get_weather
	blocker := ResponderFunc{N: "slow", F: func(ctx context.Context, ev *Event) (Reply, error) {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("a waiting responder got a context without the deadline")
		}
		<-ctx.Done()
		return Reply{}, ctx.Err()
	}}
	h := NewHandler(Config{ToolTimeout: time.Second, Responders: []Responder{ans, blocker}, Bus: NewBus()})
	start := time.Now()
	rr := do(h, http.MethodPost, toolCallsBody)
	if took := time.Since(start); took >= time.Second || !strings.Contains(rr.Body.String(), "nobody answered") {
		t.Fatalf("took %v, body %s", took, rr.Body)
	}
}

func TestAuthHintNamesTheLikelyMode(t *testing.T) {
	t.Parallel()
	v, err := NewVerifier(AuthConfig{Mode: AuthSecret, Secrets: []string{"s3cret-value"}})
	if err != nil {
		t.Fatal(err)
	}
	bus := NewBus()
	sub := bus.Subscribe(8)
	h := NewHandler(Config{Verifier: v, Bus: bus})
	do(h, http.MethodPost, `{"message":{"type":"hang"}}`, "Authorization", "Bearer s3cret-value")
	ev := drain(sub)[0].(*Event)
	if !strings.Contains(ev.Rejected, "is it --auth bearer?") || strings.Contains(ev.Rejected, "s3cret") {
		t.Fatalf("reason = %q", ev.Rejected)
	}
}

func TestHandlerKeepsPartialAnswers(t *testing.T) {
	t.Parallel()
	half := ResponderFunc{N: "operator", F: func(ctx context.Context, ev *Event) (Reply, error) {
		<-ctx.Done() // typed one answer of two, then time ran out
		return Reply{}, &PartialAnswer{Results: []ToolResult{{ToolCallID: "call_A", Name: "get_weather", Result: "Sunny, 22C"}}}
	}}
	bus := NewBus()
	sub := bus.Subscribe(8)
	h := NewHandler(Config{ToolTimeout: time.Second, Responders: []Responder{half}, Bus: bus})
	rr := do(h, http.MethodPost, toolCallsBody)
	var got struct {
		Results []ToolResult `json:"results"`
	}
	if err := json.Unmarshal(rr.Body.Bytes(), &got); err != nil || len(got.Results) != 2 {
		t.Fatalf("body %s: %v", rr.Body, err)
	}
	if got.Results[0].ToolCallID != "call_A" || got.Results[0].Result != "Sunny, 22C" || got.Results[0].Error != "" {
		t.Errorf("the answer typed in time was lost: %+v", got.Results[0])
	}
	if got.Results[1].ToolCallID != "call_B" || !strings.Contains(got.Results[1].Error, "nobody answered") {
		t.Errorf("the unanswered call: %+v", got.Results[1])
	}
	out := first[*Outcome](t, drain(sub))
	if !strings.Contains(out.Reply.Note, "kept 1 answer") {
		t.Errorf("note = %q", out.Reply.Note)
	}
}

func TestHandlerTooLargeWithoutContentLength(t *testing.T) {
	t.Parallel()
	rec := &memRecorder{}
	h := NewHandler(Config{MaxBody: 1024, Recorder: rec, Bus: NewBus()})
	req := httptest.NewRequest(http.MethodPost, "/", io.NopCloser(strings.NewReader(strings.Repeat("x", 4096))))
	req.ContentLength = -1 // chunked: only reading finds out
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, req)
	if rr.Code != 413 || !strings.Contains(rec.evs[0].Rejected, "body larger than 1 KiB") {
		t.Fatalf("got %d, %q", rr.Code, rec.evs[0].Rejected)
	}
}

// toolBody is a tool-calls message of call callID with one get_weather call whose tool has
// server.timeoutSeconds timeout (raw JSON).
func toolBody(callID, timeout string) string {
	return `{"message":{"type":"tool-calls","call":{"id":"` + callID + `"},
 "toolCallList":[{"id":"call_A","type":"function","function":{"name":"get_weather","arguments":{"location":"Paris"}}}],
 "toolWithToolCallList":[{"type":"function","function":{"name":"get_weather"},"server":{"url":"https://example.com","timeoutSeconds":` + timeout + `},
   "toolCall":{"id":"call_A","type":"function","function":{"name":"get_weather","arguments":{"location":"Paris"}}}}]}}`
}

// TestHandlerDeadlineFromPayload: the tool's own server.timeoutSeconds sets the deadline,
// not --tool-timeout: a tool that Vapi waits 1 s for gets the fallback before 1 s (with
// the old fixed budget it came after 18.5 s, long after Vapi gave up).
func TestHandlerDeadlineFromPayload(t *testing.T) {
	t.Parallel()
	gotDeadline := make(chan time.Time, 1)
	blocker := ResponderFunc{N: "operator", F: func(ctx context.Context, ev *Event) (Reply, error) {
		d, _ := ctx.Deadline()
		gotDeadline <- d
		<-ctx.Done()
		return Reply{}, ctx.Err()
	}}
	bus := NewBus()
	sub := bus.Subscribe(16)
	h := NewHandler(Config{ToolTimeout: 20 * time.Second, Responders: []Responder{blocker}, Bus: bus})
	start := time.Now()
	rr := do(h, http.MethodPost, toolBody("call-1", "1"))
	took := time.Since(start)
	if took >= time.Second {
		t.Fatalf("reply after %v: past the tool's 1s timeout", took)
	}
	if !strings.Contains(rr.Body.String(), "nobody answered within 750ms") {
		t.Errorf("body %s", rr.Body)
	}
	ev := first[*Event](t, drain(sub))
	if got := ev.VapiDeadline.Sub(ev.Received); got != time.Second {
		t.Errorf("Vapi's deadline at +%v, want +1s", got)
	}
	if got := ev.Deadline.Sub(ev.Received); got != 750*time.Millisecond {
		t.Errorf("fallback at +%v, want +750ms", got)
	}
	if ev.BudgetSource != "tool get_weather: server.timeoutSeconds 1" {
		t.Errorf("budget source %q", ev.BudgetSource)
	}
	if d := <-gotDeadline; !d.Equal(ev.Deadline) {
		t.Errorf("the responders' context ends at %v, the event's deadline is %v", d, ev.Deadline)
	}
}

// TestHandlerAssistantRequestBySixSeconds: Vapi waits 7.5 s for an assistant-request, its
// docs ask for an answer within about 6 s: the fallback goes then.
func TestHandlerAssistantRequestBySixSeconds(t *testing.T) {
	t.Parallel()
	bus := NewBus()
	sub := bus.Subscribe(8)
	h := NewHandler(Config{Bus: bus})
	do(h, http.MethodPost, `{"message":{"type":"assistant-request","assistant":{"server":{"timeoutSeconds":30}}}}`)
	ev := first[*Event](t, drain(sub))
	if ev.Deadline.Sub(ev.Received) != 6*time.Second || ev.VapiDeadline.Sub(ev.Received) != 7500*time.Millisecond {
		t.Fatalf("fallback at +%v, Vapi's deadline at +%v", ev.Deadline.Sub(ev.Received), ev.VapiDeadline.Sub(ev.Received))
	}
}

// TestHandlerDeadlineNotesOncePerCall: a payload timeout that is not used is said once per
// call in the notices, not once per message.
func TestHandlerDeadlineNotesOncePerCall(t *testing.T) {
	t.Parallel()
	bus := NewBus()
	sub := bus.Subscribe(64)
	ans := answersFor(t, "tools:\n  get_weather: sunny\n")
	h := NewHandler(Config{Responders: []Responder{ans}, Bus: bus})
	for _, call := range []string{"call-1", "call-1", "call-2", "call-1"} {
		if rr := do(h, http.MethodPost, toolBody(call, `"4"`)); rr.Code != 200 {
			t.Fatalf("HTTP %d", rr.Code)
		}
	}
	var notices []Notice
	for _, v := range drain(sub) {
		if n, ok := v.(Notice); ok {
			notices = append(notices, n)
		}
	}
	if len(notices) != 2 {
		t.Fatalf("notices %v, want one per call", notices)
	}
	for i, call := range []string{"call call-1: ", "call call-2: "} {
		n := notices[i]
		if n.Level != "warn" || !strings.HasPrefix(n.Text, call) || !strings.Contains(n.Text, `tool get_weather: server.timeoutSeconds "4" is a string, not a number: using --tool-timeout 20s`) {
			t.Errorf("notice %d = %+v", i, n)
		}
	}
}

func TestOnceSetForgetsTheOldest(t *testing.T) {
	t.Parallel()
	s := onceSet{max: 2}
	for i, step := range []struct {
		key  string
		want bool
	}{{"a", true}, {"a", false}, {"b", true}, {"c", true}, {"b", false}, {"a", true}, {"c", false}} {
		if got := s.first(noteKey{"call-1", step.key}); got != step.want {
			t.Fatalf("step %d: first(%q) = %v, want %v", i, step.key, got, step.want)
		}
	}
	if len(s.seen) != 2 || len(s.ring) != 2 {
		t.Fatalf("remembers %d keys, cap 2", len(s.seen))
	}
}

// TestHandlerCampaignEventsAcknowledged: the campaign webhooks are known, acknowledged at
// once with 200 {} and named by their event, as Vapi sends them (and under their own
// name as the type).
func TestHandlerCampaignEventsAcknowledged(t *testing.T) {
	t.Parallel()
	bus := NewBus()
	sub := bus.Subscribe(64)
	h := NewHandler(Config{Bus: bus})
	seen := map[string]bool{}
	for _, name := range campaignEvents {
		b, err := os.ReadFile(filepath.Join("..", "fixtures", "events", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, body := range []string{string(b), `{"message":{"type":"` + name + `","campaignId":"c1"}}`} {
			rr := do(h, http.MethodPost, body)
			if rr.Code != 200 || rr.Body.String() != "{}" {
				t.Errorf("%s: HTTP %d %s", name, rr.Code, rr.Body)
			}
		}
	}
	for _, v := range drain(sub) {
		ev, ok := v.(*Event)
		if !ok {
			if o, isOut := v.(*Outcome); isOut && o.Reply.Source != SourceAck {
				t.Errorf("reply from %s", o.Reply.Source)
			}
			continue
		}
		if !ev.Msg.Known || ev.Msg.Kind != TypeCampaignEvent || !IsCampaignEvent(ev.Type()) || !ev.Deadline.IsZero() {
			t.Errorf("event %q kind %q known %v deadline %v", ev.Type(), ev.Msg.Kind, ev.Msg.Known, ev.Deadline)
		}
		seen[ev.Type()] = true
		l := HeadlessLines(ev)[0]
		if l.Type != ev.Type() || !*l.Known {
			t.Errorf("headless line %+v", l)
		}
	}
	if len(seen) != len(campaignEvents) {
		t.Errorf("shown by name: %v", seen)
	}
}

// forwardFailing is a forward responder that fails the way relay.Forwarder does: with
// what the server sent (status, body) and an error.
func forwardFailing(rep Reply, err error) Responder {
	return ResponderFunc{N: SourceForward, F: func(ctx context.Context, ev *Event) (Reply, error) { return rep, err }}
}

// fwdErr is the *ForwardError relay.Forwarder returns; its sentence (msg) is for people and
// says nothing the handler reads.
func fwdErr(kind ForwardFailure, status int, msg string, err error) error {
	return &ForwardError{Failure: kind, Status: status, Msg: msg, Err: err}
}

// TestHandlerFallbackIsLoud: when your server was asked and failed, the reply sent in its
// place says so: a header with who answered and why, Reply.ForwardFailed, and the headless
// reply line.
func TestHandlerFallbackIsLoud(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	operator := ResponderFunc{N: SourceOperator, F: func(ctx context.Context, ev *Event) (Reply, error) {
		return JSONReply(ToolCallsReply([]ToolResult{{ToolCallID: "call_A", Name: "get_weather", Result: "typed"}, {ToolCallID: "call_B", Name: "book_table", Result: "typed"}}), SourceOperator), nil
	}}
	ans := answersFor(t, "tools:\n  get_weather: sunny\n  book_table: full\n")
	half := answersFor(t, "tools:\n  get_weather: sunny\n")
	tests := []struct {
		name       string
		responders []Responder
		fallback   func(*Event, string) Reply
		body       string
		want       string // the header; "" for none
		wantFailed string
	}{
		{"HTTP 500, answers file", []Responder{forwardFailing(Reply{Status: 500, Body: []byte("oops\x1b[31m")}, fwdErr(ForwardStatus, 500, "HTTP 500 from http://localhost:3000: oops", nil)), ans}, ans.Fallback, toolCallsBody,
			"answers; your server: HTTP 500", "HTTP 500"},
		{"timeout, fallback", []Responder{forwardFailing(Reply{}, fwdErr(ForwardTimeout, 0, "no reply within 9s", context.DeadlineExceeded)), half}, half.Fallback, toolCallsBody,
			"fallback; your server: timeout", "timeout"},
		{"refused, operator", []Responder{forwardFailing(Reply{}, fwdErr(ForwardRefused, 0, "connection refused", refused)), operator}, nil, toolCallsBody,
			"operator; your server: refused", "refused"},
		{"unusable 200, answers file", []Responder{forwardFailing(Reply{Status: 200, Body: []byte(`{"nope":1}`)}, fwdErr(ForwardUnusable, 200, "unusable reply", nil)), ans}, ans.Fallback, toolCallsBody,
			"answers; your server: unusable reply", "unusable reply"},
		{"redirect", []Responder{forwardFailing(Reply{Status: 302}, fwdErr(ForwardRedirect, 302, "redirected", nil)), ans}, ans.Fallback, toolCallsBody,
			"answers; your server: HTTP 302 redirect", "HTTP 302 redirect"},
		{"too large", []Responder{forwardFailing(Reply{Status: 200}, fwdErr(ForwardTooLarge, 200, "reply larger than 8 MiB", nil)), ans}, ans.Fallback, toolCallsBody,
			"answers; your server: reply too large", "reply too large"},
		{"assistant-request, closed", []Responder{forwardFailing(Reply{}, fwdErr(ForwardClosed, 0, "closed the connection", io.ErrUnexpectedEOF))}, nil, `{"message":{"type":"assistant-request"}}`,
			"fallback; your server: no reply", "no reply"},
		{"busy", []Responder{forwardFailing(Reply{}, fwdErr(ForwardBusy, 0, "64 forwards already in flight", nil)), ans}, ans.Fallback, toolCallsBody,
			"answers; your server: no reply", "no reply"},
		{"not a ForwardError", []Responder{forwardFailing(Reply{Status: 500}, errors.New("HTTP 500 timeout refused")), ans}, ans.Fallback, toolCallsBody,
			"answers; your server: no reply", "no reply"},
		{"the kind, not the sentence", []Responder{forwardFailing(Reply{}, fmt.Errorf("wrapped: %w", fwdErr(ForwardTimeout, 0, "HTTP 500 refused", syscall.ECONNREFUSED))), ans}, ans.Fallback, toolCallsBody,
			"answers; your server: timeout", "timeout"},
		{"your server answered", []Responder{ResponderFunc{N: SourceForward, F: func(ctx context.Context, ev *Event) (Reply, error) {
			return JSONReply([]byte(`{"results":[]}`), SourceForward), nil
		}}}, nil, toolCallsBody, "", ""},
		{"no route (pass)", []Responder{forwardFailing(Reply{}, ErrPass), ans}, ans.Fallback, toolCallsBody, "", ""},
		{"informational", []Responder{forwardFailing(Reply{Status: 500}, errors.New("HTTP 500"))}, nil, `{"message":{"type":"status-update"}}`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bus := NewBus()
			sub := bus.Subscribe(16)
			h := NewHandler(Config{Responders: tt.responders, Fallback: tt.fallback, Bus: bus})
			rr := do(h, http.MethodPost, tt.body)
			if got := rr.Header().Get(HeaderFallback); got != tt.want {
				t.Errorf("%s = %q, want %q", HeaderFallback, got, tt.want)
			}
			out := first[*Outcome](t, drain(sub))
			if out.Reply.ForwardFailed != tt.wantFailed {
				t.Errorf("ForwardFailed %q, want %q", out.Reply.ForwardFailed, tt.wantFailed)
			}
			l := HeadlessLines(out)[0]
			if l.Substituted != (tt.want != "") || l.ForwardFailed != tt.wantFailed {
				t.Errorf("headless reply line: substituted %v forwardFailed %q", l.Substituted, l.ForwardFailed)
			}
			b, _ := json.Marshal(l)
			if tt.want != "" && (!bytes.Contains(b, []byte(`"substituted":true`)) || !bytes.Contains(b, []byte(`"forwardFailed":"`+tt.wantFailed+`"`))) {
				t.Errorf("line %s", b)
			}
			if tt.want == "" && bytes.Contains(b, []byte("substituted")) {
				t.Errorf("line %s", b)
			}
		})
	}
}

// manyCalls is a tool-calls message with n calls of the same tool.
func manyCalls(n int) string {
	var b strings.Builder
	b.WriteString(`{"message":{"type":"tool-calls","call":{"id":"call-1"},"toolCallList":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"call_%05d","type":"function","function":{"name":"tool_%05d","arguments":{"q":%d}}}`, i, i, i)
	}
	b.WriteString(`]}}`)
	return b.String()
}

// TestHandlerToolCallCap: a message with more tool calls than the cap is refused 413 with a
// reason, recorded once; up to the cap it is answered at once, and the fallback's size
// grows linearly with the calls (each result has its own short error, not the list of
// every tool's name).
func TestHandlerToolCallCap(t *testing.T) {
	t.Parallel()
	rec := &orderRecorder{}
	bus := NewBus()
	sub := bus.Subscribe(64)
	h := NewHandler(Config{Recorder: rec, Bus: bus})
	for _, n := range []int{DefaultMaxToolCalls + 1, 10000} {
		rr := do(h, http.MethodPost, manyCalls(n))
		if rr.Code != http.StatusRequestEntityTooLarge || rr.Body.String() != `{"error":"too many tool calls in one message (at most 512)"}` {
			t.Fatalf("%d calls: HTTP %d %s", n, rr.Code, rr.Body)
		}
	}
	ev := first[*Event](t, drain(sub))
	if !strings.Contains(ev.Rejected, "tool-calls message with 513 tool calls, more than vapimon's cap of 512: answered 413") || ev.Status != 413 {
		t.Errorf("rejected %q status %d", ev.Rejected, ev.Status)
	}
	if got := rec.calls(); got != "replied,replied" {
		t.Errorf("recorder calls %s, want each refused message recorded once", got)
	}

	size := map[int]int{}
	for _, n := range []int{100, 500, DefaultMaxToolCalls} {
		rr := do(h, http.MethodPost, manyCalls(n))
		var got struct {
			Results []ToolResult `json:"results"`
		}
		if err := json.Unmarshal(rr.Body.Bytes(), &got); err != nil || rr.Code != 200 || len(got.Results) != n {
			t.Fatalf("%d calls: HTTP %d, %d results, %v", n, rr.Code, len(got.Results), err)
		}
		if got.Results[n-1].Error != "vapimon: no answer configured for this tool" {
			t.Errorf("result error %q", got.Results[n-1].Error)
		}
		size[n] = rr.Body.Len()
		out := first[*Outcome](t, drain(sub))
		if budget := 20 * time.Second; out.Latency > budget/10 {
			t.Errorf("%d calls answered after %v, deadline %v", n, out.Latency, budget)
		}
	}
	if r := float64(size[500]) / float64(size[100]); r > 5.5 {
		t.Errorf("reply for 500 calls is %.1fx the one for 100: not linear", r)
	}
}

// orderRecorder logs the recorder calls, and what the bus had seen at each.
type orderRecorder struct {
	mu  sync.Mutex
	log []string
	// published, when set, says whether the event was on the bus already.
	published func() bool
}

func (r *orderRecorder) Received(ev *Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	entry := "received"
	if r.published != nil && r.published() {
		entry += "(after publish)"
	}
	r.log = append(r.log, entry)
	return nil
}

func (r *orderRecorder) Replied(ev *Event, out *Outcome) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, "replied")
	return nil
}

func (r *orderRecorder) calls() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.log, ",")
}

// TestHandlerTapesWhenReceived: an accepted request is on the tape before it is published
// and before any responder runs; a rejected one is recorded once, with its reply.
func TestHandlerTapesWhenReceived(t *testing.T) {
	t.Parallel()
	bus := NewBus()
	sub := bus.Subscribe(16)
	rec := &orderRecorder{published: func() bool { return len(sub) > 0 }}
	responder := ResponderFunc{N: "operator", F: func(ctx context.Context, ev *Event) (Reply, error) {
		if got := rec.calls(); got != "received" {
			t.Errorf("responder ran with recorder calls %q", got)
		}
		return JSONReply([]byte(`{"assistantId":"a1"}`), ""), nil
	}}
	h := NewHandler(Config{Responders: []Responder{responder}, Recorder: rec, Bus: bus})
	do(h, http.MethodPost, `{"message":{"type":"assistant-request"}}`)
	if got := rec.calls(); got != "received,replied" {
		t.Fatalf("recorder calls %q", got)
	}
	rec2 := &orderRecorder{}
	h = NewHandler(Config{Responders: []Responder{responder}, Recorder: rec2, Bus: bus, MaxBody: 64})
	for _, body := range []string{`nope`, `{"message":{"type":"hang","pad":"` + strings.Repeat("x", 100) + `"}}`} {
		do(h, http.MethodPost, body)
	}
	if got := rec2.calls(); got != "replied,replied" {
		t.Fatalf("rejected requests: recorder calls %q", got)
	}
}

// sendingResponder is a SendingResponder that logs what the recorder had seen when it
// started, and calls sent as many times as it is told (0: it fails before sending).
type sendingResponder struct {
	rec   *orderRecorder
	sends int
	seen  []string
}

func (s *sendingResponder) Name() string { return SourceForward }
func (s *sendingResponder) Respond(ctx context.Context, ev *Event) (Reply, error) {
	return s.RespondSending(ctx, ev, func() {})
}
func (s *sendingResponder) RespondSending(ctx context.Context, ev *Event, sent func()) (Reply, error) {
	s.seen = append(s.seen, "start:"+s.rec.calls())
	if s.sends == 0 {
		return Reply{}, errors.New("connection refused")
	}
	for range s.sends {
		sent()
		s.seen = append(s.seen, "sent:"+s.rec.calls())
	}
	return JSONReply([]byte(`{"assistantId":"a1"}`), ""), nil
}

// TestHandlerRecordsWhenSent: a SendingResponder (the forwarder) asked first is given the
// request before it is on the tape, and the request is recorded when it says it sent it,
// once however often it says so; one that fails before sending has the request recorded
// before the next responder runs.
func TestHandlerRecordsWhenSent(t *testing.T) {
	t.Parallel()
	rec := &orderRecorder{}
	fwd := &sendingResponder{rec: rec, sends: 2}
	h := NewHandler(Config{Responders: []Responder{fwd}, Recorder: rec, Bus: NewBus()})
	do(h, http.MethodPost, `{"message":{"type":"assistant-request"}}`)
	if got, want := strings.Join(fwd.seen, " "), "start: sent:received sent:received"; got != want {
		t.Errorf("the forwarder saw %q, want %q", got, want)
	}
	if got := rec.calls(); got != "received,replied" {
		t.Errorf("recorder calls %q, want received,replied", got)
	}

	rec2 := &orderRecorder{}
	failed := &sendingResponder{rec: rec2}
	var next string
	operator := ResponderFunc{N: "operator", F: func(ctx context.Context, ev *Event) (Reply, error) {
		next = rec2.calls()
		return JSONReply([]byte(`{"assistantId":"a1"}`), ""), nil
	}}
	h = NewHandler(Config{Responders: []Responder{failed, operator}, Recorder: rec2, Bus: NewBus()})
	do(h, http.MethodPost, `{"message":{"type":"assistant-request"}}`)
	if next != "received" {
		t.Errorf("the responder after a failed forward ran with recorder calls %q, want received", next)
	}
	if got := rec2.calls(); got != "received,replied" {
		t.Errorf("recorder calls %q, want received,replied", got)
	}
}

// TestHandlerDropsWireHeaderOnceAnswered: the responders see the headers as sent, secret
// included (the forwarder passes them on); once the reply is known the event keeps only
// the redacted copy, so that what keeps events (the monitor keeps thousands) holds
// neither the secret nor a second copy of the headers. A rejected request's event too.
func TestHandlerDropsWireHeaderOnceAnswered(t *testing.T) {
	t.Parallel()
	v, err := NewVerifier(AuthConfig{Mode: AuthSecret, Secrets: []string{"s3cret-value"}})
	if err != nil {
		t.Fatal(err)
	}
	bus := NewBus()
	sub := bus.Subscribe(16)
	var seen string
	rs := ResponderFunc{N: "operator", F: func(ctx context.Context, ev *Event) (Reply, error) {
		seen = ev.WireHeader.Get("X-Vapi-Secret")
		return JSONReply([]byte(`{"assistantId":"a1"}`), ""), nil
	}}
	h := NewHandler(Config{Verifier: v, Responders: []Responder{rs}, Bus: bus})
	do(h, http.MethodPost, `{"message":{"type":"assistant-request"}}`, "X-Vapi-Secret", "s3cret-value")
	do(h, http.MethodPost, `{"message":{"type":"assistant-request"}}`, "X-Vapi-Secret", "wrong-value")
	if seen != "s3cret-value" {
		t.Errorf("the responder saw X-Vapi-Secret %q, want the header as sent", seen)
	}
	n := 0
	for len(sub) > 0 {
		ev, ok := (<-sub).(*Event)
		if !ok {
			continue
		}
		n++
		if ev.WireHeader != nil {
			t.Errorf("event #%d (rejected %q) still holds the headers as sent", ev.Seq, ev.Rejected)
		}
		if got := ev.Header.Get("X-Vapi-Secret"); got != authRedactedValue {
			t.Errorf("event #%d: X-Vapi-Secret %q in the kept headers, want it redacted", ev.Seq, got)
		}
	}
	if n != 2 {
		t.Errorf("%d events published, want 2", n)
	}
}

type failingRecorder struct{ err error }

func (r failingRecorder) Received(*Event) error          { return r.err }
func (r failingRecorder) Replied(*Event, *Outcome) error { return r.err }

// TestHandlerTapeFailuresCounted: failed tape writes are counted, requests still answered,
// one notice per distinct error (not one per request), and headless output prints the
// count as a status line once per burst.
func TestHandlerTapeFailuresCounted(t *testing.T) {
	t.Parallel()
	bus := NewBus()
	sub := bus.Subscribe(256)
	h := NewHandler(Config{Recorder: failingRecorder{errors.New("write tape: no space left on device")}, Bus: bus})
	for i := 0; i < 20; i++ {
		if rr := do(h, http.MethodPost, `{"message":{"type":"hang"}}`); rr.Code != 200 {
			t.Fatalf("HTTP %d: a broken tape must not break the replies", rr.Code)
		}
	}
	if got := h.Stats().TapeFailed; got != 20 {
		t.Errorf("TapeFailed = %d, want 20 (one whole line for each of 20 requests answered at once)", got)
	}
	waiting := ResponderFunc{N: "operator", F: func(ctx context.Context, ev *Event) (Reply, error) { return Reply{}, ErrPass }}
	h2 := NewHandler(Config{Recorder: failingRecorder{errors.New("write tape: no space left on device")}, Responders: []Responder{waiting}, Bus: NewBus()})
	for i := 0; i < 20; i++ {
		do(h2, http.MethodPost, `{"message":{"type":"hang"}}`)
	}
	if got := h2.Stats().TapeFailed; got != 40 {
		t.Errorf("TapeFailed = %d with a responder that may wait, want 40 (received and replied of 20 requests)", got)
	}
	bus.Close()
	var buf bytes.Buffer
	if err := WriteHeadless(context.Background(), &buf, sub, bus); err != nil {
		t.Fatal(err)
	}
	var notices, status []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		switch m["kind"] {
		case "notice":
			notices = append(notices, m)
		case "status":
			status = append(status, m)
		}
	}
	if len(notices) != 1 || !strings.Contains(notices[0]["text"].(string), "no space left on device") {
		t.Errorf("notices %v, want one", notices)
	}
	if len(status) != 1 || status[0]["tapeFailed"] != 20.0 || status[0]["tapeError"] != "write tape: no space left on device" {
		t.Errorf("status lines %v, want one with the count", status)
	}
}

// replyWatch records which recorder calls came and whether the reply had been written to
// rr by then.
type replyWatch struct {
	rr  *httptest.ResponseRecorder
	log []string
}

func (r *replyWatch) Received(*Event) error {
	r.log = append(r.log, fmt.Sprintf("received(written=%v)", r.rr.Flushed || r.rr.Body.Len() > 0))
	return nil
}

func (r *replyWatch) Replied(_ *Event, out *Outcome) error {
	r.log = append(r.log, fmt.Sprintf("replied(written=%v,status=%d)", r.rr.Flushed || r.rr.Body.Len() > 0, out.Reply.Status))
	return nil
}

// TestHandlerInstantRecordsOneLine: when every responder answers at once (none, or the
// answers file), or the answers file asked first answers, the request is recorded once,
// with its reply, before the reply is written; when a responder that may wait is asked it
// is recorded before that responder runs, then replied.
func TestHandlerInstantRecordsOneLine(t *testing.T) {
	t.Parallel()
	answers := NewAnswers(&AnswerSet{Tools: map[string][]ToolCase{"get_weather": {{Result: "sunny"}}}})
	other := NewAnswers(&AnswerSet{Tools: map[string][]ToolCase{"book_table": {{Result: "booked"}}}})
	var rec *replyWatch
	waiting := ResponderFunc{N: "operator", F: func(ctx context.Context, ev *Event) (Reply, error) {
		rec.log = append(rec.log, "asked")
		return Reply{}, ErrPass
	}}
	body := `{"message":{"type":"tool-calls","toolCallList":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":{}}}]}}`
	for _, tc := range []struct {
		name       string
		responders []Responder
		want       string
	}{
		{"no responders", nil, "replied(written=false,status=200)"},
		{"answers file", []Responder{answers}, "replied(written=false,status=200)"},
		{"answers then operator", []Responder{answers, waiting}, "replied(written=false,status=200)"},
		{"answers without this tool, then operator", []Responder{other, waiting}, "received(written=false),asked,replied(written=false,status=200)"},
		{"operator then answers", []Responder{waiting, answers}, "received(written=false),asked,replied(written=false,status=200)"},
	} {
		rec = &replyWatch{rr: httptest.NewRecorder()}
		h := NewHandler(Config{Responders: tc.responders, Recorder: rec, Bus: NewBus()})
		req := httptest.NewRequest(http.MethodPost, "/vapi", strings.NewReader(body))
		h.ServeHTTP(rec.rr, req)
		if got := strings.Join(rec.log, ","); got != tc.want {
			t.Errorf("%s: recorder calls %s, want %s", tc.name, got, tc.want)
		}
		if rec.rr.Code != 200 || !strings.Contains(rec.rr.Body.String(), `"toolCallId":"c1"`) {
			t.Errorf("%s: HTTP %d %s", tc.name, rec.rr.Code, rec.rr.Body)
		}
	}
}
