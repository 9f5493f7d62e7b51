package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Live call control: the messages a person POSTs to a call's monitor.controlUrl
// (docs.vapi.ai/calls/call-features; OpenAPI ClientInboundMessage*). The body is the
// message itself, flat: {"type":"say","content":"..."}, not wrapped in {"message": ...}.

// Control message types (ClientInboundMessage*.type).
const (
	ControlSay        = "say"
	ControlAddMessage = "add-message"
	ControlControl    = "control"
	ControlEndCall    = "end-call"
	ControlTransfer   = "transfer"
)

// Values of a "control" message's control field.
const (
	ControlMuteAssistant   = "mute-assistant"
	ControlUnmuteAssistant = "unmute-assistant"
	ControlMuteCustomer    = "mute-customer"
	ControlUnmuteCustomer  = "unmute-customer"
	ControlSayFirstMessage = "say-first-message"
)

// Control is one live-call control message, in the shape Vapi's Live Call Control docs
// POST. Build it with Say, AddMessage, Mute, EndCall or Transfer, which check their input.
type Control struct {
	Type string `json:"type"`
	// Content: what the assistant says (say), or says before transferring (transfer).
	Content string `json:"content,omitempty"`
	// say: interrupt the assistant if it is speaking; end the call once said.
	InterruptAssistantEnabled *bool `json:"interruptAssistantEnabled,omitempty"`
	EndCallAfterSpoken        *bool `json:"endCallAfterSpoken,omitempty"`
	// add-message: the message (an OpenAI message) and whether it triggers a response.
	Message                *ControlChatMessage `json:"message,omitempty"`
	TriggerResponseEnabled *bool               `json:"triggerResponseEnabled,omitempty"`
	// control: one of the Control* values above.
	Control string `json:"control,omitempty"`
	// transfer: a number or SIP destination.
	Destination *TransferDestination `json:"destination,omitempty"`
}

// ControlChatMessage is the OpenAI-style message of an add-message.
type ControlChatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// TransferDestination is a transfer's destination: {"type":"number","number":"+1..."} or
// {"type":"sip","sipUri":"sip:..."}.
type TransferDestination struct {
	Type   string `json:"type"`
	Number string `json:"number,omitempty"`
	SIPURI string `json:"sipUri,omitempty"`
}

// maxControlText bounds the text of a say or add-message: a person types it.
const maxControlText = 4000

func boolp(b bool) *bool { return &b }

func checkText(what, s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return fmt.Errorf("%s: the text is empty", what)
	case len(s) > maxControlText:
		return fmt.Errorf("%s: the text is %d bytes, more than %d", what, len(s), maxControlText)
	}
	return nil
}

// Say makes the assistant say text; interrupt cuts off what it is saying, endAfter ends
// the call once the text is spoken.
func Say(text string, interrupt, endAfter bool) (Control, error) {
	if err := checkText("say", text); err != nil {
		return Control{}, err
	}
	return Control{Type: ControlSay, Content: text, InterruptAssistantEnabled: boolp(interrupt), EndCallAfterSpoken: boolp(endAfter)}, nil
}

// AddMessageRoles are the roles an add-message may carry.
var AddMessageRoles = []string{"system", "user", "assistant"}

// AddMessage adds a message with role system, user or assistant to the conversation;
// trigger makes the assistant respond to it.
func AddMessage(role, text string, trigger bool) (Control, error) {
	role = strings.ToLower(strings.TrimSpace(role))
	ok := false
	for _, r := range AddMessageRoles {
		ok = ok || r == role
	}
	if !ok {
		return Control{}, fmt.Errorf("add-message: role %q: use system, user or assistant", role)
	}
	if err := checkText("add-message", text); err != nil {
		return Control{}, err
	}
	return Control{Type: ControlAddMessage, Message: &ControlChatMessage{Role: role, Content: text}, TriggerResponseEnabled: boolp(trigger)}, nil
}

// Mute mutes (or, with mute false, unmutes) one side of the call: "assistant" or
// "customer" ("user" and "caller" mean the customer).
func Mute(side string, mute bool) (Control, error) {
	switch strings.ToLower(strings.TrimSpace(side)) {
	case "assistant", "bot", "ai":
		side = "assistant"
	case "customer", "user", "caller":
		side = "customer"
	default:
		return Control{}, fmt.Errorf("mute: %q is not a side of the call: use assistant or customer", side)
	}
	verb := "mute-"
	if !mute {
		verb = "unmute-"
	}
	return Control{Type: ControlControl, Control: verb + side}, nil
}

