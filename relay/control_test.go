package relay

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vapimon/vapimon/webhook"
	"github.com/vapimon/vapimon/webhook/webhooktest"
)

// fakeControl is a stand-in for Vapi's control endpoint: it checks what it receives
// (method, path, headers, body) and answers as told.
type fakeControl struct {
	t      *testing.T
	key    string // expected bearer key; "" wants no Authorization header
	status int
	answer string
	mu     sync.Mutex
	got    []webhook.Control
	bad    []string
}

func (f *fakeControl) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fail := func(s string) { f.bad = append(f.bad, s) }
	if r.Method != http.MethodPost {
		fail("method " + r.Method)
	}
	if r.URL.Path != "/7420f27a-30fd-4f49-a995-5549ae7cc00d/control" {
		fail("path " + r.URL.Path)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		fail("content-type " + ct)
	}
	auth := r.Header.Get("Authorization")
	if f.key == "" && auth != "" {
		fail("unexpected Authorization header")
	}
	if f.key != "" && auth != "Bearer "+f.key {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"message":"Unauthorized"}`)
		return
	}
	b, _ := io.ReadAll(r.Body)
	c, err := webhook.ParseControl(b)
	if err != nil {
		fail("body: " + err.Error())
	}
	f.got = append(f.got, c)
	if f.status != 0 {
		w.WriteHeader(f.status)
	}
	_, _ = io.WriteString(w, f.answer)
}

func (f *fakeControl) check() {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range f.bad {
		f.t.Error("control server got: " + b)
	}
}

const ctlPath = "/7420f27a-30fd-4f49-a995-5549ae7cc00d/control"

func TestControlClientSends(t *testing.T) {
	t.Parallel()
	f := &fakeControl{t: t, answer: `{"status":"ok"}`}
	srv := httptest.NewServer(f)
	defer srv.Close()
	cc := &ControlClient{}
	say, _ := webhook.Say("Hold on", true, false)
	add, _ := webhook.AddMessage("system", "offer a discount", false)
	mute, _ := webhook.Mute("customer", true)
	tr, _ := webhook.Transfer("sip:desk@example.com", "")
	for _, c := range []webhook.Control{say, add, mute, webhook.EndCall(), tr} {
		res := cc.Send(context.Background(), srv.URL+ctlPath, c)
		if !res.OK() || res.Status != 200 || res.Body != `{"status":"ok"}` {
			t.Errorf("%s: %+v", c.Action(), res)
		}
	}
	f.check()
	if len(f.got) != 5 || f.got[0].Content != "Hold on" || f.got[1].Triggers() || f.got[2].Control != "mute-customer" || f.got[4].Destination.SIPURI != "sip:desk@example.com" {
		t.Errorf("received %+v", f.got)
	}
}

func TestControlClientAuth(t *testing.T) {
	t.Parallel()
	f := &fakeControl{t: t, key: "pub-123"}
	srv := httptest.NewServer(f)
	defer srv.Close()
	url := srv.URL + ctlPath

	res := (&ControlClient{}).Send(context.Background(), url, webhook.EndCall())
	if res.Status != 401 || !strings.Contains(res.Err, "set VAPI_PUBLIC_KEY") || !strings.Contains(res.Err, "controlAuthenticationEnabled") {
		t.Errorf("no key: %+v", res)
	}
	res = (&ControlClient{PublicKey: "wrong"}).Send(context.Background(), url, webhook.EndCall())
	if res.Status != 401 || !strings.Contains(res.Err, "refused VAPI_PUBLIC_KEY") {
		t.Errorf("wrong key: %+v", res)
	}
	res = (&ControlClient{PublicKey: "pub-123"}).Send(context.Background(), url, webhook.EndCall())
	if !res.OK() {
		t.Errorf("right key: %+v", res)
	}
	f.check()
	// The key never goes over plain http to another machine.
	res = (&ControlClient{PublicKey: "pub-123"}).Send(context.Background(), "http://phone-call-websocket.vapi.ai"+ctlPath, webhook.EndCall())
	if res.OK() || !strings.Contains(res.Err, "plain http") {
		t.Errorf("http to a remote host: %+v", res)
	}
}

func TestControlClientFailures(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/bad/control", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"message": []string{"content must be a string"}, "error": "Bad Request"})
	})
	mux.HandleFunc("/gone/control", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	mux.HandleFunc("/boom/control", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	mux.HandleFunc("/moved/control", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://elsewhere.example/control", http.StatusFound)
	})
	mux.HandleFunc("/slow/control", func(w http.ResponseWriter, r *http.Request) { webhooktest.Hang(t, r) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()

	cc := &ControlClient{Timeout: 200 * time.Millisecond}
	tests := []struct{ url, want string }{
		{srv.URL + "/bad/control", "Vapi says content must be a string"},
		{srv.URL + "/gone/control", "the call has probably ended"},
		{srv.URL + "/boom/control", "Internal Server Error"},
		{srv.URL + "/moved/control", "redirects to https://elsewhere.example/control: not followed"},
		{srv.URL + "/slow/control", "no answer from the control URL within 200ms"},
		{downURL + "/x/control", "cannot reach the control URL"},
		{"", "monitorPlan.controlEnabled is off"},
		{"ftp://x/control", "not an http(s) URL"},
	}
	for _, tc := range tests {
		res := cc.Send(context.Background(), tc.url, webhook.EndCall())
		if res.OK() || !strings.Contains(res.Err, tc.want) {
			t.Errorf("%s: got %+v, want %q", tc.url, res, tc.want)
		}
	}
}

func TestCallMonitor(t *testing.T) {
	t.Parallel()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.Header.Get("Authorization") != "Bearer priv-key" {
			w.WriteHeader(401)
			return
		}
		switch r.URL.Path {
		case "/call/live":
			_, _ = io.WriteString(w, `{"id":"live","status":"in-progress","monitor":{"listenUrl":"wss://l","controlUrl":"https://c/live/control"}}`)
		case "/call/done":
			_, _ = io.WriteString(w, `{"id":"done","status":"ended"}`)
		default:
			w.WriteHeader(404)
			_, _ = io.WriteString(w, `{"message":"Couldn't Get Call. Call Not Found"}`)
		}
	}))
	defer api.Close()
	c := &VapiClient{BaseURL: api.URL, APIKey: "priv-key"}
	if u, err := c.CallMonitor(context.Background(), "live"); err != nil || u != "https://c/live/control" {
		t.Errorf("live: %q %v", u, err)
	}
	if _, err := c.CallMonitor(context.Background(), "done"); err == nil || !strings.Contains(err.Error(), "has ended") {
		t.Errorf("done: %v", err)
	}
	if _, err := c.CallMonitor(context.Background(), "nope"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("nope: %v", err)
	}
}

// TestControlKeyOnlyToVapi: the key goes to vapi.ai hosts and loopback only.
func TestControlKeyOnlyToVapi(t *testing.T) {
	t.Parallel()
	for h, want := range map[string]bool{"phone-call-websocket.aws-us-west-2-backend-production2.vapi.ai": true, "vapi.ai": true, "evilvapi.ai": false, "vapi.ai.evil.com": false, "example.com": false} {
		if got := isVapiHost(h); got != want {
			t.Errorf("isVapiHost(%s) = %v", h, got)
		}
	}
}
