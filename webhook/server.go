package webhook

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// NewServer returns an http.Server for h with every timeout set. toolTimeout is the longest
// a reply may take, so the write timeout leaves room for it. The server's own error log goes
// to logger (never to stderr, which the TUI owns). Serve it on Handler.Listener(ln) so that
// requests net/http refuses itself (huge headers, a malformed request line) are counted
// and shown too.
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
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ConnContext:       watchConnContext,
		ConnState:         watchConnState,
	}
}

// replyWriteSlack is how long after Vapi's deadline a reply may still be written: enough
// for the fallback and a reply held for review, never forever.
const replyWriteSlack = 40 * time.Second

// MaxHeaderBytes caps a request's headers (net/http answers 431 past it, and a little
// more, itself).
const MaxHeaderBytes = 64 << 10

// Listener wraps ln so that a request net/http refuses before the handler sees it (431 for
// headers over MaxHeaderBytes, 400 for a malformed request line or two Content-Length
// headers, 501, 505...) is counted in Stats().Rejected, published as a rejected *Event and,
// when its request line is readable, recorded. It needs a server from NewServer.
func (h *Handler) Listener(ln net.Listener) net.Listener { return &watchListener{Listener: ln, h: h} }

type watchListener struct {
	net.Listener
	h *Handler
}

// Close marks the handler as closing (see Handler.fallbackReason) and closes the listener:
// http.Server.Shutdown closes it first, before any request still waiting is let go.
func (l *watchListener) Close() error {
	l.h.closing.Store(true)
	return l.Listener.Close()
}

func (l *watchListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &watchedConn{Conn: c, h: l.h}, nil
}

type connKey struct{}

// maxRequestLine is how much of a request's first line is kept to say what was refused.
const maxRequestLine = 1024

// watchedConn is a connection accepted by Handler.Listener. It keeps the start of each
// request until the handler has it; a response net/http writes while the handler does not
// have the request is net/http refusing it.
type watchedConn struct {
	net.Conn
	h *Handler
	// tracked is set by the server's ConnContext (NewServer): without it, whether the
	// handler has the request is unknown, and nothing is reported.
	tracked atomic.Bool
	// inHandler is set by ServeHTTP and cleared when the connection waits for its next
	// request (ConnState idle).
	inHandler atomic.Bool

	mu       sync.Mutex
	line     []byte // the current request's first bytes, up to its first line
	lineDone bool
}

func watchConnContext(ctx context.Context, c net.Conn) context.Context {
	if wc, ok := c.(*watchedConn); ok {
		wc.tracked.Store(true)
		return context.WithValue(ctx, connKey{}, wc)
	}
	return ctx
}

func watchConnState(c net.Conn, st http.ConnState) {
	if wc, ok := c.(*watchedConn); ok && st == http.StateIdle {
		wc.inHandler.Store(false)
		wc.mu.Lock()
		wc.line, wc.lineDone = wc.line[:0], false
		wc.mu.Unlock()
	}
}

func (c *watchedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && !c.inHandler.Load() {
		c.mu.Lock()
		if !c.lineDone {
			chunk := p[:n]
			if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
				chunk, c.lineDone = chunk[:i], true
			}
			if room := maxRequestLine - len(c.line); room > 0 {
				c.line = append(c.line, chunk[:min(len(chunk), room)]...)
			}
			c.lineDone = c.lineDone || len(c.line) >= maxRequestLine
		}
		c.mu.Unlock()
	}
	return n, err
}

func (c *watchedConn) Write(p []byte) (int, error) {
	if c.tracked.Load() && !c.inHandler.Load() && bytes.HasPrefix(p, []byte("HTTP/1.")) {
		c.refused(p)
	}
	return c.Conn.Write(p)
}

// refused reports the error response net/http is writing (p) for a request the handler
// never saw.
func (c *watchedConn) refused(p []byte) {
	status, text := parseStatusLine(p)
	if status < 400 {
		return
	}
	c.mu.Lock()
	method, path, readable := parseRequestLine(c.line)
	c.mu.Unlock()
	c.h.refused(c.RemoteAddr().String(), method, path, readable, status, text)
}

// parseStatusLine reads "HTTP/1.1 431 Request Header Fields Too Large\r\n...".
func parseStatusLine(p []byte) (int, string) {
	line, _, _ := bytes.Cut(p, []byte("\r\n"))
	_, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok || len(rest) < 3 {
		return 0, ""
	}
	code, err := strconv.Atoi(string(rest[:3]))
	if err != nil {
		return 0, ""
	}
	return code, sanitizeLine(string(rest), 200)
}

// parseRequestLine reads "METHOD TARGET HTTP/x.y" from the start of a request, for the
// record of a refused one. readable is false when it does not have that shape.
func parseRequestLine(line []byte) (method, path string, readable bool) {
	line = bytes.TrimSuffix(line, []byte("\r"))
	m, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok || len(m) == 0 || len(m) > 32 {
		return "", "", false
	}
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			return "", "", false
		}
	}
	target, version, ok := bytes.Cut(rest, []byte(" "))
	if !ok || len(target) == 0 || (target[0] != '/' && target[0] != '*' && !bytes.HasPrefix(target, []byte("http"))) || !bytes.HasPrefix(version, []byte("HTTP/")) {
		return "", "", false
	}
	return string(m), sanitizeLine(string(target), 512), true
}

// sanitizeLine keeps printable ASCII of s, at most max bytes: text from the wire that no
// parser accepted.
func sanitizeLine(s string, max int) string {
	if len(s) > max {
		s = s[:max]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r >= 0x7f {
			return '?'
		}
		return r
	}, s)
}

// refused records and publishes a request net/http refused before the handler: the
// status bar counts it as rejected, headless mode prints a "rejected" line, and the tape
// has it when its request line was readable.
func (h *Handler) refused(remote, method, path string, readable bool, status int, text string) {
	now := h.cfg.Now()
	reason := "refused by the HTTP server before vapimon's checks: " + text
	switch status {
	case http.StatusRequestHeaderFieldsTooLarge:
		reason += fmt.Sprintf(" (headers larger than %s)", ByteSize(MaxHeaderBytes))
	case http.StatusBadRequest:
		if !readable {
			reason += " (the request line is not HTTP)"
		} else if !strings.Contains(text, ":") {
			reason += " (malformed headers, e.g. two Content-Length headers)"
		}
	}
	ev := &Event{Seq: h.seq.Add(1), Received: now, Method: method, Path: path, RemoteAddr: remote, AuthMode: h.mode, Rejected: reason, Status: status}
	h.stats.received.Add(1)
	h.stats.rejected.Add(1)
	out := &Outcome{Seq: ev.Seq, Reply: Reply{Status: status, Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, Body: []byte(text), Source: SourceReject}}
	if readable && h.cfg.Recorder != nil {
		h.recordErr(h.cfg.Recorder.Replied(ev, out))
	}
	h.cfg.Bus.Publish(ev)
	h.cfg.Bus.Publish(out)
}
