package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for Config.
const (
	DefaultMaxBody      = 8 << 20
	DefaultMaxInFlight  = 256
	DefaultMaxToolCalls = 512
	DefaultBodyTimeout  = 3 * time.Second
)

// Body-read deadline: DefaultBodyTimeout (Config.BodyTimeout) for a small body, plus the
// time the body takes at minBodyRate, never more than maxBodyTime. A sender slower than
// that is holding a connection, not sending a webhook.
const (
	minBodyRate = 256 << 10 // bytes per second
	maxBodyTime = 30 * time.Second
)

// Config configures a Handler. Only Bus may be shared with other handlers.
type Config struct {
	// Verifier checks each request; nil accepts everything (auth none).
	Verifier *Verifier
	// MaxBody caps the request body (413 past it); default 8 MiB.
	MaxBody int64
	// MaxInFlight caps concurrent requests being answered (503 past it); default 256. A
	// request takes its slot only once its whole body has arrived and it passed
	// authentication, so slow or unauthenticated senders cannot use the slots up.
	MaxInFlight int
	// MaxReading caps requests still sending their body (503 past it); default four times
	// MaxInFlight.
	MaxReading int
	// BodyTimeout is how long a small body may take to arrive once the headers have
	// (408 past it); a larger body gets more time, in proportion to its announced length.
	// Default 3 s.
	BodyTimeout time.Duration
	// MaxToolCalls caps the tool calls in one message (413 past it); default 512.
	MaxToolCalls int
	// ToolTimeout is Vapi's server.timeoutSeconds for tool calls and other server requests;
	// default 20 s. assistant-request always has 7.5 s.
	ToolTimeout time.Duration
	// Responders are tried in order for every accepted message, under one deadline.
	Responders []Responder
	// Fallback builds the reply when no responder answered; default ErrorReply.
	Fallback func(ev *Event, reason string) Reply
	// Recorder stores every request with its reply before the reply is written.
	Recorder Recorder
	// Bus receives *Event, *Outcome and Notice values.
	Bus *Bus
	// PublicURL returns the URL Vapi posts to (for HMAC {url}); may be nil.
	PublicURL func() string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives diagnostics; default discards.
	Logger *slog.Logger
}

// Handler is the http.Handler that receives Vapi webhooks: it reads the body once under a
// cap, verifies it, parses it, asks the responders for a reply before Vapi's deadline,
// records the exchange and publishes it on the bus.
type Handler struct {
	cfg       Config
	sensitive []string // canonical header names never recorded or shown
	seq       atomic.Uint64
	inflight  chan struct{}
	reading   *readingSlots
	stats     struct {
		received, rejected, replied, tapeFailed atomic.Uint64
	}
	// noted remembers which deadline notes were already published for which call.
	noted onceSet
	// lastTapeErr is the last tape error published as a notice, so that a full disk gives
	// one notice, not one per request.
	lastTapeErr atomic.Pointer[string]
	// instant says every responder answers at once (none, or only the answers file): a
	// request is then recorded with its reply, in one write (see record). leading counts
	// the responders that answer at once before the first that may wait.
	instant bool
	leading int
	// firstSends says the first responder that may wait is a SendingResponder: it says
	// when to record the request (see SendingResponder).
	firstSends bool
	// mode is the verifier's authentication mode (fixed once it is made).
	mode AuthMode
	// closing is set when the server stops accepting (its Listener is closed: Shutdown):
	// a request whose context ends after that ended because vapimon is closing, not
	// because its sender hung up (see fallbackReason).
	closing atomic.Bool
}

// Stats counts what a Handler has seen. TapeFailed counts failed tape writes.
type Stats struct {
	Received, Rejected, Replied, TapeFailed uint64
}

