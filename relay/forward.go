package relay

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vapimon/vapimon/tui/sanitize"
	"github.com/vapimon/vapimon/webhook"
)

// Defaults for ForwardOptions.
const (
	// DefaultMaxInFlight is the cap on concurrent forwards of each kind (see
	// ForwardOptions.MaxInFlight).
	DefaultMaxInFlight = 64
	DefaultMaxResponse = 8 << 20
	// DefaultForwardTimeout applies when the context has no deadline (the handler always
	// sets one; this guards other callers).
	DefaultForwardTimeout = webhook.DefaultToolTimeout
)

// InterceptFunc sees the developer's server's reply to a message that expects one, after
// a successful forward, and returns the reply to send: the same, edited, or replaced
// (set Source to webhook.SourceOperator when a person changed it). An error hands the
// message to the next responder. It must return by ctx's deadline.
type InterceptFunc func(ctx context.Context, ev *webhook.Event, reply webhook.Reply) (webhook.Reply, error)

// ForwardOptions configures a Forwarder; the zero value is usable.
type ForwardOptions struct {
	// MaxInFlight caps concurrent forwards of each kind: messages Vapi waits on (tool
	// calls, assistant requests...) and informational ones (transcripts, status
	// updates...) have a cap each, so that a flood of transcripts cannot keep a tool call
	// from your server. Past its cap a forward fails at once. Default 64 each.
	MaxInFlight int
	// MaxResponse caps the reply body read from the server. Default 8 MiB.
	MaxResponse int64
	// Bus, when set, receives a webhook.ForwardHealth after every exchange.
	Bus *webhook.Bus
	// Client sends the requests; its redirect policy is replaced (vapimon never follows
	// redirects). Default: a client with keep-alive and no transparent decompression.
	Client *http.Client
	// Timeout bounds a forward whose context has no deadline. Default 20 s.
	Timeout time.Duration
	// Intercept, when set, is called for reply-expecting messages (--intercept).
	Intercept InterceptFunc
	// ReplyTimeout bounds the forward of a message Vapi waits on (--forward-timeout).
	// Default: half the time left before the handler's deadline, so that a hung server
	// leaves the answers file and the operator time to answer.
	ReplyTimeout time.Duration
	// Raw passes the server's reply on unchanged whatever it is (a 500, a body Vapi
	// cannot use, a redirect), instead of letting the next responder answer: to see what
	// Vapi does with it (--forward-raw). The forward health still says what is wrong
	// with it. Without a reply (refused, timed out, over MaxResponse) the chain moves on.
	Raw bool

	// Header is added to every forwarded request, replacing headers of the same name
	// (--forward-header).
	Header http.Header
	// Insecure skips the TLS certificate check of https targets (--forward-insecure). It
	// applies to the default client only.
	Insecure bool

	// noRetry turns the resend on a stale kept-alive connection off, for tests that
	// measure the failure rate it prevents.
	noRetry bool
}

// Forwarder relays webhooks to the developer's own server. It is a webhook.Responder
// named "forward": put it first in the chain, so that when the server is down, slow,
// erroring or replying garbage, the operator, the answers file and the fallback still
// answer Vapi inside the same deadline.
type Forwarder struct {
	routes []route
	// replySlots and infoSlots cap concurrent forwards of messages Vapi waits on and of
	// informational ones, apart, so that transcripts cannot use up a tool call's place.
	replySlots chan struct{}
	infoSlots  chan struct{}
	maxResp    int64
	bus        *webhook.Bus
	client     *http.Client
	// direct is the default client's transport, used without http.Client when nothing
	// that http.Client adds applies (no cookie jar, no client timeout, no user:password in
	// a URL, and redirects are never followed): that saves a copy of the headers kept for
	// redirects and a fork of the request per forward. Nil with ForwardOptions.Client.
	direct       http.RoundTripper
	fresh        *http.Client // for the one resend: never reuses a connection
	timeout      time.Duration
	replyTimeout time.Duration
	raw          bool
	noRetry      bool
	intercept    atomic.Pointer[InterceptFunc]
	header       http.Header // --forward-header
	fixed        fixedHeader // header, for the fast path
	notes        noteCache
	pools        map[string]*h1Pool
}

