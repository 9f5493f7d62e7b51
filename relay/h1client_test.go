package relay

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vapimon/vapimon/webhook"
	"github.com/vapimon/vapimon/webhook/webhooktest"
)

// rawServer answers every request on a connection with toolCallsReply (after a 100
// Continue when asked for one) and sends the raw bytes of each request it read (request
// line, headers and body) on the channel.
func rawServer(t *testing.T) (url string, seen <-chan string) {
	t.Helper()
	ch := make(chan string, 16)
	url = serveRaw(t, func(conn net.Conn) {
		br := bufio.NewReader(conn)
		for {
			var raw strings.Builder
			tp := textproto.NewReader(br)
			n, expect := 0, false
			for {
				line, err := tp.ReadLine()
				if err != nil {
					return
				}
				raw.WriteString(line + "\r\n")
				if k, v, ok := strings.Cut(line, ": "); ok && k == "Content-Length" {
					n, _ = strconv.Atoi(v)
				}
				expect = expect || line == "Expect: 100-continue"
				if line == "" {
					break
				}
			}
			if expect {
				io.WriteString(conn, "HTTP/1.1 100 Continue\r\n\r\n")
			}
			body := make([]byte, n)
			if _, err := io.ReadFull(br, body); err != nil {
				return
			}
			raw.Write(body)
			ch <- raw.String()
			fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(toolCallsReply), toolCallsReply)
		}
	})
	return url, ch
}

// serveRaw accepts connections on a new loopback listener until the test ends and runs
// handle on each, in a goroutine of its own, closing the connection after; it returns the
// listener's http URL.
func serveRaw(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				handle(conn)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// TestFastPathWritesWhatHTTPTransportWrites holds the forwarder's own client to the
// bytes http.Transport puts on the wire for the same forward, header edge cases included.
func TestFastPathWritesWhatHTTPTransportWrites(t *testing.T) {
	t.Parallel()
	srv, seen := rawServer(t)
	tests := []struct {
		name   string
		route  string
		header http.Header // --forward-header
		edit   func(ev *webhook.Event)
		fast   bool // the fast path takes it (else http.Transport does, both ways)
	}{
		{name: "Vapi's path appended", route: srv, fast: true},
		{name: "route with a path", route: srv + "/hook", fast: true},
		{name: "route with a path and a query", route: srv + "/hook?k=v&x=1", fast: true},
		{name: "route ending in a slash", route: srv + "/", fast: true},
		{name: "query posted to", route: srv, edit: func(ev *webhook.Event) { ev.Path = "/vapi?assistant=a1&x=%20y" }, fast: true},
		{name: "root posted to", route: srv, edit: func(ev *webhook.Event) { ev.Path = "/" }, fast: true},
		{name: "escaped path posted to", route: srv, edit: func(ev *webhook.Event) { ev.Path = "/a%2Fb/c%20d" }},
		{name: "no user agent", route: srv, edit: func(ev *webhook.Event) { delete(ev.WireHeader, "User-Agent") }, fast: true},
		{name: "empty user agent", route: srv, edit: func(ev *webhook.Event) { ev.WireHeader["User-Agent"] = []string{""} }, fast: true},
		{name: "prior forwarded chain", route: srv, edit: func(ev *webhook.Event) {
			ev.WireHeader["X-Forwarded-For"] = []string{"198.51.100.1", "198.51.100.2"}
			ev.WireHeader["X-Forwarded-Host"] = []string{"elsewhere"}
			ev.WireHeader["X-Forwarded-Proto"] = []string{"gopher"}
		}, fast: true},
		{name: "our address already last", route: srv, edit: func(ev *webhook.Event) { ev.WireHeader["X-Forwarded-For"] = []string{"198.51.100.1, 203.0.113.7"} }, fast: true},
		{name: "no host, no proto, no remote address", route: srv, edit: func(ev *webhook.Event) {
			ev.Host, ev.Proto, ev.RemoteAddr = "", "", ""
			ev.WireHeader["X-Forwarded-Host"] = []string{"kept"}
		}, fast: true},
		{name: "connection lists headers", route: srv, edit: func(ev *webhook.Event) {
			ev.WireHeader["Connection"] = []string{"keep-alive, x-forwarded-for", " content-type ,"}
			ev.WireHeader["X-Forwarded-For"] = []string{"198.51.100.1"}
		}, fast: true},
		{name: "values with spaces around", route: srv, edit: func(ev *webhook.Event) {
			ev.WireHeader["X-Padded"] = []string{"  a b \t", "\tc"}
		}, fast: true},
		{name: "several values", route: srv, edit: func(ev *webhook.Event) { ev.WireHeader["X-Multi"] = []string{"1", "2", "3"} }, fast: true},
		{name: "empty body", route: srv, edit: func(ev *webhook.Event) { ev.Body = nil }, fast: true},
		{name: "large body", route: srv, edit: func(ev *webhook.Event) {
			ev.Body = []byte(`{"message":{"type":"status-update","pad":"` + strings.Repeat("x", 3*maxCopiedBody) + `"}}`)
		}, fast: true},
		{name: "forward headers", route: srv, header: http.Header{"User-Agent": {"mine/2"}, "Authorization": {"Bearer t"}, "X-Forwarded-Proto": {"https"}, "X-Vapi-Secret": {"other"}}, fast: true},
		{name: "forward header with an empty user agent", route: srv, header: http.Header{"User-Agent": {""}}, fast: true},
		{name: "forward header with a connection", route: srv, header: http.Header{"Connection": {"close"}}},
		{name: "non-canonical name", route: srv, edit: func(ev *webhook.Event) { ev.WireHeader["x-lower"] = []string{"v"} }},
		{name: "expect", route: srv, edit: func(ev *webhook.Event) { ev.WireHeader["Expect"] = []string{"100-continue"} }},
		{name: "another method", route: srv, edit: func(ev *webhook.Event) { ev.Method = http.MethodPut }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := newEvent(t, statusUpdateBody)
			if tt.edit != nil {
				tt.edit(ev)
			}
			fast := NewForwarder([]Route{{"*", tt.route}}, ForwardOptions{Header: tt.header})
			if got := fast.fastRequest(&fast.routes[0], ev, orDefault(ev.Method, http.MethodPost)) != nil; got != tt.fast {
				t.Errorf("fast path taken: %v, want %v", got, tt.fast)
			}
			// A Client of the caller's own turns the fast path off: http.Transport sends.
			std := NewForwarder([]Route{{"*", tt.route}}, ForwardOptions{Header: tt.header, Client: &http.Client{Transport: newTransport(4, forwardDialer)}})
			var wire [2]string
			for i, f := range []*Forwarder{fast, std} {
				if _, err := f.Respond(context.Background(), ev); err != nil {
					t.Fatal(err)
				}
				wire[i] = <-seen
			}
			if wire[0] != wire[1] {
				t.Errorf("the fast path wrote\n%q\nhttp.Transport wrote\n%q", clip(wire[0]), clip(wire[1]))
			}
		})
	}
}

