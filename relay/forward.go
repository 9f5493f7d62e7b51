package relay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vapimon/vapimon/webhook"
)

// Defaults for ForwardOptions.
const (
	DefaultMaxInFlight = 64
	DefaultMaxResponse = 8 << 20
	// DefaultForwardTimeout applies when the context has no deadline (the handler always
	// sets one; this guards other callers).
	DefaultForwardTimeout = webhook.DefaultToolTimeout
)

// Route sends messages of one type, or of every type ("*"), to a URL.
type Route struct {
	// Type is a message type (e.g. "tool-calls") or "*" for every type without a route
	// of its own. "transcript" also matches `transcript[transcriptType="final"]`.
	Type string
	// URL is the developer's endpoint. When it has no path, the path Vapi posted to is
	// appended.
	URL string
}

// ParseRoutes reads --forward-to values: "URL" (every type) or "TYPE=URL". A URL without
// a scheme gets http://. Unknown types, two routes for one type and bad URLs are errors
// that name the flag value.
func ParseRoutes(specs []string) ([]Route, error) {
	var out []Route
	seen := map[string]string{}
	for _, spec := range specs {
		typ, raw := splitRoute(strings.TrimSpace(spec))
		if typ != "*" && !webhook.IsKnownType(typ) {
			msg := fmt.Sprintf("--forward-to %q: unknown message type %q", spec, typ)
			if s := suggestType(typ); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			return nil, errors.New(msg)
		}
		u, err := normalizeURL(raw)
		if err != nil {
			return nil, fmt.Errorf("--forward-to %q: %v", spec, err)
		}
		if prev, dup := seen[typ]; dup {
			what := "message type " + typ
			if typ == "*" {
				what = "every other message type (*)"
			}
			return nil, fmt.Errorf("--forward-to %q: %s already goes to %s", spec, what, prev)
		}
		seen[typ] = u
		out = append(out, Route{Type: typ, URL: u})
	}
	return out, nil
}

// splitRoute separates "TYPE=URL" into its parts; anything else is a URL for every type.
// A URL may contain '=' (in its query), so the part before '=' must look like a type name.
func splitRoute(spec string) (typ, rawURL string) {
	if rest, ok := strings.CutPrefix(spec, webhook.TypeTranscriptFinal+"="); ok {
		return webhook.TypeTranscriptFinal, rest
	}
	if i := strings.IndexByte(spec, '='); i > 0 && isTypeName(spec[:i]) {
		return spec[:i], spec[i+1:]
	}
	return "*", spec
}

func isTypeName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_' || r == '*') {
			return false
		}
	}
	return true
}

// normalizeURL checks a forward target and returns it in canonical form.
func normalizeURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", errors.New("the URL is empty")
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("not a URL: %v", err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("scheme %q is not supported: use http:// or https://", u.Scheme)
	}
	if u.Hostname() == "" {
		return "", errors.New("the URL has no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("port %q is not a port number", p)
		}
	}
	u.Fragment = ""
	return u.String(), nil
}

