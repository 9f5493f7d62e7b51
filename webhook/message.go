package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Message is the parsed, tolerant view of one Vapi server message: the fields people look
// at, with Raw holding the exact bytes of the "message" object. Fields a message type does
// not carry are left zero. Strings are as sent (not sanitised): sanitise before display.
type Message struct {
	// Type is message.type exactly as sent; Kind is the normalised type (the literal
	// `transcript[transcriptType="final"]` becomes "transcript").
	Type string
	Kind string
	// Known is false for a type vapimon does not understand; such messages are kept raw.
	Known bool
	// Timestamp is message.timestamp (epoch ms in Vapi's examples); zero when absent.
	Timestamp time.Time

	Call        Call
	Customer    Customer
	PhoneNumber PhoneNumber
	Assistant   Assistant

	// status-update, end-of-call-report
	Status      string
	EndedReason string

	// transcript, speech-update
	Role           string // assistant | user
	TranscriptType string // partial | final
	Transcript     string
	Turn           int

	// tool-calls (and the legacy function-call, as one ToolCall with an empty ID)
	ToolCalls []ToolCall

	// end-of-call-report
	Cost         float64
	Summary      string
	RecordingURL string
	StereoURL    string
	StartedAt    string
	EndedAt      string
	CallLog      string // artifact.transcript

	// transfer-update, phone-call-control, transfer-destination-request
	Destination json.RawMessage
	// phone-call-control
	Request string
	// language-change-detected
	Language string
	// voice-input, voice-request, assistant.speechStarted
	Text string
	// model-output
	Output json.RawMessage
	// model-output, user-interrupted
	TurnID string
	// handoff-destination-request
	Parameters json.RawMessage
	// conversation-update, knowledge-base-request
	Messages []LogMessage

	// Raw is the exact bytes of the "message" object.
	Raw json.RawMessage
}

// Call is the subset of Vapi's Call object vapimon shows.
type Call struct {
	ID          string   `json:"id"`
	OrgID       string   `json:"orgId"`
	Type        string   `json:"type"` // inboundPhoneCall | outboundPhoneCall | webCall | vapi.websocketCall
	Status      string   `json:"status"`
	EndedReason string   `json:"endedReason"`
	AssistantID string   `json:"assistantId"`
	Customer    Customer `json:"customer"`
	Cost        float64  `json:"cost"`
	StartedAt   string   `json:"startedAt"`
	EndedAt     string   `json:"endedAt"`
	Monitor     struct {
		ListenURL  string `json:"listenUrl"`
		ControlURL string `json:"controlUrl"`
	} `json:"monitor"`
	CostBreakdown map[string]float64 `json:"-"`
}

// Customer is who is on the other end of the call.
type Customer struct {
	Number string `json:"number"`
	Name   string `json:"name"`
	SIPURI string `json:"sipUri"`
}

// PhoneNumber is the Vapi phone number the call came in on or went out from.
type PhoneNumber struct {
	ID       string `json:"id"`
	Number   string `json:"number"`
	Name     string `json:"name"`
	Provider string `json:"provider"`
}

// Assistant is the subset of the assistant object vapimon shows.
type Assistant struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ToolCall is one function call the model asked for. Arguments is always a JSON value
// (an object in practice): when Vapi sends arguments as a JSON-encoded string, it is decoded.
type ToolCall struct {
	ID        string
	Name      string
	Arguments json.RawMessage
	// Async tools are not waited for by Vapi.
	Async bool
}

// LogMessage is one entry of a conversation log (conversation-update messages[]).
type LogMessage struct {
	Role    string `json:"role"`
	Message string `json:"message"`
	Name    string `json:"name,omitempty"`
	Result  string `json:"result,omitempty"`
}

// ParseError is returned by Parse for a body that is not a Vapi message.
type ParseError struct{ Reason string }

func (e *ParseError) Error() string { return e.Reason }

