package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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
	msgs := drain(sub)
	if len(msgs) != 2 {
		t.Fatalf("bus got %d values, want event+outcome", len(msgs))
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
	if !strings.Contains(rr.Body.String(), "no answer configured for get_weather, book_table") {
		t.Fatalf("body %s", rr.Body)
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
	bus.Publish(Status{ListenURL: "http://127.0.0.1:4242", Tunnel: "off", Auth: "none: requests are NOT verified"})
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
			if m["listen"] != "http://127.0.0.1:4242" {
				t.Errorf("status line %s", l)
			}
		}
	}
	if strings.Join(kinds, ",") != "event,reply,rejected,status" {
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
	out := drain(sub)[1].(*Outcome)
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
