package webhook_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/vapimon/vapimon/webhook"
	"github.com/vapimon/vapimon/webhook/vapischema"
)

// noResponseSchema lists reply-expecting types whose reply has no schema in Vapi's
// OpenAPI spec, or whose documented reply differs from it; each with the reason.
var noResponseSchema = map[string]string{
	webhook.TypeFunctionCall: "legacy message: not in the spec's ServerMessage union; replied {\"result\": ...} as in Vapi's old docs",
	webhook.TypeVoiceRequest: "the docs say the reply is raw PCM, while the spec lists a {data} object; vapimon answers raw PCM (100 ms of silence)",
}

func TestEveryReplyMatchesVapiSchema(t *testing.T) {
	t.Parallel()
	s := vapischema.SkipIfMissing(t)
	type sample struct {
		name, typ string
		body      []byte
	}
	tc := &webhook.Message{Type: webhook.TypeToolCalls, Kind: webhook.TypeToolCalls, ToolCalls: []webhook.ToolCall{{ID: "call_A", Name: "get_weather"}, {ID: "call_B", Name: "book_table"}}}
	samples := []sample{
		{"tool results", webhook.TypeToolCalls, webhook.ToolCallsReply([]webhook.ToolResult{
			{ToolCallID: "call_A", Name: "get_weather", Result: "Paris: 18C\nlight rain"},
			{ToolCallID: "call_B", Name: "book_table", Error: "fully booked"},
			{ToolCallID: "call_C", Name: "noop", Result: ""},
			{ToolCallID: "call_D", Name: "noop", IsError: true},
		})},
		{"assistant id", webhook.TypeAssistantRequest, webhook.AssistantRequestReply("5a6b2c1d-0000-4000-8000-000000000001")},
		{"transfer destination", webhook.TypeTransferDestinationRequest, webhook.TransferDestinationReply([]byte(`{"type":"number","number":"+14155550142"}`), "Transferring you now.")},
		{"handoff destination", webhook.TypeHandoffDestinationRequest, webhook.HandoffDestinationReply([]byte(`{"type":"assistant","assistantId":"5a6b2c1d-0000-4000-8000-000000000002"}`), "handing off")},
		{"knowledge documents", webhook.TypeKnowledgeBaseRequest, webhook.KnowledgeBaseReply([]webhook.KnowledgeDocument{{Content: "Open 9 to 5.", Similarity: 0.92, UUID: "8e1f0c8a-0000-4000-8000-000000000003"}})},
		{"endpointing", webhook.TypeCallEndpointingRequest, webhook.EndpointingReply(0.8)},
		{"predial eligible", webhook.TypeCampaignPredial, webhook.PredialReply(true)},
		{"answers fallback", webhook.TypeToolCalls, webhook.NewAnswers(&webhook.AnswerSet{}).Fallback(&webhook.Event{Msg: tc}, "no answer").Body},
	}
	for _, typ := range webhook.KnownTypes {
		if !webhook.ExpectsReply(typ) {
			continue
		}
		msg := &webhook.Message{Type: typ, Kind: typ}
		if typ == webhook.TypeToolCalls {
			msg = tc
		}
		samples = append(samples, sample{"error reply", typ, webhook.ErrorReply(msg, "vapimon: no answer\nconfigured").Body})
	}
	// The validator must be able to say no, or this test proves nothing.
	if err := s.Validate("ServerMessageResponseToolCalls", []byte(`{"results":[{"toolCallId":7}]}`)); err == nil {
		t.Fatal("validator accepted a tool result with a numeric toolCallId")
	}
	for _, sm := range samples {
		if reason, ok := noResponseSchema[sm.typ]; ok {
			t.Logf("%s %s: not validated: %s", sm.typ, sm.name, reason)
			if s.ResponseSchema(sm.typ) != "" && sm.typ != webhook.TypeVoiceRequest {
				t.Errorf("%s now has a response schema: remove it from noResponseSchema", sm.typ)
			}
			continue
		}
		schema := s.ResponseSchema(sm.typ)
		if schema == "" {
			t.Errorf("%s: no ServerMessageResponse schema found and no reason listed", sm.typ)
			continue
		}
		if err := s.Validate(schema, sm.body); err != nil {
			t.Errorf("%s %s: %s\n%s", sm.typ, sm.name, err, sm.body)
		}
		if strings.Contains(string(sm.body), `\n`) {
			t.Errorf("%s %s: reply has a line break; Vapi wants single-line strings: %s", sm.typ, sm.name, sm.body)
		}
	}
}

func TestErrorReplyShapes(t *testing.T) {
	t.Parallel()
	for _, typ := range webhook.KnownTypes {
		if !webhook.ExpectsReply(typ) {
			continue
		}
		rep := webhook.ErrorReply(&webhook.Message{Type: typ, Kind: typ}, "why")
		if rep.Status != http.StatusOK || rep.Source != webhook.SourceFallback {
			t.Errorf("%s: status %d source %q", typ, rep.Status, rep.Source)
		}
		if typ == webhook.TypeVoiceRequest && (rep.Header.Get("Content-Type") != "application/octet-stream" || len(rep.Body) != 4800) {
			t.Errorf("voice-request fallback: %q, %d bytes; want 100 ms of 24 kHz PCM silence", rep.Header.Get("Content-Type"), len(rep.Body))
		}
		if probs := webhook.CheckReply(&webhook.Message{Type: typ, Kind: typ}, rep.Status, rep.Header, rep.Body); len(probs) > 0 {
			t.Errorf("%s: CheckReply finds %v in %s", typ, probs, rep.Body)
		}
	}
}
