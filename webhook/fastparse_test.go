package webhook

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// slowDecode is the reference: what encoding/json makes of a body.
func slowDecode(body []byte) (*wireMessage, bool) {
	var env struct {
		Message *wireMessage `json:"message"`
	}
	err := json.Unmarshal(body, &env)
	var ute *json.UnmarshalTypeError
	if err != nil && !errors.As(err, &ute) {
		return nil, false
	}
	return env.Message, true
}

func fixtureBodies(t testing.TB) [][]byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("..", "fixtures", "events", "*.json"))
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

var fastSeeds = []string{
	toolCallsBody,
	`{"message":{"type":"tool-calls","toolCallList":[{"id":"c1","name":"f","arguments":"{\"a\":1}"},null,7,{"function":null}],"toolCalls":null}}`,
	`{"message":{"type":"hang","call":"x","customer":[1],"status":5,"turn":"3","cost":{"a":1}}}`,
	`{"message":{"Type":"hang"}}`,
	`{"message":{"type":"hang","type":"x"}}`,
	`{"message":{"type":"a\u00e9\"b","transcript":"\ud83d\ude00 \xff"}}`,
	`{"message":{"type":"end-of-call-report","call":{"costBreakdown":{"total":1}}}}`,
	`{"message":{"type":"x","functionCall":"s"}}`,
	`{"message":{"type":"x","messages":[{"role":"user","message":"hi","time":1},"x",null]}}`,
	`{"message":{"type":"tool-calls","toolCallList":[{"id":"a","zz":1}],"toolCallList":[{"name":"n"}]}}`,
	`{"message":{"type":"function-call","functionCall":{"name":"a","zz":1},"functionCall":{"id":"b"}}}`,
	`{"message":null}`, `[]`, `{"message":{"type":"x","ſtatus":"y"}}`, `{"other":1,"message":{"type":"x"}}`,
	// server timeouts: every shape a payload might put there
	`{"message":{"type":"tool-calls","assistant":{"id":"a","server":{"url":"u","timeoutSeconds":30}},"phoneNumber":{"server":{"timeoutSeconds":"25"}},"toolWithToolCallList":[{"async":true,"function":{"name":"f","parameters":{}},"server":{"timeoutSeconds":4,"headers":{}},"toolCall":{"id":"c1","function":{"name":"f","arguments":"{}"}}},null,7,{"async":"yes","server":"s","function":1},{"toolCall":null,"server":{"timeoutSeconds":null}}]}}`,
	`{"message":{"type":"tool-calls","toolWithToolCallList":[{"toolCall":"x"}]}}`,
	`{"message":{"type":"tool-calls","toolWithToolCallList":{"a":1},"assistant":{"server":{"timeoutSeconds":[1],"TimeoutSeconds":2}}}}`,
	`{"message":{"type":"tool-calls","assistant":{"Server":{}},"phoneNumber":{"server":null,"timeoutSeconds":1}}}`,
	`{"message":{"type":"tool-calls","toolWithToolCallList":[{"async":false,"async":true}]}}`,
	`{"message":{"type":"tool-calls","toolWithToolCallList":[{"server":{"timeoutSeconds":1e400}},{"server":{"timeoutSeconds":-0.5}}]}}`,
	// campaign events
	`{"message":{"type":"campaign.event","campaignId":"c","eventType":"contact.failed","data":{"contactId":"k","endedReason":"x"}}}`,
	`{"message":{"type":"campaign.event","campaignId":7,"eventType":null,"data":null}}`,
	`{"message":{"type":"campaign.event","eventtype":"contact.failed"}}`,
}

func TestFastDecodeMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	bodies := fixtureBodies(t)
	if len(bodies) < 30 {
		t.Fatalf("found %d fixture bodies, want the built-in fixtures", len(bodies))
	}
	fast := 0
	for _, s := range fastSeeds {
		bodies = append(bodies, []byte(s))
	}
	for _, b := range bodies {
		got, ok := fastDecode(b)
		if !ok {
			continue
		}
		fast++
		want, _ := slowDecode(b)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("fast and encoding/json differ for %s\nfast %+v\nslow %+v", b, got, want)
		}
	}
	if fast < 25 {
		t.Errorf("the fast path answered only %d bodies: it should take the usual ones", fast)
	}
	if _, ok := fastDecode([]byte(toolCallsBody)); !ok {
		t.Error("the fast path gave up on a plain tool-calls body")
	}
}

func FuzzFastDecode(f *testing.F) {
	for _, b := range fixtureBodies(f) {
		f.Add(b)
	}
	for _, s := range fastSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := fastDecode(body)
		if !ok {
			return
		}
		want, wok := slowDecode(body)
		if !wok || !reflect.DeepEqual(got, want) {
			t.Fatalf("fast and encoding/json differ for %q\nfast %+v\nslow %+v", body, got, want)
		}
	})
}

// FuzzParseFastMatchesSlow holds Parse to what it gives with the fast decoder off, for
// the whole Message (the decoder, its pooled scratch, and what detach copies): the body is
// overwritten after parsing, so a Message that still pointed into it would differ.
func FuzzParseFastMatchesSlow(f *testing.F) {
	for _, b := range fixtureBodies(f) {
		f.Add(b)
	}
	for _, s := range fastSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		own := append([]byte(nil), body...)
		got, gerr := Parse(own)
		for i := range own {
			own[i] = 'X'
		}
		want, werr := parse(body, false)
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("fast and encoding/json disagree on %q: %v / %v", body, gerr, werr)
		}
		if gerr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("Parse differs from encoding/json for %q\nfast %+v\nslow %+v", body, got, want)
		}
	})
}