type route struct {
	Route
	u   *url.URL
	err error
	h1  *h1Route // the fast path (h1client.go), nil when http.Transport sends
}

// NewForwarder returns a Forwarder for routes (from ParseRoutes).
func NewForwarder(routes []Route, o ForwardOptions) *Forwarder {
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	if o.MaxResponse <= 0 {
		o.MaxResponse = DefaultMaxResponse
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultForwardTimeout
	}
	var client http.Client
	var direct *http.Transport
	if o.Client != nil {
		client = *o.Client
	} else {
		t := newTransport(2*o.MaxInFlight, forwardDialer)
		if o.Insecure {
			t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // asked for: a self-signed dev server
		}
		client = http.Client{Transport: t}
		direct = t
	}
	var directRT http.RoundTripper
	if direct != nil {
		directRT = direct
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	f := &Forwarder{
		replySlots:   make(chan struct{}, o.MaxInFlight),
		infoSlots:    make(chan struct{}, o.MaxInFlight),
		maxResp:      o.MaxResponse,
		bus:          o.Bus,
		client:       &client,
		direct:       directRT,
		fresh:        freshClient(&client),
		timeout:      o.Timeout,
		replyTimeout: o.ReplyTimeout,
		raw:          o.Raw,
		noRetry:      o.noRetry,
		header:       o.Header.Clone(),
		pools:        map[string]*h1Pool{},
	}
	f.fixed = newFixedHeader(f.header)
	for _, r := range routes {
		u, err := url.Parse(r.URL)
		rt := route{Route: r, u: u, err: err}
		if err == nil && direct != nil {
			rt.h1 = newH1Route(u, r.URL, direct, f.pools, forwardDialer, 2*o.MaxInFlight)
		}
		f.routes = append(f.routes, rt)
	}
	f.SetIntercept(o.Intercept)
	return f
}

// forwardDialer is http.DefaultTransport's dialer, shared by the transport and the fast
// path.
var forwardDialer = &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}

// newTransport is http.DefaultTransport's settings, with enough idle connections for
// maxConns concurrent forwards to one server and without transparent gzip (the reply is
// checked, shown and passed on as the server sent it).
func newTransport(maxConns int, d *net.Dialer) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          max(100, maxConns),
		MaxIdleConnsPerHost:   maxConns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
}

// freshClient is c with a transport that opens a new connection for every request, for
// resending a request whose kept-alive connection the server had closed: another pooled
// connection may be as stale. A transport vapimon cannot copy is used as it is.
func freshClient(c *http.Client) *http.Client {
	t, ok := c.Transport.(*http.Transport)
	if c.Transport == nil {
		t, ok = http.DefaultTransport.(*http.Transport)
	}
	if !ok {
		return c
	}
	t = t.Clone()
	t.DisableKeepAlives = true
	fresh := *c
	fresh.Transport = t
	return &fresh
}

// Name is "forward".
func (f *Forwarder) Name() string { return webhook.SourceForward }

// Routes returns the routes, in the order given.
func (f *Forwarder) Routes() []Route {
	out := make([]Route, len(f.routes))
	for i, r := range f.routes {
		out[i] = r.Route
	}
	return out
}

// Describe lists the targets for the status bar: the URL alone for a single catch-all
// route, else "tool-calls → URL, * → URL"; " (raw)" follows with ForwardOptions.Raw, so
// that nobody forgets that vapimon no longer answers in place of a broken server.
func (f *Forwarder) Describe() string {
	raw := ""
	if f.raw {
		raw = " (raw)"
	}
	if len(f.routes) == 1 && f.routes[0].Type == "*" {
		return f.routes[0].URL + raw
	}
	parts := make([]string, len(f.routes))
	for i, r := range f.routes {
		parts[i] = r.Type + " → " + r.URL
	}
	return strings.Join(parts, ", ") + raw
}

// SetIntercept replaces the intercept hook (nil turns interception off). Safe to call
// while requests are in flight, e.g. from the TUI's toggle key.
func (f *Forwarder) SetIntercept(fn InterceptFunc) {
	if fn == nil {
		f.intercept.Store(nil)
		return
	}
	f.intercept.Store(&fn)
}

