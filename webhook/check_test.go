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

func typed(typ string) string { return `{"message":{"type":"` + typ + `"}}` }

// TestJudgeReply pins the exact words of problems and warnings; the corpus
// (TestReplyCorpus) covers many more shapes.
func TestJudgeReply(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		msg    string // request body; "" for a nil message
		status int
		body   string
		want   []string // problems
		warn   []string
	}{
		// tool-calls
		{"tool ok", checkToolCalls2, 200,
			`{"results":[{"toolCallId":"call_abc","name":"get_weather","result":"18C"},{"toolCallId":"call_def","name":"get_time","error":"down"}]}`, nil, nil},
		{"tool ok any order, no names", checkToolCalls2, 200,
			`{"results":[{"toolCallId":"call_def","result":"12:00"},{"toolCallId":"call_abc","result":""}]}`, nil,
			[]string{"results[0].name is missing: Vapi's schema requires it, but its docs' examples leave it out",
				"results[1].name is missing: Vapi's schema requires it, but its docs' examples leave it out"}},
		{"tool 500", checkToolCalls1, 500, `{"error":"boom"}`,
			[]string{`HTTP 500: Vapi ignores non-2xx tool replies ("no result returned")`}, nil},
		{"tool 201", checkToolCalls1, 201, `{"results":[{"toolCallId":"call_abc","name":"get_weather","result":"x"}]}`,
			nil, []string{"HTTP 201: Vapi's docs ask for 200; Vapi's own examples answer 201"}},
		{"tool 204", checkToolCalls1, 204, ``,
			[]string{`HTTP 204 with an empty body: Vapi gets no tool result ("no result returned")`}, nil},
		{"tool not json", checkToolCalls1, 200, `results: ok`, []string{"body is not JSON"}, nil},
		{"tool empty body", checkToolCalls1, 200, ``, []string{`body is empty: Vapi needs a JSON object ("no result returned")`}, nil},
		{"tool array body", checkToolCalls1, 200, `[1]`, []string{"body is a list, not a JSON object"}, nil},
		{"tool results missing", checkToolCalls1, 200, `{}`, []string{"results is missing"}, nil},
		{"tool legacy result", checkToolCalls1, 200, `{"result":"18C"}`,
			[]string{`results is missing (found "result": Vapi wants {"results":[{"toolCallId":…,"result":…}]})`}, nil},
		{"tool top-level error", checkToolCalls1, 200, `{"error":"tool broke"}`, nil,
			[]string{`the reply is an error ("tool broke"): the model gets no tool result`}},
		{"tool results object", checkToolCalls1, 200, `{"results":{"toolCallId":"call_abc"}}`,
			[]string{"results is an object, not a list"}, nil},
		{"tool id missing", checkToolCalls1, 200, `{"results":[{"name":"get_weather","result":"x"}]}`,
			[]string{"results[0].toolCallId is missing", "no result for tool call call_abc (get_weather)"}, nil},
		{"tool id number", checkToolCalls1, 200, `{"results":[{"toolCallId":7,"name":"get_weather","result":"x"}]}`,
			[]string{"results[0].toolCallId is a number, not a string", "no result for tool call call_abc (get_weather)"}, nil},
		{"tool id mismatch", checkToolCalls2, 200,
			`{"results":[{"toolCallId":"call_abc","name":"get_weather","result":"a"},{"toolCallId":"x","name":"get_time","result":"b"}]}`,
			[]string{`results[1].toolCallId "x" does not match any tool call (expected call_def)`, "no result for tool call call_def (get_time)"}, nil},
		{"tool id hostile", checkToolCalls1, 200, "{\"results\":[{\"toolCallId\":\"\\u001b[31mx\\u202e\",\"name\":\"n\",\"result\":\"b\"}]}",
			[]string{`results[0].toolCallId "\x1b[31mx\u202e" does not match any tool call (expected call_abc)`, "no result for tool call call_abc (get_weather)"}, nil},
		{"tool duplicate id", checkToolCalls2, 200,
			`{"results":[{"toolCallId":"call_abc","name":"a","result":"a"},{"toolCallId":"call_abc","name":"a","result":"b"}]}`,
			[]string{`results[1].toolCallId "call_abc" repeats results[0]`, "no result for tool call call_def (get_time)"}, nil},
		{"tool too few", checkToolCalls2, 200, `{"results":[{"toolCallId":"call_abc","name":"a","result":"a"}]}`,
			[]string{"results has 1 entry for 2 tool calls", "no result for tool call call_def (get_time)"}, nil},
		{"tool too many", checkToolCalls1, 200,
			`{"results":[{"toolCallId":"call_abc","name":"a","result":"a"},{"toolCallId":"call_abc","name":"a","result":"b"}]}`,
			[]string{"results has 2 entries for 1 tool call", `results[1].toolCallId "call_abc" repeats results[0]`}, nil},
		{"tool empty results", checkToolCalls1, 200, `{"results":[]}`,
			[]string{"results has 0 entries for 1 tool call", "no result for tool call call_abc (get_weather)"}, nil},
		{"tool neither", checkToolCalls1, 200, `{"results":[{"toolCallId":"call_abc","name":"get_weather"}]}`,
			[]string{"results[0] has neither result nor error"}, nil},
		{"tool result object", checkToolCalls1, 200, `{"results":[{"toolCallId":"call_abc","name":"get_weather","result":{"t":18}}]}`, nil,
			[]string{"results[0].result is an object, not a string: Vapi's custom-tools guide and its own example server accept that, but its schema and troubleshooting guide want a string"}},
		{"tool result null", checkToolCalls1, 200, `{"results":[{"toolCallId":"call_abc","name":"get_weather","result":null}]}`,
			[]string{"results[0].result is null, not a string"}, nil},
		{"tool null result with error", checkToolCalls1, 200, `{"results":[{"toolCallId":"call_abc","name":"get_weather","result":null,"error":"no"}]}`, nil,
			[]string{"results[0].result is null beside an error: Vapi's schema wants a string or no result at all; the error is what counts",
				`the tool result is an error ("no"): the model reads out an error instead of an answer`}},
		{"tool result line breaks", checkToolCalls1, 200, `{"results":[{"toolCallId":"call_abc","name":"get_weather","result":"a\nb"}]}`, nil,
			[]string{"results[0].result has line breaks: Vapi wants single-line strings"}},
		{"tool error line breaks", checkToolCalls2, 200, `{"results":[{"toolCallId":"call_abc","name":"a","error":"a\r\nb"},{"toolCallId":"call_def","name":"b","result":"x"}]}`, nil,
			[]string{"results[0].error has line breaks: Vapi wants single-line strings"}},
		{"tool entry not object", checkToolCalls1, 200, `{"results":["18C"]}`,
			[]string{"results[0] is a string, not an object", "no result for tool call call_abc (get_weather)"}, nil},
		{"tool async any 2xx", checkToolCallsAsync, 202, ``, nil, nil},
		{"tool async 500", checkToolCallsAsync, 500, ``, []string{"HTTP 500: Vapi expects a 2xx reply to tool-calls"}, nil},

		// function-call (legacy)
		{"function ok", `{"message":{"type":"function-call","functionCall":{"name":"f","parameters":{}}}}`, 200, `{"result":"ok"}`, nil, nil},
		{"function missing", `{"message":{"type":"function-call","functionCall":{"name":"f"}}}`, 200, `{}`, []string{"result is missing"}, nil},
		{"function 404", `{"message":{"type":"function-call","functionCall":{"name":"f"}}}`, 404, `{}`,
			[]string{`HTTP 404: Vapi ignores non-2xx tool replies ("no result returned")`}, nil},

		// assistant-request
		{"assistant id", typed(TypeAssistantRequest), 200, `{"assistantId":"5a6b2c1d-0e9f-4a3b-8c7d-6e5f4a3b2c1d","assistantOverrides":{"variableValues":{"n":"Ada"}}}`, nil, nil},
		{"assistant id not a UUID", typed(TypeAssistantRequest), 200, `{"assistantId":"support"}`, nil,
			[]string{`assistantId "support" is not a UUID, as Vapi's ids are: Vapi finds no assistant by it`}},
		{"assistant inline", typed(TypeAssistantRequest), 200, `{"assistant":{"firstMessage":"hi"}}`, nil, nil},
		{"assistant squad", typed(TypeAssistantRequest), 200, `{"squadId":"5a6b2c1d-0e9f-4a3b-8c7d-6e5f4a3b2c1d"}`, nil, nil},
		{"assistant destination", typed(TypeAssistantRequest), 200, `{"destination":{"type":"number","number":"+14155550100"}}`, nil, nil},
		{"assistant error", typed(TypeAssistantRequest), 200, `{"error":"closed today"}`, nil,
			[]string{`assistant-request answered with error ("closed today"): Vapi ends the call`}},
		{"assistant none", typed(TypeAssistantRequest), 200, `{"assistantOverrides":{}}`,
			[]string{"reply has none of assistantId, assistant, squadId, squad, workflowId, workflow, destination or error"}, nil},
		{"assistant null id", typed(TypeAssistantRequest), 200, `{"assistantId":null}`,
			[]string{"assistantId is null, not a string", "reply has none of assistantId, assistant, squadId, squad, workflowId, workflow, destination or error"}, nil},
		{"assistant empty id", typed(TypeAssistantRequest), 200, `{"assistantId":" "}`, []string{"assistantId is empty"}, nil},
		{"assistant id object", typed(TypeAssistantRequest), 200, `{"assistantId":{"id":"x"}}`, []string{"assistantId is an object, not a string"}, nil},
		{"assistant 500", typed(TypeAssistantRequest), 500, `{}`, []string{"HTTP 500: Vapi ignores non-2xx replies to assistant-request"}, nil},
		{"assistant number missing", typed(TypeAssistantRequest), 200, `{"destination":{"type":"number"}}`, []string{"destination.number is missing"}, nil},
		{"assistant number typo", typed(TypeAssistantRequest), 200, `{"destination":{"type":"number","phoneNumber":"+14155550100"}}`,
			[]string{`destination.number is missing (found "phoneNumber": Vapi reads number)`}, nil},
		{"assistant long enum", typed(TypeAssistantRequest), 200, `{"assistant":{"model":{"provider":"openai","model":"gpt-9"}}}`,
			[]string{`assistant.model.model is "gpt-9", not one of the `}, nil},

		// transfer-destination-request
		{"transfer ok", typed(TypeTransferDestinationRequest), 200, `{"destination":{"type":"number","number":"+14155550100","message":"Transferring"}}`, nil, nil},
		{"transfer error", typed(TypeTransferDestinationRequest), 200, `{"error":"nobody free"}`, nil,
			[]string{`transfer answered with error ("nobody free"): the caller is not transferred`}},
		{"transfer none", typed(TypeTransferDestinationRequest), 200, `{"message":{"type":"request-start","content":"hold on"}}`, []string{"reply has neither destination nor error"}, nil},
		{"transfer dest string", typed(TypeTransferDestinationRequest), 200, `{"destination":"+1415"}`, []string{"destination is a string, not an object"}, nil},
		{"transfer sip", typed(TypeTransferDestinationRequest), 200, `{"destination":{"type":"sip"}}`, []string{"destination.sipUri is missing"}, nil},

		// handoff-destination-request
		{"handoff ok", typed(TypeHandoffDestinationRequest), 200, `{"destination":{"type":"assistant","assistantName":"Billing"}}`, nil, nil},
		{"handoff error alone", typed(TypeHandoffDestinationRequest), 200, `{"error":"no"}`, nil,
			[]string{`destination is missing: Vapi's schema requires it, but its handoff guide refuses a handoff with {"error": ...} alone`,
				`handoff answered with error ("no"): the call stays with this assistant`}},
		{"handoff missing", typed(TypeHandoffDestinationRequest), 200, `{}`, []string{"destination is missing"}, nil},

		// knowledge-base-request
		{"kb ok", typed(TypeKnowledgeBaseRequest), 200, `{"documents":[{"content":"Open 9-5","similarity":0.92,"uuid":"d1"}]}`, nil, nil},
		{"kb custom message", typed(TypeKnowledgeBaseRequest), 200, `{"message":{"type":"custom-message","content":"We open at 9."}}`, nil, nil},
		{"kb role message", typed(TypeKnowledgeBaseRequest), 200, `{"message":{"role":"assistant","content":"We open at 9."}}`, nil,
			[]string{`message.type is missing: Vapi's schema wants "custom-message", but the spec's own example (CustomKnowledgeBase.server) and Vapi's example server send {"role": "assistant", "content": ...}`}},
		{"kb message string", typed(TypeKnowledgeBaseRequest), 200, `{"message":"We open at 9."}`, []string{"message is a string, not an object"}, nil},
		{"kb empty docs", typed(TypeKnowledgeBaseRequest), 200, `{"documents":[]}`, nil, nil},
		{"kb nothing", typed(TypeKnowledgeBaseRequest), 200, `{}`, []string{"reply has neither documents nor message"}, nil},
		{"kb bad docs", typed(TypeKnowledgeBaseRequest), 200, `{"documents":[{"text":"x"},{"content":1,"similarity":"high"},"x"]}`,
			[]string{`documents[0].content is missing (found "text": Vapi reads content)`, "documents[0].similarity is missing",
				"documents[1].content is a number, not a string", "documents[1].similarity is a string, not a number",
				"documents[2] is a string, not an object"}, nil},
		{"kb docs object", typed(TypeKnowledgeBaseRequest), 200, `{"documents":{}}`, []string{"documents is an object, not a list"}, nil},

		// call.endpointing.request
		{"endpointing ok", typed(TypeCallEndpointingRequest), 200, `{"timeoutSeconds":0.8}`, nil, nil},
		{"endpointing missing", typed(TypeCallEndpointingRequest), 200, `{}`, []string{"timeoutSeconds is missing"}, nil},
		{"endpointing string", typed(TypeCallEndpointingRequest), 200, `{"timeoutSeconds":"1"}`, []string{"timeoutSeconds is a string, not a number"}, nil},
		{"endpointing negative", typed(TypeCallEndpointingRequest), 200, `{"timeoutSeconds":-1}`, []string{"timeoutSeconds is -1, below the minimum of 0"}, nil},
		{"endpointing above 15", typed(TypeCallEndpointingRequest), 200, `{"timeoutSeconds":20}`, []string{"timeoutSeconds is 20, above the maximum of 15"}, nil},

		// campaign.predial
		{"predial ok", typed(TypeCampaignPredial), 200, `{"eligible":true}`, nil, nil},
		{"predial missing", typed(TypeCampaignPredial), 200, `{"ok":true}`, []string{"eligible is missing"}, nil},
		{"predial string", typed(TypeCampaignPredial), 200, `{"eligible":"yes"}`, []string{"eligible is a string, not true or false"}, nil},

		// voice-request
		{"voice ok", typed(TypeVoiceRequest), 200, "\x00\x01\x02\x03", nil, nil},
		{"voice 201", typed(TypeVoiceRequest), 201, "\x00\x01", nil, []string{"HTTP 201: Vapi's docs ask for 200; Vapi's own examples answer 201"}},
		{"voice empty", typed(TypeVoiceRequest), 200, "", []string{"body is empty: voice-request wants raw 16-bit PCM audio"}, nil},
		{"voice json", typed(TypeVoiceRequest), 200, `{"data":"AAAA"}`, []string{"body is JSON: voice-request wants raw 16-bit PCM audio, not JSON"}, nil},
		{"voice odd", typed(TypeVoiceRequest), 200, "\x00\x01\x02", []string{"body has an odd number of bytes (3): 16-bit PCM comes in 2-byte samples"}, nil},

		// informational
		{"status-update 200", typed(TypeStatusUpdate), 200, `{}`, nil, nil},
		{"status-update 204", typed(TypeStatusUpdate), 204, ``, nil, nil},
		{"status-update 201 any body", typed(TypeEndOfCallReport), 201, `not json`, nil, nil},
		{"status-update 500", typed(TypeStatusUpdate), 500, ``, []string{"HTTP 500: Vapi expects a 2xx reply to status-update"}, nil},
		{"unknown type 404", typed(`brand-new\u001b`), 404, ``, []string{`HTTP 404: Vapi expects a 2xx reply to "brand-new\x1b"`}, nil},
		{"nil message 301", "", 301, ``, []string{"HTTP 301: Vapi expects a 2xx reply to this message"}, nil},
		{"nil message 200", "", 200, `whatever`, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var msg *Message
			if tt.msg != "" {
				msg = mustParse(t, tt.msg)
			}
			v := JudgeReply(msg, tt.status, http.Header{"Content-Type": {"application/json"}}, []byte(tt.body))
			if !prefixesEqual(v.Problems, tt.want) || !prefixesEqual(v.Warnings, tt.warn) {
				t.Errorf("JudgeReply(%s, %d, %s)\n got: %q\n      %q\nwant: %q\n      %q", tt.name, tt.status, tt.body, v.Problems, v.Warnings, tt.want, tt.warn)
			}
			if got := CheckReply(msg, tt.status, nil, []byte(tt.body)); !slices.Equal(got, v.Problems) {
				t.Errorf("CheckReply = %q, want JudgeReply's problems %q", got, v.Problems)
			}
			if v.OK() != (len(tt.want) == 0) {
				t.Errorf("OK() = %v with problems %q", v.OK(), v.Problems)
			}
		})
	}
}

// prefixesEqual compares texts exactly, except that a wanted text ending in a space only
// needs to start the text got (long lists of allowed values).
func prefixesEqual(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] && !(strings.HasSuffix(want[i], " ") && strings.HasPrefix(got[i], want[i])) {
			return false
		}
	}
	return true
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
		built{"AssistantRequestReply", mustParse(t, typed(TypeAssistantRequest)), JSONReply(AssistantRequestReply("5a6b2c1d-0e9f-4a3b-8c7d-6e5f4a3b2c1d"), SourceAnswers)},
		built{"FunctionCallReply", mustParse(t, msgs[TypeFunctionCall]), JSONReply(FunctionCallReply("a\nb"), SourceAnswers)},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			v := JudgeReply(c.msg, c.rep.Status, c.rep.Header, c.rep.Body)
			if !v.OK() {
				t.Errorf("reply %s has problems: %s", c.rep.Body, strings.Join(v.Problems, "; "))
			}
			for _, w := range v.Warnings {
				if !strings.Contains(w, "is an error") && !strings.Contains(w, "answered with error") {
					t.Errorf("reply %s: unexpected warning %q", c.rep.Body, w)
				}
			}
		})
	}
}
