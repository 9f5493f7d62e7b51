package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
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
	// Never record, print or display it.
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
}

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

// Notice is an operator-facing message published on the bus (answers file reloaded, tape
// error, tunnel reconnected...). Level is "info", "warn" or "error".
type Notice struct {
	Time  time.Time
	Level string
	Text  string
}

// Bus carries Events, Outcomes and Notices from the handler to whoever shows them. Publish
// never blocks: a subscriber that falls behind loses messages, and the loss is counted, in
// total and per subscriber.
type Bus struct {
	mu      sync.Mutex
	subs    []*subscriber
	dropped atomic.Uint64
	closed  bool
}

type subscriber struct {
	ch      chan any
	dropped atomic.Uint64
}

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{} }

// Subscribe returns a channel receiving everything published from now on, buffered to size.
func (b *Bus) Subscribe(size int) <-chan any {
	if size < 1 {
		size = 1
	}
	ch := make(chan any, size)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(ch)
		return ch
	}
	b.subs = append(b.subs, &subscriber{ch: ch})
	return ch
}

// Unsubscribe stops delivery to ch (a channel returned by Subscribe) and closes it.
func (b *Bus) Unsubscribe(ch <-chan any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, s := range b.subs {
		if s.ch == ch {
			b.subs = append(b.subs[:i], b.subs[i+1:]...)
			close(s.ch)
			return
		}
	}
}

// Publish sends v to every subscriber without blocking.
func (b *Bus) Publish(v any) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	for _, s := range b.subs {
		select {
		case s.ch <- v:
		default:
			s.dropped.Add(1)
			b.dropped.Add(1)
		}
	}
}

// Dropped returns how many messages subscribers missed, in total, because their buffer
// was full.
func (b *Bus) Dropped() uint64 { return b.dropped.Load() }

// DroppedFor returns how many messages the subscriber ch missed.
func (b *Bus) DroppedFor(ch <-chan any) uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.subs {
		if s.ch == ch {
			return s.dropped.Load()
		}
	}
	return 0
}

// Close closes every subscriber channel; later publishes are ignored.
func (b *Bus) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	for _, s := range b.subs {
		close(s.ch)
	}
	b.subs = nil
}

// Status describes where vapimon listens and how traffic reaches it. It is published on
// the bus whenever any part of it changes; a zero field means "unchanged / not applicable"
// only in the sense that publishers always send the whole current value.
type Status struct {
	// ListenURL is the local address, e.g. http://127.0.0.1:4242.
	ListenURL string
	// PublicURL is the URL to paste into Vapi (ngrok, or --public-url); "" when local only.
	PublicURL string
	// Tunnel is the tunnel's state; TunnelNote says why in plain words (e.g.
	// "NGROK_AUTHTOKEN is not set"). Warnings are not tunnel notes: they go in Warnings.
	Tunnel     TunnelState
	TunnelNote string
	// AuthMode is the verification in force; Auth describes it (AuthConfig.Describe).
	AuthMode AuthMode
	Auth     string
	// Warnings are things a person should know before trusting the listener ("--addr
	// 0.0.0.0:4242 listens on every interface"), shown once, in the status bar or banner.
	Warnings []string
	// Mode says what is feeding the monitor: a live listener, the demo, or an offline
	// replay of a tape (nothing is sent anywhere).
	Mode SessionMode
	// Tape is the recording path, "" when recording is off.
	Tape string
	// Forward lists forward targets ("" when not forwarding).
	Forward string
	// ToolTimeout is the configured tool-calls budget (Vapi's server.timeoutSeconds).
	ToolTimeout time.Duration
}

// TunnelState is how traffic from Vapi reaches vapimon.
type TunnelState string

// Tunnel states.
const (
	TunnelOff          TunnelState = "off"
	TunnelConnecting   TunnelState = "connecting"
	TunnelOnline       TunnelState = "online"
	TunnelReconnecting TunnelState = "reconnecting"
	TunnelFailed       TunnelState = "failed"
)

// SessionMode says what feeds a monitor.
type SessionMode string

// Session modes; the zero value is a live listener.
const (
	ModeLive    SessionMode = ""
	ModeDemo    SessionMode = "demo"
	ModeOffline SessionMode = "offline"
)

// ForwardFailure is what went wrong with a forward, as a kind that a UI formats in its own
// words (it never parses error strings). The zero value means the exchange worked.
type ForwardFailure string

// Forward failures.
const (
	ForwardOK       ForwardFailure = ""
	ForwardRefused  ForwardFailure = "refused"   // nothing listens at the target
	ForwardTimeout  ForwardFailure = "timeout"   // no reply within the forward's budget
	ForwardClosed   ForwardFailure = "closed"    // connection closed or reset without a complete reply
	ForwardStatus   ForwardFailure = "status"    // a non-2xx status (ForwardHealth.Status)
	ForwardRedirect ForwardFailure = "redirect"  // a 3xx: vapimon does not follow redirects
	ForwardTooLarge ForwardFailure = "too-large" // the reply was larger than the cap
	ForwardUnusable ForwardFailure = "unusable"  // a 2xx whose body Vapi cannot use
	ForwardBusy     ForwardFailure = "busy"      // too many forwards in flight: not sent
	ForwardDNS      ForwardFailure = "dns"       // the target's host name does not resolve
	ForwardOther    ForwardFailure = "other"     // anything else (Err says what)
)

// ForwardError is the error a forwarding responder returns when your server gave no usable
// reply: Failure says what kind of failure, for the handler and the UI; Error() is the
// operator-facing sentence.
type ForwardError struct {
	Failure ForwardFailure
	// Status is the HTTP status your server answered, 0 when it did not answer.
	Status int
	Msg    string
	Err    error
}

func (e *ForwardError) Error() string { return e.Msg }

// Unwrap returns the underlying error.
func (e *ForwardError) Unwrap() error { return e.Err }

// ForwardHealth reports the last exchange with a forward target.
type ForwardHealth struct {
	// Seq is the event that was forwarded.
	Seq     uint64
	Target  string
	Status  int
	Latency time.Duration
	// Failure is what went wrong (ForwardOK when the exchange worked); Err says it in words.
	Failure ForwardFailure
	Err     string
	At      time.Time
	// Header and Body are what the server replied (Body cut at 64 KiB), for showing both
	// sides even when its reply was not the one sent to Vapi; empty when it did not answer.
	Header http.Header
	Body   []byte
}
