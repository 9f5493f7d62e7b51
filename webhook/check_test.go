package webhook

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

const (
	checkToolCalls2 = `{"message":{"type":"tool-calls","toolCallList":[
		{"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":{"location":"Paris"}}},
		{"id":"call_def","type":"function","function":{"name":"get_time","arguments":"{\"tz\":\"CET\"}"}}]}}`
	checkToolCalls1 = `{"message":{"type":"tool-calls","toolCallList":[
		{"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":{}}}]}}`
	checkToolCallsAsync = `{"message":{"type":"tool-calls",
		"toolCallList":[{"id":"call_abc","type":"function","function":{"name":"log_it","arguments":{}}}],
		"toolWithToolCallList":[{"type":"function","async":true,"function":{"name":"log_it"},
			"toolCall":{"id":"call_abc","type":"function","function":{"name":"log_it","arguments":{}}}}]}}`
)

func mustParse(t *testing.T, body string) *Message {
	t.Helper()
	m, err := Parse([]byte(body))
	if err != nil {
		t.Fatalf("Parse(%s): %v", body, err)
	}
	return m
}

func typed(typ string) string { return `{"message":{"type":"` + typ + `"}}` }

func TestCheckReply(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		msg    string // request body; "" for a nil message
		status int
		body   string
		want   []string
	}{
		// tool-calls
		{"tool ok", checkToolCalls2, 200,
			`{"results":[{"toolCallId":"call_abc","name":"get_weather","result":"18C"},{"toolCallId":"call_def","error":"down"}]}`, nil},
		{"tool ok any order", checkToolCalls2, 200,
			`{"results":[{"toolCallId":"call_def","result":"12:00"},{"toolCallId":"call_abc","result":""}]}`, nil},
		{"tool 500", checkToolCalls1, 500, `{"error":"boom"}`,
			[]string{`HTTP 500: Vapi ignores non-200 tool replies ("no result returned")`}},
		{"tool 201", checkToolCalls1, 201, `{"results":[{"toolCallId":"call_abc","result":"x"}]}`,
			[]string{`HTTP 201: Vapi ignores non-200 tool replies ("no result returned")`}},
		{"tool not json", checkToolCalls1, 200, `results: ok`, []string{"body is not JSON"}},
		{"tool empty body", checkToolCalls1, 200, ``, []string{"body is empty: Vapi needs a JSON object"}},
		{"tool array body", checkToolCalls1, 200, `[1]`, []string{"body is a list, not a JSON object"}},
		{"tool results missing", checkToolCalls1, 200, `{}`, []string{"results is missing"}},
		{"tool legacy result", checkToolCalls1, 200, `{"result":"18C"}`,
			[]string{`results is missing (found "result": Vapi wants {"results":[{"toolCallId":…,"result":…}]})`}},
		{"tool top-level error", checkToolCalls1, 200, `{"error":"tool broke"}`, nil},
		{"tool results object", checkToolCalls1, 200, `{"results":{"toolCallId":"call_abc"}}`,
			[]string{"results is an object, not a list"}},
		{"tool id missing", checkToolCalls1, 200, `{"results":[{"result":"x"}]}`,
			[]string{"results[0].toolCallId is missing", "no result for tool call call_abc (get_weather)"}},
		{"tool id number", checkToolCalls1, 200, `{"results":[{"toolCallId":7,"result":"x"}]}`,
			[]string{"results[0].toolCallId is a number, not a string", "no result for tool call call_abc (get_weather)"}},
		{"tool id mismatch", checkToolCalls2, 200,
			`{"results":[{"toolCallId":"call_abc","result":"a"},{"toolCallId":"x","result":"b"}]}`,
			[]string{`results[1].toolCallId "x" does not match any tool call (expected call_def)`, "no result for tool call call_def (get_time)"}},
		{"tool id hostile", checkToolCalls1, 200, "{\"results\":[{\"toolCallId\":\"\\u001b[31mx\\u202e\",\"result\":\"b\"}]}",
			[]string{`results[0].toolCallId "\x1b[31mx\u202e" does not match any tool call (expected call_abc)`, "no result for tool call call_abc (get_weather)"}},
		{"tool duplicate id", checkToolCalls2, 200,
			`{"results":[{"toolCallId":"call_abc","result":"a"},{"toolCallId":"call_abc","result":"b"}]}`,
			[]string{`results[1].toolCallId "call_abc" repeats results[0]`, "no result for tool call call_def (get_time)"}},
		{"tool too few", checkToolCalls2, 200, `{"results":[{"toolCallId":"call_abc","result":"a"}]}`,
			[]string{"results has 1 entry for 2 tool calls", "no result for tool call call_def (get_time)"}},
		{"tool too many", checkToolCalls1, 200,
			`{"results":[{"toolCallId":"call_abc","result":"a"},{"toolCallId":"call_abc","result":"b"}]}`,
			[]string{"results has 2 entries for 1 tool call", `results[1].toolCallId "call_abc" repeats results[0]`}},
		{"tool empty results", checkToolCalls1, 200, `{"results":[]}`,
			[]string{"results has 0 entries for 1 tool call", "no result for tool call call_abc (get_weather)"}},
		{"tool neither", checkToolCalls1, 200, `{"results":[{"toolCallId":"call_abc","name":"get_weather"}]}`,
			[]string{"results[0] has neither result nor error"}},
		{"tool result object", checkToolCalls1, 200, `{"results":[{"toolCallId":"call_abc","result":{"t":18}}]}`,
			[]string{"results[0].result is not a string (it is an object)"}},
		{"tool result null", checkToolCalls1, 200, `{"results":[{"toolCallId":"call_abc","result":null}]}`,
			[]string{"results[0].result is not a string (it is null)"}},
		{"tool null result with error", checkToolCalls1, 200, `{"results":[{"toolCallId":"call_abc","result":null,"error":"no"}]}`, nil},
		{"tool result line breaks", checkToolCalls1, 200, `{"results":[{"toolCallId":"call_abc","result":"a\nb"}]}`,
			[]string{"results[0].result has line breaks: Vapi wants single-line strings"}},
		{"tool error line breaks", checkToolCalls1, 200, `{"results":[{"toolCallId":"call_abc","error":"a\r\nb"}]}`,
			[]string{"results[0].error has line breaks: Vapi wants single-line strings"}},
		{"tool entry not object", checkToolCalls1, 200, `{"results":["18C"]}`,
			[]string{"results[0] is a string, not an object", "no result for tool call call_abc (get_weather)"}},
		{"tool async any 2xx", checkToolCallsAsync, 202, ``, nil},
		{"tool async 500", checkToolCallsAsync, 500, ``, []string{"HTTP 500: Vapi expects a 2xx reply to tool-calls"}},

		// function-call (legacy)
		{"function ok", `{"message":{"type":"function-call","functionCall":{"name":"f","parameters":{}}}}`, 200, `{"result":"ok"}`, nil},
		{"function missing", `{"message":{"type":"function-call","functionCall":{"name":"f"}}}`, 200, `{}`, []string{"result is missing"}},
		{"function 404", `{"message":{"type":"function-call","functionCall":{"name":"f"}}}`, 404, `{}`,
			[]string{`HTTP 404: Vapi ignores non-200 tool replies ("no result returned")`}},

		// assistant-request
		{"assistant id", typed(TypeAssistantRequest), 200, `{"assistantId":"5a6b","assistantOverrides":{"variableValues":{"n":"Ada"}}}`, nil},
		{"assistant inline", typed(TypeAssistantRequest), 200, `{"assistant":{"firstMessage":"hi"}}`, nil},
		{"assistant squad", typed(TypeAssistantRequest), 200, `{"squadId":"s1"}`, nil},
		{"assistant workflow", typed(TypeAssistantRequest), 200, `{"workflow":{}}`, nil},
		{"assistant destination", typed(TypeAssistantRequest), 200, `{"destination":{"type":"number","number":"+1"}}`, nil},
		{"assistant error", typed(TypeAssistantRequest), 200, `{"error":"closed today"}`, nil},
		{"assistant none", typed(TypeAssistantRequest), 200, `{"assistantOverrides":{}}`,
			[]string{"reply has none of assistantId, assistant, squadId, squad, workflowId, workflow, destination or error"}},
		{"assistant null id", typed(TypeAssistantRequest), 200, `{"assistantId":null}`,
			[]string{"reply has none of assistantId, assistant, squadId, squad, workflowId, workflow, destination or error"}},
		{"assistant empty id", typed(TypeAssistantRequest), 200, `{"assistantId":" "}`, []string{"assistantId is empty"}},
		{"assistant id object", typed(TypeAssistantRequest), 200, `{"assistantId":{"id":"x"}}`, []string{"assistantId is an object, not a string"}},
		{"assistant 500", typed(TypeAssistantRequest), 500, `{}`, []string{"HTTP 500: Vapi ignores non-200 replies to assistant-request"}},

		// transfer-destination-request
		{"transfer ok", typed(TypeTransferDestinationRequest), 200, `{"destination":{"type":"number","number":"+14155550100"},"message":"Transferring"}`, nil},
		{"transfer error", typed(TypeTransferDestinationRequest), 200, `{"error":"nobody free"}`, nil},
		{"transfer none", typed(TypeTransferDestinationRequest), 200, `{"message":"hold on"}`, []string{"reply has neither destination nor error"}},
		{"transfer dest string", typed(TypeTransferDestinationRequest), 200, `{"destination":"+1415"}`, []string{"destination is a string, not an object"}},

		// handoff-destination-request
		{"handoff ok", typed(TypeHandoffDestinationRequest), 200, `{"destination":{"type":"assistant","assistantName":"Billing"}}`, nil},
		{"handoff missing", typed(TypeHandoffDestinationRequest), 200, `{"error":"no"}`, []string{"destination is missing"}},

		// knowledge-base-request
		{"kb ok", typed(TypeKnowledgeBaseRequest), 200, `{"documents":[{"content":"Open 9-5","similarity":0.92,"uuid":"d1"}]}`, nil},
		{"kb message", typed(TypeKnowledgeBaseRequest), 200, `{"message":{"role":"assistant","content":"We open at 9."}}`, nil},
		{"kb empty docs", typed(TypeKnowledgeBaseRequest), 200, `{"documents":[]}`, nil},
		{"kb nothing", typed(TypeKnowledgeBaseRequest), 200, `{}`, []string{"reply has neither documents nor message"}},
		{"kb bad docs", typed(TypeKnowledgeBaseRequest), 200, `{"documents":[{"text":"x"},{"content":1,"similarity":"high"},"x"]}`,
			[]string{"documents[0].content is missing", "documents[0].similarity is missing",
				"documents[1].content is a number, not a string", "documents[1].similarity is a string, not a number",
				"documents[2] is a string, not an object"}},
		{"kb docs object", typed(TypeKnowledgeBaseRequest), 200, `{"documents":{}}`, []string{"documents is an object, not a list"}},

		// call.endpointing.request
		{"endpointing ok", typed(TypeCallEndpointingRequest), 200, `{"timeoutSeconds":0.8}`, nil},
		{"endpointing missing", typed(TypeCallEndpointingRequest), 200, `{}`, []string{"timeoutSeconds is missing"}},
		{"endpointing string", typed(TypeCallEndpointingRequest), 200, `{"timeoutSeconds":"1"}`, []string{"timeoutSeconds is a string, not a number"}},
		{"endpointing negative", typed(TypeCallEndpointingRequest), 200, `{"timeoutSeconds":-1}`, []string{"timeoutSeconds is negative"}},

		// campaign.predial
		{"predial ok", typed(TypeCampaignPredial), 200, `{"eligible":true}`, nil},
		{"predial missing", typed(TypeCampaignPredial), 200, `{"ok":true}`, []string{"eligible is missing"}},
		{"predial string", typed(TypeCampaignPredial), 200, `{"eligible":"yes"}`, []string{"eligible is a string, not true or false"}},

		// voice-request
		{"voice ok", typed(TypeVoiceRequest), 200, "\x00\x01\x02\x03", nil},
		{"voice empty", typed(TypeVoiceRequest), 200, "", []string{"body is empty: voice-request wants raw 16-bit PCM audio"}},
		{"voice json", typed(TypeVoiceRequest), 200, `{"data":"AAAA"}`, []string{"body is JSON: voice-request wants raw 16-bit PCM audio, not JSON"}},
		{"voice odd", typed(TypeVoiceRequest), 200, "\x00\x01\x02", []string{"body has an odd number of bytes (3): 16-bit PCM comes in 2-byte samples"}},

		// informational
		{"status-update 200", typed(TypeStatusUpdate), 200, `{}`, nil},
		{"status-update 204", typed(TypeStatusUpdate), 204, ``, nil},
		{"status-update any body", typed(TypeEndOfCallReport), 200, `not json`, nil},
		{"status-update 500", typed(TypeStatusUpdate), 500, ``, []string{"HTTP 500: Vapi expects a 2xx reply to status-update"}},
		{"unknown type 404", typed(`brand-new\u001b`), 404, ``, []string{`HTTP 404: Vapi expects a 2xx reply to "brand-new\x1b"`}},
		{"nil message 301", "", 301, ``, []string{"HTTP 301: Vapi expects a 2xx reply to this message"}},
		{"nil message 200", "", 200, `whatever`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var msg *Message
			if tt.msg != "" {
				msg = mustParse(t, tt.msg)
			}
			got := CheckReply(msg, tt.status, http.Header{"Content-Type": {"application/json"}}, []byte(tt.body))
			if !slices.Equal(got, tt.want) {
				t.Errorf("CheckReply(%s, %d, %s)\n got: %q\nwant: %q", tt.name, tt.status, tt.body, got, tt.want)
			}
		})
	}
}