// NewHandler returns a Handler for cfg, with defaults filled in.
func NewHandler(cfg Config) *Handler {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.MaxReading <= 0 {
		cfg.MaxReading = 4 * cfg.MaxInFlight
	}
	if cfg.BodyTimeout <= 0 {
		cfg.BodyTimeout = DefaultBodyTimeout
	}
	if cfg.MaxToolCalls <= 0 {
		cfg.MaxToolCalls = DefaultMaxToolCalls
	}
	if cfg.ToolTimeout <= 0 {
		cfg.ToolTimeout = DefaultToolTimeout
	}
	if cfg.Fallback == nil {
		cfg.Fallback = func(ev *Event, reason string) Reply { return ErrorReply(ev.Msg, reason) }
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{cfg: cfg, inflight: make(chan struct{}, cfg.MaxInFlight), reading: newReadingSlots(cfg.MaxReading), instant: true}
	for _, rs := range cfg.Responders {
		if !isInstant(rs) {
			if h.instant {
				_, h.firstSends = rs.(SendingResponder)
			}
			h.instant = false
		} else if h.instant {
			h.leading++
		}
	}
	h.noted.max = maxNotedCalls
	h.mode = h.auth().Mode
	for _, name := range h.auth().SensitiveHeaders() {
		h.sensitive = append(h.sensitive, http.CanonicalHeaderKey(name))
	}
	return h
}

// redact returns a copy of hdr for recording and display: sensitive values replaced, the
// others shared with the request (never modified afterwards).
func (h *Handler) redact(hdr http.Header) http.Header {
	out := make(http.Header, len(hdr))
	for k, vs := range hdr {
		out[k] = vs
		for _, s := range h.sensitive {
			if strings.EqualFold(k, s) {
				red := make([]string, len(vs))
				for i := range red {
					red[i] = authRedactedValue
				}
				out[k] = red
				break
			}
		}
	}
	return out
}

// InFlight returns how many requests are being answered now (body read, authenticated).
func (h *Handler) InFlight() int { return len(h.inflight) }

// Reading returns how many requests are still sending their body.
func (h *Handler) Reading() int { return h.reading.inUse() }

// Stats returns the handler's counters.
func (h *Handler) Stats() Stats {
	return Stats{Received: h.stats.received.Load(), Rejected: h.stats.rejected.Load(), Replied: h.stats.replied.Load(), TapeFailed: h.stats.tapeFailed.Load()}
}

func (h *Handler) auth() AuthConfig {
	if h.cfg.Verifier == nil {
		return AuthConfig{Mode: AuthNone}
	}
	return h.cfg.Verifier.Config()
}

// ServeHTTP handles one webhook request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c, ok := r.Context().Value(connKey{}).(*watchedConn); ok {
		c.inHandler.Store(true) // net/http's own answers on this connection are not rejections now
	}
	now := h.cfg.Now()
	ev := &Event{
		Seq:        h.seq.Add(1),
		Received:   now,
		Method:     r.Method,
		Path:       r.URL.RequestURI(),
		Header:     h.redact(r.Header),
		WireHeader: r.Header,
		RemoteAddr: r.RemoteAddr,
		Host:       r.Host,
		Proto:      requestProto(r),
		AuthMode:   h.mode,
	}
	h.stats.received.Add(1)
	defer func() {
		if p := recover(); p != nil {
			h.cfg.Logger.Error("panic in webhook handler", "panic", p, "stack", string(debug.Stack()))
			h.cfg.Bus.Publish(Notice{Time: h.cfg.Now(), Level: "error", Text: fmt.Sprintf("internal error handling request #%d: %v (see the log file)", ev.Seq, p)})
			h.finish(w, ev, rejectReply(http.StatusInternalServerError, "internal error"), nil, now)
		}
	}()

	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.reject(w, ev, http.StatusMethodNotAllowed, "method not allowed: Vapi sends POST", fmt.Sprintf("%s request refused: Vapi only sends POST", sanitizeLine(r.Method, 32)), now)
		return
	}

	if r.ContentLength > h.cfg.MaxBody {
		h.reject(w, ev, http.StatusRequestEntityTooLarge, "body too large", fmt.Sprintf("body of %d bytes announced, larger than %s: answered 413 (raise --max-body)", r.ContentLength, ByteSize(h.cfg.MaxBody)), now)
		return
	}
	body, status, public, reason := h.readBody(w, r)
	if status != 0 {
		h.reject(w, ev, status, public, reason, now)
		return
	}
	ev.Body = body

	if v := h.cfg.Verifier; v != nil {
		if err := v.Verify(r.Method, h.requestURL(r), r.Header, body, now); err != nil {
			reason := err.Error()
			var ae *AuthError
			if errors.As(err, &ae) {
				reason = ae.Reason
			}
			if hint := authHint(h.auth(), r.Header); hint != "" {
				reason += "; " + hint
			}
			h.reject(w, ev, http.StatusUnauthorized, "unauthorized", "auth failed: "+reason, now)
			return
		}
	}
	// Verified means a check passed: with auth none nothing was checked.
	ev.Verified = h.cfg.Verifier != nil && h.mode != AuthNone

	// Only a whole, authenticated request takes an in-flight slot.
	select {
	case h.inflight <- struct{}{}:
		defer func() { <-h.inflight }()
	default:
		h.reject(w, ev, http.StatusServiceUnavailable, "too many requests in flight", fmt.Sprintf("too many requests in flight (cap %d): answered 503", cap(h.inflight)), now)
		return
	}

	msg, err := Parse(body)
	if err != nil {
		h.reject(w, ev, http.StatusBadRequest, err.Error(), err.Error(), now)
		return
	}
	if n := len(msg.ToolCalls); n > h.cfg.MaxToolCalls {
		ev.Msg = msg
		h.reject(w, ev, http.StatusRequestEntityTooLarge, fmt.Sprintf("too many tool calls in one message (at most %d)", h.cfg.MaxToolCalls),
			fmt.Sprintf("%s message with %d tool calls, more than vapimon's cap of %d: answered 413", safe(msg.Type), n, h.cfg.MaxToolCalls), now)
		return
	}
	ev.Msg = msg
	d := Timing(msg, now, h.cfg.ToolTimeout)
	if d.Budget > 0 {
		ev.VapiDeadline, ev.Deadline, ev.BudgetSource = d.Vapi, d.Send, d.Source
		if d.Budget > DefaultToolTimeout {
			// The server's WriteTimeout covers the default budget; a payload may ask for
			// up to 300 s, and the reply must still reach Vapi then.
			_ = http.NewResponseController(w).SetWriteDeadline(d.Vapi.Add(replyWriteSlack))
		}
	}
	// The request goes on the tape before it is published when the first responder may
	// wait; when the ones before it answer at once, only once they have passed, and when
	// it is a SendingResponder (the forwarder), once it has sent it (see record).
	recorded := false
	if !h.instant && h.leading == 0 && !h.firstSends {
		h.record(ev)
		recorded = true
	}
	h.cfg.Bus.Publish(ev)
	if len(d.Notes) > 0 {
		h.publishNotes(msg.Call.ID, d.Notes)
	}

	reply, attempts := h.respond(r.Context(), ev, recorded)
	h.finish(w, ev, reply, attempts, now)
}

