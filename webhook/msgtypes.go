package webhook

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

	// Campaign webhooks (Campaign.serverMessages in Vapi's OpenAPI document; no
	// ServerMessage schema). Vapi's campaign docs show them sent as type "campaign.event"
	// with the name in eventType; Parse accepts that and the name as the type.
	TypeCampaignStarted      = "campaign.started"
	TypeCampaignCancelled    = "campaign.cancelled"
	TypeCampaignEnded        = "campaign.ended"
	TypeCampaignArchived     = "campaign.archived"
	TypeCampaignUnarchived   = "campaign.unarchived"
	TypeContactDispatched    = "contact.dispatched"
	TypeContactCompleted     = "contact.completed"
	TypeContactFailed        = "contact.failed"
	TypeContactSkipped       = "contact.skipped"
	TypeContactPredialFailed = "contact.predial-failed"
	TypeCampaignJobContinued = "campaign.job.continued"
	// TypeCampaignEvent is the envelope type of campaign events, and their Message.Kind.
	TypeCampaignEvent = "campaign.event"
)

// campaignEvents are the campaign webhook names, in the order of Campaign.serverMessages.
var campaignEvents = []string{
	TypeCampaignStarted, TypeCampaignCancelled, TypeCampaignEnded, TypeCampaignArchived,
	TypeCampaignUnarchived, TypeContactDispatched, TypeContactCompleted, TypeContactFailed,
	TypeContactSkipped, TypeContactPredialFailed, TypeCampaignJobContinued,
}

// IsCampaignEvent reports whether t names one of Vapi's campaign webhooks (informational:
// Vapi does not use the reply).
func IsCampaignEvent(t string) bool {
	for _, k := range campaignEvents {
		if k == t {
			return true
		}
	}
	return false
}

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
	TypeCampaignStarted, TypeCampaignCancelled, TypeCampaignEnded, TypeCampaignArchived,
	TypeCampaignUnarchived, TypeContactDispatched, TypeContactCompleted, TypeContactFailed,
	TypeContactSkipped, TypeContactPredialFailed, TypeCampaignJobContinued,
}

// IsKnownType reports whether t is a message type vapimon understands.
func IsKnownType(t string) bool {
	if t == TypeTranscriptFinal || t == TypeCampaignEvent {
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