// Parse decodes a webhook body {"message": {...}} tolerantly. It fails only when the body
// is not JSON, has no "message" object, or the message has no string "type". Unknown types
// and unexpected field shapes are kept (Known false, or the field left zero).
func Parse(body []byte) (*Message, error) {
	var env struct {
		Message json.RawMessage `json:"message"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		if json.Valid(body) {
			return nil, &ParseError{Reason: `body is JSON but not an object with a "message" object`}
		}
		return nil, &ParseError{Reason: "body is not valid JSON: " + shortJSONError(err)}
	}
	raw := bytes.TrimSpace(env.Message)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, &ParseError{Reason: `body has no "message" object`}
	}
	var head struct {
		Type json.RawMessage `json:"type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, &ParseError{Reason: "message is not a JSON object: " + shortJSONError(err)}
	}
	var typ string
	if err := json.Unmarshal(head.Type, &typ); err != nil || typ == "" {
		return nil, &ParseError{Reason: `message has no "type" string`}
	}
	m := &Message{Type: typ, Kind: typ, Raw: env.Message}
	if typ == TypeTranscriptFinal {
		m.Kind = TypeTranscript
	}
	m.Known = IsKnownType(typ)
	m.fill(raw)
	return m, nil
}

// wire is the union of the fields vapimon reads from any message. Every field is decoded
// leniently: a field with an unexpected shape is ignored, not fatal.
type wire struct {
	Timestamp      json.RawMessage `json:"timestamp"`
	Call           json.RawMessage `json:"call"`
	Customer       json.RawMessage `json:"customer"`
	PhoneNumber    json.RawMessage `json:"phoneNumber"`
	Assistant      json.RawMessage `json:"assistant"`
	Status         json.RawMessage `json:"status"`
	EndedReason    json.RawMessage `json:"endedReason"`
	Role           json.RawMessage `json:"role"`
	TranscriptType json.RawMessage `json:"transcriptType"`
	Transcript     json.RawMessage `json:"transcript"`
	Turn           json.RawMessage `json:"turn"`
	ToolCallList   json.RawMessage `json:"toolCallList"`
	ToolCalls      json.RawMessage `json:"toolCalls"`
	ToolWithList   json.RawMessage `json:"toolWithToolCallList"`
	FunctionCall   json.RawMessage `json:"functionCall"`
	Cost           json.RawMessage `json:"cost"`
	Costs          json.RawMessage `json:"costs"`
	Analysis       json.RawMessage `json:"analysis"`
	Artifact       json.RawMessage `json:"artifact"`
	StartedAt      json.RawMessage `json:"startedAt"`
	EndedAt        json.RawMessage `json:"endedAt"`
	Summary        json.RawMessage `json:"summary"`
	RecordingURL   json.RawMessage `json:"recordingUrl"`
	StereoURL      json.RawMessage `json:"stereoRecordingUrl"`
	Destination    json.RawMessage `json:"destination"`
	Request        json.RawMessage `json:"request"`
	Language       json.RawMessage `json:"language"`
	Text           json.RawMessage `json:"text"`
	Input          json.RawMessage `json:"input"`
	Output         json.RawMessage `json:"output"`
	TurnID         json.RawMessage `json:"turnId"`
	Parameters     json.RawMessage `json:"parameters"`
	Messages       json.RawMessage `json:"messages"`
}

