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
	// Type is message.type exactly as sent, with one exception: Vapi sends its campaign
	// events as type "campaign.event" with the event's name in eventType, and Type is that
	// name ("contact.completed"), so that they are shown, routed and recorded by name.
	// Kind is the normalised type: the literal `transcript[transcriptType="final"]`
	// becomes "transcript", and every campaign event (either spelling) "campaign.event".
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

	// AssistantTimeout and PhoneNumberTimeout are message.assistant.server.timeoutSeconds
	// and message.phoneNumber.server.timeoutSeconds exactly as sent (nil when absent):
	// Timing judges them, so that a bad value is reported rather than silently dropped.
	AssistantTimeout   json.RawMessage
	PhoneNumberTimeout json.RawMessage

	// campaign.predial and campaign events: the campaign's id.
	CampaignID string
	// Campaign events: EventType is message.eventType as sent ("" for a campaign event
	// sent under its own name as type), Data their details (contactId, callId,
	// endedReason, error, workflowId...; nil when absent).
	EventType string
	Data      json.RawMessage

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
	// voice-request: the sample rate of the PCM audio wanted
	SampleRate int
	// model-output
	Output json.RawMessage
	// model-output, user-interrupted
	TurnID string
	// handoff-destination-request
	Parameters json.RawMessage
	// conversation-update, knowledge-base-request
	Messages []LogMessage
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
	// TimeoutSeconds is the tool's server.timeoutSeconds (toolWithToolCallList[].server)
	// exactly as sent, nil when absent: how long Vapi waits for this tool's result.
	// Timing judges it (a string, zero or a value above 300 is not used).
	TimeoutSeconds json.RawMessage
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
//
// The body is decoded into typed fields by a fast decoder for the shapes Vapi sends, or by
// encoding/json for anything unusual; the raw bytes stay in Event.Body.
func Parse(body []byte) (*Message, error) { return parse(body, true) }

// parse is Parse; tryFast false leaves the body to encoding/json alone (the fuzz tests
// hold the two ways to one result).
func parse(body []byte, tryFast bool) (*Message, error) {
	var fw wireMessage
	sc := scratchPool.Get().(*wireScratch)
	defer putScratch(sc) // fill and detach copy what the Message keeps
	w := &fw
	fast := tryFast && fastDecodeInto(body, w, sc)
	if !fast {
		var env struct {
			Message *wireMessage `json:"message"`
		}
		err := json.Unmarshal(body, &env)
		var ute *json.UnmarshalTypeError
		if err != nil && !errors.As(err, &ute) {
			return nil, &ParseError{Reason: "body is not valid JSON: " + shortJSONError(err)}
		}
		w = env.Message
	}
	if w == nil || w.Type == "" {
		return nil, diagnose(body)
	}
	// A tool call is answered on Vapi's clock: its Message, one call and the raw bytes
	// detach copies are one allocation.
	var m *Message
	var calls []ToolCall
	var raw []byte
	if w.Type == TypeToolCalls || w.Type == TypeFunctionCall {
		tm := new(toolMessage)
		m, calls, raw = &tm.m, tm.calls[:0], tm.raw[:0]
	} else {
		m = new(Message)
	}
	m.Type, m.Kind = w.Type, w.Type
	if w.Type == TypeCampaignEvent && w.EventType != "" {
		m.Type = w.EventType
	}
	switch {
	case m.Type == TypeTranscriptFinal:
		m.Kind = TypeTranscript
	case w.Type == TypeCampaignEvent || IsCampaignEvent(m.Type):
		m.Kind = TypeCampaignEvent
	}
	m.Known = IsKnownType(m.Type)
	m.fill(w, calls)
	if fast {
		m.detach(raw)
	}
	return m, nil
}

// toolMessage is a Message with room for what a usual tool call holds besides: one call
// and its arguments.
type toolMessage struct {
	m     Message
	calls [1]ToolCall
	raw   [64]byte // 1072 bytes in all: the 1152-byte size class has room for 64
}