// readBody reads the request body under the body cap, the cap on requests still reading,
// and a read deadline that grows with the body's length. On failure it returns the status
// to answer with the sender's and the operator's reasons.
//
// net/http lifts the deadline itself once the body has been read to its end (it then
// reads the connection in the background, without a deadline, to notice a client that
// hangs up), so it never cuts a long wait for the operator. After a failed read it stays:
// net/http then gives up on the rest of the body at once and closes the connection,
// instead of waiting for a slow sender.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) (body []byte, status int, public, reason string) {
	rc := http.NewResponseController(w)
	start := time.Now() // the socket's deadline is in real time, whatever Config.Now says
	slot := h.reading.acquire(rc, start)
	if slot < 0 {
		return nil, http.StatusServiceUnavailable, "too many requests in flight", fmt.Sprintf("too many requests still sending their body (cap %d, none slow enough to cut): answered 503", h.reading.cap())
	}
	limit := h.bodyTime(r.ContentLength)
	timed := rc.SetReadDeadline(start.Add(limit)) == nil
	chunked := timed && r.ContentLength < 0
	grow := func(n int) {
		h.reading.progress(slot, n)
		// Chunked: the length is known only as it arrives; a sender keeping up with
		// minBodyRate keeps its time.
		if chunked {
			if t := h.bodyTime(int64(n)); t > limit {
				limit = t
				_ = rc.SetReadDeadline(start.Add(limit))
			}
		}
	}
	body, err := readAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBody), r.ContentLength, h.cfg.MaxBody, grow)
	if evicted := h.reading.release(slot); evicted && err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		return nil, http.StatusRequestTimeout, "body not received in time", fmt.Sprintf("body still arriving after %s (%d bytes), the slowest of %d senders: cut to make room for a new request, answered 408", RoundDuration(time.Since(start)), len(body), h.reading.cap())
	}
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return nil, http.StatusRequestEntityTooLarge, "body too large", fmt.Sprintf("body larger than %s: answered 413 (raise --max-body)", ByteSize(h.cfg.MaxBody))
		case errors.Is(err, os.ErrDeadlineExceeded):
			return nil, http.StatusRequestTimeout, "body not received in time", fmt.Sprintf("body not received within %s (%d bytes arrived): answered 408, a sender this slow is holding a connection, not sending a webhook", RoundDuration(limit), len(body))
		}
		return nil, http.StatusBadRequest, "could not read body", "could not read body: " + err.Error()
	}
	return body, 0, "", ""
}

