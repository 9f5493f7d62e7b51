package webhook

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// errMonitorClosed is tui.ErrOperatorGone (webhook cannot import tui): the operator's
// error once its monitor has quit. cmd/vapimon's TestTUIQuitWithToolCallWaitingInTmux
// checks the real one, end to end.
var errMonitorClosed = ErrMonitorClosed

// TestFallbackSaysWhy: the fallback's error text says why nobody answered, truly: the
// monitor closed (the operator quit), vapimon shutting down, the request cancelled, the
// deadline passing with the operator present, your server failing, or nobody configured;
// and the reply keeps the documented shape of its type.
func TestFallbackSaysWhy(t *testing.T) {
	t.Parallel()
	// waitThen waits for the request's context to end, then fails with err.
	waitThen := func(err error) ResponderFunc {
		return ResponderFunc{N: SourceOperator, F: func(ctx context.Context, ev *Event) (Reply, error) {
			<-ctx.Done()
			return Reply{}, err
		}}
	}
	gone := ResponderFunc{N: SourceOperator, F: func(context.Context, *Event) (Reply, error) { return Reply{}, errMonitorClosed }}
	goneAfterOne := ResponderFunc{N: SourceOperator, F: func(context.Context, *Event) (Reply, error) {
		return Reply{}, &PartialAnswer{Results: []ToolResult{{ToolCallID: "call_A", Name: "get_weather", Result: "Sunny"}}, Err: errMonitorClosed}
	}}
	deadline := ResponderFunc{N: SourceOperator, F: func(ctx context.Context, ev *Event) (Reply, error) {
		<-ctx.Done()
		return Reply{}, ctx.Err()
	}}
	server500 := ResponderFunc{N: SourceForward, F: func(context.Context, *Event) (Reply, error) {
		return Reply{}, &ForwardError{Failure: ForwardStatus, Status: 500}
	}}
	passes := ResponderFunc{N: SourceOperator, F: func(context.Context, *Event) (Reply, error) { return Reply{}, ErrPass }}

	const (
		closed    = "vapimon was closed before anyone answered"
		cancelled = "vapimon: the request was cancelled before anyone answered"
	)
	tests := []struct {
		name       string
		responders []Responder
		// cancel ends the request's context once a responder is asked; closing closes
		// the handler's listener first (the server's Shutdown).
		cancel, closing bool
		want            string
	}{
		{"the monitor closed", []Responder{gone}, false, false, closed},
		{"the monitor closed as the request was cancelled", []Responder{waitThen(errMonitorClosed)}, true, false, closed},
		{"the monitor closed with answers typed", []Responder{goneAfterOne}, false, false, closed},
		{"your server failed, then the monitor closed", []Responder{server500, gone}, false, false, closed},
		{"vapimon shutting down", []Responder{deadline}, true, true, closed},
		{"the request cancelled", []Responder{deadline}, true, false, cancelled},
		{"the deadline passed with the operator present", []Responder{deadline}, false, false, "vapimon: nobody answered within 750ms"},
		{"your server failed, nobody after it", []Responder{server500, passes}, false, false, "vapimon: no usable answer from your server (HTTP 500)"},
		{"nobody answers this", []Responder{passes}, false, false, "vapimon: no answer configured for this tool"},
		{"nobody configured", nil, false, false, "vapimon: no answer configured for this tool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rs := tt.responders
			if tt.cancel { // each responder is asked, then the request's context ends
				rs = nil
				for _, r := range tt.responders {
					rs = append(rs, ResponderFunc{N: r.Name(), F: func(ctx context.Context, ev *Event) (Reply, error) {
						cancel()
						return r.Respond(ctx, ev)
					}})
				}
			}
			h := NewHandler(Config{ToolTimeout: time.Second, Responders: rs, Bus: NewBus()})
			if tt.closing {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				_ = h.Listener(ln).Close()
			}
			post := func(body string) *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodPost, "/vapi", strings.NewReader(body)).WithContext(ctx)
				rr := httptest.NewRecorder()
				h.ServeHTTP(rr, req)
				return rr
			}

			// tool-calls: one error result per call not answered, in the documented shape.
			rr := post(toolCallsBody)
			var got struct {
				Results []ToolResult `json:"results"`
			}
			if err := json.Unmarshal(rr.Body.Bytes(), &got); err != nil || rr.Code != 200 || len(got.Results) != 2 || got.Results[0].ToolCallID != "call_A" || got.Results[1].ToolCallID != "call_B" {
				t.Fatalf("tool-calls: HTTP %d %s: %v", rr.Code, rr.Body, err)
			}
			a, b := got.Results[0], got.Results[1]
			if tt.name == "the monitor closed with answers typed" {
				if a.Result != "Sunny" || a.Error != "" {
					t.Errorf("the answer typed before the monitor closed was lost: %+v", a)
				}
			} else if a.Error != tt.want {
				t.Errorf("tool-calls: call_A error %q, want %q", a.Error, tt.want)
			}
			if !strings.HasPrefix(b.Error, tt.want) || b.Result != "" {
				t.Errorf("tool-calls: call_B %+v, want the error %q", b, tt.want)
			}

			// assistant-request: {"error": ...} (its budget is 7.5 s: not waited for here).
			if strings.Contains(tt.name, "deadline") {
				return
			}
			want := strings.Replace(tt.want, "for this tool", "for assistant-request", 1)
			if rr := post(`{"message":{"type":"assistant-request","call":{"id":"call-2"}}}`); rr.Body.String() != `{"error":`+mustString(want)+`}` {
				t.Errorf("assistant-request: body %s, want the error %q", rr.Body, want)
			}
		})
	}
}

func mustString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