// suggestType returns the known type closest to a mistyped one, or "".
func suggestType(typ string) string {
	best, bestD := "", 4
	for _, k := range webhook.KnownTypes {
		if d := editDistance(typ, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// InterceptFunc sees the developer's server's reply to a message that expects one, after
// a successful forward, and returns the reply to send: the same, edited, or replaced
// (set Source to webhook.SourceOperator when a person changed it). An error hands the
// message to the next responder. It must return by ctx's deadline.
type InterceptFunc func(ctx context.Context, ev *webhook.Event, reply webhook.Reply) (webhook.Reply, error)

// ForwardOptions configures a Forwarder; the zero value is usable.
type ForwardOptions struct {
	// MaxInFlight caps concurrent forwards; past it Respond fails at once. Default 64.
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
}

// Forwarder relays webhooks to the developer's own server. It is a webhook.Responder
// named "forward": put it first in the chain, so that when the server is down, slow,
// erroring or replying garbage, the operator, the answers file and the fallback still
// answer Vapi inside the same deadline.
type Forwarder struct {
	routes       []route
	sem          chan struct{}
	maxResp      int64
	bus          *webhook.Bus
	client       *http.Client
	timeout      time.Duration
	replyTimeout time.Duration
	intercept    atomic.Pointer[InterceptFunc]
}

type route struct {
	Route
	u   *url.URL
	err error
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
	if o.Client != nil {
		client = *o.Client
	} else {
		client = http.Client{Transport: newTransport(o.MaxInFlight)}
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	f := &Forwarder{
		sem:          make(chan struct{}, o.MaxInFlight),
		maxResp:      o.MaxResponse,
		bus:          o.Bus,
		client:       &client,
		timeout:      o.Timeout,
		replyTimeout: o.ReplyTimeout,
	}
	for _, r := range routes {
		u, err := url.Parse(r.URL)
		f.routes = append(f.routes, route{Route: r, u: u, err: err})
	}
	f.SetIntercept(o.Intercept)
	return f
}

// newTransport is http.DefaultTransport's settings, with enough idle connections for
// MaxInFlight concurrent forwards to one server and without transparent gzip (the reply
// is checked, shown and passed on as the server sent it).
func newTransport(maxInFlight int) *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   maxInFlight,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
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
// route, else "tool-calls → URL, * → URL".
func (f *Forwarder) Describe() string {
	if len(f.routes) == 1 && f.routes[0].Type == "*" {
		return f.routes[0].URL
	}
	parts := make([]string, len(f.routes))
	for i, r := range f.routes {
		parts[i] = r.Type + " → " + r.URL
	}
	return strings.Join(parts, ", ")
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
// For a message that expects a reply, a failure is an error, so that the chain moves on:
// the server is unreachable or too slow for ctx's deadline, answers non-2xx or a redirect,
// sends more than MaxResponse, or sends a reply Vapi cannot use (webhook.CheckReply for
// tool calls, voice and the legacy function-call; JSON for the other types). When the
// server did answer, the returned Reply holds what it sent, for display only.
// Informational messages are forwarded too; any answer is returned as is.
//
// Every exchange, failed or not, publishes a webhook.ForwardHealth on the bus.
func (f *Forwarder) Respond(ctx context.Context, ev *webhook.Event) (webhook.Reply, error) {
	if ev == nil || ev.Msg == nil {
		return webhook.Reply{}, webhook.ErrPass
	}
	r := f.match(ev.Msg)
	if r == nil {
		return webhook.Reply{}, webhook.ErrPass
	}
	if r.err != nil {
		return webhook.Reply{}, fmt.Errorf("bad forward URL %q: %v", r.URL, r.err)
	}
	target := r.target(ev.Path)
	expects := webhook.ExpectsReply(ev.Msg.Kind)

	select {
	case f.sem <- struct{}{}:
		defer func() { <-f.sem }()
	default:
		err := fmt.Errorf("%d forwards already in flight: not forwarded to %s", cap(f.sem), target)
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
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(ev.Body))
	if err != nil {
		return webhook.Reply{}, fmt.Errorf("cannot build a request to %s: %v", target, err)
	}
	req.Header = forwardHeader(ev)
	start := time.Now()
	resp, err := f.client.Do(req)
	if err != nil {
		err = describeTransport(ctx, err, target, time.Since(start))
		f.health(ev.Seq, target, 0, time.Since(start), err)
		return webhook.Reply{}, err
	}
	defer resp.Body.Close()

	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		loc := resp.Header.Get("Location")
		if loc == "" {
			loc = "(no Location)"
		}
		err := fmt.Errorf("HTTP %d from %s: redirected to %s: vapimon does not follow redirects", resp.StatusCode, target, printable(loc, 200))
		f.health(ev.Seq, target, resp.StatusCode, time.Since(start), err)
		return webhook.Reply{Status: resp.StatusCode, Header: replyHeader(resp.Header), Source: webhook.SourceForward}, err
	}
	body, err := f.readBody(resp)
	latency := time.Since(start)
	if err != nil {
		if !errors.Is(err, errTooLarge) {
			err = describeTransport(ctx, err, target, latency)
		} else {
			err = fmt.Errorf("reply from %s larger than %s: vapimon stops reading there", target, byteSize(f.maxResp))
		}
		f.health(ev.Seq, target, resp.StatusCode, latency, err)
		return webhook.Reply{Status: resp.StatusCode, Header: replyHeader(resp.Header), Source: webhook.SourceForward}, err
	}
	reply := webhook.Reply{Status: resp.StatusCode, Header: replyHeader(resp.Header), Body: body, Source: webhook.SourceForward}

	if expects {
		if err := f.checkReply(ev.Msg, target, &reply); err != nil {
			f.health(ev.Seq, target, resp.StatusCode, latency, err, &reply)
			return reply, err
		}
	}
	f.health(ev.Seq, target, resp.StatusCode, latency, nil, &reply)

	if fn := f.intercept.Load(); fn != nil && expects {
		out, err := (*fn)(reviewCtx, ev, reply)
		if err != nil {
			return reply, fmt.Errorf("intercepted reply not sent: %w", err)
		}
		if out.Source == "" {
			out.Source = webhook.SourceForward
		}
		return out, nil
	}
	return reply, nil
}

// checkReply decides whether Vapi can use the server's reply: a 2xx status, and a body
// webhook.CheckReply accepts (the same check `vapimon send` makes). Line breaks never fail
// a reply (Vapi asks for single-line strings but reads others): they become a warning in
// reply.Note.
func (f *Forwarder) checkReply(msg *webhook.Message, target string, reply *webhook.Reply) error {
	if reply.Status < 200 || reply.Status > 299 {
		return fmt.Errorf("HTTP %d from %s%s", reply.Status, target, snippet(reply.Body))
	}
	v := webhook.JudgeReply(msg, reply.Status, reply.Header, reply.Body)
	fatal, warn := v.Problems, v.Warnings
	if len(warn) > 0 {
		reply.Note = "warning: " + printable(strings.Join(warn, "; "), 300)
	}
	if len(fatal) > 0 {
		return fmt.Errorf("unusable reply from %s: %s%s", target, printable(strings.Join(fatal, "; "), 300), snippet(reply.Body))
	}
	return nil
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

func (f *Forwarder) health(seq uint64, target string, status int, latency time.Duration, err error, reply ...*webhook.Reply) {
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
	if err != nil {
		h.Err = err.Error()
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
	for _, k := range hopHeaders {
		h.Del(k)
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
// (the handler writes the body it is given, which the intercept hook may change).
func replyHeader(src http.Header) http.Header {
	h := src.Clone()
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

// describeTransport says in plain words why no reply came.
func describeTransport(ctx context.Context, err error, target string, took time.Duration) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &plainError{msg: fmt.Sprintf("no reply from %s within %s", target, roundDuration(took)), err: err}
	case errors.Is(err, context.Canceled):
		return &plainError{msg: fmt.Sprintf("forward to %s cancelled", target), err: err}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &plainError{msg: fmt.Sprintf("connection refused by %s (is your server running?)", target), err: err}
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return &plainError{msg: fmt.Sprintf("%s closed the connection without a complete reply", target), err: err}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return &plainError{msg: fmt.Sprintf("cannot resolve %s: %s", printable(dnsErr.Name, 100), printable(dnsErr.Err, 100)), err: err}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &plainError{msg: fmt.Sprintf("forward to %s failed: %s", target, printable(err.Error(), 200)), err: err}
}

// snippet quotes the start of a body for an error message, made safe for a terminal.
func snippet(body []byte) string {
	s := printable(string(body[:min(len(body), 200)]), 120)
	if s == "" {
		return ""
	}
	return ": " + s
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Millisecond)
	}
	return d
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
