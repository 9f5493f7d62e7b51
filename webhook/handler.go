package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"
)

// Defaults for Config.
const (
	DefaultMaxBody     = 8 << 20
	DefaultMaxInFlight = 256
)

// Config configures a Handler. Only Bus may be shared with other handlers.
type Config struct {
	// Verifier checks each request; nil accepts everything (auth none).
	Verifier *Verifier
	// MaxBody caps the request body (413 past it); default 8 MiB.
	MaxBody int64
	// MaxInFlight caps concurrent requests (503 past it); default 256.
	MaxInFlight int
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
	stats     struct {
		received, rejected, replied, tapeFailed atomic.Uint64
	}
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
	h := &Handler{cfg: cfg, inflight: make(chan struct{}, cfg.MaxInFlight)}
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

// InFlight returns how many requests are being handled now.
func (h *Handler) InFlight() int { return len(h.inflight) }

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
		AuthMode:   h.auth().Mode,
	}
	h.stats.received.Add(1)
	defer func() {
		if p := recover(); p != nil {
			h.cfg.Logger.Error("panic in webhook handler", "panic", p, "stack", string(debug.Stack()))
			h.cfg.Bus.Publish(Notice{Time: h.cfg.Now(), Level: "error", Text: fmt.Sprintf("internal error handling request #%d: %v (see the log file)", ev.Seq, p)})
			h.finish(w, ev, rejectReply(http.StatusInternalServerError, "internal error"), nil, now)
		}
	}()

	select {
	case h.inflight <- struct{}{}:
		defer func() { <-h.inflight }()
	default:
		h.reject(w, ev, http.StatusServiceUnavailable, "too many requests in flight", fmt.Sprintf("too many requests in flight (cap %d): answered 503", cap(h.inflight)), now)
		return
	}

	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.reject(w, ev, http.StatusMethodNotAllowed, "method not allowed: Vapi sends POST", fmt.Sprintf("%s request refused: Vapi only sends POST", sanitizeReason(r.Method)), now)
		return
	}

	if r.ContentLength > h.cfg.MaxBody {
		h.reject(w, ev, http.StatusRequestEntityTooLarge, "body too large", fmt.Sprintf("body of %d bytes announced, larger than %s: answered 413 (raise --max-body)", r.ContentLength, byteSize(h.cfg.MaxBody)), now)
		return
	}
	body, err := readBody(http.MaxBytesReader(w, r.Body, h.cfg.MaxBody), r.ContentLength, h.cfg.MaxBody)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.reject(w, ev, http.StatusRequestEntityTooLarge, "body too large", fmt.Sprintf("body larger than %s: answered 413 (raise --max-body)", byteSize(h.cfg.MaxBody)), now)
			return
		}
		h.reject(w, ev, http.StatusBadRequest, "could not read body", "could not read body: "+err.Error(), now)
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
	ev.Verified = h.cfg.Verifier != nil && h.auth().Mode != AuthNone

	msg, err := Parse(body)
	if err != nil {
		h.reject(w, ev, http.StatusBadRequest, err.Error(), err.Error(), now)
		return
	}
	ev.Msg = msg
	if d := Timing(msg, now, h.cfg.ToolTimeout); d.Budget > 0 {
		ev.VapiDeadline, ev.Deadline, ev.BudgetSource = d.Vapi, d.Send, d.Source
	}
	h.record(ev)
	h.cfg.Bus.Publish(ev)

	reply, attempts := h.respond(r.Context(), ev)
	h.finish(w, ev, reply, attempts, now)
}