// EndCall ends the call.
func EndCall() Control { return Control{Type: ControlEndCall} }

var (
	e164   = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	sipURI = regexp.MustCompile(`^sips?:[^\s@]+@[^\s@]+$|^sips?:[^\s@]+$`)
)

// Transfer forwards the call to dest, an E.164 number ("+14155550123") or a SIP URI
// ("sip:agent@example.com"); content, when not empty, is said first.
func Transfer(dest, content string) (Control, error) {
	dest = strings.TrimSpace(dest)
	c := Control{Type: ControlTransfer, Content: content}
	switch {
	case e164.MatchString(dest):
		c.Destination = &TransferDestination{Type: "number", Number: dest}
	case sipURI.MatchString(dest):
		c.Destination = &TransferDestination{Type: "sip", SIPURI: dest}
	case strings.HasPrefix(strings.ToLower(dest), "sip"):
		return Control{}, fmt.Errorf("transfer: %q is not a SIP URI: write sip:user@host", dest)
	default:
		return Control{}, fmt.Errorf("transfer: %q is neither an E.164 number (+14155550123) nor a SIP URI (sip:user@host)", dest)
	}
	if len(content) > maxControlText {
		return Control{}, fmt.Errorf("transfer: the message is %d bytes, more than %d", len(content), maxControlText)
	}
	return c, nil
}

// ParseControl decodes a control body as a simulated control URL receives it, checking
// what Vapi would check: a known type and the fields that type needs.
func ParseControl(body []byte) (Control, error) {
	var c Control
	if err := json.Unmarshal(body, &c); err != nil {
		return Control{}, fmt.Errorf("not a control message: %w", err)
	}
	var err error
	switch c.Type {
	case ControlSay:
		err = checkText("say", c.Content)
	case ControlAddMessage:
		if c.Message == nil {
			return Control{}, errors.New("add-message needs a message")
		}
		_, err = AddMessage(c.Message.Role, c.Message.Content, true)
	case ControlControl:
		switch c.Control {
		case ControlMuteAssistant, ControlUnmuteAssistant, ControlMuteCustomer, ControlUnmuteCustomer, ControlSayFirstMessage:
		default:
			err = fmt.Errorf("control %q is not one of mute-assistant, unmute-assistant, mute-customer, unmute-customer, say-first-message", c.Control)
		}
	case ControlEndCall:
	case ControlTransfer:
		switch {
		case c.Destination == nil:
			err = errors.New("transfer needs a destination")
		case c.Destination.Type == "number" && c.Destination.Number != "":
		case c.Destination.Type == "sip" && c.Destination.SIPURI != "":
		default:
			err = errors.New(`transfer destination must be {"type":"number","number":...} or {"type":"sip","sipUri":...}`)
		}
	case "":
		err = errors.New("control message has no type")
	default:
		err = fmt.Errorf("unknown control message type %q", c.Type)
	}
	return c, err
}

// Triggers reports whether an add-message asks for a response (Vapi's default is true).
func (c Control) Triggers() bool { return c.TriggerResponseEnabled == nil || *c.TriggerResponseEnabled }

// Action is a short name for the control, as a person says it: "say", "add-message",
// "mute-assistant", "end-call", "transfer".
func (c Control) Action() string {
	if c.Type == ControlControl {
		return c.Control
	}
	return c.Type
}

// Describe is a one-line summary for the operator's transcript line and the CLI:
// `say "We'll call you back" (interrupt, then end the call)`.
func (c Control) Describe() string {
	q := func(s string) string {
		if r := []rune(s); len(r) > 60 {
			s = string(r[:59]) + "…"
		}
		return fmt.Sprintf("%q", s)
	}
	switch c.Type {
	case ControlSay:
		var opts []string
		if c.InterruptAssistantEnabled != nil && *c.InterruptAssistantEnabled {
			opts = append(opts, "interrupting")
		}
		if c.EndCallAfterSpoken != nil && *c.EndCallAfterSpoken {
			opts = append(opts, "then end the call")
		}
		s := "say " + q(c.Content)
		if len(opts) > 0 {
			s += " (" + strings.Join(opts, ", ") + ")"
		}
		return s
	case ControlAddMessage:
		if c.Message == nil {
			return "add-message"
		}
		s := "add-message " + c.Message.Role + " " + q(c.Message.Content)
		if !c.Triggers() {
			s += " (silently)"
		}
		return s
	case ControlTransfer:
		if c.Destination == nil {
			return "transfer"
		}
		return "transfer to " + c.Destination.Number + c.Destination.SIPURI
	}
	return c.Action()
}

