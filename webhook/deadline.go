package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// AssistantRequestBudget is Vapi's fixed, end-to-end limit for answering assistant-request.
const AssistantRequestBudget = 7500 * time.Millisecond

// DefaultToolTimeout is Vapi's default server.timeoutSeconds, which applies to tool-calls and
// the other server requests.
const DefaultToolTimeout = 20 * time.Second

// Budget returns how long Vapi waits for a reply to a message of type t, given the configured
// tool timeout (Vapi's server.timeoutSeconds). Zero means no reply is awaited.
func Budget(t string, toolTimeout time.Duration) time.Duration {
	if !ExpectsReply(t) {
		return 0
	}
	if t == TypeAssistantRequest {
		return AssistantRequestBudget
	}
	if toolTimeout <= 0 {
		return DefaultToolTimeout
	}
	return toolTimeout
}

// SafetyMargin is how long before Vapi's deadline vapimon sends its fallback reply, leaving
// time for the reply to travel back through the tunnel.
func SafetyMargin(budget time.Duration) time.Duration {
	m := budget / 10
	if m > 1500*time.Millisecond {
		m = 1500 * time.Millisecond
	}
	if m < 250*time.Millisecond {
		m = 250 * time.Millisecond
	}
	return m
}

// Deadline is how long Vapi waits for the reply to one message, and where that number
// came from. It is the one place deadline arithmetic is done: the handler, the offline
// monitor and replay all use Timing.
type Deadline struct {
	// Budget is how long Vapi waits; zero when no reply is awaited.
	Budget time.Duration
	// Source says where Budget came from, for the operator ("tool get_weather:
	// server.timeoutSeconds 4", "--tool-timeout 20s", "assistant-request: fixed 7.5s").
	Source string
	// Notes are payload timeouts that were ignored, with the reason ("tool get_weather:
	// server.timeoutSeconds "4" is not a number: using the assistant's").
	Notes []string
	// Vapi is when Vapi gives up (received + Budget); Send is when vapimon sends its
	// fallback, a safety margin earlier. Both zero when no reply is awaited.
	Vapi time.Time
	Send time.Time
}

// AssistantRequestSend is when vapimon sends its fallback to an assistant-request: Vapi
// waits 7.5 s, but its docs ask for an answer within about 6 s.
const AssistantRequestSend = 6 * time.Second

// Vapi's bounds for server.timeoutSeconds (OpenAPI Server.timeoutSeconds).
const (
	minServerTimeout = 1
	maxServerTimeout = 300
)

// maxToolNotes bounds the notes about the tools of one message: a message with hundreds of
// calls must not produce hundreds of notes.
const maxToolNotes = 3

