package webhook

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseEveryType(t *testing.T) {
	t.Parallel()
	const call = `"call":{"id":"call-1","type":"inboundPhoneCall","customer":{"number":"+14155550123"}}`
	tests := []struct {
		typ   string
		extra string
		check func(t *testing.T, m *Message)
	}{
		{TypeAssistantRequest, `"phoneNumber":{"number":"+14155550100","name":"Support line"},"customer":{"number":"+14155550123"}`, func(t *testing.T, m *Message) {
			if m.PhoneNumber.Number != "+14155550100" || m.Customer.Number != "+14155550123" {
				t.Errorf("phone/customer = %+v %+v", m.PhoneNumber, m.Customer)
			}
		}},
		{TypeToolCalls, `"toolCallList":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":{"location":"Paris"}}}],"toolWithToolCallList":[]`, func(t *testing.T, m *Message) {
			if len(m.ToolCalls) != 1 || m.ToolCalls[0].Name != "get_weather" || string(m.ToolCalls[0].Arguments) != `{"location":"Paris"}` {
				t.Errorf("tool calls = %+v", m.ToolCalls)
			}
		}},
		{TypeTransferDestinationRequest, ``, nil},
		{TypeHandoffDestinationRequest, `"parameters":{"destination":"billing"}`, func(t *testing.T, m *Message) {
			if !strings.Contains(string(m.Parameters), "billing") {
				t.Errorf("parameters = %s", m.Parameters)
			}
		}},
		{TypeKnowledgeBaseRequest, `"messages":[{"role":"user","message":"hours?"}],"messagesOpenAIFormatted":[]`, func(t *testing.T, m *Message) {
			if len(m.Messages) != 1 || m.Messages[0].Message != "hours?" {
				t.Errorf("messages = %+v", m.Messages)
			}
		}},
		{TypeVoiceRequest, `"text":"Hello there","sampleRate":24000`, func(t *testing.T, m *Message) {
			if m.Text != "Hello there" {
				t.Errorf("text = %q", m.Text)
			}
		}},
		{TypeCallEndpointingRequest, `"messages":[],"messagesOpenAIFormatted":[]`, nil},
		{TypeCampaignPredial, `"campaignId":"camp-1","contact":{"number":"+14155550199"}`, nil},
		{TypeFunctionCall, `"functionCall":{"name":"get_weather","parameters":"{\"location\":\"Oslo\"}"}`, func(t *testing.T, m *Message) {
			if len(m.ToolCalls) != 1 || m.ToolCalls[0].Name != "get_weather" || string(m.ToolCalls[0].Arguments) != `{"location":"Oslo"}` {
				t.Errorf("function call = %+v", m.ToolCalls)
			}
		}},
		{TypeStatusUpdate, `"status":"ended","endedReason":"customer-ended-call"`, func(t *testing.T, m *Message) {
			if m.Status != "ended" || m.EndedReason != "customer-ended-call" {
				t.Errorf("status = %q %q", m.Status, m.EndedReason)
			}
		}},
		{TypeEndOfCallReport, `"endedReason":"customer-ended-call","cost":0.0734,"analysis":{"summary":"Weather in Paris."},"artifact":{"transcript":"AI: Hi\nUser: Hello","recordingUrl":"https://storage.vapi.ai/x-mono.wav","stereoRecordingUrl":"https://storage.vapi.ai/x-stereo.wav","messages":[]},"call":{"id":"call-1","customer":{"number":"+14155550123"},"costBreakdown":{"llm":0.0112,"total":0.0734,"analysisCostBreakdown":{"summary":0.001}}}`, func(t *testing.T, m *Message) {
			if len(m.Call.CostBreakdown) != 2 || m.Call.CostBreakdown["total"] != 0.0734 {
				t.Errorf("cost breakdown = %v", m.Call.CostBreakdown)
			}
			if m.Cost != 0.0734 || m.Summary != "Weather in Paris." || m.RecordingURL != "https://storage.vapi.ai/x-mono.wav" || m.StereoURL == "" || !strings.Contains(m.CallLog, "User: Hello") {
				t.Errorf("report = cost %v summary %q rec %q log %q", m.Cost, m.Summary, m.RecordingURL, m.CallLog)
			}
		}},
		{TypeConversationUpdate, `"messages":[{"role":"bot","message":"Hi"},{"role":"user","message":"Hello"}],"messagesOpenAIFormatted":[]`, func(t *testing.T, m *Message) {
			if len(m.Messages) != 2 {
				t.Errorf("messages = %+v", m.Messages)
			}
		}},
		{TypeTranscript, `"role":"user","transcriptType":"partial","transcript":"What's the weather"`, func(t *testing.T, m *Message) {
			if m.Role != "user" || m.TranscriptType != "partial" || m.Transcript != "What's the weather" {
				t.Errorf("transcript = %q %q %q", m.Role, m.TranscriptType, m.Transcript)
			}
		}},
		{TypeSpeechUpdate, `"status":"started","role":"assistant","turn":3`, func(t *testing.T, m *Message) {
			if m.Status != "started" || m.Role != "assistant" || m.Turn != 3 {
				t.Errorf("speech = %q %q %d", m.Status, m.Role, m.Turn)
			}
		}},
		{TypeHang, ``, nil},
		{TypeModelOutput, `"output":{"content":"Sure"},"turnId":"t-9"`, func(t *testing.T, m *Message) {
			if m.TurnID != "t-9" || !strings.Contains(string(m.Output), "Sure") {
				t.Errorf("model output = %q %s", m.TurnID, m.Output)
			}
		}},
		{TypeUserInterrupted, `"turnId":"t-9"`, func(t *testing.T, m *Message) {
			if m.TurnID != "t-9" {
				t.Errorf("turnId = %q", m.TurnID)
			}
		}},
		{TypeTransferUpdate, `"destination":{"type":"number","number":"+14155550142"}`, func(t *testing.T, m *Message) {
			if !strings.Contains(string(m.Destination), "+14155550142") {
				t.Errorf("destination = %s", m.Destination)
			}
		}},
		{TypeLanguageChangeDetected, `"language":"fr"`, func(t *testing.T, m *Message) {
			if m.Language != "fr" {
				t.Errorf("language = %q", m.Language)
			}
		}},
		{TypePhoneCallControl, `"request":"forward","destination":{"type":"number","number":"+14155550142"}`, func(t *testing.T, m *Message) {
			if m.Request != "forward" {
				t.Errorf("request = %q", m.Request)
			}
		}},
		{TypeVoiceInput, `"input":"Please hold"`, func(t *testing.T, m *Message) {
			if m.Text != "Please hold" {
				t.Errorf("input = %q", m.Text)
			}
		}},
		{TypeAssistantSpeechStarted, `"text":"Let me check","turn":2,"source":"model"`, func(t *testing.T, m *Message) {
			if m.Text != "Let me check" || m.Turn != 2 {
				t.Errorf("speech started = %q %d", m.Text, m.Turn)
			}
		}},
		{TypeAssistantStarted, ``, nil},
		{TypeLanguageChanged, `"language":"de"`, nil},
		{TypeCallArtifactUpload, `"artifacts":[]`, nil},
		{TypeChatCreated, `"chat":{"id":"chat-1"}`, nil},
		{TypeChatDeleted, `"chat":{"id":"chat-1"}`, nil},
		{TypeSessionCreated, `"session":{"id":"s-1"}`, nil},
		{TypeSessionUpdated, `"session":{"id":"s-1"}`, nil},
		{TypeSessionDeleted, `"session":{"id":"s-1"}`, nil},
		{TypeCallDeleted, ``, nil},
		{TypeCallDeleteFailed, ``, nil},
		{TypeCampaignStarted, `"campaignId":"camp-1","data":{"workflowId":"w-1"}`, nil},
		{TypeCampaignCancelled, `"campaignId":"camp-1","data":{"endedReason":"campaign.in-progress.ended-by-user"}`, nil},
		{TypeCampaignEnded, `"campaignId":"camp-1","data":{"endedReason":"campaign.ended.success"}`, nil},
		{TypeCampaignArchived, `"campaignId":"camp-1","data":{}`, nil},
		{TypeCampaignUnarchived, `"campaignId":"camp-1","data":{}`, nil},
		{TypeContactDispatched, `"campaignId":"camp-1","data":{"contactId":"k1"}`, nil},
		{TypeContactCompleted, `"campaignId":"camp-1","data":{"contactId":"k1","callId":"call-1"}`, func(t *testing.T, m *Message) {
			if m.CampaignID != "camp-1" || !strings.Contains(string(m.Data), "k1") || m.Kind != TypeCampaignEvent {
				t.Errorf("campaign %q data %s kind %q", m.CampaignID, m.Data, m.Kind)
			}
		}},
		{TypeContactFailed, `"campaignId":"camp-1","data":{"contactId":"k1"}`, nil},
		{TypeContactSkipped, `"campaignId":"camp-1","data":{"contactId":"k1"}`, nil},
		{TypeContactPredialFailed, `"campaignId":"camp-1","data":{"contactId":"k1","error":"timeout"}`, nil},
		{TypeCampaignJobContinued, `"campaignId":"camp-1","data":{}`, nil},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.typ] = true
		t.Run(tt.typ, func(t *testing.T) {
			t.Parallel()
			fields := `"type":"` + tt.typ + `","timestamp":1760000001200,` + call
			if tt.extra != "" {
				fields += "," + tt.extra
			}
			m := mustParse(t, `{"message":{`+fields+`}}`)
			if m.Type != tt.typ || !m.Known {
				t.Fatalf("Type %q Known %v", m.Type, m.Known)
			}
			if m.Call.ID != "call-1" || m.Customer.Number != "+14155550123" {
				t.Errorf("call = %+v customer %+v", m.Call, m.Customer)
			}
			if want := time.UnixMilli(1760000001200); !m.Timestamp.Equal(want) {
				t.Errorf("timestamp = %v, want %v", m.Timestamp, want)
			}
			if tt.check != nil {
				tt.check(t, m)
			}
		})
	}
	for _, k := range KnownTypes {
		if !seen[k] {
			t.Errorf("no parser test for %s", k)
		}
	}
}

