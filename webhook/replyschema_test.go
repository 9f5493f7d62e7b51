package webhook

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/vapimon/vapimon/webhook/vapischema"
)

// TestReplySchemaFallback: when the embedded schemas do not load, replies are judged by
// the hand-written checks and the failure is logged once, as a warning; the session goes on.
func TestReplySchemaFallback(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	r := newReplySchemas(func() (*vapischema.Schemas, error) { return nil, errors.New("bad generated file") })
	// Judged before any logger is known: the failure waits for one.
	msg := &Message{Type: TypeTransferDestinationRequest, Kind: TypeTransferDestinationRequest}
	v := r.judge(msg, 200, nil, []byte(`{"destination":{"type":"number","message":"Connecting you."}}`))
	if want := []string{"destination.number is missing"}; strings.Join(v.Problems, "|") != want[0] {
		t.Errorf("hand-written checks: %q, want %q", v.Problems, want)
	}
	r.warm(logger)
	r.warm(logger) // once is enough
	out := logs.String()
	if strings.Count(out, "level=WARN") != 1 || !strings.Contains(out, "bad generated file") || !strings.Contains(out, "checked by hand") {
		t.Errorf("log:\n%s\nwant one warning naming the error and the fallback", out)
	}
	// Every type is judged, none blocks.
	for _, kind := range compileOrder {
		r.judge(&Message{Type: kind, Kind: kind}, 200, nil, []byte(`{}`))
	}
}

// TestReplySchemaCompileFailure: one schema that does not compile falls back alone.
func TestReplySchemaCompileFailure(t *testing.T) {
	t.Parallel()
	// A set where the tool-calls reply schema refers to a schema that does not exist.
	broken := `{"components":{"schemas":{
		"ServerMessageResponseToolCalls":{"$ref":"#/components/schemas/Gone"},
		"ServerMessageResponseCampaignPredial":{"type":"object","properties":{"eligible":{"type":"boolean"}},"required":["eligible"]}}}}`
	var logs bytes.Buffer
	r := newReplySchemas(func() (*vapischema.Schemas, error) { return vapischema.LoadBytes("broken", []byte(broken)) })
	r.warm(slog.New(slog.NewTextHandler(&logs, nil)))
	tools := &Message{Type: TypeToolCalls, Kind: TypeToolCalls, ToolCalls: []ToolCall{{ID: "c1", Name: "f"}}}
	if v := r.judge(tools, 200, nil, []byte(`{"results":[{"toolCallId":"c1","name":"f","result":"ok"}]}`)); !v.OK() || len(v.Warnings) != 0 {
		t.Errorf("tool-calls by hand: %+v", v)
	}
	if v := r.judge(tools, 200, nil, []byte(`{"results":[{"toolCallId":"c1","name":"f","result":"ok","message":"x"}]}`)); v.OK() {
		t.Error("the hand-written checks accept a tool result message that is a string")
	}
	predial := &Message{Type: TypeCampaignPredial, Kind: TypeCampaignPredial}
	if v := r.judge(predial, 200, nil, []byte(`{"eligible":"yes"}`)); strings.Join(v.Problems, "|") != "eligible is a string, not true or false" {
		t.Errorf("predial by its schema: %q", v.Problems)
	}
	// Types missing from the set fail to compile too, each logged.
	r.judge(&Message{Type: TypeAssistantRequest, Kind: TypeAssistantRequest}, 200, nil, []byte(`{"assistantId":"a"}`))
	out := logs.String()
	if !strings.Contains(out, "reply schema for tool-calls did not compile") || strings.Contains(out, "campaign.predial") {
		t.Errorf("log:\n%s", out)
	}
}

// TestJudgeReplyConcurrent judges replies of every type from many goroutines while the
// schemas compile (run with -race).
func TestJudgeReplyConcurrent(t *testing.T) {
	t.Parallel()
	r := newReplySchemas(vapischema.Embedded)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kind := compileOrder[i%len(compileOrder)]
			r.judge(&Message{Type: kind, Kind: kind}, http.StatusOK, nil, []byte(`{"error":"x"}`))
		}()
	}
	wg.Wait()
	v := r.judge(&Message{Type: TypeCallEndpointingRequest, Kind: TypeCallEndpointingRequest}, 200, nil, []byte(`{"timeoutSeconds":16}`))
	if strings.Join(v.Problems, "|") != "timeoutSeconds is 16, above the maximum of 15" {
		t.Errorf("after a concurrent start: %q", v.Problems)
	}
}
