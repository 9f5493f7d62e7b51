package relay

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// When the forwarder sends a request twice: only when your server cannot have read it.
// Each case runs on the forwarder's own client and on http.Transport (an escaped path
// makes the forwarder use http.Transport).

// paths are the two ways a forward goes out: the fast path and http.Transport.
var paths = []struct{ name, suffix string }{{"fast path", ""}, {"http.Transport", "/x%20y"}}

func checkPath(t *testing.T, f *Forwarder, fast bool) {
	t.Helper()
	if got := f.fastRequest(&f.routes[0], newEvent(t, toolCallsBody), http.MethodPost) != nil; got != fast {
		t.Fatalf("fast path taken %v, want %v", got, fast)
	}
}

// bookBody is a tool call with a side effect on your server.
var bookBody = strings.Replace(toolCallsBody, "get_weather", "book_table", 1)

// TestForwardDoesNotResendWhatYourServerRead: your server read the whole request on a
// kept-alive connection, acted on it (a booking), then closed the connection without a
// reply. Sending it again would book twice, so the failure goes to the chain, as
// http.Transport (and a plain client, which is what Vapi is) leaves it.
func TestForwardDoesNotResendWhatYourServerRead(t *testing.T) {
	t.Parallel()
	servers := []struct {
		name  string
		start func(*httptest.Server)
		book  func(w http.ResponseWriter, r *http.Request)
	}{
		{"the handler panics after the booking", nil, func(w http.ResponseWriter, r *http.Request) {
			panic(http.ErrAbortHandler) // net/http closes the connection, no reply
		}},
		{"the server's WriteTimeout is shorter than the tool", func(s *httptest.Server) { s.Config.WriteTimeout = 100 * time.Millisecond }, func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(300 * time.Millisecond) // the tool outlives the server's write deadline
			io.WriteString(w, toolCallsReply)
		}},
		{"the handler hangs up after reading", nil, hangUp},
	}
	for _, sv := range servers {
		for _, p := range paths {
			t.Run(sv.name+", "+p.name, func(t *testing.T) {
				t.Parallel()
				var bookings atomic.Int32
				srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					b, _ := io.ReadAll(r.Body)
					if strings.Contains(string(b), "book_table") {
						bookings.Add(1)
						sv.book(w, r)
						return
					}
					io.WriteString(w, toolCallsReply)
				}))
				if sv.start != nil {
					sv.start(srv)
				}
				srv.Start()
				t.Cleanup(srv.Close)
				f := NewForwarder([]Route{{"*", srv.URL + p.suffix}}, ForwardOptions{})
				checkPath(t, f, p.suffix == "")
				// A first request leaves a kept-alive connection for the booking.
				if _, err := f.Respond(context.Background(), newEvent(t, toolCallsBody)); err != nil {
					t.Fatal(err)
				}
				_, err := f.Respond(context.Background(), newEvent(t, bookBody))
				if err == nil || !strings.Contains(err.Error(), "closed the connection without a complete reply") || strings.Contains(err.Error(), "resent") {
					t.Errorf("err %v, want the close reported, and no resend", err)
				}
				if n := bookings.Load(); n != 1 {
					t.Errorf("one tool call from Vapi booked %d times through the relay, want 1", n)
				}
			})
		}
	}
}

// resetServer answers the first request on each connection; on a connection's later
// requests it reads one byte and closes, so that the kernel resets the connection with
// the request unread: a server whose idle timeout fired as the request arrived. read
// counts the requests read whole.
func resetServer(t *testing.T) (url string, read *atomic.Int32) {
	t.Helper()
	read = new(atomic.Int32)
	url = serveRaw(t, func(conn net.Conn) {
		br := bufio.NewReader(conn)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		if _, err := io.ReadAll(req.Body); err != nil {
			return
		}
		read.Add(1)
		io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "+strconv.Itoa(len(toolCallsReply))+"\r\n\r\n"+toolCallsReply)
		if br.Buffered() != 0 {
			return
		}
		var b [1]byte
		conn.Read(b[:]) // the next request has arrived: close with the rest unread
	})
	return url, read
}