func TestParseTranscriptFinalLiteral(t *testing.T) {
	t.Parallel()
	m := mustParse(t, `{"message":{"type":"transcript[transcriptType=\"final\"]","role":"assistant","transcript":"Hi Ada"}}`)
	if m.Kind != TypeTranscript || !m.Known || m.TranscriptType != "final" || m.Transcript != "Hi Ada" {
		t.Fatalf("got kind %q known %v type %q text %q", m.Kind, m.Known, m.TranscriptType, m.Transcript)
	}
}

func TestParseToolCallShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		wantName   string
		wantArgs   string
	}{
		{"nested object", `{"id":"c1","type":"function","function":{"name":"f","arguments":{"a":1}}}`, "f", `{"a":1}`},
		{"nested string", `{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}`, "f", `{"a":1}`},
		{"flat arguments object", `{"id":"c1","name":"f","arguments":{"a":1}}`, "f", `{"a":1}`},
		{"flat arguments string", `{"id":"c1","name":"f","arguments":"{\"a\":1}"}`, "f", `{"a":1}`},
		{"flat parameters", `{"id":"c1","name":"f","parameters":{"a":1}}`, "f", `{"a":1}`},
		{"empty string args", `{"id":"c1","name":"f","arguments":""}`, "f", `{}`},
		{"missing args", `{"id":"c1","function":{"name":"f"}}`, "f", `{}`},
		{"non-JSON string args", `{"id":"c1","name":"f","arguments":"Paris"}`, "f", `"Paris"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := mustParse(t, `{"message":{"type":"tool-calls","toolCallList":[`+tt.body+`]}}`)
			if len(m.ToolCalls) != 1 {
				t.Fatalf("tool calls = %+v", m.ToolCalls)
			}
			tc := m.ToolCalls[0]
			if tc.ID != "c1" || tc.Name != tt.wantName || string(tc.Arguments) != tt.wantArgs {
				t.Errorf("got %+v args %s", tc, tc.Arguments)
			}
		})
	}
}

func TestParseToolCallsFallbacks(t *testing.T) {
	t.Parallel()
	// Only toolWithToolCallList carries the calls; async comes from the tool definition.
	m := mustParse(t, `{"message":{"type":"tool-calls","toolWithToolCallList":[
		{"type":"function","async":true,"function":{"name":"log_lead"},"toolCall":{"id":"c9","type":"function","function":{"name":"log_lead","arguments":{"x":"y"}}}}]}}`)
	if len(m.ToolCalls) != 1 || m.ToolCalls[0].ID != "c9" || !m.ToolCalls[0].Async {
		t.Fatalf("got %+v", m.ToolCalls)
	}
	// The legacy toolCalls list is used when toolCallList is absent.
	m = mustParse(t, `{"message":{"type":"tool-calls","toolCalls":[{"id":"c2","name":"g","arguments":{}}]}}`)
	if len(m.ToolCalls) != 1 || m.ToolCalls[0].Name != "g" {
		t.Fatalf("got %+v", m.ToolCalls)
	}
}

func TestParseUnknownTypeKept(t *testing.T) {
	t.Parallel()
	body := `{"message":{"type":"brand-new-event","foo":[1,2,3]}}`
	m := mustParse(t, body)
	if m.Known || m.Type != "brand-new-event" {
		t.Fatalf("got known %v type %q", m.Known, m.Type)
	}
}

func TestParseTolerant(t *testing.T) {
	t.Parallel()
	// Wrong field shapes are ignored, not fatal.
	m := mustParse(t, `{"message":{"type":"status-update","status":42,"call":"not-an-object","timestamp":"2025-10-09T10:00:00Z","turn":"x"}}`)
	if m.Status != "" || m.Call.ID != "" {
		t.Errorf("got %+v", m)
	}
	if m.Timestamp.IsZero() {
		t.Errorf("RFC 3339 timestamp not read")
	}
	// Seconds are read as seconds.
	m = mustParse(t, `{"message":{"type":"hang","timestamp":1760000000}}`)
	if m.Timestamp.Unix() != 1760000000 {
		t.Errorf("seconds timestamp = %v", m.Timestamp)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ body, want string }{
		{``, "not valid JSON"},
		{`{"message":`, "not valid JSON"},
		{`[1,2]`, `not an object with a "message" object`},
		{`{}`, `no "message" object`},
		{`{"message":"hi"}`, `no "message" object`},
		{`{"message":{}}`, `no "type" string`},
		{`{"message":{"type":7}}`, `no "type" string`},
		{`{"message":{"type":""}}`, `no "type" string`},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.body))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want error containing %q", tt.body, err, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"message":{"type":"tool-calls","toolCallList":[{"id":"c1","function":{"name":"f","arguments":"{\"a\":1}"}}]}}`,
		`{"message":{"type":"end-of-call-report","artifact":{"transcript":"x"},"analysis":{"summary":"y"},"call":{"costBreakdown":{"total":1}}}}`,
		`{"message":{"type":"function-call","functionCall":{"name":"f","parameters":{}}}}`,
		`{"message":{"type":"transcript[transcriptType=\"final\"]"}}`,
		`{"message":{"type":"x","toolCallList":"oops"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := Parse(body)
		if err != nil {
			if m != nil {
				t.Fatal("message and error both returned")
			}
			return
		}
		if m.Type == "" {
			t.Fatal("accepted a message without a type")
		}
		for _, tc := range m.ToolCalls {
			if !json.Valid(tc.Arguments) {
				t.Fatalf("arguments not JSON: %q", tc.Arguments)
			}
		}
	})
}

func TestParseServerTimeouts(t *testing.T) {
	t.Parallel()
	m := mustParse(t, `{"message":{"type":"tool-calls",
		"assistant":{"id":"a1","name":"Riley","server":{"url":"https://x","timeoutSeconds":30}},
		"phoneNumber":{"number":"+14155550100","server":{"timeoutSeconds":"25"}},
		"toolCallList":[{"id":"c1","function":{"name":"get_weather","arguments":{}}},{"id":"c2","function":{"name":"book","arguments":{}}},{"function":{"name":"noid"}}],
		"toolWithToolCallList":[
			{"type":"function","function":{"name":"book"},"server":{"url":"https://y","timeoutSeconds":-1},"toolCall":{"id":"c2"}},
			{"type":"function","async":true,"function":{"name":"get_weather"},"server":{"timeoutSeconds":4},"toolCall":{"id":"c1"}},
			{"type":"function","function":{"name":"noid"},"server":{"timeoutSeconds":9}}]}}`)
	if string(m.AssistantTimeout) != "30" || string(m.PhoneNumberTimeout) != `"25"` || m.Assistant.Name != "Riley" || m.PhoneNumber.Number != "+14155550100" {
		t.Fatalf("assistant %q phone %q (%+v %+v)", m.AssistantTimeout, m.PhoneNumberTimeout, m.Assistant, m.PhoneNumber)
	}
	if len(m.ToolCalls) != 3 {
		t.Fatalf("tool calls = %+v", m.ToolCalls)
	}
	// Matched by call id, whatever the order of toolWithToolCallList; a call without an id
	// by its tool's name.
	for i, want := range []struct {
		timeout string
		async   bool
	}{{"4", true}, {"-1", false}, {"9", false}} {
		if tc := m.ToolCalls[i]; string(tc.TimeoutSeconds) != want.timeout || tc.Async != want.async {
			t.Errorf("call %d: timeout %q async %v, want %q %v", i, tc.TimeoutSeconds, tc.Async, want.timeout, want.async)
		}
	}
}

// TestParseManyToolCallsMatchesByID: with many calls the matching goes through a map; it
// must give the same answer as the linear search.
func TestParseManyToolCallsMatchesByID(t *testing.T) {
	t.Parallel()
	var list, with []string
	for i := 0; i < 40; i++ {
		list = append(list, fmt.Sprintf(`{"id":"c%d","function":{"name":"f%d"}}`, i, i))
		with = append(with, fmt.Sprintf(`{"server":{"timeoutSeconds":%d},"toolCall":{"id":"c%d"}}`, 39-i+1, 39-i))
	}
	m := mustParse(t, `{"message":{"type":"tool-calls","toolCallList":[`+strings.Join(list, ",")+`],"toolWithToolCallList":[`+strings.Join(with, ",")+`]}}`)
	for i, tc := range m.ToolCalls {
		if want := strconv.Itoa(i + 1); string(tc.TimeoutSeconds) != want {
			t.Fatalf("call %d: timeout %q, want %s", i, tc.TimeoutSeconds, want)
		}
	}
}

func TestParseCampaignEvents(t *testing.T) {
	t.Parallel()
	// As Vapi's campaign docs show them: type campaign.event, the name in eventType.
	m := mustParse(t, `{"message":{"type":"campaign.event","timestamp":1787266800000,"campaignId":"camp-1","eventType":"contact.completed","data":{"contactId":"k1","callId":"call-9","endedReason":"customer-ended-call"}}}`)
	if m.Type != TypeContactCompleted || m.Kind != TypeCampaignEvent || !m.Known || m.EventType != TypeContactCompleted || m.CampaignID != "camp-1" || !strings.Contains(string(m.Data), "call-9") {
		t.Fatalf("got type %q kind %q known %v event %q campaign %q data %s", m.Type, m.Kind, m.Known, m.EventType, m.CampaignID, m.Data)
	}
	// Under its own name as the type.
	m = mustParse(t, `{"message":{"type":"campaign.started","campaignId":"camp-1","data":{}}}`)
	if m.Type != TypeCampaignStarted || m.Kind != TypeCampaignEvent || !m.Known {
		t.Fatalf("got type %q kind %q known %v", m.Type, m.Kind, m.Known)
	}
	// An event vapimon does not know yet is kept, and shown by its name.
	m = mustParse(t, `{"message":{"type":"campaign.event","eventType":"contact.rescheduled"}}`)
	if m.Type != "contact.rescheduled" || m.Kind != TypeCampaignEvent || m.Known {
		t.Fatalf("got type %q kind %q known %v", m.Type, m.Kind, m.Known)
	}
	// The envelope without a name, or with a name that is not a string.
	for _, body := range []string{`{"message":{"type":"campaign.event"}}`, `{"message":{"type":"campaign.event","eventType":7}}`} {
		m = mustParse(t, body)
		if m.Type != TypeCampaignEvent || m.Kind != TypeCampaignEvent || !m.Known {
			t.Fatalf("%s: got type %q kind %q known %v", body, m.Type, m.Kind, m.Known)
		}
	}
	for _, typ := range campaignEvents {
		if ExpectsReply(typ) || !IsKnownType(typ) {
			t.Errorf("%s: expects reply %v, known %v", typ, ExpectsReply(typ), IsKnownType(typ))
		}
	}
	if len(campaignEvents) != 11 {
		t.Errorf("%d campaign events, want the 11 of Campaign.serverMessages", len(campaignEvents))
	}
}

// TestNumberIntegersAsParseFloat: number's integer shortcut gives what ParseFloat gives.
func TestNumberIntegersAsParseFloat(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"0", "7", "1760000006200", "999999999999999", "9999999999999999", "123456789012345678", "-5", "-0", "1.5", "1e3", `"12"`} {
		got, ok := number(json.RawMessage(s))
		want, err := strconv.ParseFloat(strings.Trim(s, `"`), 64)
		if !ok || err != nil || got != want || math.Signbit(got) != math.Signbit(want) {
			t.Errorf("number(%s) = %v, %v; ParseFloat says %v, %v", s, got, ok, want, err)
		}
	}
}