// detach copies the raw values m shares with the body, which the fast decoder does not copy
// (encoding/json does), so that a Message never holds on to its body's memory: a caller may
// reuse that. All of them go in buf when they fit, else in one allocation.
func (m *Message) detach(buf []byte) {
	n := len(m.AssistantTimeout) + len(m.PhoneNumberTimeout)
	for i := range m.ToolCalls {
		n += len(m.ToolCalls[i].Arguments) + len(m.ToolCalls[i].TimeoutSeconds)
	}
	if n == 0 {
		return
	}
	if cap(buf) < n {
		buf = make([]byte, 0, n)
	}
	clone := func(r *json.RawMessage) {
		if *r != nil {
			start := len(buf)
			buf = append(buf, *r...)
			*r = buf[start:len(buf):len(buf)]
		}
	}
	clone(&m.AssistantTimeout)
	clone(&m.PhoneNumberTimeout)
	for i := range m.ToolCalls {
		clone(&m.ToolCalls[i].Arguments)
		clone(&m.ToolCalls[i].TimeoutSeconds)
	}
}

// diagnose explains why a valid JSON body is not a Vapi message. It runs only on bad input.
func diagnose(body []byte) *ParseError {
	var probe struct {
		Message json.RawMessage `json:"message"`
	}
	if json.Unmarshal(body, &probe) != nil {
		return &ParseError{Reason: `body is JSON but not an object with a "message" object`}
	}
	if m := bytes.TrimSpace(probe.Message); len(m) == 0 || m[0] != '{' {
		return &ParseError{Reason: `body has no "message" object`}
	}
	return &ParseError{Reason: `message has no "type" string`}
}

// wireMessage is the union of the fields vapimon reads from any message, typed. Scalars whose
// type varies between senders stay raw. Decoding it is lenient by nature: encoding/json skips
// a field whose JSON type does not fit and carries on.
type wireMessage struct {
	Type           string          `json:"type"`
	Timestamp      json.RawMessage `json:"timestamp"`
	Call           wireCall        `json:"call"`
	Customer       Customer        `json:"customer"`
	PhoneNumber    wirePhoneNumber `json:"phoneNumber"`
	Assistant      wireAssistant   `json:"assistant"`
	Status         string          `json:"status"`
	EndedReason    string          `json:"endedReason"`
	Role           string          `json:"role"`
	TranscriptType string          `json:"transcriptType"`
	Transcript     string          `json:"transcript"`
	Turn           json.RawMessage `json:"turn"`
	ToolCallList   []wireToolCall  `json:"toolCallList"`
	ToolCalls      []wireToolCall  `json:"toolCalls"`
	// toolWithToolCallList repeats every call with its tool's definition, where the
	// async flag and the tool's server timeout are.
	ToolWith     []wireToolWith  `json:"toolWithToolCallList"`
	FunctionCall *wireToolCall   `json:"functionCall"`
	Cost         json.RawMessage `json:"cost"`
	Analysis     struct {
		Summary string `json:"summary"`
	} `json:"analysis"`
	Artifact struct {
		Transcript   string `json:"transcript"`
		RecordingURL string `json:"recordingUrl"`
		StereoURL    string `json:"stereoRecordingUrl"`
		Recording    struct {
			StereoURL string `json:"stereoUrl"`
			Mono      struct {
				CombinedURL string `json:"combinedUrl"`
			} `json:"mono"`
		} `json:"recording"`
		Messages []LogMessage `json:"messages"`
	} `json:"artifact"`
	StartedAt    string          `json:"startedAt"`
	EndedAt      string          `json:"endedAt"`
	Summary      string          `json:"summary"`
	RecordingURL string          `json:"recordingUrl"`
	StereoURL    string          `json:"stereoRecordingUrl"`
	Destination  json.RawMessage `json:"destination"`
	Request      string          `json:"request"`
	Language     string          `json:"language"`
	Text         string          `json:"text"`
	SampleRate   json.RawMessage `json:"sampleRate"`
	Input        string          `json:"input"`
	Output       json.RawMessage `json:"output"`
	TurnID       string          `json:"turnId"`
	Parameters   json.RawMessage `json:"parameters"`
	Messages     []LogMessage    `json:"messages"`
	CampaignID   string          `json:"campaignId"`
	EventType    string          `json:"eventType"`
	Data         json.RawMessage `json:"data"`
}

// wireServer is the part of Vapi's Server object vapimon reads.
type wireServer struct {
	TimeoutSeconds json.RawMessage `json:"timeoutSeconds"`
}