// bodyTime is how long a body of n bytes (n < 0: unknown) may take to arrive.
func (h *Handler) bodyTime(n int64) time.Duration {
	t := h.cfg.BodyTimeout
	if n > 0 {
		t += time.Duration(float64(n) / minBodyRate * float64(time.Second))
	}
	return min(t, max(maxBodyTime, h.cfg.BodyTimeout))
}

// readAll reads all of r into a buffer sized from the announced length (io.ReadAll would
// grow it step by step), never trusting that length beyond max. grow, when set, is told
// the length read so far after each read.
func readAll(r io.Reader, announced, max int64, grow func(n int)) ([]byte, error) {
	size := int64(512)
	if announced > 0 {
		// +1 so that EOF is seen without growing; at most 64 KiB up front, so that a
		// client announcing a large body and sending nothing costs nothing.
		size = min(announced, max, 64<<10) + 1
	}
	buf := make([]byte, 0, size)
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if grow != nil && n > 0 {
			grow(len(buf))
		}
		if err != nil {
			return buf, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

// authHint points at the likely mistake when a request carries the headers of another
// authentication mode than the one configured. It names headers, never their values.
func authHint(c AuthConfig, hdr http.Header) string {
	has := func(name string) bool { return hdr.Get(name) != "" }
	switch {
	case c.Mode != AuthBearer && has("Authorization"):
		return "the request has an Authorization header: is it --auth bearer?"
	case c.Mode != AuthSecret && has("X-Vapi-Secret"):
		return "the request has an X-Vapi-Secret header: is it --auth secret?"
	case has("X-Vapi-Signature") && !strings.EqualFold(c.HMAC.SignatureHeader, "X-Vapi-Signature"):
		return "the request has an X-Vapi-Signature header: is it --auth hmac --hmac-preset x-vapi-signature?"
	case c.Mode != AuthHMAC && has("X-Signature"):
		return "the request has an X-Signature header: is it --auth hmac?"
	}
	return ""
}

// isInstant says rs answers at once (the answers file): it never waits on anyone.
func isInstant(rs Responder) bool {
	in, ok := rs.(interface{ Instant() bool })
	return ok && in.Instant()
}

// respond runs the responder chain under the event's deadline and returns the reply to
// send. Unless recorded, the request goes on the tape before the first responder that may
// wait is asked, or, when that one is a SendingResponder, once it has sent the request.
func (h *Handler) respond(parent context.Context, ev *Event, recorded bool) (Reply, []string) {
	if len(h.cfg.Responders) == 0 {
		if ev.Deadline.IsZero() {
			return Ack(), nil
		}
		return h.cfg.Fallback(ev, h.noAnswerReason(ev)), nil
	}
	deadline := ev.Deadline
	if deadline.IsZero() {
		// Informational messages are only forwarded; give the forward the tool budget.
		deadline = ev.Received.Add(h.cfg.ToolTimeout)
	}
	// The deadline's context (and its timer) is made only when a responder may wait:
	// an instant one, such as the answers file, is asked without it.
	var ctx context.Context
	cancel := context.CancelFunc(func() {})
	defer func() { cancel() }()
	sent := func() {
		if !recorded {
			h.record(ev)
			recorded = true
		}
	}
	ctxFor := func(rs Responder) context.Context {
		instant := isInstant(rs)
		if _, sends := rs.(SendingResponder); !instant && !sends {
			sent()
		}
		if instant && ctx == nil {
			return parent
		}
		if ctx == nil {
			ctx, cancel = context.WithDeadline(parent, deadline)
		}
		return ctx
	}
	var attempts []string
	var partial []ToolResult
	// fwdFailed says why your server's answer was not used, when it was asked and failed
	// on a message Vapi waits on: whoever answers instead says so (see substitute).
	var fwdFailed string
	// operatorGone says the operator's monitor closed while this request waited for it.
	var operatorGone bool
	for i, rs := range h.cfg.Responders {
		start := h.cfg.Now()
		rctx := ctxFor(rs)
		rep, err := h.try(rctx, rs, ev, sent)
		if !isInstant(rs) {
			sent() // a SendingResponder that did not call it (it failed before sending)
		}
		took := h.cfg.Now().Sub(start)
		switch {
		case err == nil:
			rep = answeredBy(rep, rs)
			if ev.Deadline.IsZero() && !rep.Raw && (rep.Status < 200 || rep.Status > 299) {
				attempts = append(attempts, fmt.Sprintf("%s: HTTP %d in %s (acknowledged 200 {} instead)", rs.Name(), rep.Status, RoundDuration(took)))
				return Ack(), attempts
			}
			return substitute(rep, fwdFailed), attempts
		case errors.Is(err, ErrPass):
		default:
			var pa *PartialAnswer
			if errors.As(err, &pa) {
				partial = append(partial, pa.Results...)
			}
			if errors.Is(err, ErrMonitorClosed) {
				operatorGone = true
			}
			if rs.Name() == SourceForward && !ev.Deadline.IsZero() && fwdFailed == "" {
				fwdFailed = forwardFailure(err)
			}
			attempts = append(attempts, fmt.Sprintf("%s: %s", rs.Name(), err))
		}
		if ctx != nil && ctx.Err() != nil {
			// Out of time: the rest of the chain is not asked, but an answer given ahead
			// of being asked still goes (Keeper).
			for _, rest := range h.cfg.Responders[i+1:] {
				k, ok := rest.(Keeper)
				if !ok {
					continue
				}
				rep, err := k.Kept(ev)
				var pa *PartialAnswer
				switch {
				case err == nil:
					rep = answeredBy(rep, rest)
					attempts = append(attempts, rest.Name()+": answered ahead of being asked")
					return substitute(rep, fwdFailed), attempts
				case errors.As(err, &pa):
					partial = append(partial, pa.Results...)
				}
			}
			break
		}
	}
	if ev.Deadline.IsZero() {
		return Ack(), attempts
	}
	reason := h.fallbackReason(ev, parent, ctx, operatorGone, fwdFailed)
	return substitute(withPartial(h.cfg.Fallback(ev, reason), partial), fwdFailed), attempts
}

// answeredBy fills in what a responder's reply may leave out: its source (the
// responder's name) and its status (200).
func answeredBy(rep Reply, rs Responder) Reply {
	if rep.Source == "" {
		rep.Source = rs.Name()
	}
	if rep.Status == 0 {
		rep.Status = http.StatusOK
	}
	return rep
}

// Why a fallback is sent when a request stopped waiting early, in the words of its error
// text (what the model, Vapi's logs and the tape read).
const (
	// reasonClosed: the operator's monitor closed (the operator quit) or the server was
	// shutting down while the request waited.
	reasonClosed = "vapimon was closed before anyone answered"
	// reasonCancelled: the request's context ended otherwise: its sender hung up (the
	// reply goes nowhere, but the tape and the monitor show it).
	reasonCancelled = "vapimon: the request was cancelled before anyone answered"
)

// Closing marks the handler as closing: vapimon is shutting down (from the start of the
// shutdown, while Vapi's settings are put back, before the listener closes), so that a
// request cancelled from now on says vapimon was closed, not that it was cancelled.
func (h *Handler) Closing() { h.closing.Store(true) }

// fallbackReason is the error text of the fallback reply, from why the responder chain
// ended without an answer: vapimon closing (the operator's monitor closed, or the server
// shutting down), the request cancelled otherwise, the deadline passing with someone asked,
// your server failing with nobody after it answering, or nobody configured to answer.
// ctx is the deadline's context (nil when no responder waited). It never holds text from
// a payload or from your server.
func (h *Handler) fallbackReason(ev *Event, parent, ctx context.Context, operatorGone bool, fwdFailed string) string {
	switch {
	case operatorGone || (parent.Err() != nil && h.closing.Load()):
		return reasonClosed
	case parent.Err() != nil:
		return reasonCancelled
	case ctx != nil && ctx.Err() != nil:
		return fmt.Sprintf("vapimon: nobody answered within %s", RoundDuration(ev.Deadline.Sub(ev.Received)))
	case fwdFailed != "":
		return "vapimon: no usable answer from your server (" + fwdFailed + ")"
	}
	return h.noAnswerReason(ev)
}

// substitute marks a reply sent in place of your server's, when the forward failed (why is
// set): Reply.ForwardFailed and the HeaderFallback header, whose value says who answered
// and why in words vapimon chose ("answers; your server: HTTP 500"), never in text from
// the server. The note is left alone: the TUI compares it with the fallback's errors.
func substitute(rep Reply, why string) Reply {
	if why == "" || rep.Source == SourceForward {
		return rep
	}
	rep.ForwardFailed = why
	hdr := make(http.Header, len(rep.Header)+1)
	for k, vs := range rep.Header {
		hdr[k] = vs
	}
	hdr.Set(HeaderFallback, rep.Source+"; your server: "+why)
	rep.Header = hdr
	return rep
}

// forwardFailure says in a few fixed words why a forward gave no usable reply, from the
// kind the forwarder gave its *ForwardError (never from its sentence): the status it got,
// or what happened on the way. An error of another type is "no reply".
func forwardFailure(err error) string {
	var fe *ForwardError
	if !errors.As(err, &fe) {
		return "no reply"
	}
	switch fe.Failure {
	case ForwardStatus:
		return fmt.Sprintf("HTTP %d", fe.Status)
	case ForwardRedirect:
		return fmt.Sprintf("HTTP %d redirect", fe.Status)
	case ForwardUnusable:
		return "unusable reply"
	case ForwardTooLarge:
		return "reply too large"
	case ForwardTimeout:
		return "timeout"
	case ForwardRefused:
		return "refused"
	}
	return "no reply"
}

// withPartial puts the tool results a responder gave before its time ran out into the
// fallback reply, in place of the fallback's entries for the same calls.
func withPartial(rep Reply, partial []ToolResult) Reply {
	if len(partial) == 0 {
		return rep
	}
	var body struct {
		Results []struct {
			ToolCallID string  `json:"toolCallId"`
			Name       string  `json:"name"`
			Result     *string `json:"result"`
			Error      *string `json:"error"`
		} `json:"results"`
	}
	if json.Unmarshal(rep.Body, &body) != nil || len(body.Results) == 0 {
		return rep
	}
	byID := make(map[string]ToolResult, len(partial))
	for _, r := range partial {
		byID[r.ToolCallID] = r
	}
	out := make([]ToolResult, 0, len(body.Results))
	for _, r := range body.Results {
		if p, ok := byID[r.ToolCallID]; ok {
			out = append(out, p)
			continue
		}
		tr := ToolResult{ToolCallID: r.ToolCallID, Name: r.Name}
		if r.Error != nil {
			tr.Error, tr.IsError = *r.Error, true
		} else if r.Result != nil {
			tr.Result = *r.Result
		}
		out = append(out, tr)
	}
	rep.Body = ToolCallsReply(out)
	rep.Note = strings.TrimSpace(fmt.Sprintf("%s (kept %d answer(s) given in time)", rep.Note, len(partial)))
	return rep
}

// try calls one responder, turning a panic into an error so a bad responder cannot take the
// handler down.
func (h *Handler) try(ctx context.Context, rs Responder, ev *Event, sent func()) (rep Reply, err error) {
	defer func() {
		if p := recover(); p != nil {
			h.cfg.Logger.Error("panic in responder", "responder", rs.Name(), "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("internal error: %v", p)
		}
	}()
	if sr, ok := rs.(SendingResponder); ok && !isInstant(rs) {
		return sr.RespondSending(ctx, ev, sent)
	}
	return rs.Respond(ctx, ev)
}

// noAnswerReason is the error text of the fallback reply. For tool calls it goes into
// every result, so it names no tool (each result has its name): a text listing every
// tool, repeated in every result, made a message of many calls answer in quadratic size.
func (h *Handler) noAnswerReason(ev *Event) string {
	if ev.Msg != nil && ev.Msg.Kind == TypeToolCalls {
		return "vapimon: no answer configured for this tool"
	}
	return "vapimon: no answer configured for " + ev.Type()
}

func (h *Handler) reject(w http.ResponseWriter, ev *Event, status int, public, reason string, start time.Time) {
	ev.Rejected = reason
	ev.Status = status
	h.stats.rejected.Add(1)
	h.cfg.Bus.Publish(ev)
	h.finish(w, ev, rejectReply(status, public), nil, start)
}

// finish records the exchange, then writes the reply, then publishes the outcome.
func (h *Handler) finish(w http.ResponseWriter, ev *Event, rep Reply, attempts []string, start time.Time) {
	ev.WireHeader = nil // the responders are done with it (see Event.WireHeader)
	out := &Outcome{Seq: ev.Seq, Reply: rep, Latency: h.cfg.Now().Sub(start), Attempts: attempts}
	if h.cfg.Recorder != nil {
		h.recordErr(h.cfg.Recorder.Replied(ev, out))
	}
	hdr := w.Header()
	for k, vs := range rep.Header {
		hdr[k] = append([]string(nil), vs...)
	}
	if hdr.Get("Content-Type") == "" && len(rep.Body) > 0 {
		hdr.Set("Content-Type", "application/json")
	}
	status := rep.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	if _, err := w.Write(rep.Body); err != nil {
		out.WriteErr = err.Error()
	}
	h.stats.replied.Add(1)
	h.cfg.Bus.Publish(out)
}

// record puts an accepted request on the tape before any responder that may wait runs
// (a SendingResponder: once it has sent the request, before it waits), so that a crash
// while it waits (for your server, for the operator) leaves it there. When
// every responder answers at once (Handler.instant), or the ones asked first answer at
// once and one of them answers, the request is recorded with its reply as one whole line
// instead, still before the reply goes out: one tape write instead of two.
func (h *Handler) record(ev *Event) {
	if h.cfg.Recorder != nil {
		h.recordErr(h.cfg.Recorder.Received(ev))
	}
}

// recordErr counts and reports a failed tape write: TapeHealth every time (the count), a
// notice only when the error changes (a full disk is one notice, not one per request).
func (h *Handler) recordErr(err error) {
	if err == nil {
		return
	}
	n := h.stats.tapeFailed.Add(1)
	msg := err.Error()
	h.cfg.Logger.Error("tape write failed", "err", err)
	if prev := h.lastTapeErr.Swap(&msg); prev == nil || *prev != msg {
		h.cfg.Bus.Publish(Notice{Time: h.cfg.Now(), Level: "error", Text: fmt.Sprintf("recording failed: %s (vapimon keeps answering; %d failed tape write(s) so far)", msg, n)})
	}
	h.cfg.Bus.Publish(TapeHealth{Failed: n, Err: msg})
}

// maxNotedCalls bounds the memory of which deadline notes were published: past it, the
// oldest are forgotten (and could be published once more).
const maxNotedCalls = 4096

// publishNotes publishes each deadline note (a payload timeout that was not used) as a
// Notice, once per call.
func (h *Handler) publishNotes(callID string, notes []string) {
	for _, n := range notes {
		if !h.noted.first(noteKey{callID, n}) {
			continue
		}
		level := "warn"
		if strings.HasPrefix(n, "no server.timeoutSeconds") {
			level = "info"
		}
		text := n
		if callID != "" {
			text = "call " + safe(clipID(callID)) + ": " + n
		}
		h.cfg.Bus.Publish(Notice{Time: h.cfg.Now(), Level: level, Text: text})
	}
}

func clipID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// noteKey is one note for one call.
type noteKey struct{ call, note string }

// onceSet remembers up to max keys, forgetting the oldest first.
type onceSet struct {
	mu   sync.Mutex
	max  int
	seen map[noteKey]struct{}
	ring []noteKey
	next int
}

// first reports whether key is new, and remembers it.
func (s *onceSet) first(key noteKey) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[key]; ok {
		return false
	}
	if s.seen == nil {
		s.seen = map[noteKey]struct{}{}
	}
	if len(s.ring) < s.max {
		s.ring = append(s.ring, key)
	} else {
		delete(s.seen, s.ring[s.next])
		s.ring[s.next] = key
		s.next = (s.next + 1) % len(s.ring)
	}
	s.seen[key] = struct{}{}
	return true
}

func (h *Handler) requestURL(r *http.Request) string {
	if h.cfg.PublicURL != nil {
		if base := strings.TrimRight(h.cfg.PublicURL(), "/"); base != "" {
			return base + r.URL.RequestURI()
		}
	}
	return requestProto(r) + "://" + r.Host + r.URL.RequestURI()
}

func requestProto(r *http.Request) string {
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		return p
	}
	if r.TLS != nil {
		return "https"
	}
	return "http"
}