// Target returns the URL an event would be forwarded to, if any route matches.
func (f *Forwarder) Target(ev *webhook.Event) (string, bool) {
	if ev == nil || ev.Msg == nil {
		return "", false
	}
	r := f.match(ev.Msg)
	if r == nil || r.err != nil {
		return "", false
	}
	return r.target(ev.Path), true
}

func (f *Forwarder) match(m *webhook.Message) *route {
	for i := range f.routes {
		if t := f.routes[i].Type; t == m.Type || t == m.Kind {
			return &f.routes[i]
		}
	}
	for i := range f.routes {
		if f.routes[i].Type == "*" {
			return &f.routes[i]
		}
	}
	return nil
}

// target is the route URL, with the path Vapi posted to appended when the route has none.
func (r *route) target(evPath string) string {
	if r.u.Path != "" || r.u.RawQuery != "" || evPath == "" || evPath == "/" {
		return r.URL
	}
	if !strings.HasPrefix(evPath, "/") {
		evPath = "/" + evPath
	}
	return strings.TrimSuffix(r.URL, "/") + evPath
}

// Respond forwards ev to its route and returns the server's reply (Source "forward").
// Events without a route pass (webhook.ErrPass).
//
// A 2xx reply with a body Vapi can use goes on unchanged, status, headers and body
// included: Vapi's own example servers answer 201, and a relay must not decide for Vapi
// what it makes of that (a status other than 200 is only a warning in Reply.Note). For a
// message that expects a reply, a failure is an error, so that the chain moves on: the
// server is unreachable or too slow for ctx's deadline, answers non-2xx or a redirect,
// sends more than MaxResponse, or sends a body Vapi cannot use (webhook.JudgeReply; an
// empty body where the message needs one is "no result returned"). When the server did
// answer, the returned Reply holds what it sent, for display only. With
// ForwardOptions.Raw, whatever the server answered is the reply, and what is wrong with
// it only goes to the forward health and the note. Informational messages are forwarded
// too; any answer is returned as is.
//
// A request that failed on a kept-alive connection before a byte of reply came back,
// in a way that says the server never had it (it could not all be written, or the server
// reset the connection with it unread: its idle timeout fired as the request arrived,
// as Node's does after 5 s), is sent once more, at once, on a new connection, if the
// deadline has not passed: its body is in memory. A connection closed cleanly after the
// whole request went out is not resent: the server may have acted on the request before
// it crashed or timed out, and a tool call must not book twice (http.Transport does not
// resend a POST then either).
//
// Every exchange, failed or not, publishes a webhook.ForwardHealth on the bus.
func (f *Forwarder) Respond(ctx context.Context, ev *webhook.Event) (webhook.Reply, error) {
	return f.RespondSending(ctx, ev, func() {})
}

