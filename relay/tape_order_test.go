package relay

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/webhook"
	"github.com/vapimon/vapimon/webhook/webhooktest"
)

// TestForwardTapedWhileYourServerWorks: with the tape on, a forwarded request is on the
// tape while your server works on it (the line is written once the request is sent, so
// that the write overlaps your server's work instead of adding to the reply's time): the
// server below answers a request only once the request's line is in the tape file. A new
// connection (a dial), a kept-alive one, a body larger than a socket takes at once and a
// kept-alive connection whose write fails (the request is resent on a new one) are each
// checked; a request to a server that is down is on the tape too, with the fallback.
func TestForwardTapedWhileYourServerWorks(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tape.jsonl")
	tape, err := fixtures.OpenTape(path)
	if err != nil {
		t.Fatal(err)
	}
	defer tape.Close()
	onTape := func(id string) bool {
		b, err := os.ReadFile(path)
		return err == nil && bytes.Contains(b, []byte(`"id":"`+id+`"`))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ev := newEvent(t, string(body))
		id := ev.Msg.ToolCalls[0].ID
		for wait := time.Now().Add(10 * time.Second); !onTape(id); time.Sleep(time.Millisecond) {
			if time.Now().After(wait) {
				http.Error(w, "the request is not on the tape while its reply is awaited", http.StatusInternalServerError)
				return
			}
		}
		fmt.Fprintf(w, `{"results":[{"toolCallId":%q,"result":"from your server"}]}`, id)
	}))
	defer srv.Close()

	body := func(id, pad string) string {
		return `{"message":{"type":"tool-calls","call":{"id":"c1"},"pad":"` + pad + `","toolCallList":[{"id":"` + id +
			`","type":"function","function":{"name":"get_weather","arguments":{}}}]}}`
	}
	serve := func(h *webhook.Handler, b string) string {
		req := httptest.NewRequest(http.MethodPost, "/vapi", strings.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Body.String()
	}
	f := NewForwarder([]Route{{"*", srv.URL}}, ForwardOptions{})
	h := webhook.NewHandler(webhook.Config{Responders: []webhook.Responder{f}, Recorder: tape, Bus: webhook.NewBus()})
	for _, tc := range []struct {
		name, id, pad string
		stale         bool
	}{
		{"a new connection", "call_dial", "", false},
		{"a kept-alive connection", "call_kept", "", false},
		{"a body larger than a socket takes at once", "call_large", strings.Repeat("x", 4*sendNoWait), false},
		{"a kept-alive connection whose write fails (resent on a new one)", "call_stale", "", true},
	} {
		if tc.stale {
			// An idle connection that looks open (a live socket) but fails to write: the
			// request is resent on a new connection, which must find it on the tape.
			raw, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			pool := f.routes[0].h1.pool
			c := &h1Conn{conn: failingWrite{raw.(*net.TCPConn)}, pool: pool}
			c.br = bufio.NewReaderSize(c, 4<<10)
			c.interrupt = func() { _ = raw.SetDeadline(aLongTimeAgo) }
			c.check.init(c.conn)
			pool.put(c)
		}
		if got := serve(h, body(tc.id, tc.pad)); !strings.Contains(got, "from your server") {
			t.Errorf("%s: Vapi got %s, want your server's reply", tc.name, got)
		}
	}
	down := webhook.NewHandler(webhook.Config{Responders: []webhook.Responder{NewForwarder([]Route{{"*", "http://" + webhooktest.FreeAddr(t)}}, ForwardOptions{})}, Recorder: tape, Bus: webhook.NewBus()})
	if got := serve(down, body("call_down", "")); !strings.Contains(got, "error") {
		t.Errorf("server down: Vapi got %s, want the fallback", got)
	}

	recs, _, err := fixtures.ReadTapeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 5 {
		t.Fatalf("%d records on the tape, want 5", len(recs))
	}
	for i, want := range []string{"call_dial", "call_kept", "call_large", "call_stale", "call_down"} {
		if r := recs[i]; !bytes.Contains(r.Body, []byte(want)) || r.Reply == nil || r.Reply.Status != http.StatusOK {
			t.Errorf("record %d: want %s with its reply, got body %.80q reply %+v", i, want, r.Body, r.Reply)
		}
	}
}

// failingWrite is a live TCP connection whose writes fail, as one the server has closed.
type failingWrite struct{ *net.TCPConn }

func (failingWrite) Write([]byte) (int, error) { return 0, syscall.EPIPE }
