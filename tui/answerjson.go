package tui

import (
	"github.com/vapimon/vapimon/webhook"
)

// jsonAnswered reports whether the operator answers a message of type kind by writing its
// reply as JSON: the types that expect a reply a person can write in time but that have no
// one-line answer (a tool result, an assistant id). call.endpointing.request (Vapi wants it
// within a pause of speech) and voice-request (raw audio) are not among them: they get the
// answers file's answer or the fallback at once.
func jsonAnswered(kind string) bool {
	switch kind {
	case webhook.TypeTransferDestinationRequest, webhook.TypeHandoffDestinationRequest,
		webhook.TypeKnowledgeBaseRequest, webhook.TypeCampaignPredial:
		return true
	}
	return false
}

// jsonAnswer reports whether the operator answers p by writing its reply as JSON (no server
// reply is held: that is the --intercept review).
func (p *pendingReq) jsonAnswer() bool { return p.server == nil && jsonAnswered(p.kind) }

// replyTemplate is the reply the JSON answer editor starts with for a message of type kind:
// the documented shape (vapi-protocol §2.2, the shapes webhook.JudgeReply checks), with
// example values the operator replaces. Sending it unchanged asks first (see submitEdit).
func replyTemplate(kind string) string {
	switch kind {
	case webhook.TypeTransferDestinationRequest:
		return `{
  "destination": {
    "type": "number",
    "number": "+15555550100"
  },
  "message": {
    "type": "request-start",
    "content": "Transferring you now."
  }
}`
	case webhook.TypeHandoffDestinationRequest:
		return `{
  "destination": {
    "type": "assistant",
    "assistantName": "Support"
  },
  "result": "Handing you over to Support."
}`
	case webhook.TypeKnowledgeBaseRequest:
		return `{
  "documents": [
    {
      "content": "The text the assistant should know.",
      "similarity": 1
    }
  ]
}`
	case webhook.TypeCampaignPredial:
		return `{
  "eligible": true
}`
	}
	return "{}"
}

// startJSONAnswer fills the editor of a request the operator answers as JSON with the reply
// template for its type, the first time its prompt opens (a deferred one keeps its edits).
func startJSONAnswer(p *pendingReq) {
	p.mode = modeEdit
	if p.edit != nil {
		return
	}
	ed := newEditor(true)
	ed.limit = editLimit + 1
	ed.SetValue(replyTemplate(p.kind))
	ed.Home()
	p.edit, p.editFrom = &ed, ed.Value()
}