// TestForwardResendsWhatYourServerNeverRead: your server's side reset a kept-alive
// connection with the request unread: the request goes again on a new connection, once,
// and your server's reply goes to Vapi.
func TestForwardResendsWhatYourServerNeverRead(t *testing.T) {
	t.Parallel()
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			url, read := resetServer(t)
			f := NewForwarder([]Route{{"*", url + p.suffix}}, ForwardOptions{})
			checkPath(t, f, p.suffix == "")
			if _, err := f.Respond(context.Background(), newEvent(t, toolCallsBody)); err != nil {
				t.Fatal(err)
			}
			reply, err := f.Respond(context.Background(), newEvent(t, bookBody))
			if err != nil {
				t.Fatalf("%v (your server never read the request: it must be sent again)", err)
			}
			if string(reply.Body) != toolCallsReply || !strings.Contains(reply.Note, "resent once") {
				t.Errorf("reply %q, note %q: want your server's reply, noted as resent", reply.Body, reply.Note)
			}
			if n := read.Load(); n != 2 {
				t.Errorf("your server read %d requests whole, want 2 (the second only once)", n)
			}
		})
	}
}

// TestForwardHearsYourServersEarlyReply: your server refuses a large body early (a 413
// from http.MaxBytesReader) and stops reading; the write of the rest fails, and your
// server's reply is what counts, on both paths: with --forward-raw it goes to Vapi, and
// without it the failure is its status, not a broken pipe.
func TestForwardHearsYourServersEarlyReply(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<10)); err != nil {
			http.Error(w, `{"error":"body too large for your server"}`, http.StatusRequestEntityTooLarge)
			return
		}
		io.WriteString(w, toolCallsReply)
	}))
	t.Cleanup(srv.Close)
	big := strings.Replace(toolCallsBody, `"type":"tool-calls"`, `"type":"tool-calls","pad":"`+strings.Repeat("x", 4<<20)+`"`, 1)
	for _, p := range paths {
		for _, raw := range []bool{true, false} {
			f := NewForwarder([]Route{{"*", srv.URL + p.suffix}}, ForwardOptions{Raw: raw})
			checkPath(t, f, p.suffix == "")
			reply, err := f.Respond(context.Background(), newEvent(t, big))
			switch {
			case raw && (err != nil || reply.Status != http.StatusRequestEntityTooLarge || !strings.Contains(string(reply.Body), "too large for your server")):
				t.Errorf("%s, --forward-raw: status %d, body %.80q, err %v: want your server's 413 for Vapi", p.name, reply.Status, reply.Body, err)
			case !raw && (err == nil || !strings.Contains(err.Error(), "HTTP 413")):
				t.Errorf("%s: err %v, want your server's HTTP 413", p.name, err)
			}
		}
	}
}

func TestKeepAliveHint(t *testing.T) {
	t.Parallel()
	const max = 90 * time.Second
	for _, tt := range []struct {
		header string
		want   time.Duration
	}{
		{"", max},
		{"timeout=5", 4 * time.Second},
		{"timeout=5, max=1000", 4 * time.Second},
		{"max=100, Timeout = 10", 9 * time.Second},
		{"timeout=2", time.Second},
		{"timeout=1", 500 * time.Millisecond},
		{"timeout=600", max},
		{"timeout=0", max},
		{"timeout=soon", max},
		{"max=5", max},
	} {
		h := http.Header{}
		if tt.header != "" {
			h.Set("Keep-Alive", tt.header)
		}
		if got := keepAliveHint(h, max); got != tt.want {
			t.Errorf("Keep-Alive %q: idle for %v, want %v", tt.header, got, tt.want)
		}
	}
}

// TestForwardClosesIdleConnectionsBeforeYourServerDoes: a server that says it keeps an
// idle connection 1 s (Node says 5) has the pool close it before then.
func TestForwardClosesIdleConnectionsBeforeYourServerDoes(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Keep-Alive", "timeout=1")
		io.WriteString(w, toolCallsReply)
	}))
	t.Cleanup(srv.Close)
	f := NewForwarder([]Route{{"*", srv.URL}}, ForwardOptions{})
	if _, err := f.Respond(context.Background(), newEvent(t, toolCallsBody)); err != nil {
		t.Fatal(err)
	}
	pool := f.routes[0].h1.pool
	pool.mu.Lock()
	defer pool.mu.Unlock()
	if len(pool.idle) != 1 || pool.idle[0].idleFor != 500*time.Millisecond {
		var got []time.Duration
		for _, c := range pool.idle {
			got = append(got, c.idleFor)
		}
		t.Errorf("idle connections kept for %v, want one for 500ms", got)
	}
}