// RespondSending is Respond, calling sent once the request is on its way to your server
// (written on a kept-alive connection), or before it waits on anything else (a dial, the
// transport): webhook.SendingResponder. The handler records the request then, so that the
// tape write overlaps your server's work on it.
func (f *Forwarder) RespondSending(ctx context.Context, ev *webhook.Event, sent func()) (webhook.Reply, error) {
	if ev == nil || ev.Msg == nil {
		return webhook.Reply{}, webhook.ErrPass
	}
	r := f.match(ev.Msg)
	if r == nil {
		return webhook.Reply{}, webhook.ErrPass
	}
	if r.err != nil {
		return webhook.Reply{}, failure(webhook.ForwardOther, 0, fmt.Sprintf("bad forward URL %q: %v", r.URL, r.err), r.err)
	}
	target := r.target(ev.Path)
	expects := webhook.ExpectsReply(ev.Msg.Kind)

	// Messages Vapi waits on have slots of their own: a flood of transcripts to a slow
	// server must not send a tool call to the fallback.
	slots, what := f.replySlots, "forwards"
	if !expects {
		slots, what = f.infoSlots, "informational forwards"
	}
	select {
	case slots <- struct{}{}:
		defer func() { <-slots }()
	default:
		err := failure(webhook.ForwardBusy, 0, fmt.Sprintf("%d %s already in flight: not forwarded to %s", cap(slots), what, target), nil)
		f.health(ev.Seq, target, 0, 0, err)
		return webhook.Reply{}, err
	}
	// The operator reviewing the reply (--intercept) has until the handler's deadline, not
	// just the forward's share of it.
	reviewCtx := ctx
	if d, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.timeout)
		defer cancel()
	} else if expects {
		// Leave the rest of the time to the answers file and the operator: a hung server
		// must not eat the whole deadline.
		limit := f.replyTimeout
		if limit <= 0 {
			limit = time.Until(d) / 2
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}

	method := ev.Method
	if method == "" {
		method = http.MethodPost
	}
	var resp *http.Response
	var resent bool
	var err error
	start := time.Now()
	if rb := f.fastRequest(r, ev, method); rb != nil {
		resp, resent, err = f.sendFast(ctx, r, rb, ev, target, sent)
	} else {
		req, rerr := f.newRequest(ctx, method, target, ev)
		if rerr != nil {
			return webhook.Reply{}, failure(webhook.ForwardOther, 0, fmt.Sprintf("cannot build a request to %s: %v", target, rerr), rerr)
		}
		sent()
		start = time.Now()
		resp, resent, err = f.send(ctx, req)
	}
	// The default client's transport, and the fast path, make a header for each reply:
	// it is changed in place. A caller's RoundTripper may hand out a shared one.
	owned := f.direct != nil
	if err != nil {
		fe := describeTransport(ctx, err, target, 0, time.Since(start))
		if resent {
			fe.Msg += " (also when resent on a new connection)"
		}
		f.health(ev.Seq, target, 0, time.Since(start), fe)
		return webhook.Reply{}, fe
	}
	defer resp.Body.Close()

	body, err := f.readBody(resp)
	latency := time.Since(start)
	if err != nil {
		var fe *webhook.ForwardError
		if !errors.Is(err, errTooLarge) {
			fe = describeTransport(ctx, err, target, resp.StatusCode, latency)
		} else {
			fe = failure(webhook.ForwardTooLarge, resp.StatusCode, fmt.Sprintf("reply from %s larger than %s: vapimon stops reading there", target, webhook.ByteSize(f.maxResp)), err)
		}
		f.health(ev.Seq, target, resp.StatusCode, latency, fe)
		return webhook.Reply{Status: resp.StatusCode, Header: replyHeader(resp.Header, owned), Source: webhook.SourceForward}, fe
	}
	reply := webhook.Reply{Status: resp.StatusCode, Header: replyHeader(resp.Header, owned), Body: body, Source: webhook.SourceForward}

	var warnings []string
	var unusable *webhook.ForwardError
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		loc := resp.Header.Get("Location")
		if loc == "" {
			loc = "(no Location)"
		}
		unusable = failure(webhook.ForwardRedirect, resp.StatusCode, fmt.Sprintf("HTTP %d from %s: redirected to %s: vapimon does not follow redirects", resp.StatusCode, target, sanitize.Line(loc, 200)), nil)
	case expects:
		warnings, unusable = f.checkReply(ev.Msg, target, &reply)
	}
	var rawErr error
	if f.raw && unusable != nil {
		rawErr = unusable
	}
	if len(warnings) == 1 && !resent && rawErr == nil {
		reply.Note = f.notes.note(warnings[0])
	} else {
		reply.Note = replyNote(warnings, resent, rawErr)
	}
	f.health(ev.Seq, target, resp.StatusCode, latency, unusable, &reply)
	if f.raw {
		reply.Raw = true // even a non-2xx to an informational message goes out as it is
	} else if unusable != nil {
		return reply, unusable
	}

	if fn := f.intercept.Load(); fn != nil && expects {
		out, err := (*fn)(reviewCtx, ev, reply)
		if err != nil {
			// Your server answered; the review failed, so its reply did not go out.
			return reply, failure(webhook.ForwardOther, reply.Status, "intercepted reply not sent: "+err.Error(), err)
		}
		if out.Source == "" {
			out.Source = webhook.SourceForward
		}
		return out, nil
	}
	return reply, nil
}

// newRequest is the request http.Transport sends for ev: its body, forwardHeader and
// --forward-header.
func (f *Forwarder) newRequest(ctx context.Context, method, target string, ev *webhook.Event) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(ev.Body))
	if err != nil {
		return nil, err
	}
	req.Header = forwardHeader(ev)
	for k, v := range f.header {
		req.Header[k] = v
	}
	return req, nil
}