func (m *Message) fill(raw []byte) {
	var w wire
	if json.Unmarshal(raw, &w) != nil {
		return
	}
	m.Timestamp = parseTimestamp(w.Timestamp)
	lenient(w.Call, &m.Call)
	lenient(w.Customer, &m.Customer)
	if m.Customer == (Customer{}) {
		m.Customer = m.Call.Customer
	}
	lenient(w.PhoneNumber, &m.PhoneNumber)
	lenient(w.Assistant, &m.Assistant)
	m.Status = str(w.Status)
	m.EndedReason = str(w.EndedReason)
	if m.EndedReason == "" {
		m.EndedReason = m.Call.EndedReason
	}
	m.Role = str(w.Role)
	m.TranscriptType = str(w.TranscriptType)
	if m.Type == TypeTranscriptFinal && m.TranscriptType == "" {
		m.TranscriptType = "final"
	}
	m.Transcript = str(w.Transcript)
	m.Turn = int(num(w.Turn))
	m.Destination = object(w.Destination)
	m.Request = str(w.Request)
	m.Language = str(w.Language)
	m.Text = str(w.Text)
	if m.Text == "" {
		m.Text = str(w.Input)
	}
	m.Output = object(w.Output)
	m.TurnID = str(w.TurnID)
	m.Parameters = object(w.Parameters)
	lenient(w.Messages, &m.Messages)

	switch m.Kind {
	case TypeToolCalls:
		m.ToolCalls = parseToolCalls(w.ToolCallList, w.ToolCalls, w.ToolWithList)
	case TypeFunctionCall:
		if tc, ok := parseOneToolCall(w.FunctionCall); ok {
			m.ToolCalls = []ToolCall{tc}
		}
	case TypeEndOfCallReport:
		m.fillReport(w)
	}
	if m.Cost == 0 {
		m.Cost = m.Call.Cost
	}
}

func (m *Message) fillReport(w wire) {
	m.Cost = num(w.Cost)
	m.StartedAt = str(w.StartedAt)
	m.EndedAt = str(w.EndedAt)
	var analysis struct {
		Summary json.RawMessage `json:"summary"`
	}
	lenient(w.Analysis, &analysis)
	m.Summary = str(analysis.Summary)
	if m.Summary == "" {
		m.Summary = str(w.Summary) // legacy top-level field
	}
	var art struct {
		Transcript   json.RawMessage `json:"transcript"`
		RecordingURL json.RawMessage `json:"recordingUrl"`
		StereoURL    json.RawMessage `json:"stereoRecordingUrl"`
		Recording    struct {
			StereoURL string `json:"stereoUrl"`
			Mono      struct {
				CombinedURL string `json:"combinedUrl"`
			} `json:"mono"`
		} `json:"recording"`
		Messages json.RawMessage `json:"messages"`
	}
	lenient(w.Artifact, &art)
	m.CallLog = str(art.Transcript)
	if m.CallLog == "" {
		m.CallLog = str(w.Transcript)
	}
	m.RecordingURL = firstNonEmpty(str(art.RecordingURL), art.Recording.Mono.CombinedURL, str(w.RecordingURL))
	m.StereoURL = firstNonEmpty(str(art.StereoURL), art.Recording.StereoURL, str(w.StereoURL))
	if len(m.Messages) == 0 {
		lenient(art.Messages, &m.Messages)
	}
	var call struct {
		CostBreakdown map[string]json.RawMessage `json:"costBreakdown"`
	}
	lenient(w.Call, &call)
	if len(call.CostBreakdown) > 0 {
		m.Call.CostBreakdown = make(map[string]float64, len(call.CostBreakdown))
		for k, v := range call.CostBreakdown {
			if f, ok := number(v); ok {
				m.Call.CostBreakdown[k] = f
			}
		}
	}
}

