package relay

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vapimon/vapimon/webhook"
)

// The forwarder's own HTTP/1.1 client, for plain-http targets reached without a proxy
// (the developer's server on localhost, the common case). It writes the request and
// reads the reply on the handler's goroutine, where http.Transport hands each request
// to a write goroutine and each reply back from a read goroutine: two goroutine switches
// less per forward, which on a loaded 2-core machine is most of what a relay costs
// beyond the system calls. Nothing a user sees changes: the request leaves byte for byte
// as http.Transport writes it (same request line, same Host, User-Agent and
// Content-Length lines, the other headers sorted, values trimmed; a test holds the two
// equal), the reply is read by http.ReadResponse under the same header cap, errors keep
// the forms describeTransport reads, and a kept-alive connection the server closed
// while it sat idle is noticed before it is used (http.Transport learns it from its read
// goroutine; here a non-blocking peek does), so the resend stays as rare as it was.
// Anything unusual (another method, a proxy, https, a header or path this client would
// have to rewrite, Expect: 100-continue) goes through http.Transport as before.

// maxResponseHeader is http.Transport's default MaxResponseHeaderBytes.
const maxResponseHeader = 10 << 20

// maxCopiedBody is the largest body copied behind the headers into one write; a larger
// one goes out with writev, uncopied.
const maxCopiedBody = 64 << 10

// h1Route is what the fast path knows of a route, worked out once in NewForwarder.
type h1Route struct {
	pool *h1Pool
	host string // the Host header
	// uri is the request URI when the route has a path or a query of its own; empty
	// when the path Vapi posted to is appended (route.target).
	uri string
}