// readBody reads all of r into a buffer sized from the announced length (io.ReadAll would
// grow it step by step), never trusting that length beyond max.
func readBody(r io.Reader, announced, max int64) ([]byte, error) {
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

// respond runs the responder chain under the event's deadline and returns the reply to send.
func (h *Handler) respond(parent context.Context, ev *Event) (Reply, []string) {
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
	ctxFor := func(rs Responder) context.Context {
		if in, ok := rs.(interface{ Instant() bool }); ok && in.Instant() && ctx == nil {
			return parent
		}
		if ctx == nil {
			ctx, cancel = context.WithDeadline(parent, deadline)
		}
		return ctx
	}
	var attempts []string
	var partial []ToolResult
	for _, rs := range h.cfg.Responders {
		start := h.cfg.Now()
		rep, err := h.try(ctxFor(rs), rs, ev)
		took := h.cfg.Now().Sub(start)
		switch {
		case err == nil:
			if rep.Source == "" {
				rep.Source = rs.Name()
			}
			if rep.Status == 0 {
				rep.Status = http.StatusOK
			}
			if ev.Deadline.IsZero() && !rep.Raw && (rep.Status < 200 || rep.Status > 299) {
				attempts = append(attempts, fmt.Sprintf("%s: HTTP %d in %s (acknowledged 200 {} instead)", rs.Name(), rep.Status, roundDur(took)))
				return Ack(), attempts
			}
			return rep, attempts
		case errors.Is(err, ErrPass):
		default:
			var pa *PartialAnswer
			if errors.As(err, &pa) {
				partial = append(partial, pa.Results...)
			}
			attempts = append(attempts, fmt.Sprintf("%s: %s", rs.Name(), err))
		}
		if ctx != nil && ctx.Err() != nil {
			break
		}
	}
	if ev.Deadline.IsZero() {
		return Ack(), attempts
	}
	reason := h.noAnswerReason(ev)
	if ctx != nil && ctx.Err() != nil && parent.Err() == nil {
		reason = fmt.Sprintf("vapimon: nobody answered within %s", roundDur(ev.Deadline.Sub(ev.Received)))
	}
	return withPartial(h.cfg.Fallback(ev, reason), partial), attempts
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
func (h *Handler) try(ctx context.Context, rs Responder, ev *Event) (rep Reply, err error) {
	defer func() {
		if p := recover(); p != nil {
			h.cfg.Logger.Error("panic in responder", "responder", rs.Name(), "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("internal error: %v", p)
		}
	}()
	return rs.Respond(ctx, ev)
}

func (h *Handler) noAnswerReason(ev *Event) string {
	if ev.Msg != nil && ev.Msg.Kind == TypeToolCalls && len(ev.Msg.ToolCalls) > 0 {
		names := make([]string, 0, len(ev.Msg.ToolCalls))
		for _, tc := range ev.Msg.ToolCalls {
			names = append(names, tc.Name)
		}
		return "vapimon: no answer configured for " + strings.Join(names, ", ")
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

// record puts an accepted request on the tape before any responder runs.
func (h *Handler) record(ev *Event) {
	if h.cfg.Recorder != nil {
		h.recordErr(h.cfg.Recorder.Received(ev))
	}
}

// recordErr counts and reports a failed tape write.
func (h *Handler) recordErr(err error) {
	if err == nil {
		return
	}
	n := h.stats.tapeFailed.Add(1)
	h.cfg.Logger.Error("tape write failed", "err", err)
	h.cfg.Bus.Publish(Notice{Time: h.cfg.Now(), Level: "error", Text: "recording failed: " + err.Error()})
	h.cfg.Bus.Publish(TapeHealth{Failed: n, Err: err.Error()})
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

// NewServer returns an http.Server for h with every timeout set. toolTimeout is the longest
// a reply may take, so the write timeout leaves room for it. The server's own error log goes
// to logger (never to stderr, which the TUI owns).
func NewServer(h http.Handler, toolTimeout time.Duration, logger *slog.Logger) *http.Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if toolTimeout < DefaultToolTimeout {
		toolTimeout = DefaultToolTimeout
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      toolTimeout + 40*time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

func sanitizeReason(s string) string {
	if len(s) > 32 {
		s = s[:32]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func roundDur(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond)
}
