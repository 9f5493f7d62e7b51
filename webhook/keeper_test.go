package webhook

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// keeper is an operator that holds an answer typed ahead (Keeper), and fails if it is
// asked after the request's time ran out.
type keeper struct {
	t    *testing.T
	kept Reply
	err  error
}

func (k keeper) Name() string { return SourceOperator }

func (k keeper) Respond(ctx context.Context, ev *Event) (Reply, error) {
	k.t.Error("the operator was asked after the request's time ran out")
	return Reply{}, ErrPass
}

func (k keeper) Kept(*Event) (Reply, error) { return k.kept, k.err }

// TestHandlerTakesWhatWasKept: your server is asked first and the request's time runs out
// (here a shutdown cancels it) before the operator is asked; an answer the operator typed
// ahead still goes: the whole reply, or the tool calls typed so far with the fallback for
// the rest; with nothing kept, the fallback.
func TestHandlerTakesWhatWasKept(t *testing.T) {
	t.Parallel()
	typed := JSONReply(ToolCallsReply([]ToolResult{{ToolCallID: "call_A", Name: "get_weather", Result: "Sunny"}, {ToolCallID: "call_B", Name: "lookup_order", Result: "Shipped"}}), SourceOperator)
	for _, tt := range []struct {
		name   string
		k      keeper
		wantA  string
		wantBe string // call_B's error prefix, "" for a result
	}{
		{"the whole answer", keeper{kept: typed}, "Sunny", ""},
		{"one tool call of two", keeper{err: &PartialAnswer{Results: []ToolResult{{ToolCallID: "call_A", Name: "get_weather", Result: "Sunny"}}}}, "Sunny", "vapimon"},
		{"nothing typed", keeper{err: ErrPass}, "", "vapimon"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			server := ResponderFunc{N: SourceForward, F: func(rctx context.Context, ev *Event) (Reply, error) {
				cancel() // the shutdown cuts the request while your server works on it
				<-rctx.Done()
				return Reply{}, rctx.Err()
			}}
			k := tt.k
			k.t = t
			h := NewHandler(Config{ToolTimeout: time.Second, Responders: []Responder{server, k}, Bus: NewBus()})
			req := httptest.NewRequest(http.MethodPost, "/vapi", strings.NewReader(toolCallsBody)).WithContext(ctx)
			rr := httptest.NewRecorder()
			h.ServeHTTP(rr, req)
			var got struct {
				Results []ToolResult `json:"results"`
			}
			if err := json.Unmarshal(rr.Body.Bytes(), &got); err != nil || rr.Code != 200 || len(got.Results) != 2 {
				t.Fatalf("HTTP %d %s: %v", rr.Code, rr.Body, err)
			}
			a, b := got.Results[0], got.Results[1]
			if a.Result != tt.wantA {
				t.Errorf("call_A %+v, want the result %q", a, tt.wantA)
			}
			if tt.wantBe == "" && (b.Result != "Shipped" || b.Error != "") || tt.wantBe != "" && !strings.HasPrefix(b.Error, tt.wantBe) {
				t.Errorf("call_B %+v", b)
			}
		})
	}
}
