package listen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// Limits of one listened call. They bound memory (one frame buffer, fixed analysis
// state, a bounded player queue) and effort (reconnects).
const (
	// maxFrame is the largest frame read; a bigger one closes the connection (a
	// 20 ms frame of 16 kHz stereo is 1,280 bytes).
	maxFrame = 1 << 20
	// dialTimeout bounds the handshake.
	dialTimeout = 10 * time.Second
	// idleTimeout closes a connection that sent nothing for this long (then reconnects).
	idleTimeout = 30 * time.Second
	// stallAfter is when the meter starts saying "no audio for …".
	stallAfter = 3 * time.Second
	// maxFailures is how many attempts in a row may fail before vapimon gives up on a
	// call's listen URL; maxConnects bounds the connections per call in all.
	maxFailures = 5
	maxConnects = 20
	// publishEvery is how often a call's meter is published while audio flows.
	publishEvery = 100 * time.Millisecond
)

// backoff is the wait before attempt n (1-based) after a failure: 0.5 s, doubling, at most 8 s.
func backoff(n int) time.Duration {
	d := 500 * time.Millisecond << (n - 1)
	return min(d, 8*time.Second)
}

// checkURL refuses listen URLs vapimon will not connect to.
func checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("listen URL %q is not a URL", clip(raw, 80))
	}
	if u.Scheme != "wss" && u.Scheme != "ws" {
		return nil, fmt.Errorf("listen URL scheme %q: expected wss:// (or ws://)", clip(u.Scheme, 20))
	}
	return u, nil
}

// keyAllowed says whether the public key may be sent to u: only to Vapi over TLS, or to
// this machine (a simulator). A listen URL comes from a webhook; with verification off,
// anyone could name their own host to collect the key.
func keyAllowed(u *url.URL) bool {
	h := strings.ToLower(u.Hostname())
	if h == "localhost" {
		return true
	}
	if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
		return true
	}
	return u.Scheme == "wss" && (h == "vapi.ai" || strings.HasSuffix(h, ".vapi.ai"))
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// dialError describes a failed handshake for a person, with the next step when there is one.
func dialError(err error, resp *http.Response, sentKey bool) (note string, authFailed bool) {
	if resp != nil {
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			if sentKey {
				return fmt.Sprintf("listen URL refused the public key (HTTP %d): check VAPI_PUBLIC_KEY", resp.StatusCode), true
			}
			return fmt.Sprintf("listen URL needs authentication (HTTP %d): the assistant's monitorPlan.listenAuthenticationEnabled is on; set VAPI_PUBLIC_KEY to your public API key", resp.StatusCode), true
		case http.StatusNotFound, http.StatusGone:
			return fmt.Sprintf("listen URL not found (HTTP %d): the call has ended, or listening is off (monitorPlan.listenEnabled)", resp.StatusCode), false
		}
		return fmt.Sprintf("listen URL answered HTTP %d instead of a WebSocket", resp.StatusCode), false
	}
	var op *net.OpError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("listen URL did not answer within %s", dialTimeout), false
	case errors.As(err, &op) && op.Op == "dial":
		return "cannot connect to the listen URL: " + shortErr(op.Err), false
	}
	return "listen URL: " + shortErr(err), false
}

func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && len(s) > 120 {
		s = s[i+2:]
	}
	return clip(s, 160)
}

// connect dials the listen URL once.
func connect(ctx context.Context, client *http.Client, u *url.URL, key string) (*websocket.Conn, *http.Response, error) {
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	h := http.Header{}
	if key != "" {
		h.Set("Authorization", "Bearer "+key)
	}
	conn, resp, err := websocket.Dial(dctx, u.String(), &websocket.DialOptions{HTTPClient: client, HTTPHeader: h})
	if err != nil {
		return nil, resp, err
	}
	conn.SetReadLimit(maxFrame)
	return conn, resp, nil
}

// errIdle is the cause of a connection closed for sending nothing for idleTimeout.
var errIdle = fmt.Errorf("no frame for %s", idleTimeout)

// readFrame reads one message into buf (grown up to maxFrame) and returns its type and
// bytes. The connection's watchdog ends a read by closing the connection (session.read).
func readFrame(ctx context.Context, conn *websocket.Conn, buf []byte) (websocket.MessageType, []byte, error) {
	typ, r, err := conn.Reader(ctx)
	if err != nil {
		return 0, buf, err
	}
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return typ, buf, nil
		}
		if err != nil {
			return typ, buf, err
		}
	}
}

// closedNormally reports whether the server ended the stream on purpose (the call ended).
func closedNormally(err error) bool {
	s := websocket.CloseStatus(err)
	return s == websocket.StatusNormalClosure || s == websocket.StatusGoingAway
}

// readError describes a dropped connection for a person.
func readError(err error) string {
	switch {
	case errors.Is(err, errIdle):
		return errIdle.Error() + ": reconnecting"
	case websocket.CloseStatus(err) == websocket.StatusMessageTooBig:
		return fmt.Sprintf("a frame larger than %d KiB: connection closed", maxFrame>>10)
	case websocket.CloseStatus(err) != -1:
		return fmt.Sprintf("listen URL closed the stream (%d %s)", websocket.CloseStatus(err), clip(errors.Unwrap(err).Error(), 80))
	}
	return "listen stream dropped: " + shortErr(err)
}
