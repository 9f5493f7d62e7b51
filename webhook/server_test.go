package webhook

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vapimon/vapimon/webhook/webhooktest"
)

// serve runs h on a real http.Server from NewServer, on a loopback port, through
// h.Listener as cmd/vapimon does. It returns the address.
func serve(t *testing.T, h *Handler, tweak ...func(*http.Server)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(h, 0, nil)
	for _, f := range tweak {
		f(srv)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(h.Listener(ln))
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return ln.Addr().String()
}

// TestSlowBodiesDoNotStarveRealRequests: 500 connections that send their headers, then
// their body one byte a second, hold no in-flight slot: a real request is still answered,
// within a second. (They used to take every slot until the 30 s read timeout, and every real
// request got 503.)
func TestSlowBodiesDoNotStarveRealRequests(t *testing.T) {
	t.Parallel()
	const tricklers = 500
	h := NewHandler(Config{Bus: NewBus(), BodyTimeout: time.Minute}) // the slots are under test here, not the read deadline
	addr := serve(t, h)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	conns := make([]net.Conn, 0, tricklers)
	for i := 0; i < tricklers; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		conns = append(conns, c)
		if _, err := io.WriteString(c, "POST /vapi HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"); err != nil {
			t.Fatal(err)
		}
	}
	wg.Add(1)
	go func() { // one more byte a second on every connection
		defer wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				for _, c := range conns {
					_, _ = c.Write([]byte(" "))
				}
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		wg.Wait()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	webhooktest.Eventually(t, 30*time.Second, "every slow connection in the handler", func() bool { return h.Reading() == tricklers })

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	start := time.Now()
	resp, err := client.Post("http://"+addr+"/vapi", "application/json", strings.NewReader(`{"message":{"type":"tool-calls","toolCallList":[{"id":"c1","function":{"name":"f"}}]}}`))
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"toolCallId":"c1"`) {
		t.Fatalf("real request with %d slow ones: HTTP %d %s", tricklers, resp.StatusCode, body)
	}
	if took >= time.Second {
		t.Errorf("real request answered after %v, want under 1s", took)
	}
	if n := h.InFlight(); n > 1 {
		t.Errorf("%d in-flight slots taken by connections still sending their body", n)
	}
}

// TestSlowBodyCutByDeadline: a body that does not arrive within the body-read deadline is
// refused 408 (with a known length, and chunked), and shown as rejected.
func TestSlowBodyCutByDeadline(t *testing.T) {
	t.Parallel()
	bus := NewBus()
	sub := bus.Subscribe(64)
	h := NewHandler(Config{Bus: bus, BodyTimeout: 200 * time.Millisecond})
	addr := serve(t, h)
	for _, head := range []string{
		"POST /vapi HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{",
		"POST /vapi HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n",
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, head); err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		go func() { // keep trickling, well below any useful rate
			for {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
					if strings.Contains(head, "chunked") {
						_, _ = io.WriteString(c, "1\r\n \r\n")
					} else {
						_, _ = c.Write([]byte(" "))
					}
				}
			}
		}()
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			close(stop)
			t.Fatalf("%q: %v", head, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Errorf("%q: HTTP %d, want 408", head, resp.StatusCode)
		}
		// The server hangs up, though the sender is still trickling: it does not wait
		// for the rest of the body.
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		// (EOF, or a reset: the server closed with the sender's bytes unread.)
		if _, err := br.ReadByte(); err == nil || os.IsTimeout(err) {
			t.Errorf("%q: after the 408, read %v, want the server to close the connection", head, err)
		}
		close(stop)
	}
	var rejected []*Event
	for _, v := range drain(sub) {
		if ev, ok := v.(*Event); ok && ev.Rejected != "" {
			rejected = append(rejected, ev)
		}
	}
	if len(rejected) != 2 || !strings.Contains(rejected[0].Rejected, "body not received within 200ms") {
		t.Fatalf("rejected events %+v", rejected)
	}
}

func TestBodyTimeGrowsWithLength(t *testing.T) {
	t.Parallel()
	h := NewHandler(Config{})
	for n, want := range map[int64]time.Duration{-1: 3 * time.Second, 0: 3 * time.Second, 256 << 10: 4 * time.Second, 2 << 20: 11 * time.Second, 8 << 20: maxBodyTime} {
		if got := h.bodyTime(n); got != want {
			t.Errorf("bodyTime(%d) = %v, want %v", n, got, want)
		}
	}
}

// TestBodyDeadlineEndsWithTheBody: the body's short read deadline ends once the body is
// in (net/http lifts it for its background read), so a responder that waits longer, an
// operator typing, is not cut off by it, nor by the server's ReadTimeout.
func TestBodyDeadlineEndsWithTheBody(t *testing.T) {
	t.Parallel()
	slow := ResponderFunc{N: "operator", F: func(ctx context.Context, ev *Event) (Reply, error) {
		select {
		case <-time.After(700 * time.Millisecond):
			return JSONReply([]byte(`{"assistantId":"a1"}`), ""), nil
		case <-ctx.Done():
			return Reply{}, ctx.Err()
		}
	}}
	h := NewHandler(Config{Bus: NewBus(), Responders: []Responder{slow}, BodyTimeout: 100 * time.Millisecond})
	addr := serve(t, h, func(s *http.Server) { s.ReadTimeout = 200 * time.Millisecond })
	resp, err := http.Post("http://"+addr+"/vapi", "application/json", strings.NewReader(`{"message":{"type":"assistant-request"}}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if string(body) != `{"assistantId":"a1"}` {
		t.Fatalf("HTTP %d %s: the request was cancelled by a read deadline", resp.StatusCode, body)
	}
}

// TestRefusedByNetHTTPIsCounted: requests net/http refuses before the handler (headers too
// large, a bad request line, two Content-Length headers) are counted as rejected, published
// and, when the request line is readable, recorded. Requests the handler answers are not.
func TestRefusedByNetHTTPIsCounted(t *testing.T) {
	t.Parallel()
	bus := NewBus()
	sub := bus.Subscribe(64)
	rec := &memRecorder{}
	h := NewHandler(Config{Bus: bus, Recorder: rec})
	addr := serve(t, h)
	exchange := func(c net.Conn, req string) int {
		t.Helper()
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%.40q: %v", req, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	good := "POST /vapi HTTP/1.1\r\nHost: x\r\nContent-Length: 27\r\n\r\n{\"message\":{\"type\":\"hang\"}}"
	tests := []struct {
		name, req  string
		status     int
		path       string // "" when the request line is not readable (not recorded)
		wantReason string
	}{
		{"huge headers", "POST /vapi/webhook HTTP/1.1\r\nHost: x\r\nX-Pad: " + strings.Repeat("a", 100<<10) + "\r\n\r\n", 431, "/vapi/webhook", "431 Request Header Fields Too Large (headers larger than 64 KiB)"},
		{"bad request line", "HELLO\x1b[31m\r\n\r\n", 400, "", "(the request line is not HTTP)"},
		{"two Content-Length", "POST /vapi?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400, "/vapi?x=1", "400 Bad Request"},
		{"no Host", "POST /vapi HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", 400, "/vapi", "missing required Host header"},
	}
	for _, tt := range tests {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		// A good request first, on the same connection: answered, not counted.
		if got := exchange(c, good); got != 200 {
			t.Fatalf("good request: HTTP %d", got)
		}
		if got := exchange(c, tt.req); got != tt.status {
			t.Errorf("%s: HTTP %d, want %d", tt.name, got, tt.status)
		}
		_ = c.Close()
	}
	if st := h.Stats(); st.Rejected != uint64(len(tests)) {
		t.Errorf("Stats().Rejected = %d, want %d", st.Rejected, len(tests))
	}
	var rejected []*Event
	for _, v := range drain(sub) {
		if ev, ok := v.(*Event); ok && ev.Rejected != "" {
			rejected = append(rejected, ev)
		}
	}
	if len(rejected) != len(tests) {
		t.Fatalf("%d rejected events, want %d", len(rejected), len(tests))
	}
	recorded := 0
	for i, tt := range tests {
		ev := rejected[i]
		if ev.Status != tt.status || ev.Path != tt.path || !strings.Contains(ev.Rejected, tt.wantReason) || strings.ContainsAny(ev.Rejected, "\x1b") {
			t.Errorf("%s: event status %d path %q reason %q", tt.name, ev.Status, ev.Path, ev.Rejected)
		}
		if l := HeadlessLines(ev)[0]; l.Kind != "rejected" || l.Status != tt.status {
			t.Errorf("%s: headless line %+v", tt.name, l)
		}
		if tt.path != "" {
			recorded++
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var taped []string
	for i, ev := range rec.evs {
		if ev.Rejected != "" {
			taped = append(taped, fmt.Sprintf("%s %s %d", ev.Method, ev.Path, rec.outs[i].Reply.Status))
		}
	}
	if len(taped) != recorded || taped[0] != "POST /vapi/webhook 431" {
		t.Errorf("taped %q, want the %d with a readable request line", taped, recorded)
	}
}