func clip(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}

func TestFastPathNotTakenWhereHTTPTransportHasRules(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"https://example.com/hook", "http://user:pw@example.com/hook", "http://example.com/a%20b", "http://[fe80::1%25eth0]:80/hook"} {
		f := NewForwarder([]Route{{"*", u}}, ForwardOptions{})
		if f.routes[0].h1 != nil {
			t.Errorf("%s: the fast path is taken", u)
		}
	}
	if f := NewForwarder([]Route{{"*", "http://localhost:3000/hook"}}, ForwardOptions{}); h1Supported && f.routes[0].h1 == nil {
		t.Error("localhost: the fast path is not taken")
	}
	// A proxy from the environment: http.Transport goes through it.
	tr := newTransport(4, forwardDialer)
	tr.Proxy = func(*http.Request) (*url.URL, error) { return url.Parse("http://proxy.invalid:3128") }
	u, _ := url.Parse("http://example.com/hook")
	if newH1Route(u, u.String(), tr, map[string]*h1Pool{}, forwardDialer, 4) != nil {
		t.Error("behind a proxy: the fast path is taken")
	}
}

// TestFastPathSkipsAConnectionTheServerClosed: a connection the server closed while it
// sat idle is noticed before it is used (http.Transport notices it from its read
// goroutine), so the request goes out on a new one with no resend.
func TestFastPathSkipsAConnectionTheServerClosed(t *testing.T) {
	t.Parallel()
	if !h1Supported {
		t.Skip("no fast path on this platform")
	}
	var conns atomic.Int32
	closed := make(chan struct{}, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				// One request, answered as if the connection stayed open, then closed.
				req, err := http.ReadRequest(bufio.NewReader(conn))
				if err == nil {
					_, _ = io.Copy(io.Discard, req.Body)
					fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(toolCallsReply), toolCallsReply)
				}
				conn.Close()
				closed <- struct{}{}
			}()
		}
	}()
	f := NewForwarder([]Route{{"*", "http://" + ln.Addr().String()}}, ForwardOptions{})
	pool := f.routes[0].h1.pool
	for i := range 3 {
		reply, err := f.Respond(context.Background(), newEvent(t, toolCallsBody))
		if err != nil || string(reply.Body) != toolCallsReply || reply.Note != "" {
			t.Fatalf("request %d: %q, note %q, %v", i+1, reply.Body, reply.Note, err)
		}
		<-closed
		// The server's close reaches this end of the connection a moment after it is made.
		webhooktest.Eventually(t, 5*time.Second, "the server's close to reach the idle connection", func() bool {
			pool.mu.Lock()
			defer pool.mu.Unlock()
			return len(pool.idle) == 1 && !pool.idle[0].check.alive()
		})
	}
	if conns.Load() != 3 {
		t.Errorf("%d connections, want 3 (one per request, no resend)", conns.Load())
	}
}

