package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/webhook"
)

// payloadLine is an event line with --headless-payload and --headless-body, decoded the
// way a jq user reads it: by the documented field names.
type payloadLine struct {
	Kind    string          `json:"kind"`
	Seq     uint64          `json:"seq"`
	Type    string          `json:"type"`
	Body    json.RawMessage `json:"body"`
	Payload *struct {
		Tools []struct {
			ID        string          `json:"id"`
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
		} `json:"tools"`
		Role           string   `json:"role"`
		Transcript     string   `json:"transcript"`
		TranscriptType string   `json:"transcriptType"`
		Status         string   `json:"status"`
		EndedReason    string   `json:"endedReason"`
		Cost           *float64 `json:"cost"`
		Customer       string   `json:"customer"`
	} `json:"payload"`
}

// TestHeadlessPayloadHideRecordOnly runs listen with --headless-payload --headless-body
// --hide speech-update --record-only tool-calls: event lines carry the essentials and the
// body, speech-update prints nothing (event, forward or reply), and the tape holds only
// the tool calls.
func TestHeadlessPayloadHideRecordOnly(t *testing.T) {
	t.Parallel()
	p := startVapimon(t, procOpts{args: []string{"--no-tunnel", "--headless-payload", "--headless-body", "--hide", "speech-update", "--record-only", "tool-calls"}})
	names := []string{"speech-update", "tool-calls", "transcript", "status-update", "end-of-call-report"}
	bodies := map[string][]byte{}
	for _, n := range names {
		recs, err := fixtures.Load(n)
		if err != nil {
			t.Fatal(err)
		}
		bodies[n] = recs[0].Body
		if st, _, _, _ := p.post("/vapi/webhook", recs[0].Body); st != 200 {
			t.Fatalf("%s: HTTP %d", n, st)
		}
	}
	// The reply to the last one is the last line it prints.
	p.mustLine(0, "the end-of-call-report's reply", func(l line) bool { return l.Kind == "reply" && l.Seq == 5 })
	p.stop()

	events := map[string]payloadLine{}
	for _, raw := range strings.Split(p.stdoutText(), "\n") {
		var l payloadLine
		if raw == "" || json.Unmarshal([]byte(raw), &l) != nil {
			continue
		}
		if l.Seq == 1 {
			t.Errorf("a hidden speech-update printed a line: %s", raw)
		}
		if l.Kind == "event" {
			events[l.Type] = l
		}
	}
	tc := events["tool-calls"]
	if tc.Payload == nil || len(tc.Payload.Tools) != 2 || tc.Payload.Tools[0].Name != "get_weather" || !strings.Contains(string(tc.Payload.Tools[0].Arguments), "location") || tc.Payload.Tools[0].ID == "" {
		t.Errorf("tool-calls payload: %+v", tc.Payload)
	}
	var compact bytes.Buffer
	_ = json.Compact(&compact, bodies["tool-calls"])
	if string(tc.Body) != compact.String() {
		t.Errorf("tool-calls body:\n%s\nwant\n%s", tc.Body, compact.String())
	}
	tr, _ := webhook.Parse(bodies["transcript"])
	if l := events[tr.Type]; l.Payload == nil || l.Payload.Transcript != tr.Transcript || l.Payload.Role != tr.Role || l.Payload.TranscriptType != tr.TranscriptType {
		t.Errorf("transcript payload: %+v", l.Payload)
	}
	if l := events["status-update"]; l.Payload == nil || l.Payload.Status == "" {
		t.Errorf("status-update payload: %+v", l.Payload)
	}
	eoc, _ := webhook.Parse(bodies["end-of-call-report"])
	if l := events["end-of-call-report"]; l.Payload == nil || l.Payload.EndedReason != eoc.EndedReason || l.Payload.Cost == nil || *l.Payload.Cost != eoc.Cost || l.Payload.Customer == "" {
		t.Errorf("end-of-call-report payload: %+v", l.Payload)
	}

	recs, _, err := fixtures.ReadTapeFile(p.status.Tape)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Type != "tool-calls" || recs[0].Reply == nil {
		t.Errorf("--record-only tool-calls: the tape holds %d records: %+v", len(recs), recs)
	}
	if !strings.Contains(p.stderrText(), "--record-only tool-calls") {
		t.Errorf("stderr does not say the tape is filtered:\n%s", p.stderrText())
	}
}
