package webhook

import (
	"net/http"
	"time"
)

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
	// ForwardTimeout is --forward-timeout, how long your server is given for a message
	// Vapi waits on (within its deadline); 0: half the time left.
	ForwardTimeout time.Duration
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