// parseToolCalls reads toolCallList, falling back to the toolCalls list some payloads carry
// and to the toolCall inside toolWithToolCallList. The async flag comes from the tool
// definition with the same call id.
func parseToolCalls(lists ...json.RawMessage) []ToolCall {
	var withList []struct {
		Async    bool            `json:"async"`
		ToolCall json.RawMessage `json:"toolCall"`
	}
	lenient(lists[2], &withList)
	async := map[string]bool{}
	var fromWith []ToolCall
	for _, tw := range withList {
		if tc, ok := parseOneToolCall(tw.ToolCall); ok {
			tc.Async = tw.Async
			async[tc.ID] = tw.Async
			fromWith = append(fromWith, tc)
		}
	}
	for _, l := range lists[:2] {
		var items []json.RawMessage
		lenient(l, &items)
		var out []ToolCall
		for _, it := range items {
			if tc, ok := parseOneToolCall(it); ok {
				tc.Async = async[tc.ID]
				out = append(out, tc)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return fromWith
}

// parseOneToolCall accepts {id, type, function: {name, arguments}} and the flat
// {id, name, arguments|parameters}, with arguments as an object or a JSON-encoded string.
func parseOneToolCall(raw json.RawMessage) (ToolCall, bool) {
	var tc struct {
		ID         json.RawMessage `json:"id"`
		Name       json.RawMessage `json:"name"`
		Arguments  json.RawMessage `json:"arguments"`
		Parameters json.RawMessage `json:"parameters"`
		Function   *struct {
			Name       json.RawMessage `json:"name"`
			Arguments  json.RawMessage `json:"arguments"`
			Parameters json.RawMessage `json:"parameters"`
		} `json:"function"`
	}
	if json.Unmarshal(raw, &tc) != nil {
		return ToolCall{}, false
	}
	out := ToolCall{ID: str(tc.ID), Name: str(tc.Name)}
	args := tc.Arguments
	if len(args) == 0 {
		args = tc.Parameters
	}
	if tc.Function != nil {
		if n := str(tc.Function.Name); n != "" {
			out.Name = n
		}
		if len(tc.Function.Arguments) > 0 {
			args = tc.Function.Arguments
		} else if len(tc.Function.Parameters) > 0 && len(args) == 0 {
			args = tc.Function.Parameters
		}
	}
	out.Arguments = normaliseArguments(args)
	if out.Name == "" && out.ID == "" {
		return ToolCall{}, false
	}
	return out, true
}

// normaliseArguments returns arguments as a JSON value: a JSON-encoded string holding JSON
// is unwrapped; a string that is not JSON stays a JSON string; absent becomes {}.
func normaliseArguments(a json.RawMessage) json.RawMessage {
	a = bytes.TrimSpace(a)
	if len(a) == 0 || bytes.Equal(a, []byte("null")) {
		return json.RawMessage("{}")
	}
	if a[0] == '"' {
		var s string
		if json.Unmarshal(a, &s) == nil {
			inner := bytes.TrimSpace([]byte(s))
			if len(inner) == 0 {
				return json.RawMessage("{}")
			}
			if json.Valid(inner) {
				return json.RawMessage(inner)
			}
		}
	}
	if !json.Valid(a) {
		return json.RawMessage("{}")
	}
	return append(json.RawMessage(nil), a...)
}

func lenient(raw json.RawMessage, v any) {
	if len(raw) == 0 {
		return
	}
	_ = json.Unmarshal(raw, v) // shape mismatches leave v partly filled: tolerated by design
}

func str(raw json.RawMessage) string {
	var s string
	if len(raw) > 0 && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}

func number(raw json.RawMessage) (float64, bool) {
	var f float64
	if len(raw) > 0 && json.Unmarshal(raw, &f) == nil {
		return f, true
	}
	if s := str(raw); s != "" {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, true
		}
	}
	return 0, false
}

func num(raw json.RawMessage) float64 {
	f, _ := number(raw)
	return f
}

func object(raw json.RawMessage) json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	return append(json.RawMessage(nil), raw...)
}

// parseTimestamp reads epoch milliseconds (or seconds, for values below 1e12), or an
// RFC 3339 string.
func parseTimestamp(raw json.RawMessage) time.Time {
	if f, ok := number(raw); ok && f > 0 {
		if f < 1e12 {
			return time.UnixMilli(int64(f * 1000))
		}
		return time.UnixMilli(int64(f))
	}
	if s := str(raw); s != "" {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func shortJSONError(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	}
	s := err.Error()
	s = strings.TrimPrefix(s, "json: ")
	return s
}