type wireAssistant struct {
	Assistant
	Server wireServer `json:"server"`
}

type wirePhoneNumber struct {
	PhoneNumber
	Server wireServer `json:"server"`
}

// wireToolWith is one entry of toolWithToolCallList: a tool call with its tool.
type wireToolWith struct {
	Async    bool `json:"async"`
	Function struct {
		Name string `json:"name"`
	} `json:"function"`
	Server   wireServer    `json:"server"`
	ToolCall *wireToolCall `json:"toolCall"`
}

type wireCall struct {
	Call
	CostBreakdown map[string]json.RawMessage `json:"costBreakdown"`
}

// costBreakdown keeps the numeric entries (analysisCostBreakdown is an object).
func (c *wireCall) costBreakdown() map[string]float64 {
	if len(c.CostBreakdown) == 0 {
		return nil
	}
	out := make(map[string]float64, len(c.CostBreakdown))
	for k, v := range c.CostBreakdown {
		if f, ok := number(v); ok {
			out[k] = f
		}
	}
	return out
}

type wireToolCall struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Arguments  json.RawMessage `json:"arguments"`
	Parameters json.RawMessage `json:"parameters"`
	Function   *wireFunction   `json:"function"`
}

// wireFunction is a tool call's function: {name, arguments}.
type wireFunction struct {
	Name       string          `json:"name"`
	Arguments  json.RawMessage `json:"arguments"`
	Parameters json.RawMessage `json:"parameters"`
}

// fill sets m's fields from w, the tool calls in calls' array when they fit.
func (m *Message) fill(w *wireMessage, calls []ToolCall) {
	m.Timestamp = parseTimestamp(w.Timestamp)
	m.Call = w.Call.Call
	m.Customer = w.Customer
	if m.Customer == (Customer{}) {
		m.Customer = m.Call.Customer
	}
	m.PhoneNumber = w.PhoneNumber.PhoneNumber
	m.Assistant = w.Assistant.Assistant
	m.AssistantTimeout = w.Assistant.Server.TimeoutSeconds
	m.PhoneNumberTimeout = w.PhoneNumber.Server.TimeoutSeconds
	m.CampaignID = w.CampaignID
	m.EventType = w.EventType
	m.Data = object(w.Data)
	m.Status = w.Status
	m.EndedReason = firstNonEmpty(w.EndedReason, m.Call.EndedReason)
	m.Role = w.Role
	m.TranscriptType = w.TranscriptType
	if m.Type == TypeTranscriptFinal && m.TranscriptType == "" {
		m.TranscriptType = "final"
	}
	m.Transcript = w.Transcript
	m.Turn = int(num(w.Turn))
	m.Destination = object(w.Destination)
	m.Request = w.Request
	m.Language = w.Language
	m.Text = firstNonEmpty(w.Text, w.Input)
	m.SampleRate = int(num(w.SampleRate))
	m.Output = object(w.Output)
	m.TurnID = w.TurnID
	m.Parameters = object(w.Parameters)
	m.Messages = w.Messages

	switch m.Kind {
	case TypeToolCalls:
		m.ToolCalls = w.toolCalls(calls)
	case TypeFunctionCall:
		if w.FunctionCall != nil {
			if tc, ok := w.FunctionCall.toolCall(); ok {
				m.ToolCalls = append(calls[:0], tc)
			}
		}
	case TypeEndOfCallReport:
		m.Cost = num(w.Cost)
		m.StartedAt = w.StartedAt
		m.EndedAt = w.EndedAt
		m.Summary = firstNonEmpty(w.Analysis.Summary, w.Summary) // top-level is legacy
		m.CallLog = w.Artifact.Transcript
		if m.CallLog == "" && m.Transcript != "" {
			m.CallLog, m.Transcript = m.Transcript, ""
		}
		m.RecordingURL = firstNonEmpty(w.Artifact.RecordingURL, w.Artifact.Recording.Mono.CombinedURL, w.RecordingURL)
		m.StereoURL = firstNonEmpty(w.Artifact.StereoURL, w.Artifact.Recording.StereoURL, w.StereoURL)
		if len(m.Messages) == 0 {
			m.Messages = w.Artifact.Messages
		}
		m.Call.CostBreakdown = w.Call.costBreakdown()
	}
	if m.Cost == 0 {
		m.Cost = m.Call.Cost
	}
}