// ControlResult is what a control URL answered.
type ControlResult struct {
	// Status is the HTTP status; 0 when no answer came (refused, timed out).
	Status  int
	Latency time.Duration
	// Body is the answer's body, capped; Vapi's text.
	Body string
	// Err says why the control failed, with the next step when there is one ("" when it
	// was accepted): Vapi's own message for a 4xx/5xx, or the transport failure.
	Err string
}

// OK reports whether the control was accepted (a 2xx).
func (r ControlResult) OK() bool { return r.Err == "" && r.Status >= 200 && r.Status < 300 }

// Summary is "200 in 84ms" or "failed: 401 ... (84ms)", for a person.
func (r ControlResult) Summary() string {
	lat := r.Latency.Round(time.Millisecond)
	if r.OK() {
		return fmt.Sprintf("%d in %s", r.Status, lat)
	}
	if r.Status != 0 {
		return fmt.Sprintf("failed: HTTP %d: %s (%s)", r.Status, r.Err, lat)
	}
	return fmt.Sprintf("failed: %s (%s)", r.Err, lat)
}

// Controller sends a control message to a call's control URL. The TUI holds one, so that
// it never does HTTP itself; relay.ControlClient.Send is the real one.
type Controller func(ctx context.Context, controlURL string, c Control) ControlResult

// ControlAction is a control message the operator sent to a live call, as published on
// the bus and recorded on the tape.
type ControlAction struct {
	Time    time.Time
	CallID  string
	Control Control
	Result  ControlResult
}

// NoControlURL explains why a call cannot be controlled.
const NoControlURL = "no control URL for this call: monitorPlan.controlEnabled is off for this assistant (or no message of the call carried call.monitor.controlUrl yet)"

// ControlActions are the actions of `vapimon control CALL ACTION [ARGS]`, with what
// each takes.
var ControlActions = []struct{ Name, Args, Help string }{
	{"say", "TEXT", "the assistant says TEXT (--interrupt, --end-after)"},
	{"add-message", "TEXT", "add TEXT to the conversation (--role, --silent)"},
	{"mute", "assistant|customer", "mute one side"},
	{"unmute", "assistant|customer", "unmute one side"},
	{"end", "", "end the call"},
	{"transfer", "+E164|sip:URI", "transfer the call (--message to say first)"},
}

// ControlOptions are the options of the shell's control actions.
type ControlOptions struct {
	Interrupt, EndAfter bool   // say
	Role                string // add-message; "system" when empty
	Silent              bool   // add-message: no response
	Message             string // transfer: said first
}

// ControlFromArgs builds the control message for a shell action and its arguments
// ("say", ["Hello"]), with a usage error naming what is missing.
func ControlFromArgs(action string, args []string, o ControlOptions) (Control, error) {
	text := strings.Join(args, " ")
	one := func(what string) (string, error) {
		if len(args) != 1 {
			return "", fmt.Errorf("%s takes one argument: %s", action, what)
		}
		return args[0], nil
	}
	switch action {
	case "say":
		return Say(text, o.Interrupt, o.EndAfter)
	case "add-message":
		role := o.Role
		if role == "" {
			role = "system"
		}
		return AddMessage(role, text, !o.Silent)
	case "mute", "unmute":
		side, err := one("assistant or customer")
		if err != nil {
			return Control{}, err
		}
		return Mute(side, action == "mute")
	case "end", "end-call":
		if len(args) > 0 {
			return Control{}, errors.New("end takes no argument")
		}
		return EndCall(), nil
	case "transfer":
		dest, err := one("a number (+14155550123) or a SIP URI (sip:user@host)")
		if err != nil {
			return Control{}, err
		}
		return Transfer(dest, o.Message)
	}
	names := make([]string, 0, len(ControlActions))
	for _, a := range ControlActions {
		names = append(names, a.Name)
	}
	return Control{}, fmt.Errorf("unknown action %q: use %s", action, strings.Join(names, ", "))
}
