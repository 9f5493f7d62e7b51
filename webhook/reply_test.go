package webhook_test

import (
	"errors"
	"math"
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

// TestEveryReplyMatchesVapiSchema validates every reply vapimon builds against the
// embedded reply schemas, against Vapi's full specification when it is at hand, and with
// JudgeReply (no problem; no warning but the ones an error reply is meant to get).
func TestEveryReplyMatchesVapiSchema(t *testing.T) {
	t.Parallel()
	embedded, err := vapischema.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	type sample struct {
		name, typ string
		body      []byte
	}
	tc := &webhook.Message{Type: webhook.TypeToolCalls, Kind: webhook.TypeToolCalls, ToolCalls: []webhook.ToolCall{
		{ID: "call_A", Name: "get_weather"}, {ID: "call_B", Name: "book_table"}, {ID: "call_C", Name: "noop"}, {ID: "call_D", Name: "noop"}}}
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
		{"transfer destination, no message", webhook.TypeTransferDestinationRequest, webhook.TransferDestinationReply([]byte(`{"type":"sip","sipUri":"sip:desk@example.com"}`), "")},
		{"transfer to an assistant, two-line message", webhook.TypeTransferDestinationRequest, webhook.TransferDestinationReply([]byte(`{"type":"assistant","assistantName":"Billing"}`), "One moment,\nplease.")},
		{"endpointing", webhook.TypeCallEndpointingRequest, webhook.EndpointingReply(0.8)},
		{"endpointing above the maximum", webhook.TypeCallEndpointingRequest, webhook.EndpointingReply(40)},
		{"endpointing negative", webhook.TypeCallEndpointingRequest, webhook.EndpointingReply(-2)},
		{"endpointing +Inf", webhook.TypeCallEndpointingRequest, webhook.EndpointingReply(math.Inf(1))},
		{"endpointing NaN", webhook.TypeCallEndpointingRequest, webhook.EndpointingReply(math.NaN())},
		{"predial not eligible", webhook.TypeCampaignPredial, webhook.PredialReply(false)},
		{"no knowledge documents", webhook.TypeKnowledgeBaseRequest, webhook.KnowledgeBaseReply(nil)},
		{"handoff, no result", webhook.TypeHandoffDestinationRequest, webhook.HandoffDestinationReply([]byte(`{"type":"assistant","assistantName":"Billing"}`), "")},
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
	// The validators must be able to say no, or this test proves nothing.
	bad := []byte(`{"results":[{"toolCallId":7}]}`)
	if err := embedded.Validate("ServerMessageResponseToolCalls", bad); err == nil {
		t.Fatal("embedded schema accepted a tool result with a numeric toolCallId")
	}
	full, fullErr := vapischema.Load()
	switch {
	case errors.Is(fullErr, vapischema.ErrNotFound):
		t.Log("Vapi OpenAPI spec not found (../shared/vapi/openapi.json): checked against the embedded schemas only")
		full = nil
	case fullErr != nil:
		t.Fatal(fullErr)
	default:
		if err := full.Validate("ServerMessageResponseToolCalls", bad); err == nil {
			t.Fatal("validator accepted a tool result with a numeric toolCallId")
		}
	}
	for _, sm := range samples {
		msg := &webhook.Message{Type: sm.typ, Kind: sm.typ}
		if sm.typ == webhook.TypeToolCalls {
			msg = tc
		}
		v := webhook.JudgeReply(msg, http.StatusOK, nil, sm.body)
		if !v.OK() {
			t.Errorf("%s %s: JudgeReply finds %q in %s", sm.typ, sm.name, v.Problems, sm.body)
		}
		for _, w := range v.Warnings {
			if !strings.Contains(w, "is an error") && !strings.Contains(w, "answered with error") {
				t.Errorf("%s %s: warning %q for %s", sm.typ, sm.name, w, sm.body)
			}
		}
		if strings.Contains(string(sm.body), `\n`) {
			t.Errorf("%s %s: reply has a line break; Vapi wants single-line strings: %s", sm.typ, sm.name, sm.body)
		}
		if reason, ok := noResponseSchema[sm.typ]; ok {
			t.Logf("%s %s: not validated: %s", sm.typ, sm.name, reason)
			if full != nil && full.ResponseSchema(sm.typ) != "" && sm.typ != webhook.TypeVoiceRequest {
				t.Errorf("%s now has a response schema: remove it from noResponseSchema", sm.typ)
			}
			continue
		}
		schema := "ServerMessageResponse" + responseSuffix[sm.typ]
		if err := embedded.Validate(schema, sm.body); err != nil {
			t.Errorf("%s %s (embedded schema): %s\n%s", sm.typ, sm.name, err, sm.body)
		}
		if full == nil {
			continue
		}
		if got := full.ResponseSchema(sm.typ); got != schema {
			t.Errorf("%s: the spec's reply schema is %q, vapimon uses %q", sm.typ, got, schema)
		}
		if err := full.Validate(schema, sm.body); err != nil {
			t.Errorf("%s %s: %s\n%s", sm.typ, sm.name, err, sm.body)
		}
	}
}

// responseSuffix names each reply schema (ServerMessageResponse<suffix>).
var responseSuffix = map[string]string{
	webhook.TypeAssistantRequest:           "AssistantRequest",
	webhook.TypeToolCalls:                  "ToolCalls",
	webhook.TypeTransferDestinationRequest: "TransferDestinationRequest",
	webhook.TypeHandoffDestinationRequest:  "HandoffDestinationRequest",
	webhook.TypeKnowledgeBaseRequest:       "KnowledgeBaseRequest",
	webhook.TypeCallEndpointingRequest:     "CallEndpointingRequest",
	webhook.TypeCampaignPredial:            "CampaignPredial",
}

// TestReplyBuilderShapes pins where builders put what: the transfer's spoken text in the
// request-start message's content, endpointing clamped to 0–15 s.
func TestReplyBuilderShapes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		got  []byte
		want string
	}{
		{"transfer text in content", webhook.TransferDestinationReply([]byte(`{"type":"number","number":"+14155550142"}`), "Transferring you\nnow."),
			`{"destination":{"type":"number","number":"+14155550142"},"message":{"content":"Transferring you now.","type":"request-start"}}`},
		{"transfer without text", webhook.TransferDestinationReply([]byte(`{"type":"number","number":"+14155550142"}`), ""),
			`{"destination":{"type":"number","number":"+14155550142"}}`},
		{"endpointing kept", webhook.EndpointingReply(0.8), `{"timeoutSeconds":0.8}`},
		{"endpointing max", webhook.EndpointingReply(15), `{"timeoutSeconds":15}`},
		{"endpointing above", webhook.EndpointingReply(15.01), `{"timeoutSeconds":15}`},
		{"endpointing +Inf", webhook.EndpointingReply(math.Inf(1)), `{"timeoutSeconds":15}`},
		{"endpointing below", webhook.EndpointingReply(-0.5), `{"timeoutSeconds":0}`},
		{"endpointing -Inf", webhook.EndpointingReply(math.Inf(-1)), `{"timeoutSeconds":0}`},
		{"endpointing NaN", webhook.EndpointingReply(math.NaN()), `{"timeoutSeconds":1.5}`},
	} {
		if string(tt.got) != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, tt.got, tt.want)
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
