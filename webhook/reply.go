package webhook

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
)

// ToolResult is the answer to one tool call: Result on success, Error on failure (still
// HTTP 200; Vapi reads the error into the conversation).
type ToolResult struct {
	ToolCallID string `json:"toolCallId"`
	Name       string `json:"name"`
	Result     string `json:"result,omitempty"`
	Error      string `json:"error,omitempty"`
	// IsError marks Error as the answer even when Error is empty.
	IsError bool `json:"-"`
}

// ToolCallsReply builds the tool-calls reply: one entry per tool call, in call order, each
// with toolCallId and name and either result or error. Vapi's troubleshooting guide asks
// for single-line strings, so line breaks are replaced by spaces.
func ToolCallsReply(results []ToolResult) []byte {
	b := make([]byte, 0, 64+96*len(results))
	b = append(b, `{"results":[`...)
	for i, r := range results {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"toolCallId":`...)
		b = AppendJSONString(b, r.ToolCallID)
		b = append(b, `,"name":`...)
		b = AppendJSONString(b, r.Name)
		if r.IsError || r.Error != "" {
			b = append(b, `,"error":`...)
			b = AppendJSONString(b, SingleLine(r.Error))
		} else {
			b = append(b, `,"result":`...)
			b = AppendJSONString(b, SingleLine(r.Result))
		}
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// FunctionCallReply builds the reply to the legacy function-call message.
func FunctionCallReply(result string) []byte {
	return mustJSON(map[string]string{"result": SingleLine(result)})
}

// AssistantRequestReply builds an assistant-request reply naming a saved assistant.
func AssistantRequestReply(assistantID string) []byte {
	return mustJSON(map[string]string{"assistantId": assistantID})
}

// TransferDestinationReply builds a transfer-destination-request reply: where to transfer
// the caller (e.g. {"type":"number","number":"+14155550142"}), with an optional message
// spoken first. The text goes where Vapi's schema reads it: a request-start message's
// content (ServerMessageResponseTransferDestinationRequest.message is a ToolMessageStart,
// whose spoken text is content; older docs wrote it as "message", which Vapi's schema
// does not have).
func TransferDestinationReply(destination json.RawMessage, message string) []byte {
	out := map[string]any{"destination": destination}
	if message != "" {
		out["message"] = map[string]string{"type": "request-start", "content": SingleLine(message)}
	}
	return mustJSON(out)
}

// HandoffDestinationReply builds a handoff-destination-request reply: the destination
// (e.g. {"type":"assistant","assistantId":"..."}) and an optional tool result.
func HandoffDestinationReply(destination json.RawMessage, result string) []byte {
	out := map[string]any{"destination": destination}
	if result != "" {
		out["result"] = SingleLine(result)
	}
	return mustJSON(out)
}

// KnowledgeDocument is one document returned to a knowledge-base-request.
type KnowledgeDocument struct {
	Content    string  `json:"content"`
	Similarity float64 `json:"similarity"`
	UUID       string  `json:"uuid,omitempty"`
}

// KnowledgeBaseReply builds a knowledge-base-request reply from documents.
func KnowledgeBaseReply(docs []KnowledgeDocument) []byte {
	if docs == nil {
		docs = []KnowledgeDocument{}
	}
	return mustJSON(map[string]any{"documents": docs})
}

// Limits of a call.endpointing.request reply (ServerMessageResponseCallEndpointingRequest).
const (
	maxEndpointingSeconds     = 15
	defaultEndpointingSeconds = 1.5 // what ErrorReply answers: a usual pause
)

// EndpointingReply builds a call.endpointing.request reply: how long to wait, in seconds,
// before the assistant speaks. The value is clamped to the 0–15 s Vapi's schema allows (a
// value outside is not used by Vapi at all); NaN becomes a usual pause of 1.5 s.
func EndpointingReply(timeoutSeconds float64) []byte {
	switch {
	case math.IsNaN(timeoutSeconds):
		timeoutSeconds = defaultEndpointingSeconds
	case timeoutSeconds < 0:
		timeoutSeconds = 0
	case timeoutSeconds > maxEndpointingSeconds: // +Inf included
		timeoutSeconds = maxEndpointingSeconds
	}
	return mustJSON(map[string]float64{"timeoutSeconds": timeoutSeconds})
}

// PredialReply builds a campaign.predial reply: whether the contact may be called now.
func PredialReply(eligible bool) []byte {
	return mustJSON(map[string]bool{"eligible": eligible})
}

// ErrorReply builds the documented error reply for a message type that expects a reply.
// For assistant-request the text is spoken to the caller. Types whose reply has no error
// field get their safest negative answer (campaign.predial: not eligible; knowledge-base:
// no documents; endpointing: Vapi's usual wait; handoff: an empty destination plus the error).
func ErrorReply(msg *Message, text string) Reply {
	text = SingleLine(text)
	h := http.Header{"Content-Type": {"application/json"}}
	var body []byte
	switch msg.Kind {
	case TypeToolCalls:
		res := make([]ToolResult, 0, len(msg.ToolCalls))
		for _, tc := range msg.ToolCalls {
			res = append(res, ToolResult{ToolCallID: tc.ID, Name: tc.Name, Error: text, IsError: true})
		}
		body = ToolCallsReply(res)
	case TypeFunctionCall:
		body = FunctionCallReply("Error: " + text)
	case TypeAssistantRequest, TypeTransferDestinationRequest:
		body = mustJSON(map[string]string{"error": text})
	case TypeHandoffDestinationRequest:
		body = mustJSON(map[string]any{"destination": map[string]any{}, "error": text})
	case TypeKnowledgeBaseRequest:
		body = KnowledgeBaseReply(nil)
	case TypeCallEndpointingRequest:
		body = EndpointingReply(defaultEndpointingSeconds)
	case TypeCampaignPredial:
		body = PredialReply(false)
	case TypeVoiceRequest:
		// voice-request wants raw 16-bit mono PCM at the message's sample rate: send 100 ms
		// of silence.
		rate := msg.SampleRate
		if rate <= 0 || rate > 192000 {
			rate = 24000
		}
		return Reply{Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/octet-stream"}}, Body: make([]byte, rate/10*2), Source: SourceFallback, Note: text}
	default:
		body = []byte("{}")
	}
	return Reply{Status: http.StatusOK, Header: h, Body: body, Source: SourceFallback, Note: text}
}

// Ack is the reply to informational messages: 200 {}.
func Ack() Reply {
	return Reply{Status: http.StatusOK, Header: jsonHeader, Body: []byte("{}"), Source: SourceAck}
}

// JSONReply wraps a JSON body as a 200 reply from source.
func JSONReply(body []byte, source string) Reply {
	return Reply{Status: http.StatusOK, Header: jsonHeader, Body: body, Source: source}
}

// jsonHeader is the header of the JSON replies vapimon makes, shared by them all: a
// Reply's header is never changed in place (substitute copies it; the handler copies its
// values into the response).
var jsonHeader = http.Header{"Content-Type": {"application/json"}}

// rejectReply is a short JSON error for the sender. It never says why authentication failed.
func rejectReply(status int, text string) Reply {
	return Reply{
		Status: status,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   mustJSON(map[string]string{"error": text}),
		Source: SourceReject,
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("webhook: marshal reply: %v", err)) // only fixed shapes reach here
	}
	return b
}
