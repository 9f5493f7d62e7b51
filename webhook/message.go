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
func Parse(body []byte) (*Message, error) {
	w, ok := fastDecode(body)
	if !ok {
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
	m := &Message{Type: w.Type, Kind: w.Type}
	if w.Type == TypeTranscriptFinal {
		m.Kind = TypeTranscript
	}
	m.Known = IsKnownType(w.Type)
	m.fill(w)
	return m, nil
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
	PhoneNumber    PhoneNumber     `json:"phoneNumber"`
	Assistant      Assistant       `json:"assistant"`
	Status         string          `json:"status"`
	EndedReason    string          `json:"endedReason"`
	Role           string          `json:"role"`
	TranscriptType string          `json:"transcriptType"`
	Transcript     string          `json:"transcript"`
	Turn           json.RawMessage `json:"turn"`
	ToolCallList   []wireToolCall  `json:"toolCallList"`
	ToolCalls      []wireToolCall  `json:"toolCalls"`
	// toolWithToolCallList repeats every call with its tool's definition: it is kept raw
	// and read only when needed (async flags, or no toolCallList).
	ToolWithList json.RawMessage `json:"toolWithToolCallList"`
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
	Function   *struct {
		Name       string          `json:"name"`
		Arguments  json.RawMessage `json:"arguments"`
		Parameters json.RawMessage `json:"parameters"`
	} `json:"function"`
}

func (m *Message) fill(w *wireMessage) {
	m.Timestamp = parseTimestamp(w.Timestamp)
	m.Call = w.Call.Call
	m.Customer = w.Customer
	if m.Customer == (Customer{}) {
		m.Customer = m.Call.Customer
	}
	m.PhoneNumber = w.PhoneNumber
	m.Assistant = w.Assistant
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
		m.ToolCalls = w.toolCalls()
	case TypeFunctionCall:
		if w.FunctionCall != nil {
			if tc, ok := w.FunctionCall.toolCall(); ok {
				m.ToolCalls = []ToolCall{tc}
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
// to the toolCall inside toolWithToolCallList. The async flag comes from the tool definition
// with the same call id.
func (w *wireMessage) toolCalls() []ToolCall {
	var withList []struct {
		Async    bool          `json:"async"`
		ToolCall *wireToolCall `json:"toolCall"`
	}
	if hasAsyncTrue(w.ToolWithList) || (len(w.ToolCallList) == 0 && len(w.ToolCalls) == 0) {
		_ = json.Unmarshal(w.ToolWithList, &withList) // shape errors leave it partly filled: tolerated
	}
	async := map[string]bool{}
	var fromWith []ToolCall
	for _, tw := range withList {
		if tw.ToolCall == nil {
			continue
		}
		if tc, ok := tw.ToolCall.toolCall(); ok {
			tc.Async = tw.Async
			async[tc.ID] = tw.Async
			fromWith = append(fromWith, tc)
		}
	}
	for _, list := range [][]wireToolCall{w.ToolCallList, w.ToolCalls} {
		var out []ToolCall
		for i := range list {
			if tc, ok := list[i].toolCall(); ok {
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

// hasAsyncTrue reports whether raw has a key "async" whose value is true, without decoding.
func hasAsyncTrue(raw []byte) bool {
	key := []byte(`"async"`)
	for {
		i := bytes.Index(raw, key)
		if i < 0 {
			return false
		}
		raw = bytes.TrimLeft(raw[i+len(key):], " \t\r\n")
		if len(raw) > 0 && raw[0] == ':' {
			if v := bytes.TrimLeft(raw[1:], " \t\r\n"); bytes.HasPrefix(v, []byte("true")) {
				return true
			}
		}
	}
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
