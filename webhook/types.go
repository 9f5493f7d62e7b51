package webhook

import "time"

// Message types Vapi sends to a server URL (OpenAPI ServerMessage oneOf, plus the legacy
// function-call and the opt-in types that have no schema).
const (
	TypeAssistantRequest           = "assistant-request"
	TypeToolCalls                  = "tool-calls"
	TypeTransferDestinationRequest = "transfer-destination-request"
	TypeHandoffDestinationRequest  = "handoff-destination-request"
	TypeKnowledgeBaseRequest       = "knowledge-base-request"
	TypeVoiceRequest               = "voice-request"
	TypeCallEndpointingRequest     = "call.endpointing.request"
	TypeCampaignPredial            = "campaign.predial"
	TypeFunctionCall               = "function-call"
	TypeStatusUpdate               = "status-update"
	TypeEndOfCallReport            = "end-of-call-report"
	TypeConversationUpdate         = "conversation-update"
	TypeTranscript                 = "transcript"
	TypeTranscriptFinal            = `transcript[transcriptType="final"]`
	TypeSpeechUpdate               = "speech-update"
	TypeHang                       = "hang"
	TypeModelOutput                = "model-output"
	TypeUserInterrupted            = "user-interrupted"
	TypeTransferUpdate             = "transfer-update"
	TypeLanguageChangeDetected     = "language-change-detected"
	TypePhoneCallControl           = "phone-call-control"
	TypeVoiceInput                 = "voice-input"
	TypeAssistantSpeechStarted     = "assistant.speechStarted"
	TypeAssistantStarted           = "assistant.started"
	TypeLanguageChanged            = "language-changed"
	TypeCallArtifactUpload         = "call.artifact.upload"
	TypeChatCreated                = "chat.created"
	TypeChatDeleted                = "chat.deleted"
	TypeSessionCreated             = "session.created"
	TypeSessionUpdated             = "session.updated"
	TypeSessionDeleted             = "session.deleted"
	TypeCallDeleted                = "call.deleted"
	TypeCallDeleteFailed           = "call.delete.failed"
)

// KnownTypes lists every message type vapimon understands, in the order of the protocol
// reference. A type not in this list is still accepted and acknowledged, and shown as unknown.
var KnownTypes = []string{
	TypeAssistantRequest, TypeToolCalls, TypeTransferDestinationRequest,
	TypeHandoffDestinationRequest, TypeKnowledgeBaseRequest, TypeVoiceRequest,
	TypeCallEndpointingRequest, TypeCampaignPredial, TypeFunctionCall,
	TypeStatusUpdate, TypeEndOfCallReport, TypeConversationUpdate, TypeTranscript,
	TypeSpeechUpdate, TypeHang, TypeModelOutput, TypeUserInterrupted, TypeTransferUpdate,
	TypeLanguageChangeDetected, TypePhoneCallControl, TypeVoiceInput,
	TypeAssistantSpeechStarted, TypeAssistantStarted, TypeLanguageChanged,
	TypeCallArtifactUpload, TypeChatCreated, TypeChatDeleted, TypeSessionCreated,
	TypeSessionUpdated, TypeSessionDeleted, TypeCallDeleted, TypeCallDeleteFailed,
}

// IsKnownType reports whether t is a message type vapimon understands.
func IsKnownType(t string) bool {
	if t == TypeTranscriptFinal {
		return true
	}
	for _, k := range KnownTypes {
		if k == t {
			return true
		}
	}
	return false
}

// ExpectsReply reports whether Vapi waits for a meaningful reply body to a message of type t.
// Every other message is acknowledged at once with 200 {}.
func ExpectsReply(t string) bool {
	switch t {
	case TypeAssistantRequest, TypeToolCalls, TypeTransferDestinationRequest,
		TypeHandoffDestinationRequest, TypeKnowledgeBaseRequest, TypeVoiceRequest,
		TypeCallEndpointingRequest, TypeCampaignPredial, TypeFunctionCall:
		return true
	}
	return false
}

// AssistantRequestBudget is Vapi's fixed, end-to-end limit for answering assistant-request.
const AssistantRequestBudget = 7500 * time.Millisecond

// DefaultToolTimeout is Vapi's default server.timeoutSeconds, which applies to tool-calls and
// the other server requests.
const DefaultToolTimeout = 20 * time.Second

// Budget returns how long Vapi waits for a reply to a message of type t, given the configured
// tool timeout (Vapi's server.timeoutSeconds). Zero means no reply is awaited.
func Budget(t string, toolTimeout time.Duration) time.Duration {
	if !ExpectsReply(t) {
		return 0
	}
	if t == TypeAssistantRequest {
		return AssistantRequestBudget
	}
	if toolTimeout <= 0 {
		return DefaultToolTimeout
	}
	return toolTimeout
}

// SafetyMargin is how long before Vapi's deadline vapimon sends its fallback reply, leaving
// time for the reply to travel back through the tunnel.
func SafetyMargin(budget time.Duration) time.Duration {
	m := budget / 10
	if m > 1500*time.Millisecond {
		m = 1500 * time.Millisecond
	}
	if m < 250*time.Millisecond {
		m = 250 * time.Millisecond
	}
	return m
}

// Deadline is how long Vapi waits for the reply to one message, and where that number
// came from. It is the one place deadline arithmetic is done: the handler, the offline
// monitor and replay all use Timing.
type Deadline struct {
	// Budget is how long Vapi waits; zero when no reply is awaited.
	Budget time.Duration
	// Source says where Budget came from, for the operator ("tool get_weather:
	// server.timeoutSeconds 4", "--tool-timeout 20s", "assistant-request: fixed 7.5s").
	Source string
	// Notes are payload timeouts that were ignored, with the reason ("tool get_weather:
	// server.timeoutSeconds "4" is not a number: using the assistant's").
	Notes []string
	// Vapi is when Vapi gives up (received + Budget); Send is when vapimon sends its
	// fallback, a safety margin earlier. Both zero when no reply is awaited.
	Vapi time.Time
	Send time.Time
}

// Timing returns the deadline of msg received at received, given the configured tool
// timeout (--tool-timeout, the default when the payload names none).
func Timing(msg *Message, received time.Time, toolTimeout time.Duration) Deadline {
	if msg == nil {
		return Deadline{}
	}
	b := Budget(msg.Kind, toolTimeout)
	if b <= 0 {
		return Deadline{}
	}
	d := Deadline{Budget: b, Vapi: received.Add(b)}
	d.Send = d.Vapi.Add(-SafetyMargin(b))
	if msg.Kind == TypeAssistantRequest {
		d.Source = "assistant-request: Vapi's fixed 7.5s"
	} else {
		d.Source = "--tool-timeout " + b.String()
	}
	return d
}