// newH1Route returns the fast path for a route, or nil when http.Transport must send
// its requests: not plain http, a user:password, a proxy from the environment, a host
// that net/http would rewrite.
func newH1Route(u *url.URL, raw string, t *http.Transport, pools map[string]*h1Pool, d *net.Dialer, maxIdle int) *h1Route {
	if !h1Supported || u == nil || u.Scheme != "http" || u.User != nil || u.Opaque != "" || u.Host == "" || strings.HasSuffix(u.Host, ":") || strings.Contains(raw, "#") {
		return nil
	}
	if t.Proxy != nil {
		if p, err := t.Proxy(&http.Request{Method: http.MethodPost, URL: u, Header: http.Header{}}); p != nil || err != nil {
			return nil
		}
	}
	for i := 0; i < len(u.Host); i++ {
		if c := u.Host[i]; c <= ' ' || c >= 0x7f || c == '%' || c == '/' || c == '\\' || c == '@' {
			return nil // punycode, zones and oddities: net/http's own rules apply
		}
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	p := pools[addr]
	if p == nil {
		p = &h1Pool{addr: addr, dialer: d, maxIdle: maxIdle, idleTimeout: t.IdleConnTimeout}
		pools[addr] = p
	}
	r := &h1Route{pool: p, host: u.Host}
	if u.Path != "" || u.RawQuery != "" || u.ForceQuery {
		r.uri = u.RequestURI()
		if !plainRequestURI(r.uri) {
			return nil
		}
	}
	return r
}

// plainRequestURI reports whether s is a request URI that url.Parse and RequestURI give
// back unchanged: a path of unreserved characters, sub-delimiters, ':', '@' and '/', then
// optionally '?' and a query of printable ASCII. Anything else (escapes, spaces,
// fragments) is sent by http.Transport, which has the rules for it.
func plainRequestURI(s string) bool {
	if len(s) == 0 || s[0] != '/' || strings.HasPrefix(s, "//") {
		return false
	}
	q := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q:
			if c <= ' ' || c >= 0x7f || c == '#' {
				return false
			}
		case c == '?':
			q = true
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~!$&'()*+,;=:@/", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// plainHeaderName reports whether k is a valid header name in canonical form, as the
// server hands them over; http.Transport sends anything else (or refuses it).
func plainHeaderName(k string) bool {
	return webhook.ValidHeaderName(k) && textproto.CanonicalMIMEHeaderKey(k) == k
}

// plainHeaderValue reports whether http.Transport would accept v (no control character
// but tab): it refuses the request otherwise, and the fast path leaves it that refusal.
func plainHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// fixedHeader is --forward-header, checked and sorted once for the fast path.
type fixedHeader struct {
	kvs []headerKV
	ok  bool // every name and value is one the fast path writes as http.Transport does
}

type headerKV struct {
	key    string
	values []string
}

func newFixedHeader(h http.Header) fixedHeader {
	fh := fixedHeader{ok: true}
	for k, vs := range h {
		switch k {
		case "Host", "Content-Length", "Transfer-Encoding", "Trailer", "Connection", "Expect", "Te", "Upgrade", "Proxy-Connection", "Keep-Alive":
			fh.ok = false // names net/http treats specially
		}
		if !plainHeaderName(k) {
			fh.ok = false
		}
		for _, v := range vs {
			if !plainHeaderValue(v) {
				fh.ok = false
			}
		}
		fh.kvs = append(fh.kvs, headerKV{k, vs})
	}
	slices.SortFunc(fh.kvs, func(a, b headerKV) int { return strings.Compare(a.key, b.key) })
	return fh
}

func (fh *fixedHeader) has(k string) bool {
	for i := range fh.kvs {
		if fh.kvs[i].key == k {
			return true
		}
	}
	return false
}

// dropped is forwardHeader's set of names never passed on: hop-by-hop headers (RFC 9110
// §7.6.1), Host, Content-Length and Accept-Encoding.
func dropped(k string) bool {
	switch k {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
		"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Host", "Content-Length", "Accept-Encoding":
		return true
	}
	return false
}

// reqBuf is a request being written: its bytes, and the headers being sorted.
type reqBuf struct {
	b   []byte
	kvs []headerKV
	// rest is the body when it is too large to copy behind the headers; nil when b holds it.
	rest          []byte
	xff, xfh, xfp [1]string
}

var reqBufs = sync.Pool{New: func() any { return &reqBuf{b: make([]byte, 0, 2048), kvs: make([]headerKV, 0, 24)} }}

func (rb *reqBuf) release() {
	if cap(rb.b) > 4*maxCopiedBody {
		return
	}
	clear(rb.kvs[:cap(rb.kvs)])
	rb.b, rb.kvs, rb.rest = rb.b[:0], rb.kvs[:0], nil
	rb.xff, rb.xfh, rb.xfp = [1]string{}, [1]string{}, [1]string{}
	reqBufs.Put(rb)
}

// fastRequest writes the request http.Transport would send for ev (forwardHeader plus
// --forward-header) into a buffer, with the body behind the headers when it is small.
// nil means http.Transport must send this one.
func (f *Forwarder) fastRequest(r *route, ev *webhook.Event, method string) *reqBuf {
	h := r.h1
	if h == nil || method != http.MethodPost || !f.fixed.ok {
		return nil
	}
	uri := h.uri
	if uri == "" {
		if uri = ev.Path; uri == "" || uri == "/" {
			uri = "/"
		} else if !plainRequestURI(uri) {
			return nil
		}
	}
	wh := ev.WireHeader
	// Names listed in Connection are hop-by-hop too (removeHopHeaders).
	var listed []string
	for _, v := range wh["Connection"] {
		for name := range strings.SplitSeq(v, ",") {
			if name = textproto.TrimString(name); name != "" {
				listed = append(listed, textproto.CanonicalMIMEHeaderKey(name))
			}
		}
	}
	rb := reqBufs.Get().(*reqBuf)
	kvs := rb.kvs[:0]
	ua, xff := "", []string(nil)
	for k, vs := range wh {
		if !plainHeaderName(k) {
			rb.release()
			return nil
		}
		if dropped(k) || slices.Contains(listed, k) || f.fixed.has(k) {
			continue
		}
		switch k {
		case "Expect":
			rb.release()
			return nil // 100-continue: http.Transport waits for it
		case "User-Agent":
			if len(vs) > 0 {
				ua = vs[0]
			}
			continue
		case "X-Forwarded-For":
			xff = vs
			continue
		case "X-Forwarded-Proto":
			continue
		case "X-Forwarded-Host":
			if ev.Host != "" {
				continue
			}
		}
		kvs = append(kvs, headerKV{k, vs})
	}
	// The X-Forwarded-* headers, as forwardHeader sets them.
	if !f.fixed.has("X-Forwarded-For") {
		if ip := remoteIP(ev.RemoteAddr); ip != "" {
			prior := strings.Join(xff, ", ")
			switch {
			case prior == "":
				rb.xff[0] = ip
				xff = rb.xff[:]
			case strings.TrimSpace(prior[strings.LastIndexByte(prior, ',')+1:]) != ip:
				rb.xff[0] = prior + ", " + ip
				xff = rb.xff[:]
			}
		}
		if xff != nil {
			kvs = append(kvs, headerKV{"X-Forwarded-For", xff})
		}
	}
	if ev.Host != "" && !f.fixed.has("X-Forwarded-Host") {
		rb.xfh[0] = ev.Host
		kvs = append(kvs, headerKV{"X-Forwarded-Host", rb.xfh[:]})
	}
	if !f.fixed.has("X-Forwarded-Proto") {
		rb.xfp[0] = orDefault(ev.Proto, "http")
		kvs = append(kvs, headerKV{"X-Forwarded-Proto", rb.xfp[:]})
	}
	for _, kv := range f.fixed.kvs {
		if kv.key == "User-Agent" {
			ua = ""
			if len(kv.values) > 0 {
				ua = kv.values[0]
			}
			continue
		}
		kvs = append(kvs, kv)
	}
	for _, kv := range kvs {
		for _, v := range kv.values {
			if !plainHeaderValue(v) {
				rb.kvs = kvs
				rb.release()
				return nil
			}
		}
	}
	if !plainHeaderValue(ua) {
		rb.kvs = kvs
		rb.release()
		return nil
	}
	slices.SortFunc(kvs, func(a, b headerKV) int { return strings.Compare(a.key, b.key) })

	b := rb.b[:0]
	b = append(b, "POST "...)
	b = append(b, uri...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, h.host...)
	b = append(b, "\r\n"...)
	if ua = textproto.TrimString(ua); ua != "" {
		b = append(b, "User-Agent: "...)
		b = append(b, ua...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, int64(len(ev.Body)), 10)
	b = append(b, "\r\n"...)
	for _, kv := range kvs {
		for _, v := range kv.values {
			b = append(b, kv.key...)
			b = append(b, ": "...)
			b = append(b, textproto.TrimString(v)...)
			b = append(b, "\r\n"...)
		}
	}
	b = append(b, "\r\n"...)
	if len(ev.Body) <= maxCopiedBody {
		b = append(b, ev.Body...)
	} else {
		rb.rest = ev.Body
	}
	rb.b, rb.kvs = b, kvs
	return rb
}

// orDefault is s, or def when s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// h1Pool keeps the idle connections to one address, most recently used last.
type h1Pool struct {
	addr        string
	dialer      *net.Dialer
	maxIdle     int
	idleTimeout time.Duration

	mu   sync.Mutex
	idle []*h1Conn
}

// h1Conn is one connection to the server, with its read buffer.
type h1Conn struct {
	conn net.Conn
	pool *h1Pool
	br   *bufio.Reader
	// limit is what the reader may still take from the connection: the header cap while
	// a reply's headers are read, unlimited in its body (readBody has its own cap).
	limit     int64
	interrupt func() // sets a deadline in the past: the context ended
	idleTimer *time.Timer
	idleAt    time.Time
	// idleFor is how long c may sit idle: the pool's idle timeout, or less when the
	// server said how long it keeps an idle connection (keepAliveHint).
	idleFor time.Duration
	// turn is the last exchange's time from the request written to the first byte of
	// its reply (resetSoon).
	turn  time.Duration
	check connCheck
}

var errHeaderTooLarge = errors.New("net/http: server response headers exceeded " + strconv.Itoa(maxResponseHeader) + " bytes; aborted")

func (c *h1Conn) Read(p []byte) (int, error) {
	if c.limit <= 0 {
		return 0, errHeaderTooLarge
	}
	if int64(len(p)) > c.limit {
		p = p[:c.limit]
	}
	n, err := c.conn.Read(p)
	c.limit -= int64(n)
	return n, err
}

// get returns an idle connection the server has not closed, or a new one; reused says
// which (a failure before any byte of reply on a reused one is a stale connection).
func (p *h1Pool) get(ctx context.Context, sent func()) (c *h1Conn, reused bool, err error) {
	for {
		p.mu.Lock()
		n := len(p.idle)
		if n == 0 {
			p.mu.Unlock()
			break
		}
		c = p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		c.idleTimer.Stop()
		if c.check.alive() {
			return c, true, nil
		}
		c.conn.Close()
	}
	sent() // before the dial, which may wait
	conn, err := p.dialer.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, false, err
	}
	c = &h1Conn{conn: conn, pool: p}
	c.br = bufio.NewReaderSize(c, 4<<10)
	c.interrupt = func() { _ = conn.SetDeadline(aLongTimeAgo) }
	c.check.init(conn)
	return c, false, nil
}

var aLongTimeAgo = time.Unix(1, 0)

// keepAliveHint is how long a connection may sit idle after a reply with header h: a
// server that says how long it keeps an idle connection (`Keep-Alive: timeout=5`, as
// Node's sends) closes it then, and a request sent as it does so fails; so the pool
// closes it a second before (half the time for a hint under 2 s), as Node's own client
// (undici) does. Without a hint, or with a longer one, it is max.
func keepAliveHint(h http.Header, max time.Duration) time.Duration {
	v := h.Get("Keep-Alive")
	if v == "" {
		return max
	}
	for part := range strings.SplitSeq(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "timeout") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil || n <= 0 {
			return max
		}
		d := time.Duration(n) * time.Second
		if d >= 2*time.Second {
			d -= time.Second
		} else {
			d /= 2
		}
		return min(d, max)
	}
	return max
}

// put keeps c for the next request, for at most its idle time (idleFor).
func (p *h1Pool) put(c *h1Conn) {
	p.mu.Lock()
	if len(p.idle) >= p.maxIdle {
		p.mu.Unlock()
		c.conn.Close()
		return
	}
	c.idleAt = time.Now()
	p.idle = append(p.idle, c)
	if c.idleFor <= 0 {
		c.idleFor = p.idleTimeout
	}
	if c.idleTimer == nil {
		c.idleTimer = time.AfterFunc(c.idleFor, c.expire)
	} else {
		c.idleTimer.Reset(c.idleFor)
	}
	p.mu.Unlock()
}

// expire closes c if it is still idle, and has been for its idle time.
func (c *h1Conn) expire() {
	p := c.pool
	p.mu.Lock()
	i := slices.Index(p.idle, c)
	if i < 0 || time.Since(c.idleAt) < c.idleFor {
		p.mu.Unlock()
		return
	}
	p.idle = slices.Delete(p.idle, i, i+1)
	p.mu.Unlock()
	c.conn.Close()
}

// sendNoWait is the size of a request that a socket takes without waiting: Linux's
// smallest default send buffer (net.ipv4.tcp_wmem's initial 16 KiB). A larger one may wait
// for the server to read, so it is recorded (sent) before it is written.
const sendNoWait = 16 << 10

// roundTrip sends the request (head, then rest when the body is not in head) and reads
// the reply's headers. Once the context ends, the connection is interrupted and the error
// is the context's, as http.Transport's is. sent is called once the request is written,
// or before anything that may wait (a dial, a large write): see webhook.SendingResponder.
//
// stale reports a failure on a reused connection that the server cannot have acted on,
// so that the request may be sent again: the request could not all be written, or the
// server's side reset it unread. A server whose idle timeout fires as the request
// arrives closes with the request in its socket, and its kernel resets the connection;
// one that closed just before the request arrived sent a clean close, and its kernel
// then resets the request (the socket's error, read once the close is seen). A
// connection closed cleanly after the whole request went out, with no reset, is not
// stale: the server may have read the request and acted on it before it crashed or
// timed out (a tool that books something), and http.Transport does not resend a POST
// then either.
func (p *h1Pool) roundTrip(ctx context.Context, head, rest []byte, sent func()) (resp *http.Response, stale bool, err error) {
	c, reused, err := p.get(ctx, sent)
	if err != nil {
		return nil, false, ctxErr(ctx, err)
	}
	stop := context.AfterFunc(ctx, c.interrupt)
	fail := func(err error) error {
		c.conn.Close()
		stop()
		return ctxErr(ctx, err)
	}
	if len(head)+len(rest) > sendNoWait {
		sent() // the write may wait for your server to read
	}
	if rest == nil {
		_, err = c.conn.Write(head)
	} else {
		bufs := net.Buffers{head, rest}
		_, err = bufs.WriteTo(c.conn)
	}
	if err != nil {
		// Your server may have answered before it stopped reading (a 413 to a large
		// body, an early 401) and closed: that reply is in the socket before the reset
		// that failed the write, and it is your server's answer, as http.Transport (which
		// reads while it writes) returns it.
		if ctx.Err() == nil && c.check.pending() {
			return p.readReply(ctx, c, stop, fail, false, false, time.Now())
		}
		return nil, reused, fail(err)
	}
	sent()
	return p.readReply(ctx, c, stop, fail, reused, true, time.Now())
}

// resetSoon reports whether the server's side resets the request within about a round
// trip of the clean close just read: the server's kernel resets data that arrives on a
// socket the server had closed, so a reset says the request came after the close and
// was never read. It waits at most twice the connection's last turn (request written to
// the first byte of its reply) plus a millisecond, 250 ms at the most, never past ctx:
// only on this failure, before the failure is reported.
func (c *h1Conn) resetSoon(ctx context.Context) bool {
	deadline := time.Now().Add(min(2*c.turn+time.Millisecond, 250*time.Millisecond))
	var t *time.Timer
	for pause := 50 * time.Microsecond; ; pause *= 2 {
		if c.check.refused() {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		if t == nil {
			t = time.NewTimer(min(pause, left))
			defer t.Stop()
		} else {
			t.Reset(min(pause, left))
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
}

// readReply reads the reply's headers on c. reused says c was reused (see roundTrip for
// when a failure then is stale); keep, that c may carry another request after this one;
// wrote, when the request was written.
func (p *h1Pool) readReply(ctx context.Context, c *h1Conn, stop func() bool, fail func(error) error, reused, keep bool, wrote time.Time) (resp *http.Response, stale bool, err error) {
	c.limit = maxResponseHeader
	if _, err := c.br.Peek(1); err != nil {
		stale := reused && (errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) && c.resetSoon(ctx))
		return nil, stale, fail(err)
	}
	c.turn = time.Since(wrote)
	for {
		resp, err = http.ReadResponse(c.br, postRequest)
		if err != nil {
			return nil, false, fail(err)
		}
		// 1xx replies but 101 are interim (http.Transport skips them too).
		if resp.StatusCode < 100 || resp.StatusCode > 199 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	c.limit = math.MaxInt64
	c.idleFor = keepAliveHint(resp.Header, p.idleTimeout)
	b := &h1Body{c: c, src: resp.Body, ctx: ctx, stop: stop, reuse: keep && !resp.Close}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		// As http.Transport: the rest of the connection is the body.
		b.src, b.reuse = io.NopCloser(c.br), false
	}
	resp.Body = b
	return resp, false, nil
}

// postRequest is what http.ReadResponse is told of the request: only its method counts
// (a reply to HEAD has no body), and nothing reads the Response's Request.
var postRequest = &http.Request{Method: http.MethodPost}

func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return err
}

// h1Body is a reply's body. Reading it to the end gives the connection back to the pool
// at once, as http.Transport does (the intercept hook may hold the reply for a while
// before the body is closed); closing it before the end closes the connection.
type h1Body struct {
	c      *h1Conn
	src    io.ReadCloser
	ctx    context.Context
	stop   func() bool
	eof    bool
	reuse  bool
	closed bool
}

var errBodyClosed = errors.New("http: read on closed response body")

func (b *h1Body) Read(p []byte) (int, error) {
	if b.closed {
		if b.eof {
			return 0, io.EOF
		}
		return 0, errBodyClosed
	}
	n, err := b.src.Read(p)
	if err == io.EOF {
		b.eof = true
		b.finish()
	} else if err != nil {
		err = ctxErr(b.ctx, err)
	}
	return n, err
}

func (b *h1Body) Close() error {
	b.finish()
	return nil
}

// finish gives the connection back after the whole body, or closes it.
func (b *h1Body) finish() {
	if b.closed {
		return
	}
	b.closed = true
	// stop fails once the context has ended: the connection may be interrupted.
	if b.eof && b.reuse && b.c.br.Buffered() == 0 && b.stop() {
		_ = b.src.Close() // at EOF: reads nothing
		b.c.pool.put(b.c)
		return
	}
	b.c.conn.Close()
	b.stop()
}