func TestFastPathClosesIdleConnections(t *testing.T) {
	t.Parallel()
	f, pool := fastForwarder(t)
	pool.idleTimeout = 20 * time.Millisecond
	if _, err := f.Respond(context.Background(), newEvent(t, toolCallsBody)); err != nil {
		t.Fatal(err)
	}
	webhooktest.Eventually(t, 5*time.Second, "the idle connection to expire", func() bool {
		pool.mu.Lock()
		defer pool.mu.Unlock()
		return len(pool.idle) == 0
	})
}

// fastForwarder is a forwarder to a quiet raw server through the fast path, and its pool
// (the test skips where there is no fast path).
func fastForwarder(t *testing.T) (*Forwarder, *h1Pool) {
	t.Helper()
	if !h1Supported {
		t.Skip("no fast path on this platform")
	}
	srv, _ := rawServerQuiet(t)
	f := NewForwarder([]Route{{"*", srv}}, ForwardOptions{})
	return f, f.routes[0].h1.pool
}

// rawServerQuiet is rawServer without the channel of requests.
func rawServerQuiet(t *testing.T) (string, <-chan string) {
	srv, seen := rawServer(t)
	go func() {
		for range seen {
		}
	}()
	return srv, nil
}

// TestFastPathGivesTheConnectionBackAtTheEnd: the whole body read, the connection is
// free for the next forward before the body is closed (the intercept hook may hold the
// reply); a body closed before its end closes its connection.
func TestFastPathGivesTheConnectionBackAtTheEnd(t *testing.T) {
	t.Parallel()
	f, pool := fastForwarder(t)
	idle := func() int {
		pool.mu.Lock()
		defer pool.mu.Unlock()
		return len(pool.idle)
	}
	ev := newEvent(t, toolCallsBody)
	rb := f.fastRequest(&f.routes[0], ev, http.MethodPost)
	resp, _, err := pool.roundTrip(context.Background(), rb.b, rb.rest, func() {})
	rb.release()
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(resp.Body); err != nil || string(b) != toolCallsReply {
		t.Fatalf("body %q, %v", b, err)
	}
	if n := idle(); n != 1 {
		t.Errorf("%d idle connections after the whole body, before Close; want 1", n)
	}
	resp.Body.Close()
	if n := idle(); n != 1 {
		t.Errorf("%d idle connections after Close; want 1", n)
	}

	rb = f.fastRequest(&f.routes[0], ev, http.MethodPost)
	resp, _, err = pool.roundTrip(context.Background(), rb.b, rb.rest, func() {})
	rb.release()
	if err != nil {
		t.Fatal(err)
	}
	if n := idle(); n != 0 {
		t.Errorf("%d idle connections while one is in use; want 0", n)
	}
	resp.Body.Close() // unread
	if n := idle(); n != 0 {
		t.Errorf("%d idle connections after a body closed unread; want 0 (it is closed)", n)
	}
}
