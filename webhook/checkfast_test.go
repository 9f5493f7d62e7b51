package webhook

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/vapimon/vapimon/webhook/vapischema"
)

// fastCorpus holds tool-calls replies in and out of the fast path's shape.
var fastCorpus = []string{
	`{}`,
	`{"results":[]}`,
	`{"results":[{"toolCallId":"call_1","result":"ok"}]}`,
	`{"results":[{"toolCallId":"call_1","name":"get_weather","result":"ok"}]}`,
	`{"results":[{"toolCallId":"call_1","error":"boom"}]}`,
	`{"results":[{"toolCallId":"call_1","result":"a\nb","metadata":{"k":1}}]}`,
	`{"results":[{"toolCallId":"call_1","toolcallid":"x","result":"ok"}]}`,
	`{"results":[{"toolCallId":"call_1","tool_name":"x","result":"ok"}]}`,
	`{"results":[{"toolCallId":"a","result":"1"},{"toolCallId":"b","name":"n","result":"2"},{"toolCallId":"c","result":"3"}]}`,
	`{"results":[{"toolCallId":"0"},{"toolCallId":"1"},{"toolCallId":"2"},{"toolCallId":"3"},{"toolCallId":"4"},{"toolCallId":"5"},{"toolCallId":"6"},{"toolCallId":"7"},{"toolCallId":"8"},{"toolCallId":"9"}]}`,
	`{"results":[{"toolCallId":"0"},{"toolCallId":"1"},{"toolCallId":"2"},{"toolCallId":"3"},{"toolCallId":"4"},{"toolCallId":"5"},{"toolCallId":"6"},{"toolCallId":"7"},{"toolCallId":"8"},{"toolCallId":"9"},{"toolCallId":"10"}]}`,
	`{"error":"down"}`,
	`{"error":"down","results":[{"toolCallId":"call_1","result":"ok"}]}`,
	`{"error":null}`,
	`{"results":null}`,
	`{"results":{}}`,
	`{"results":["x"]}`,
	`{"results":[{"result":"ok"}]}`,
	`{"results":[{"toolCallId":1,"result":"ok"}]}`,
	`{"results":[{"toolCallId":"call_1","result":{"temp":18}}]}`,
	`{"results":[{"toolCallId":"call_1","result":null,"error":"x"}]}`,
	`{"results":[{"toolCallId":"call_1","metadata":[]}]}`,
	`{"results":[{"toolCallId":"call_1","message":{"type":"request-complete","content":"hi"}}]}`,
	`{"results":[{"toolCallId":"call_1","extra":true}]}`,
	`{"result":"ok"}`,
}

func toolCallsSchema(t testing.TB) (*vapischema.Schemas, string) {
	t.Helper()
	r := newReplySchemas(vapischema.Embedded)
	s, name, ok := r.schemaFor(TypeToolCalls)
	if !ok {
		t.Fatal("the tool-calls schema did not compile")
	}
	return s, name
}

// checkFastEqual fails when the fast path accepts doc and says other than the validator.
func checkFastEqual(t *testing.T, s *vapischema.Schemas, name string, body []byte) (fast bool) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return false
	}
	doc, isObj := v.(map[string]any)
	if !isObj {
		return false
	}
	got, ok := toolCallsFastIssues(doc)
	if !ok {
		return false
	}
	if want := schemaIssues(s, name, doc); !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\nfast path: %#v\nvalidator: %#v", body, got, want)
	}
	return true
}

func TestToolCallsFastIssues(t *testing.T) {
	t.Parallel()
	s, name := toolCallsSchema(t)
	fast := 0
	for _, body := range fastCorpus {
		if checkFastEqual(t, s, name, []byte(body)) {
			fast++
		}
	}
	// The common shapes must take the fast path, or it saves nothing.
	if fast < 10 {
		t.Errorf("only %d of %d corpus replies took the fast path", fast, len(fastCorpus))
	}
	for _, body := range []string{`{"results":[{"toolCallId":"call_1","result":"Paris: 18C, light rain"}]}`, `{"results":[{"toolCallId":"c","name":"n","result":"r"}]}`} {
		if !checkFastEqual(t, s, name, []byte(body)) {
			t.Errorf("%s did not take the fast path", body)
		}
	}
}

// FuzzToolCallsFastIssues holds the fast path equal to the validator on any JSON object
// it accepts.
func FuzzToolCallsFastIssues(f *testing.F) {
	for _, body := range fastCorpus {
		f.Add([]byte(body))
	}
	s, name := toolCallsSchema(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		checkFastEqual(t, s, name, body)
	})
}

// FuzzDecodeReply holds decodeReply equal to jsonschema.UnmarshalJSON wherever it answers.
func FuzzDecodeReply(f *testing.F) {
	for _, body := range fastCorpus {
		f.Add([]byte(body))
	}
	for _, body := range []string{`{"a":-0.5e+3,"b":[1,true,false,null,{}],"c":"é"}`, `[]`, `"x"`, `01`, `{"a":1,"a":2}`, " {\"a\" : [ ] } \n", `{"a":"\u00e9"}`, `1.`, `-`, `nulll`} {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := decodeReply(body)
		if !ok {
			return
		}
		want, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%q: decodeReply accepted what UnmarshalJSON refuses (%v): %#v", body, err, got)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\ndecodeReply:   %#v\nUnmarshalJSON: %#v", body, got, want)
		}
	})
}
