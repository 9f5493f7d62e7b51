package tui

import (
	"reflect"
	"testing"

	"github.com/vapimon/vapimon/webhook"
)

// FuzzPlainResults holds plainResults to encoding/json's reading (decodeResults) wherever
// it answers, and checks that it answers for the replies vapimon itself writes.
func FuzzPlainResults(f *testing.F) {
	for _, s := range []string{
		`{"results":[]}`,
		`{"results":[{"toolCallId":"c1","name":"get_weather","result":"Paris: 18C"}]}`,
		`{"results":[{"toolCallId":"c1","result":"ok"},{"toolCallId":"c2","error":"boom"}]}`,
		`{"results":[{"toolCallId":"c1","result":"a","error":"b"}]}`,
		`{"results":[{"toolCallId":"c1","result":"a","result":"b"}]}`,
		`{"results":[{"toolCallId":"c1","Result":"a"}]}`,
		`{"results":[{"toolCallId":"c1","result":"a"},]}`,
		`{"results":[{"toolCallId":"c1","result":"a"}]}x`,
		`{"results":[{"toolCallId":"c1","result":"say \"hi\""}]}`,
		`{"results":[{"toolCallId":"c1","result":{"a":1}}]}`,
		`{"results":[{"toolCallId":"c1","result":"a"}],"x":1}`,
		`{"results":[{"toolCallId":"c1","extra":"x","result":"a"}]}`,
		`{"results":[{}]}`,
		`{"results":[{"toolCallId":"c1"}]}`,
		`{"result":"legacy"}`,
		"{\"results\":[{\"toolCallId\":\"c1\",\"result\":\"\xff\"}]}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if got, ok := plainResults(body); ok {
			if want := decodeResults(body); !reflect.DeepEqual(got, want) {
				t.Fatalf("plainResults(%q) = %s, encoding/json reads %s", body, show(got), show(want))
			}
		}
	})
}

func show(rs []toolResultJSON) string {
	s := "["
	for _, r := range rs {
		s += "{" + r.ToolCallID
		if r.Result != nil {
			s += " result=" + *r.Result
		}
		if r.Error != nil {
			s += " error=" + *r.Error
		}
		s += "}"
	}
	return s + "]"
}

// TestPlainResultsTakesVapimonReplies: the replies vapimon writes (answers file, operator,
// fallback) are read without encoding/json, and read the same as with it.
func TestPlainResultsTakesVapimonReplies(t *testing.T) {
	body := webhook.ToolCallsReply([]webhook.ToolResult{
		{ToolCallID: "call_1", Name: "get_weather", Result: "Paris: 18C, light rain"},
		{ToolCallID: "call_2", Name: "book", Error: "no table free", IsError: true},
		{ToolCallID: "call_3", Name: "empty"},
	})
	got, ok := plainResults(body)
	if !ok {
		t.Fatalf("plainResults refused vapimon's own reply %s", body)
	}
	if want := decodeResults(body); !reflect.DeepEqual(got, want) || len(got) != 3 {
		t.Fatalf("plainResults = %s, encoding/json reads %s", show(got), show(want))
	}
}