// sendFast is send for the forwarder's own client (h1client.go): the same resend, on
// a new connection through http.Client, when a kept-alive connection turns out stale.
func (f *Forwarder) sendFast(ctx context.Context, r *route, rb *reqBuf, ev *webhook.Event, target string, sent func()) (resp *http.Response, resent bool, err error) {
	resp, stale, err := r.h1.pool.roundTrip(ctx, rb.b, rb.rest, sent)
	rb.release()
	if err == nil {
		return resp, false, nil
	}
	// As http.Client says it: `Post "URL": cause`.
	err = &url.Error{Op: "Post", URL: target, Err: err}
	if !stale || f.noRetry || ctx.Err() != nil {
		return nil, false, err
	}
	again, rerr := f.newRequest(ctx, http.MethodPost, target, ev)
	if rerr != nil {
		return nil, false, err
	}
	sent() // the first write may have failed before it was called
	resp, _, err = attempt(f.fresh.Do, again)
	return resp, true, err
}

// send sends req, and once more at once when it failed on a kept-alive connection
// before any byte of reply came, in a way that says the server never had it (see
// resendable): the server had closed that connection as it sat idle (Node closes them
// after 5 s, and the close can cross a request on the wire). The resend goes on a new
// connection, because another pooled one may be as stale, and never past ctx's deadline,
// nor after a byte of reply or a clean close (the server may have had the request then),
// nor when the connection was new (the failure is the server's own answer). resent
// reports a resend. (http.Transport itself sends a request again when nothing of it was
// written.)
func (f *Forwarder) send(ctx context.Context, req *http.Request) (resp *http.Response, resent bool, err error) {
	do := f.client.Do
	if f.direct != nil && req.URL.User == nil {
		do = func(req *http.Request) (*http.Response, error) {
			resp, err := f.direct.RoundTrip(req)
			if err != nil {
				// As http.Client says it: `Post "URL": cause`.
				return nil, &url.Error{Op: urlErrorOp(req.Method), URL: req.URL.String(), Err: err}
			}
			return resp, nil
		}
	}
	resp, stale, err := attempt(do, req)
	if err == nil || !stale || f.noRetry || ctx.Err() != nil || req.GetBody == nil {
		return resp, false, err
	}
	again := req.Clone(ctx)
	if again.Body, err = req.GetBody(); err != nil {
		return nil, false, err
	}
	resp, _, err = attempt(f.fresh.Do, again)
	return resp, true, err
}

// connTrace learns, through net/http/httptrace, whether a request went out on a reused
// connection and whether any byte of reply came back.
type connTrace struct {
	reused, replied atomic.Bool
	trace           httptrace.ClientTrace
}

// attempt sends req once; stale reports a failure on a reused connection before any
// byte of reply that the server cannot have acted on (see send).
func attempt(do func(*http.Request) (*http.Response, error), req *http.Request) (resp *http.Response, stale bool, err error) {
	ct := &connTrace{}
	ct.trace.GotConn = func(i httptrace.GotConnInfo) { ct.reused.Store(i.Reused) }
	ct.trace.GotFirstResponseByte = func() { ct.replied.Store(true) }
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &ct.trace))
	resp, err = do(req)
	return resp, err != nil && ct.reused.Load() && !ct.replied.Load() && resendable(err), err
}

