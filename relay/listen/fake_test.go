package listen

import (
	"context"
	"encoding/binary"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/vapimon/vapimon/webhook"
)

// fakeListen is a stand-in for Vapi's listen endpoint (we cannot reach Vapi's): it checks
// what it receives (the path, the Authorization header) and streams what the test says.
type fakeListen struct {
	t    testing.TB
	srv  *httptest.Server
	want string // expected Authorization header ("" for none)
	// script runs on each accepted connection (n counts from 1).
	script func(ctx context.Context, c *websocket.Conn, n int)
	// refuse, when set, answers the handshake with this status instead.
	refuse func(n int) int

	mu    sync.Mutex
	conns int
	auths []string
	paths []string
}

func newFakeListen(t testing.TB) *fakeListen {
	f := &fakeListen{t: t}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.conns++
		n := f.conns
		f.auths = append(f.auths, r.Header.Get("Authorization"))
		f.paths = append(f.paths, r.URL.Path)
		f.mu.Unlock()
		if r.Method != http.MethodGet || r.Header.Get("Upgrade") != "websocket" {
			t.Errorf("listen request %d: %s %s, Upgrade %q: want a WebSocket GET", n, r.Method, r.URL.Path, r.Header.Get("Upgrade"))
		}
		if f.refuse != nil {
			if st := f.refuse(n); st != 0 {
				http.Error(w, "no", st)
				return
			}
		}
		if f.want != "" && r.Header.Get("Authorization") != f.want {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		defer c.CloseNow()
		if f.script != nil {
			f.script(r.Context(), c, n)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// url is the listen URL of callID on the fake.
func (f *fakeListen) url(callID string) string {
	return "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/" + callID + "/listen"
}

func (f *fakeListen) connections() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns
}

// tone returns d of 16 kHz stereo PCM: a sine of amplitude amp[s] on each side.
func tone(d time.Duration, amp [2]float64, phase int) []byte {
	n := int(d.Seconds() * 16000)
	b := make([]byte, 4*n)
	for i := 0; i < n; i++ {
		for s := 0; s < 2; s++ {
			v := amp[s] * 32767 * math.Sin(2*math.Pi*float64(440+220*s)*float64(i+phase)/16000)
			binary.LittleEndian.PutUint16(b[4*i+2*s:], uint16(int16(v)))
		}
	}
	return b
}

// playOnce is a script streaming d of the caller speaking, then ending the call.
func playOnce(d time.Duration) func(ctx context.Context, c *websocket.Conn, n int) {
	return func(ctx context.Context, c *websocket.Conn, n int) {
		_ = sendFrames(ctx, c, tone(d, [2]float64{0.5, 0}, 0), 640)
		_ = c.Close(websocket.StatusNormalClosure, "")
	}
}

// sendFrames writes pcm in frames of size bytes (the last may be shorter).
func sendFrames(ctx context.Context, c *websocket.Conn, pcm []byte, size int) error {
	for len(pcm) > 0 {
		n := min(size, len(pcm))
		if err := c.Write(ctx, websocket.MessageBinary, pcm[:n]); err != nil {
			return err
		}
		pcm = pcm[n:]
	}
	return nil
}

// event returns a webhook event of callID with a listen URL (and a monitor plan asking
// for the key when auth).
func event(callID, typ, listenURL string, auth bool) *webhook.Event {
	msg := &webhook.Message{Type: typ}
	msg.Call.ID = callID
	msg.Call.Monitor.ListenURL = listenURL
	body := `{"message":{"type":"` + typ + `","call":{"id":"` + callID + `"}}}`
	if auth {
		body = `{"message":{"type":"` + typ + `","assistant":{"monitorPlan":{"listenAuthenticationEnabled":true}},"call":{"id":"` + callID + `"}}}`
	}
	return &webhook.Event{Msg: msg, Body: []byte(body)}
}

// call returns a status-update of callID whose listen URL is this fake's (with a monitor
// plan asking for the key when auth).
func (f *fakeListen) call(callID string, auth bool) *webhook.Event {
	return event(callID, webhook.TypeStatusUpdate, f.url(callID), auth)
}

// watch collects the Updates of a bus until the predicate holds, or fails after 10 s.
func watch(t *testing.T, sub <-chan any, pred func(Update) bool) Update {
	t.Helper()
	deadline := time.After(10 * time.Second)
	var last Update
	for {
		select {
		case v := <-sub:
			if u, ok := v.(Update); ok {
				last = u
				if pred(u) {
					return u
				}
			}
		case <-deadline:
			t.Fatalf("no such update within 10s; last: %+v", last)
		}
	}
}
