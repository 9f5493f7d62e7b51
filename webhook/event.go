package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Event is one request received by the Handler, verified or not. The handler publishes it
// on the bus as soon as it is parsed, before any reply is chosen.
type Event struct {
	Seq      uint64
	Received time.Time
	Method   string
	Path     string
	// Header is a copy of the request headers with secrets redacted.
	Header http.Header
	// Body is the request body, byte for byte. Never modify it.
	Body []byte
	// WireHeader is the request headers exactly as received, secrets included, for
	// forwarding to the developer's server so that their own verification still works.
	// Never record, print or display it. The handler clears it once the reply is known:
	// what keeps an event (the monitor keeps thousands) keeps neither the secrets nor a
	// second copy of the headers.
	WireHeader http.Header
	// RemoteAddr is the peer address (the tunnel's, behind ngrok); Host and Proto are the
	// host and scheme the sender used (for X-Forwarded-Host/-Proto).
	RemoteAddr string
	Host       string
	Proto      string

	// Verified is true when the request passed authentication; false with auth none, where
	// nothing was checked (AuthMode says so).
	Verified bool
	AuthMode AuthMode
	// Rejected is the operator-facing reason the request was refused (auth failure, broken
	// JSON, body too large...), with Status the HTTP status sent. Empty when accepted.
	Rejected string
	Status   int

	// Msg is the parsed message; nil when the request was rejected before parsing.
	Msg *Message
	// Deadline is when vapimon sends its fallback reply; zero when no reply is awaited.
	// VapiDeadline is when Vapi itself gives up. BudgetSource says where Vapi's wait came
	// from ("tool get_weather: server.timeoutSeconds 4", "--tool-timeout 20s"), for the
	// operator (see Timing).
	Deadline     time.Time
	VapiDeadline time.Time
	BudgetSource string
}

// CallID returns the call id of the event's message, or "".
func (e *Event) CallID() string {
	if e.Msg == nil {
		return ""
	}
	return e.Msg.Call.ID
}

// Type returns the message type, or "" for a rejected request.
func (e *Event) Type() string {
	if e.Msg == nil {
		return ""
	}
	return e.Msg.Type
}

// Reply is an HTTP reply to send back to Vapi.
type Reply struct {
	Status int
	Header http.Header
	Body   []byte
	// Source names who produced the reply: SourceAck, SourceAnswers, SourceForward,
	// SourceOperator, SourceFallback, SourceReject.
	Source string
	// Note is a short operator-facing remark ("forward failed: connection refused; answered
	// from answers file").
	Note string
	// ForwardFailed is set when your server (--forward-to) was asked for this reply and
	// failed, and Source answered in its place: a few fixed words saying why ("HTTP 500",
	// "timeout", "refused", "no reply", "unusable reply"). The reply then carries the
	// HeaderFallback header. Empty when your server answered or was not asked.
	ForwardFailed string
	// Raw asks the handler to send the reply exactly as it is, even a non-2xx to a message
	// Vapi does not wait on, which it would otherwise acknowledge itself with 200 {}
	// (vapimon --forward-raw: to see what Vapi does with your server's reply).
	Raw bool
}

// Reply sources.
const (
	SourceAck      = "ack"
	SourceAnswers  = "answers"
	SourceForward  = "forward"
	SourceOperator = "operator"
	SourceFallback = "fallback"
	SourceReject   = "reject"
)

// Outcome is published once the reply to an Event has been written (or failed to be).
type Outcome struct {
	Seq     uint64
	Reply   Reply
	Latency time.Duration
	// Attempts lists what each responder in the chain did before the reply was chosen,
	// e.g. "forward: HTTP 500 in 12ms".
	Attempts []string
	// WriteErr is set when the reply could not be written (Vapi hung up).
	WriteErr string
}

// ErrPass is returned by a Responder that declines to answer an event, handing it to the
// next responder in the chain.
var ErrPass = errors.New("responder passed")

// PartialAnswer is returned by a responder that answered some of a message's tool calls
// before its time ran out (an operator who typed one answer of two): the handler keeps
// those results in the fallback reply instead of losing them.
type PartialAnswer struct {
	Results []ToolResult
	// Err is why the rest was not answered (ErrMonitorClosed, the context's error), when
	// known.
	Err error
}

// Unwrap returns why the rest was not answered.
func (p *PartialAnswer) Unwrap() error { return p.Err }

// ErrMonitorClosed is a responder's error once the person behind it has gone (the TUI's
// operator after the monitor quit), alone or in a PartialAnswer: the fallback says vapimon
// was closed. It wraps context.Canceled.
var ErrMonitorClosed = fmt.Errorf("operator: monitor closed: %w", context.Canceled)

func (p *PartialAnswer) Error() string {
	return fmt.Sprintf("answered %d tool call(s) before the deadline, not all", len(p.Results))
}

// Responder answers messages that expect a reply. Respond must return by the context's
// deadline; it returns ErrPass (or any error, which is logged as an attempt) to let the
// next responder try.
type Responder interface {
	Name() string
	Respond(ctx context.Context, ev *Event) (Reply, error)
}

// A SendingResponder hands the request on to someone else and waits for their answer
// (the forwarder). The handler gives it sent, to be called once the request is on its way
// and before the responder waits on anything (a dial, a reply): the request goes on the
// tape then (Recorder.Received), while the other side works on it, instead of before it
// is asked, so the tape write is not added to the reply's time. sent may be called more
// than once (a resend); when the responder returns without calling it, the handler
// records the request then, before any other responder is asked.
type SendingResponder interface {
	Responder
	RespondSending(ctx context.Context, ev *Event, sent func()) (Reply, error)
}

// A Keeper is a responder that may hold an answer given before it was asked (the
// monitor's type-ahead, typed while your server was asked first). When a request's time
// is cut (its deadline, a shutdown) before the chain reaches the Keeper, the handler
// takes what it holds: a whole reply, or a PartialAnswer (the tool calls answered so
// far) for the fallback to keep; ErrPass when it holds nothing. Kept never waits.
type Keeper interface {
	Kept(ev *Event) (Reply, error)
}

// ResponderFunc adapts a function to the Responder interface.
type ResponderFunc struct {
	N string
	F func(ctx context.Context, ev *Event) (Reply, error)
}

// Name returns the responder's name.
func (r ResponderFunc) Name() string { return r.N }

// Respond calls the function.
func (r ResponderFunc) Respond(ctx context.Context, ev *Event) (Reply, error) { return r.F(ctx, ev) }

// Recorder stores each request and its reply, so that nothing received is ever lost.
//
// Received is called as soon as an accepted request has been read and parsed, before any
// responder runs: a crash while the operator is typing leaves the request on the tape.
// Replied is called with the reply before it is written to the sender; for a request
// rejected before parsing (auth, broken JSON, too large...) it is the only call.
type Recorder interface {
	Received(ev *Event) error
	Replied(ev *Event, out *Outcome) error
}

// TapeHealth is published on the bus when recording fails (disk full, tape closed...), so
// that the status bar and headless output can say how many requests are missing from the
// tape. Failed counts failed writes since the start; Err is the last error.
type TapeHealth struct {
	Failed uint64
	Err    string
}

// HeaderFallback is set on a reply vapimon sent in place of your server's (when the
// forward failed or its reply was unusable): its value says who answered and why. Vapi
// ignores unknown headers; `vapimon send` shows it.
const HeaderFallback = "X-Vapimon-Fallback"
