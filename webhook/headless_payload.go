package webhook

import (
	"context"
	"encoding/json"
	"io"
)

// HeadlessOptions choose what headless output prints beyond its default lines
// (--headless-payload, --headless-body) and which requests it leaves out (--hide,
// --only: their event, forward and reply lines; rejected lines always print).
type HeadlessOptions struct {
	// Payload adds "payload" (HeadlessPayload) to every event line.
	Payload bool
	// Body adds the request body to every event line as "body" (the JSON itself, or a
	// string when the body is not JSON).
	Body bool
	// Filter leaves out the requests it stops.
	Filter TypeFilter
}

// HeadlessPayload is the parsed essentials of a request, for jq pipelines
// (--headless-payload). Fields a message type does not carry are left out.
type HeadlessPayload struct {
	// Tools are the tool calls of a tool-calls (or function-call) message.
	Tools []HeadlessTool `json:"tools,omitempty"`
	// Role, Transcript and TranscriptType are a transcript's (or speech-update's role).
	Role           string `json:"role,omitempty"`
	Transcript     string `json:"transcript,omitempty"`
	TranscriptType string `json:"transcriptType,omitempty"`
	// Status is a status-update's status (else the call's status).
	Status string `json:"status,omitempty"`
	// EndedReason is why the call ended (status-update ended, end-of-call-report).
	EndedReason string `json:"endedReason,omitempty"`
	// Cost is the call's cost in USD when the message gives one.
	Cost *float64 `json:"cost,omitempty"`
	// Customer is the caller's number (or name).
	Customer string `json:"customer,omitempty"`
	// Summary is an end-of-call-report's summary.
	Summary string `json:"summary,omitempty"`
}

// HeadlessTool is one tool call: its id, name and arguments (the JSON as sent).
type HeadlessTool struct {
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments,omitempty"`
}

// PayloadOf returns a message's essentials; nil for no message.
func PayloadOf(m *Message) *HeadlessPayload {
	if m == nil {
		return nil
	}
	p := &HeadlessPayload{Role: m.Role, Transcript: m.Transcript, TranscriptType: m.TranscriptType, Summary: m.Summary}
	for _, tc := range m.ToolCalls {
		t := HeadlessTool{ID: tc.ID, Name: tc.Name}
		if len(tc.Arguments) > 0 && json.Valid(tc.Arguments) {
			t.Arguments = headlessBody(tc.Arguments)
		}
		p.Tools = append(p.Tools, t)
	}
	p.Status = m.Status
	if p.Status == "" {
		p.Status = m.Call.Status
	}
	p.EndedReason = m.EndedReason
	if p.EndedReason == "" {
		p.EndedReason = m.Call.EndedReason
	}
	if c := m.Cost; c > 0 {
		p.Cost = &c
	} else if c := m.Call.Cost; c > 0 {
		p.Cost = &c
	}
	for _, c := range []Customer{m.Customer, m.Call.Customer} {
		if p.Customer == "" && c.Number != "" {
			p.Customer = c.Number
		}
	}
	for _, c := range []Customer{m.Customer, m.Call.Customer} {
		if p.Customer == "" && c.Name != "" {
			p.Customer = c.Name
		}
	}
	return p
}

// headlessFilter applies HeadlessOptions to the lines of one bus value. hidden holds the
// requests left out whose reply has not come yet (their forward and reply lines are left
// out too).
type headlessFilter struct {
	opts   HeadlessOptions
	hidden map[uint64]bool
}

func (f *headlessFilter) line(v any) (HeadlessLine, bool) {
	switch x := v.(type) {
	case *Event:
		if !f.opts.Filter.Passes(x) {
			f.hidden[x.Seq] = true
			return HeadlessLine{}, false
		}
		l, ok := headlessLine(v)
		if ok && l.Kind == "event" {
			if f.opts.Payload {
				l.Payload = PayloadOf(x.Msg)
			}
			if f.opts.Body {
				l.Body = headlessBody(x.Body)
			}
		}
		return l, ok
	case ForwardHealth:
		if f.hidden[x.Seq] {
			return HeadlessLine{}, false
		}
	case *Outcome:
		if f.hidden[x.Seq] {
			delete(f.hidden, x.Seq)
			return HeadlessLine{}, false
		}
	}
	return headlessLine(v)
}

// WriteHeadlessWith is WriteHeadless with options: payloads and bodies on the event lines,
// requests of some types left out.
func WriteHeadlessWith(ctx context.Context, w io.Writer, sub <-chan any, bus *Bus, opts HeadlessOptions) error {
	f := &headlessFilter{opts: opts, hidden: map[uint64]bool{}}
	return writeHeadless(ctx, w, sub, bus, f.line)
}