// TestCheckReplyBuilders checks that every reply vapimon itself builds passes CheckReply.
func TestCheckReplyBuilders(t *testing.T) {
	t.Parallel()
	msgs := map[string]string{
		TypeToolCalls:                  checkToolCalls2,
		TypeFunctionCall:               `{"message":{"type":"function-call","functionCall":{"name":"f","parameters":{}}}}`,
		TypeAssistantRequest:           typed(TypeAssistantRequest),
		TypeTransferDestinationRequest: typed(TypeTransferDestinationRequest),
		TypeHandoffDestinationRequest:  `{"message":{"type":"handoff-destination-request","parameters":{"destination":"billing"}}}`,
		TypeKnowledgeBaseRequest:       typed(TypeKnowledgeBaseRequest),
		TypeVoiceRequest:               `{"message":{"type":"voice-request","text":"hi","sampleRate":24000}}`,
		TypeCallEndpointingRequest:     typed(TypeCallEndpointingRequest),
		TypeCampaignPredial:            typed(TypeCampaignPredial),
	}
	type built struct {
		name string
		msg  *Message
		rep  Reply
	}
	var cases []built
	for _, typ := range KnownTypes {
		if !ExpectsReply(typ) {
			cases = append(cases, built{"Ack/" + typ, mustParse(t, typed(typ)), Ack()})
			continue
		}
		raw, ok := msgs[typ]
		if !ok {
			t.Fatalf("no sample message for %s, which expects a reply: add one", typ)
		}
		m := mustParse(t, raw)
		cases = append(cases, built{"ErrorReply/" + typ, m, ErrorReply(m, "service down\nretry later")})
	}
	tc := mustParse(t, checkToolCalls2)
	cases = append(cases,
		built{"ToolCallsReply", tc, JSONReply(ToolCallsReply([]ToolResult{
			{ToolCallID: "call_abc", Name: "get_weather", Result: "18C\nlight rain"},
			{ToolCallID: "call_def", Name: "get_time", Error: "no clock", IsError: true},
		}), SourceAnswers)},
		built{"ToolCallsReply empty result", tc, JSONReply(ToolCallsReply([]ToolResult{
			{ToolCallID: "call_abc", Name: "get_weather"},
			{ToolCallID: "call_def", Name: "get_time", IsError: true},
		}), SourceAnswers)},
		built{"AssistantRequestReply", mustParse(t, typed(TypeAssistantRequest)), JSONReply(AssistantRequestReply("5a6b"), SourceAnswers)},
		built{"FunctionCallReply", mustParse(t, msgs[TypeFunctionCall]), JSONReply(FunctionCallReply("a\nb"), SourceAnswers)},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := CheckReply(c.msg, c.rep.Status, c.rep.Header, c.rep.Body)
			if got != nil {
				t.Errorf("reply %s has problems: %s", c.rep.Body, strings.Join(got, "; "))
			}
		})
	}
}
