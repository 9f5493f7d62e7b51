package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestHeadlessFilterAndPayload: a hidden type prints none of its lines (event, forward,
// reply), a rejected request always prints, and payload and body go on the event lines.
func TestHeadlessFilterAndPayload(t *testing.T) {
	t.Parallel()
	parse := func(body string) *Message {
		m, err := Parse([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	speech := `{"message":{"type":"speech-update","status":"started","role":"user"}}`
	tool := `{"message":{"type":"tool-calls","call":{"id":"c1","customer":{"number":"+15550001"}},"toolCallList":[{"id":"t1","type":"function","function":{"name":"get_weather","arguments":{"location":"Paris"}}}]}}`
	bus := NewBus()
	sub := bus.Subscribe(64)
	for _, v := range []any{
		&Event{Seq: 1, Body: []byte(speech), Msg: parse(speech)},
		ForwardHealth{Seq: 1, Target: "http://x", Status: 200},
		&Outcome{Seq: 1, Reply: Reply{Status: 200, Source: SourceAck, Body: []byte("{}")}},
		&Event{Seq: 2, Body: []byte(tool), Msg: parse(tool)},
		&Outcome{Seq: 2, Reply: Reply{Status: 200, Source: SourceAnswers, Body: []byte(`{"results":[]}`)}},
		&Event{Seq: 3, Rejected: "signature mismatch", Status: 401},
	} {
		bus.Publish(v)
	}
	bus.Close()
	var out bytes.Buffer
	opts := HeadlessOptions{Payload: true, Body: true, Filter: TypeFilter{Hide: []string{"speech-update"}}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := WriteHeadlessWith(ctx, &out, sub, bus, opts); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var h struct {
			Kind    string          `json:"kind"`
			Seq     uint64          `json:"seq"`
			Body    json.RawMessage `json:"body"`
			Payload *HeadlessPayload
		}
		if err := json.Unmarshal([]byte(l), &h); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		kinds = append(kinds, h.Kind)
		if h.Seq == 1 {
			t.Errorf("a hidden speech-update printed: %s", l)
		}
		if h.Kind == "event" && h.Seq == 2 {
			p := h.Payload
			if p == nil || len(p.Tools) != 1 || p.Tools[0].Name != "get_weather" || string(p.Tools[0].Arguments) != `{"location":"Paris"}` || p.Customer != "+15550001" {
				t.Errorf("payload: %+v", p)
			}
			if string(h.Body) != tool {
				t.Errorf("body %s", h.Body)
			}
		}
	}
	if got := strings.Join(kinds, ","); got != "event,reply,rejected" {
		t.Errorf("lines %s, want event,reply,rejected", got)
	}
}