// resendable says a failed request never reached your server whole: the connection was
// reset (the server closed it with the request unread) or broken while the request was
// written. A clean close (EOF) is not: the server may have read the request first.
func resendable(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// checkReply decides whether Vapi can use the server's reply to a message it waits on.
// The status decision is the relay's own: any 2xx passes and its body is judged by
// webhook.JudgeReply as if it were 200 (the same check `vapimon send` makes); a 2xx other
// than 200 is a warning, since Vapi's docs ask for 200 while its own example servers
// answer 201, and a relay must not change what Vapi would make of it. A 2xx with an empty
// body where the message needs one is "no result returned". Other statuses fail.
// Warnings (a status other than 200, line breaks...) never fail a reply.
func (f *Forwarder) checkReply(msg *webhook.Message, target string, reply *webhook.Reply) (warnings []string, err *webhook.ForwardError) {
	if reply.Status < 200 || reply.Status > 299 {
		return nil, failure(webhook.ForwardStatus, reply.Status, fmt.Sprintf("HTTP %d from %s%s", reply.Status, target, snippet(reply.Body)), nil)
	}
	if reply.Status != http.StatusOK {
		warnings = append(warnings, fmt.Sprintf("HTTP %d: Vapi's docs ask for 200", reply.Status))
	}
	v := webhook.JudgeReply(msg, http.StatusOK, reply.Header, reply.Body)
	if warnings == nil {
		warnings = v.Warnings
	} else {
		warnings = append(warnings, v.Warnings...)
	}
	if len(v.Problems) == 0 {
		return warnings, nil
	}
	if len(bytes.TrimSpace(reply.Body)) == 0 {
		return warnings, failure(webhook.ForwardUnusable, reply.Status, fmt.Sprintf("unusable reply from %s: no result returned (HTTP %d with an empty body: %s needs one)", target, reply.Status, msg.Kind), nil)
	}
	return warnings, failure(webhook.ForwardUnusable, reply.Status, fmt.Sprintf("unusable reply from %s: %s%s", target, sanitize.Line(strings.Join(v.Problems, "; "), 300), snippet(reply.Body)), nil)
}

// noteCache keeps the last note made of a single warning: a server that always answers
// the same way (the docs' tool reply without "name") gets the same note on every reply.
type noteCache struct{ last atomic.Pointer[[2]string] }

// note is replyNote([]string{warning}, false, nil).
func (c *noteCache) note(warning string) string {
	if p := c.last.Load(); p != nil && p[0] == warning {
		return p[1]
	}
	n := replyNote([]string{warning}, false, nil)
	c.last.Store(&[2]string{warning, n})
	return n
}

// replyNote is the operator-facing note on a forwarded reply: its warnings, a resend,
// and why it is unusable when it went out all the same (--forward-raw).
func replyNote(warnings []string, resent bool, rawErr error) string {
	var parts []string
	if len(warnings) > 0 {
		parts = append(parts, "warning: "+sanitize.Line(strings.Join(warnings, "; "), 300))
	}
	if resent {
		parts = append(parts, "resent once on a new connection (your server had closed the kept-alive one)")
	}
	if rawErr != nil {
		parts = append(parts, "sent to Vapi unchanged (--forward-raw) although "+rawErr.Error())
	}
	return strings.Join(parts, "; ")
}

var errTooLarge = errors.New("reply too large")

// maxHealthBody caps the copy of the server's reply shown beside the event.
const maxHealthBody = 64 << 10

// readBody reads at most maxResp bytes, refusing at once a body announced as larger. The
// buffer grows by doubling but never past maxResp+1, so a huge reply costs about twice
// the cap in allocations, not its own size.
func (f *Forwarder) readBody(resp *http.Response) ([]byte, error) {
	limit := f.maxResp + 1 // one byte more tells "exactly max" from "over"
	if resp.ContentLength > f.maxResp {
		return nil, errTooLarge
	}
	size := int64(4 << 10)
	if resp.ContentLength >= 0 {
		size = resp.ContentLength + 1 // +1 so that EOF is seen without growing
	}
	buf := make([]byte, 0, min(size, limit))
	for {
		if len(buf) == cap(buf) {
			if int64(cap(buf)) >= limit {
				return nil, errTooLarge
			}
			grown := make([]byte, len(buf), min(2*int64(cap(buf)), limit))
			copy(grown, buf)
			buf = grown
		}
		n, err := resp.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			if int64(len(buf)) > f.maxResp {
				return nil, errTooLarge
			}
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func (f *Forwarder) health(seq uint64, target string, status int, latency time.Duration, fe *webhook.ForwardError, reply ...*webhook.Reply) {
	if f.bus == nil {
		return
	}
	h := webhook.ForwardHealth{Seq: seq, Target: target, Status: status, Latency: latency, At: time.Now()}
	if len(reply) > 0 && reply[0] != nil {
		h.Header = reply[0].Header
		h.Body = reply[0].Body
		if len(h.Body) > maxHealthBody {
			h.Body = h.Body[:maxHealthBody]
		}
	}
	if fe != nil {
		h.Failure, h.Err = fe.Failure, fe.Error()
	}
	f.bus.Publish(h)
}

// hopHeaders are meaningful for one connection only (RFC 9110 §7.6.1), as in
// net/http/httputil.ReverseProxy.
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

func removeHopHeaders(h http.Header) {
	for _, f := range h.Values("Connection") {
		for _, name := range strings.Split(f, ",") {
			if name = textproto.TrimString(name); name != "" {
				h.Del(name)
			}
		}
	}
	// One pass over the few headers a message has, rather than a lookup per name.
	for k := range h {
		if slices.Contains(hopHeaders, k) {
			delete(h, k)
		}
	}
}

// forwardHeader is the received headers as they came (Vapi's auth headers included, so
// the developer's own verification works), minus hop-by-hop headers, Host, Content-Length
// and Accept-Encoding (so the reply comes back uncompressed, to be checked and shown),
// plus X-Forwarded-For/-Host/-Proto.
func forwardHeader(ev *webhook.Event) http.Header {
	h := ev.WireHeader.Clone()
	if h == nil {
		h = http.Header{}
	}
	removeHopHeaders(h)
	h.Del("Host")
	h.Del("Content-Length")
	h.Del("Accept-Encoding")
	if _, ok := h["User-Agent"]; !ok {
		h["User-Agent"] = []string{""} // send none rather than Go's
	}
	if ip := remoteIP(ev.RemoteAddr); ip != "" {
		prior := strings.Join(h.Values("X-Forwarded-For"), ", ")
		switch {
		case prior == "":
			h.Set("X-Forwarded-For", ip)
		case strings.TrimSpace(prior[strings.LastIndexByte(prior, ',')+1:]) != ip:
			// ngrok already put the visitor's address there; add ours only when new.
			h.Set("X-Forwarded-For", prior+", "+ip)
		}
	}
	if ev.Host != "" {
		h.Set("X-Forwarded-Host", ev.Host)
	}
	proto := ev.Proto
	if proto == "" {
		proto = "http"
	}
	h.Set("X-Forwarded-Proto", proto)
	return h
}

// replyHeader is the server's reply headers minus hop-by-hop ones and Content-Length
// (the handler writes the body it is given, which the intercept hook may change). owned
// says that src was made for this reply by net/http or the fast path, and may be
// changed in place; a header from a caller's RoundTripper is copied.
func replyHeader(src http.Header, owned bool) http.Header {
	h := src
	if !owned {
		h = src.Clone()
	}
	if h == nil {
		h = http.Header{}
	}
	removeHopHeaders(h)
	h.Del("Content-Length")
	return h
}

func remoteIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// failure is the error of a forward that gave no usable reply: kind for the handler and
// the UI, msg for a person.
func failure(kind webhook.ForwardFailure, status int, msg string, err error) *webhook.ForwardError {
	return &webhook.ForwardError{Failure: kind, Status: status, Msg: msg, Err: err}
}

// describeTransport says in plain words, and as a kind, why no (complete) reply came;
// status is the HTTP status when the failure came while reading the body.
func describeTransport(ctx context.Context, err error, target string, status int, took time.Duration) *webhook.ForwardError {
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return failure(webhook.ForwardTimeout, status, fmt.Sprintf("no reply from %s within %s", target, webhook.RoundDuration(took)), err)
	case errors.Is(err, context.Canceled):
		return failure(webhook.ForwardOther, status, fmt.Sprintf("forward to %s cancelled", target), err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return failure(webhook.ForwardRefused, status, fmt.Sprintf("connection refused by %s (is your server running?)", target), err)
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return failure(webhook.ForwardClosed, status, fmt.Sprintf("%s closed the connection without a complete reply", target), err)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return failure(webhook.ForwardDNS, status, fmt.Sprintf("cannot resolve %s: %s", sanitize.Line(dnsErr.Name, 100), sanitize.Line(dnsErr.Err, 100)), err)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return failure(webhook.ForwardOther, status, fmt.Sprintf("forward to %s failed: %s", target, sanitize.Line(err.Error(), 200)), err)
}

// snippet quotes the start of a body for an error message, made safe for a terminal.
func snippet(body []byte) string {
	s := sanitize.Line(string(body[:min(len(body), 200)]), 120)
	if s == "" {
		return ""
	}
	return ": " + s
}

// urlErrorOp is the Op http.Client gives a *url.Error: "Get", "Post"...
func urlErrorOp(method string) string {
	if method == "" {
		return "Get"
	}
	return method[:1] + strings.ToLower(method[1:])
}