// Timing returns the deadline of msg received at received, given the configured tool
// timeout (--tool-timeout: the default when the payload names none).
//
// assistant-request has Vapi's fixed 7.5 s, and vapimon answers by 6 s. For the other
// messages Vapi waits on, the timeout is the tool's server.timeoutSeconds
// (toolWithToolCallList[].server), else the assistant's (message.assistant.server), else the
// phone number's (message.phoneNumber.server), else toolTimeout; with several tools, the
// earliest. A payload value that is not a number from 1 to 300 is not used: the next source
// is, and Notes says so.
func Timing(msg *Message, received time.Time, toolTimeout time.Duration) Deadline {
	if msg == nil || !ExpectsReply(msg.Kind) {
		return Deadline{}
	}
	if msg.Kind == TypeAssistantRequest {
		return Deadline{
			Budget: AssistantRequestBudget,
			Source: "assistant-request: Vapi's fixed 7.5s (answered by 6s, as Vapi's docs ask)",
			Vapi:   received.Add(AssistantRequestBudget),
			Send:   received.Add(AssistantRequestSend),
		}
	}
	if toolTimeout <= 0 {
		toolTimeout = DefaultToolTimeout
	}
	// The message-wide source, from the lowest priority up: each bad value says what is
	// used instead.
	chain := defaultSource(toolTimeout)
	var notes []string
	fromPayload := false
	for _, s := range []struct {
		raw          json.RawMessage
		label, whose string
	}{
		{msg.PhoneNumberTimeout, "phone number", "the phone number's"},
		{msg.AssistantTimeout, "assistant", "the assistant's"},
	} {
		d, shown, why := judgeTimeout(s.raw)
		switch {
		case why != "":
			notes = append([]string{s.label + " server.timeoutSeconds " + shown + " " + why + ": using " + chain.use}, notes...)
		case d > 0:
			chain = timeoutSource{d: d, source: s.label + " server.timeoutSeconds " + shown, use: s.whose + " " + d.String()}
			fromPayload = true
		}
	}
	// Each tool waits for its own server.timeoutSeconds, else the message-wide one; the
	// message's deadline is the earliest of its tools' (a tool's own may be longer than
	// the message-wide one: that is how a user gets more time to type).
	best := chain
	var toolNotes []string
	badTools := 0
	if msg.Kind == TypeToolCalls && len(msg.ToolCalls) > 0 {
		best = timeoutSource{}
		for _, tc := range msg.ToolCalls {
			d, shown, why := judgeTimeout(tc.TimeoutSeconds)
			cand := chain
			switch {
			case why != "":
				if badTools++; badTools <= maxToolNotes {
					toolNotes = append(toolNotes, "tool "+toolLabel(tc)+": server.timeoutSeconds "+shown+" "+why+": using "+chain.use)
				}
			case d > 0:
				cand = timeoutSource{d: d, source: "tool " + toolLabel(tc) + ": server.timeoutSeconds " + shown}
				fromPayload = true
			}
			if best.d == 0 || cand.d < best.d {
				best = cand
			}
		}
	}
	if badTools > maxToolNotes {
		toolNotes = append(toolNotes, fmt.Sprintf("and %d more tools with an unusable server.timeoutSeconds", badTools-maxToolNotes))
	}
	notes = append(toolNotes, notes...)
	if len(notes) == 0 && !fromPayload {
		notes = []string{missingNote(msg.Kind == TypeToolCalls, chain.use)}
	}
	d := Deadline{Budget: best.d, Source: best.source, Notes: notes, Vapi: received.Add(best.d)}
	d.Send = d.Vapi.Add(-SafetyMargin(best.d))
	return d
}

// defaultSource is --tool-timeout as the source of a message's timeout. The usual 20 s
// has its strings made once: Timing runs for every request Vapi waits on.
func defaultSource(d time.Duration) timeoutSource {
	if d == DefaultToolTimeout {
		return timeoutSource{d: d, source: "--tool-timeout 20s (default)", use: "--tool-timeout 20s"}
	}
	use := "--tool-timeout " + d.String()
	return timeoutSource{d: d, source: use + " (default)", use: use}
}

// missingNote says that the payload named no timeout.
func missingNote(tools bool, use string) string {
	const toolsNote = "no server.timeoutSeconds in the payload (tool, assistant or phone number): using "
	if tools {
		if use == "--tool-timeout 20s" {
			return toolsNote + "--tool-timeout 20s"
		}
		return toolsNote + use
	}
	return "no server.timeoutSeconds in the payload (assistant or phone number): using " + use
}

// timeoutSource is one candidate for a message's timeout: its length, how the operator is
// told where it came from, and how a note names it when it replaces a bad value.
type timeoutSource struct {
	d           time.Duration
	source, use string
}

// judgeTimeout reads a server.timeoutSeconds value as sent. It returns the timeout and the
// value as shown to the operator; why is set when the value is present but unusable. An
// absent value (or null) returns zero and no reason.
func judgeTimeout(raw json.RawMessage) (d time.Duration, shown, why string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, "", ""
	}
	shown = string(raw)
	if len(shown) > 24 || !utf8.ValidString(shown) || strings.ContainsFunc(shown, func(r rune) bool { return !unicode.IsPrint(r) }) {
		shown = quote(shown)
	}
	switch raw[0] {
	case '"':
		return 0, shown, "is a string, not a number"
	case '{', '[', 't', 'f':
		return 0, shown, "is not a number"
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange):
		return 0, shown, "is not a number"
	case f == 0:
		return 0, shown, "is zero"
	case f < 0:
		return 0, shown, "is negative"
	case f < minServerTimeout:
		return 0, shown, fmt.Sprintf("is below Vapi's minimum of %d", minServerTimeout)
	case f > maxServerTimeout:
		return 0, shown, fmt.Sprintf("is above Vapi's maximum of %d", maxServerTimeout)
	}
	return time.Duration(f * float64(time.Second)), shown, ""
}

// toolLabel names a tool call for the operator: its tool name, else its id, made safe.
func toolLabel(tc ToolCall) string {
	switch {
	case tc.Name != "":
		return safe(tc.Name)
	case tc.ID != "":
		return "call " + safe(tc.ID)
	}
	return "(unnamed)"
}