// toolCalls reads toolCallList, falling back to the toolCalls list some payloads carry and
// to the toolCall inside toolWithToolCallList. The async flag and the tool's server timeout
// come from the toolWithToolCallList entry with the same call id (or, for a call without
// an id, the same tool name). They go in buf's array when they fit.
func (w *wireMessage) toolCalls(buf []ToolCall) []ToolCall {
	var byID map[string]*wireToolWith
	for _, list := range [][]wireToolCall{w.ToolCallList, w.ToolCalls} {
		out := buf[:0]
		if cap(out) < len(list) {
			out = make([]ToolCall, 0, len(list))
		}
		for i := range list {
			tc, ok := list[i].toolCall()
			if !ok {
				continue
			}
			if len(w.ToolWith) > 16 && byID == nil {
				byID = w.toolsByID() // many calls: keep the matching linear
			}
			if tw := w.toolFor(tc, byID); tw != nil {
				tc.Async, tc.TimeoutSeconds = tw.Async, tw.Server.TimeoutSeconds
			}
			out = append(out, tc)
		}
		if len(out) > 0 {
			return out
		}
	}
	fromWith := buf[:0]
	for i := range w.ToolWith {
		tw := &w.ToolWith[i]
		if tw.ToolCall == nil {
			continue
		}
		if tc, ok := tw.ToolCall.toolCall(); ok {
			tc.Async, tc.TimeoutSeconds = tw.Async, tw.Server.TimeoutSeconds
			fromWith = append(fromWith, tc)
		}
	}
	if len(fromWith) == 0 {
		return nil
	}
	return fromWith
}

func (w *wireMessage) toolsByID() map[string]*wireToolWith {
	m := make(map[string]*wireToolWith, len(w.ToolWith))
	for i := range w.ToolWith {
		if tc := w.ToolWith[i].ToolCall; tc != nil && tc.ID != "" {
			if _, dup := m[tc.ID]; !dup {
				m[tc.ID] = &w.ToolWith[i]
			}
		}
	}
	return m
}

// toolFor finds the toolWithToolCallList entry of tc: by call id, else (no id) by name.
func (w *wireMessage) toolFor(tc ToolCall, byID map[string]*wireToolWith) *wireToolWith {
	if tc.ID != "" {
		if byID != nil {
			return byID[tc.ID]
		}
		for i := range w.ToolWith {
			if c := w.ToolWith[i].ToolCall; c != nil && c.ID == tc.ID {
				return &w.ToolWith[i]
			}
		}
		return nil
	}
	for i := range w.ToolWith {
		tw := &w.ToolWith[i]
		name := tw.Function.Name
		if tw.ToolCall != nil {
			if c, ok := tw.ToolCall.toolCall(); ok && c.Name != "" {
				name = c.Name
			}
		}
		if name != "" && name == tc.Name {
			return tw
		}
	}
	return nil
}

// toolCall accepts {id, type, function: {name, arguments}} and the flat
// {id, name, arguments|parameters}, with arguments as an object or a JSON-encoded string.
func (tc *wireToolCall) toolCall() (ToolCall, bool) {
	out := ToolCall{ID: tc.ID, Name: tc.Name}
	args := tc.Arguments
	if len(args) == 0 {
		args = tc.Parameters
	}
	if f := tc.Function; f != nil {
		if f.Name != "" {
			out.Name = f.Name
		}
		if len(f.Arguments) > 0 {
			args = f.Arguments
		} else if len(f.Parameters) > 0 && len(args) == 0 {
			args = f.Parameters
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
	// A RawMessage filled by the decoder is valid JSON already: no second scan.
	return a
}

func str(raw json.RawMessage) string {
	var s string
	if len(raw) > 0 && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}

func number(raw json.RawMessage) (float64, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	if raw[0] != '"' {
		if len(raw) <= 15 && allDigits(raw) {
			// An integer (epoch milliseconds): exact in a float64, as ParseFloat makes it.
			var n int64
			for _, c := range raw {
				n = n*10 + int64(c-'0')
			}
			return float64(n), true
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		return f, err == nil
	}
	if s := str(raw); s != "" {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, true
		}
	}
	return 0, false
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
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
