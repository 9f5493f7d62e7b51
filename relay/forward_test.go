package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vapimon/vapimon/webhook"
	"github.com/vapimon/vapimon/webhook/webhooktest"
)

// Bodies keep odd spacing and key order on purpose: they must arrive byte for byte.
const (
	toolCallsBody = `{"message": {"type":"tool-calls","timestamp":1760000006200,  "call":{"id":"c1"},
 "toolCallList":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":{"location":"Paris"}}}],
 "toolWithToolCallList":[]}}`
	toolCallsReply     = `{"results":[{"toolCallId":"call_1","name":"get_weather","result":"Paris: 18C"}]}`
	statusUpdateBody   = `{"message":{"type":"status-update","status":"in-progress","call":{"id":"c1"}}}`
	assistantReqBody   = `{"message":{"type":"assistant-request","call":{"id":"c1"}}}`
	transcriptFinalBod = `{"message":{"type":"transcript[transcriptType=\"final\"]","role":"user","transcript":"hi"}}`
)

// newEvent builds an accepted event as the handler would, from a Vapi body.
func newEvent(t testing.TB, body string) *webhook.Event {
	t.Helper()
	msg, err := webhook.Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return &webhook.Event{
		Method: http.MethodPost,
		Path:   "/vapi",
		Body:   []byte(body),
		WireHeader: http.Header{
			"Content-Type":    {"application/json; charset=utf-8"},
			"X-Vapi-Secret":   {"s3cret"},
			"X-Signature":     {"abc123"},
			"User-Agent":      {"Vapi/1.0"},
			"Content-Length":  {fmt.Sprint(len(body))},
			"Accept-Encoding": {"gzip"},
			"Connection":      {"keep-alive, X-Hop"},
			"X-Hop":           {"only for this connection"},
			"Keep-Alive":      {"timeout=5"},
		},
		RemoteAddr: "203.0.113.7:4444",
		Host:       "abc.ngrok.app",
		Proto:      "https",
		Verified:   true,
		Msg:        msg,
	}
}

func healthOf(t *testing.T, sub <-chan any) webhook.ForwardHealth {
	t.Helper()
	select {
	case v := <-sub:
		h, ok := v.(webhook.ForwardHealth)
		if !ok {
			t.Fatalf("bus carried %T, want ForwardHealth", v)
		}
		return h
	case <-time.After(5 * time.Second):
		t.Fatal("no ForwardHealth published")
	}
	return webhook.ForwardHealth{}
}

func TestForwardCarriesRequestExactly(t *testing.T) {
	t.Parallel()
	srv, seen := webhooktest.Server(t, http.StatusOK, http.Header{
		"Content-Type": {"application/json"},
		"X-Server":     {"dev"},
		"Connection":   {"X-Server-Hop"},
		"X-Server-Hop": {"drop me"},
	}, toolCallsReply)
	bus := webhook.NewBus()
	sub := bus.Subscribe(8)
	f := NewForwarder([]Route{{"*", srv.URL}}, ForwardOptions{Bus: bus})
	ev := newEvent(t, toolCallsBody)

	reply, err := f.Respond(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	got := <-seen
	if got.Method != http.MethodPost || got.Path != "/vapi" {
		t.Errorf("request line = %s %s, want POST /vapi (the route has no path, so Vapi's is kept)", got.Method, got.Path)
	}
	if string(got.Body) != toolCallsBody {
		t.Errorf("body changed:\n got %q\nwant %q", got.Body, toolCallsBody)
	}
	wantHeader := map[string]string{
		"Content-Type":      "application/json; charset=utf-8",
		"X-Vapi-Secret":     "s3cret",
		"X-Signature":       "abc123",
		"User-Agent":        "Vapi/1.0",
		"X-Forwarded-For":   "203.0.113.7",
		"X-Forwarded-Host":  "abc.ngrok.app",
		"X-Forwarded-Proto": "https",
		"Content-Length":    fmt.Sprint(len(toolCallsBody)),
	}
	for k, v := range wantHeader {
		if g := got.Header.Get(k); g != v {
			t.Errorf("header %s = %q, want %q", k, g, v)
		}
	}
	for _, k := range []string{"X-Hop", "Keep-Alive", "Accept-Encoding"} {
		if g := got.Header.Get(k); g != "" {
			t.Errorf("header %s = %q reached the server; it should have been dropped", k, g)
		}
	}
	if reply.Status != 200 || string(reply.Body) != toolCallsReply || reply.Source != webhook.SourceForward {
		t.Errorf("reply = %d %q from %q", reply.Status, reply.Body, reply.Source)
	}
	if reply.Header.Get("X-Server") != "dev" || reply.Header.Get("X-Server-Hop") != "" || reply.Header.Get("Content-Length") != "" {
		t.Errorf("reply header = %v: want the server's minus hop-by-hop and Content-Length", reply.Header)
	}
	if ev.WireHeader.Get("Accept-Encoding") != "gzip" || ev.WireHeader.Get("X-Hop") == "" {
		t.Error("Respond modified the event's WireHeader")
	}
	if h := healthOf(t, sub); h.Target != srv.URL+"/vapi" || h.Status != 200 || h.Err != "" || h.Latency <= 0 {
		t.Errorf("health = %+v", h)
	}
}

func TestForwardHeaderEdges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		prior    []string
		noUA     bool
		wantXFF  string
		wantUA   string
		wantUAOK bool
	}{
		{name: "no prior chain", wantXFF: "203.0.113.7", wantUA: "Vapi/1.0", wantUAOK: true},
		{name: "ngrok's chain gets our hop", prior: []string{"198.51.100.1"}, wantXFF: "198.51.100.1, 203.0.113.7", wantUA: "Vapi/1.0", wantUAOK: true},
		{name: "same address not repeated", prior: []string{"203.0.113.7"}, wantXFF: "203.0.113.7", wantUA: "Vapi/1.0", wantUAOK: true},
		{name: "no user agent stays none", noUA: true, wantXFF: "203.0.113.7", wantUA: "", wantUAOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, seen := webhooktest.Server(t, 200, nil, "{}")
			ev := newEvent(t, statusUpdateBody)
			if tt.prior != nil {
				ev.WireHeader["X-Forwarded-For"] = tt.prior
			}
			if tt.noUA {
				delete(ev.WireHeader, "User-Agent")
			}
			if _, err := NewForwarder([]Route{{"*", srv.URL + "/hook"}}, ForwardOptions{}).Respond(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
			got := <-seen
			if got.Path != "/hook" {
				t.Errorf("path = %q, want the route's /hook", got.Path)
			}
			if g := got.Header.Get("X-Forwarded-For"); g != tt.wantXFF {
				t.Errorf("X-Forwarded-For = %q, want %q", g, tt.wantXFF)
			}
			_, ok := got.Header["User-Agent"]
			if g := got.Header.Get("User-Agent"); g != tt.wantUA || ok != tt.wantUAOK {
				t.Errorf("User-Agent = %q (present %v), want %q (present %v)", g, ok, tt.wantUA, tt.wantUAOK)
			}
		})
	}
}

func TestForwardRoutesByType(t *testing.T) {
	t.Parallel()
	tools, toolsSeen := webhooktest.Server(t, 200, nil, toolCallsReply)
	rest, restSeen := webhooktest.Server(t, 200, nil, "{}")
	transcripts, trSeen := webhooktest.Server(t, 200, nil, "{}")
	f := NewForwarder([]Route{{"tool-calls", tools.URL + "/tools"}, {"transcript", transcripts.URL}, {"*", rest.URL + "/webhook"}}, ForwardOptions{})

	tests := []struct {
		body     string
		seen     <-chan webhooktest.Request
		wantPath string
	}{
		{toolCallsBody, toolsSeen, "/tools"},
		{statusUpdateBody, restSeen, "/webhook"},
		{assistantReqBody, restSeen, "/webhook"},
		{transcriptFinalBod, trSeen, "/vapi"},
	}
	for _, tt := range tests {
		ev := newEvent(t, tt.body)
		if _, err := f.Respond(context.Background(), ev); err != nil && ev.Type() != webhook.TypeAssistantRequest {
			t.Errorf("%s: %v", ev.Type(), err)
		}
		select {
		case got := <-tt.seen:
			if got.Path != tt.wantPath {
				t.Errorf("%s went to %s, want %s", ev.Type(), got.Path, tt.wantPath)
			}
		default:
			t.Errorf("%s did not reach its route", ev.Type())
		}
	}

	// Without a catch-all, other types pass to the next responder.
	only := NewForwarder([]Route{{"tool-calls", tools.URL}}, ForwardOptions{})
	if _, err := only.Respond(context.Background(), newEvent(t, statusUpdateBody)); !errors.Is(err, webhook.ErrPass) {
		t.Errorf("unrouted type: err = %v, want ErrPass", err)
	}
	if _, err := only.Respond(context.Background(), &webhook.Event{Rejected: "auth failed"}); !errors.Is(err, webhook.ErrPass) {
		t.Errorf("rejected event: err = %v, want ErrPass", err)
	}
	if got := f.Describe(); got != "tool-calls → "+tools.URL+"/tools, transcript → "+transcripts.URL+", * → "+rest.URL+"/webhook" {
		t.Errorf("Describe = %q", got)
	}
}

// checkKind fails unless err is a *webhook.ForwardError of kind want (with the status the
// server answered) and the forward health says the same kind: the handler and the UI
// read the kind, never the sentence.
func checkKind(t *testing.T, err error, h webhook.ForwardHealth, want webhook.ForwardFailure, status int) {
	t.Helper()
	var fe *webhook.ForwardError
	if !errors.As(err, &fe) {
		t.Fatalf("err %T %q is not a *webhook.ForwardError", err, err)
	}
	if fe.Failure != want || fe.Status != status || fe.Error() != err.Error() {
		t.Errorf("ForwardError = {%q, %d, %q}, want kind %q, status %d", fe.Failure, fe.Status, fe.Msg, want, status)
	}
	if h.Failure != want {
		t.Errorf("health failure = %q, want %q", h.Failure, want)
	}
}

func TestForwardFailuresMoveTheChainOn(t *testing.T) {
	t.Parallel()
	var redirectFollowed atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		io.WriteString(w, "{\"error\":\"boom\x1b[31m\"}\n")
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) })
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) {
		redirectFollowed.Store(true)
		io.WriteString(w, toolCallsReply)
	})
	mux.HandleFunc("/garbage", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html>oops</html>") })
	mux.HandleFunc("/wrong-id", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"results":[{"toolCallId":"call_9","result":"x"}]}`)
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/204", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	mux.HandleFunc("/201-broken", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(201)
		io.WriteString(w, `{"results":[{"toolCallId":"call_9","result":"x"}]}`)
	})
	mux.HandleFunc("/hangup", func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	down := "http://" + webhooktest.FreeAddr(t) + "/tools"

	tests := []struct {
		name, url  string
		wantErr    string
		wantStatus int // of the reply returned for display; 0 when none came
		wantKind   webhook.ForwardFailure
	}{
		{"server down", down, "connection refused by " + down + " (is your server running?)", 0, webhook.ForwardRefused},
		{"500", srv.URL + "/500", "HTTP 500 from " + srv.URL + `/500: {"error":"boom"}`, 500, webhook.ForwardStatus},
		{"redirect", srv.URL + "/redirect", "HTTP 302 from " + srv.URL + "/redirect: redirected to /elsewhere: vapimon does not follow redirects", 302, webhook.ForwardRedirect},
		{"garbage", srv.URL + "/garbage", "unusable reply from " + srv.URL + "/garbage: body is not JSON: <html>oops</html>", 200, webhook.ForwardUnusable},
		{"wrong id", srv.URL + "/wrong-id", "unusable reply from " + srv.URL + `/wrong-id: results[0].toolCallId "call_9" does not match any tool call (expected call_1)`, 200, webhook.ForwardUnusable},
		{"empty body", srv.URL + "/empty", "unusable reply from " + srv.URL + "/empty: no result returned (HTTP 200 with an empty body: tool-calls needs one)", 200, webhook.ForwardUnusable},
		{"204", srv.URL + "/204", "unusable reply from " + srv.URL + "/204: no result returned (HTTP 204 with an empty body: tool-calls needs one)", 204, webhook.ForwardUnusable},
		{"201 with a broken body", srv.URL + "/201-broken", "unusable reply from " + srv.URL + `/201-broken: results[0].toolCallId "call_9" does not match any tool call`, 201, webhook.ForwardUnusable},
		{"404", srv.URL + "/nowhere", "HTTP 404 from " + srv.URL + "/nowhere: 404 page not found", 404, webhook.ForwardStatus},
		{"hang up", srv.URL + "/hangup", srv.URL + "/hangup closed the connection without a complete reply", 0, webhook.ForwardClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bus := webhook.NewBus()
			sub := bus.Subscribe(4)
			f := NewForwarder([]Route{{"tool-calls", tt.url}}, ForwardOptions{Bus: bus})
			reply, err := f.Respond(context.Background(), newEvent(t, toolCallsBody))
			if err == nil || errors.Is(err, webhook.ErrPass) {
				t.Fatalf("err = %v, want a failure so the chain moves on", err)
			}
			if !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("err = %q\nwant prefix %q", err, tt.wantErr)
			}
			if reply.Status != tt.wantStatus {
				t.Errorf("reply status = %d, want %d", reply.Status, tt.wantStatus)
			}
			h := healthOf(t, sub)
			if h.Err != err.Error() || h.Status != tt.wantStatus {
				t.Errorf("health = %+v, want Err %q", h, err)
			}
			checkKind(t, err, h, tt.wantKind, tt.wantStatus)
		})
	}
	if redirectFollowed.Load() {
		t.Error("the redirect was followed")
	}
}

func TestForwardSlowServerReturnsByDeadline(t *testing.T) {
	t.Parallel()
	srv := webhooktest.HangingServer(t)
	f := NewForwarder([]Route{{"*", srv.URL}}, ForwardOptions{})

	for _, tt := range []struct{ name, body string }{{"before headers", toolCallsBody}} {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		start := time.Now()
		_, err := f.Respond(ctx, newEvent(t, tt.body))
		took := time.Since(start)
		cancel()
		if err == nil || !strings.HasPrefix(err.Error(), "no reply from "+srv.URL+"/vapi within ") {
			t.Errorf("%s: err = %v", tt.name, err)
		}
		// A hang guard: Respond must give the chain the rest of the deadline.
		if took > 2*time.Second {
			t.Errorf("%s: Respond took %s with a 200ms deadline", tt.name, took)
		}
	}
}

func TestForwardSlowBodyReturnsByDeadline(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"results":[`)
		w.(http.Flusher).Flush()
		webhooktest.Hang(t, r)
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := NewForwarder([]Route{{"*", srv.URL}}, ForwardOptions{}).Respond(ctx, newEvent(t, toolCallsBody))
	if err == nil || !strings.HasPrefix(err.Error(), "no reply from") {
		t.Errorf("err = %v, want no reply within the deadline", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Respond took %s with a 200ms deadline", took)
	}
}

// TestForwardHugeReply is not parallel: it measures allocation.
func TestForwardHugeReply(t *testing.T) {
	const huge = 100 << 20
	for _, announce := range []bool{false, true} {
		t.Run(fmt.Sprintf("Content-Length announced %v", announce), func(t *testing.T) {
			var written atomic.Int64
			done := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer close(done)
				if announce {
					w.Header().Set("Content-Length", fmt.Sprint(huge))
				}
				chunk := []byte(strings.Repeat("x", 64<<10))
				for written.Load() < huge {
					n, err := w.Write(chunk)
					written.Add(int64(n))
					if err != nil {
						return
					}
				}
			}))
			defer srv.Close()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := NewForwarder([]Route{{"*", srv.URL}}, ForwardOptions{}).Respond(context.Background(), newEvent(t, toolCallsBody))
			runtime.ReadMemStats(&after)
			if err == nil || err.Error() != "reply from "+srv.URL+"/vapi larger than 8 MiB: vapimon stops reading there" {
				t.Errorf("err = %v", err)
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("allocated %.1f MiB", float64(alloc)/(1<<20))
			if alloc > 40<<20 {
				t.Errorf("allocated %d MiB for a capped 8 MiB read", alloc>>20)
			}
			<-done // the server stops writing once vapimon hangs up
			if w := written.Load(); w >= huge {
				t.Errorf("the server wrote all %d bytes: the reply was read to the end", w)
			}
		})
	}
}

func TestForwardConcurrencyCapFailsFast(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 4)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		io.WriteString(w, toolCallsReply)
	}))
	t.Cleanup(srv.Close)
	f := NewForwarder([]Route{{"*", srv.URL}}, ForwardOptions{MaxInFlight: 2})
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := f.Respond(context.Background(), newEvent(t, toolCallsBody))
			errs <- err
		}()
	}
	<-arrived
	<-arrived
	start := time.Now()
	_, err := f.Respond(context.Background(), newEvent(t, toolCallsBody))
	if err == nil || err.Error() != "2 forwards already in flight: not forwarded to "+srv.URL+"/vapi" {
		t.Errorf("third forward: err = %v, want fail-fast", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("the third forward waited %s instead of failing fast", took)
	}
	close(release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("a forward under the cap failed: %v", err)
		}
	}
	// The slots are free again.
	if _, err := f.Respond(context.Background(), newEvent(t, toolCallsBody)); err != nil {
		t.Errorf("after the burst: %v", err)
	}
}

func TestForwardInformational(t *testing.T) {
	t.Parallel()
	for _, status := range []int{200, 500} {
		srv, seen := webhooktest.Server(t, status, nil, "not json, and that is fine")
		reply, err := NewForwarder([]Route{{"*", srv.URL}}, ForwardOptions{}).Respond(context.Background(), newEvent(t, statusUpdateBody))
		if err != nil {
			t.Errorf("HTTP %d to status-update: %v (the handler acknowledges informational messages itself)", status, err)
		}
		if reply.Status != status || string(reply.Body) != "not json, and that is fine" {
			t.Errorf("reply = %d %q", reply.Status, reply.Body)
		}
		if got := <-seen; string(got.Body) != statusUpdateBody {
			t.Errorf("body = %q", got.Body)
		}
	}
}

func TestForwardReplyChecksByType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, reply string
		wantErr, wantNote string
	}{
		{"assistant-request ok", assistantReqBody, `{"assistantId":"5a6b2c1d-0e9f-4a3b-8c7d-6e5f4a3b2c1d"}`, "", ""},
		{"assistant-request odd shape fails", assistantReqBody, `{"assistantIdd":"5a6b"}`, "unusable reply from", ""},
		{"assistant-request array fails", assistantReqBody, `[]`, "unusable reply from", ""},
		{"tool-calls line breaks are a warning", toolCallsBody, `{"results":[{"toolCallId":"call_1","name":"get_weather","result":"a\nb"}]}`, "", "warning: results[0].result has line breaks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := webhooktest.Server(t, 200, nil, tt.reply)
			reply, err := NewForwarder([]Route{{"*", srv.URL}}, ForwardOptions{}).Respond(context.Background(), newEvent(t, tt.body))
			if webhooktest.WantErr(t, err, tt.wantErr) {
				return
			}
			if !strings.HasPrefix(reply.Note, tt.wantNote) || (tt.wantNote == "" && reply.Note != "") {
				t.Errorf("note = %q, want prefix %q", reply.Note, tt.wantNote)
			}
			if string(reply.Body) != tt.reply {
				t.Errorf("body = %q, want the server's %q", reply.Body, tt.reply)
			}
		})
	}
}

func TestForwardIntercept(t *testing.T) {
	t.Parallel()
	srv, _ := webhooktest.Server(t, 200, http.Header{"Content-Type": {"application/json"}}, toolCallsReply)
	var calls atomic.Int32
	edited := `{"results":[{"toolCallId":"call_1","result":"edited by the operator"}]}`
	f := NewForwarder([]Route{{"*", srv.URL}}, ForwardOptions{Intercept: func(ctx context.Context, ev *webhook.Event, r webhook.Reply) (webhook.Reply, error) {
		calls.Add(1)
		if string(r.Body) != toolCallsReply || r.Source != webhook.SourceForward {
			t.Errorf("intercept saw %q from %q", r.Body, r.Source)
		}
		r.Body = []byte(edited)
		r.Source = webhook.SourceOperator
		return r, nil
	}})
	reply, err := f.Respond(context.Background(), newEvent(t, toolCallsBody))
	if err != nil || string(reply.Body) != edited || reply.Source != webhook.SourceOperator {
		t.Errorf("reply = %q from %q, err %v", reply.Body, reply.Source, err)
	}
	// Informational messages are never intercepted.
	if _, err := f.Respond(context.Background(), newEvent(t, statusUpdateBody)); err != nil || calls.Load() != 1 {
		t.Errorf("status-update: err %v, intercept calls %d (want 1)", err, calls.Load())
	}
	// The operator let the deadline pass: the chain moves on.
	f.SetIntercept(func(ctx context.Context, ev *webhook.Event, r webhook.Reply) (webhook.Reply, error) {
		return webhook.Reply{}, context.DeadlineExceeded
	})
	if _, err := f.Respond(context.Background(), newEvent(t, toolCallsBody)); err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("intercept error: err = %v", err)
	}
	// Toggled off: the server's reply goes through untouched.
	f.SetIntercept(nil)
	if reply, err := f.Respond(context.Background(), newEvent(t, toolCallsBody)); err != nil || string(reply.Body) != toolCallsReply {
		t.Errorf("intercept off: %q, %v", reply.Body, err)
	}
}

func TestForwardLeavesTimeForOthers(t *testing.T) {
	t.Parallel()
	hung := webhooktest.HangingServer(t) // hangs until the forwarder gives up (or the test is over)
	routes, err := ParseRoutes([]string{hung.URL})
	if err != nil {
		t.Fatal(err)
	}
	f := NewForwarder(routes, ForwardOptions{})
	msg, err := webhook.Parse([]byte(toolCallsBody))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err = f.Respond(ctx, &webhook.Event{Msg: msg, Body: []byte(toolCallsBody), Method: "POST", Path: "/"})
	if err == nil {
		t.Fatal("a hung server answered")
	}
	// Half the time left, not all of it: the answers file and the operator get the rest.
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Fatalf("forward to a hung server took %s of a 2s deadline", took)
	}
	if ctx.Err() != nil {
		t.Fatal("the deadline passed while forwarding")
	}
}

func TestForwardInterceptGetsTheWholeDeadline(t *testing.T) {
	t.Parallel()
	srv, _ := webhooktest.Server(t, 200, http.Header{"Content-Type": {"application/json"}}, toolCallsReply)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	want, _ := ctx.Deadline()
	var got time.Time
	f := NewForwarder([]Route{{"*", srv.URL}}, ForwardOptions{Intercept: func(ictx context.Context, ev *webhook.Event, r webhook.Reply) (webhook.Reply, error) {
		got, _ = ictx.Deadline()
		return r, nil
	}})
	if _, err := f.Respond(ctx, newEvent(t, toolCallsBody)); err != nil {
		t.Fatal(err)
	}
	if !got.Equal(want) {
		t.Fatalf("the review had until %v, want the handler's deadline %v (not the forward's share)", got, want)
	}
}

// connCount is the per-connection request counter staleConnServer keeps.
type connCount struct{ n atomic.Int32 }

type connCountKey struct{}

// staleConnServer stands for a server that closes a kept-alive connection the moment the
// next request arrives on it, as Node does when its keep-alive timeout (5 s) fires just as
// the client reuses the connection: every connection answers its first request with
// toolCallsReply and handles the later ones with onReused (which must hijack and close
// the connection, or answer). total counts every request the server saw.
func staleConnServer(t *testing.T, onReused func(w http.ResponseWriter, r *http.Request)) (srv *httptest.Server, total *atomic.Int32) {
	t.Helper()
	total = new(atomic.Int32)
	srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		total.Add(1)
		if r.Context().Value(connCountKey{}).(*connCount).n.Add(1) > 1 {
			onReused(w, r)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		io.WriteString(w, toolCallsReply)
	}))
	srv.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		return context.WithValue(ctx, connCountKey{}, new(connCount))
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, total
}

// hangUp closes the connection without writing a byte of reply.
func hangUp(w http.ResponseWriter, r *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

func TestForwardDoesNotRetryWhenItMustNot(t *testing.T) {
	t.Parallel()
	t.Run("fresh connection", func(t *testing.T) {
		t.Parallel()
		var total atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			total.Add(1)
			hangUp(w, r)
		}))
		t.Cleanup(srv.Close)
		_, err := NewForwarder([]Route{{"*", srv.URL}}, ForwardOptions{}).Respond(context.Background(), newEvent(t, toolCallsBody))
		if err == nil || total.Load() != 1 {
			t.Errorf("err %v, the server saw %d requests: a failure on a new connection is the server's answer, not a stale connection (want 1)", err, total.Load())
		}
	})
	t.Run("after a byte of reply", func(t *testing.T) {
		t.Parallel()
		srv, total := staleConnServer(t, func(w http.ResponseWriter, r *http.Request) {
			conn, buf, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			buf.WriteString("HTTP/1.1 2")
			buf.Flush()
			conn.Close()
		})
		f := NewForwarder([]Route{{"*", srv.URL}}, ForwardOptions{})
		if _, err := f.Respond(context.Background(), newEvent(t, toolCallsBody)); err != nil {
			t.Fatal(err)
		}
		_, err := f.Respond(context.Background(), newEvent(t, toolCallsBody))
		if err == nil || total.Load() != 2 {
			t.Errorf("err %v, the server saw %d requests: once a byte of reply came, the server had the request (want 2)", err, total.Load())
		}
	})
	t.Run("past the deadline", func(t *testing.T) {
		t.Parallel()
		srv, total := staleConnServer(t, func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body) // so that the server sees the client leave
			<-r.Context().Done()
			hangUp(w, r)
		})
		f := NewForwarder([]Route{{"*", srv.URL}}, ForwardOptions{})
		if _, err := f.Respond(context.Background(), newEvent(t, toolCallsBody)); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err := f.Respond(ctx, newEvent(t, toolCallsBody))
		if err == nil || !strings.HasPrefix(err.Error(), "no reply from") || total.Load() != 2 {
			t.Errorf("err %v, the server saw %d requests (want no reply within the deadline, 2 requests)", err, total.Load())
		}
	})
}

// TestForwardIdleCloseFallbackRate reproduces issue 9's 11–13% of tool calls answered by
// the fallback when the server closes idle connections (Node's keep-alive timeout): a Go
// server with a short idle timeout, and requests spaced about that long apart, so that
// the client keeps reusing connections the server is closing. The rate is measured
// without the retry (logged: it is a race, its figure varies) and with it (must be 0).
// The pause between requests shapes the load; nothing waits on it for synchronisation.
func TestForwardIdleCloseFallbackRate(t *testing.T) {
	if testing.Short() {
		t.Skip("paced requests: a few seconds")
	}
	const idle = 5 * time.Millisecond
	const n = 400
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		io.WriteString(w, toolCallsReply)
	}))
	srv.Config.IdleTimeout = idle
	srv.Start()
	t.Cleanup(srv.Close)

	rate := func(noRetry bool) float64 {
		f := NewForwarder([]Route{{"*", srv.URL}}, ForwardOptions{noRetry: noRetry})
		h := webhook.NewHandler(webhook.Config{Responders: []webhook.Responder{f}, Bus: webhook.NewBus()})
		fallbacks := 0
		for i := range n {
			// Spaced from 0.9 to 1.1 times the idle timeout, evenly.
			time.Sleep(idle*9/10 + time.Duration(i%21)*idle/100)
			req := httptest.NewRequest(http.MethodPost, "/vapi", strings.NewReader(toolCallsBody))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Body.String() != toolCallsReply {
				fallbacks++
			}
		}
		return 100 * float64(fallbacks) / n
	}
	before, after := rate(true), rate(false)
	t.Logf("idle-close race, %d tool calls: %.1f%% answered by the fallback without the retry, %.1f%% with it", n, before, after)
	if after != 0 {
		t.Errorf("%.1f%% of tool calls fell back with the retry on: want 0", after)
	}
}

func TestForwardToolCallsHaveTheirOwnCapacity(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 2*DefaultMaxInFlight)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if strings.Contains(string(b), `"tool-calls"`) {
			io.WriteString(w, toolCallsReply)
			return
		}
		arrived <- struct{}{}
		<-release
	}))
	t.Cleanup(srv.Close)
	f := NewForwarder([]Route{{"*", srv.URL}}, ForwardOptions{})
	done := make(chan error, DefaultMaxInFlight)
	for range DefaultMaxInFlight {
		go func() {
			_, err := f.Respond(context.Background(), newEvent(t, transcriptFinalBod))
			done <- err
		}()
	}
	for range DefaultMaxInFlight {
		<-arrived
	}
	if _, err := f.Respond(context.Background(), newEvent(t, transcriptFinalBod)); err == nil || !strings.Contains(err.Error(), "informational forwards already in flight") {
		t.Errorf("65th transcript: err = %v, want the informational cap", err)
	}
	reply, err := f.Respond(context.Background(), newEvent(t, toolCallsBody))
	if err != nil || string(reply.Body) != toolCallsReply {
		t.Errorf("tool call behind %d transcripts: %q, %v; want your server's answer", DefaultMaxInFlight, reply.Body, err)
	}
	close(release)
	for range DefaultMaxInFlight {
		if err := <-done; err != nil {
			t.Errorf("transcript: %v", err)
		}
	}
}

// relayed is what Vapi got from a webhook.Handler whose only responder is f.
func relayed(t *testing.T, f *Forwarder, body string) *httptest.ResponseRecorder {
	t.Helper()
	h := webhook.NewHandler(webhook.Config{Responders: []webhook.Responder{f}, Bus: webhook.NewBus()})
	req := httptest.NewRequest(http.MethodPost, "/vapi", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestForwardPassesA2xxWithAUsableBodyUnchanged(t *testing.T) {
	t.Parallel()
	// Vapi's Go example (VapiAI/server-side-example-go-gin) answers assistant-request
	// with 201; odd spacing and a header of the server's own must arrive as they left.
	assistant := "{\"assistant\":{\"name\":\"Paula\",  \"firstMessage\":\"Hi, I'm Paula\"}}\n"
	tests := []struct {
		name, body, reply string
		status            int
		wantNote          string
	}{
		{"201 assistant", assistantReqBody, assistant, 201, "warning: HTTP 201: Vapi's docs ask for 200"},
		{"201 tool result", toolCallsBody, toolCallsReply, 201, "warning: HTTP 201: Vapi's docs ask for 200"},
		{"202 tool result", toolCallsBody, toolCallsReply, 202, "warning: HTTP 202: Vapi's docs ask for 200"},
		{"200 tool result", toolCallsBody, toolCallsReply, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hdr := http.Header{"Content-Type": {"application/json; charset=utf-8"}, "X-Request-Id": {"r-42"}}
			srv, _ := webhooktest.Server(t, tt.status, hdr, tt.reply)
			f := NewForwarder([]Route{{"*", srv.URL}}, ForwardOptions{})
			reply, err := f.Respond(context.Background(), newEvent(t, tt.body))
			if err != nil {
				t.Fatalf("HTTP %d with a usable body: %v", tt.status, err)
			}
			if reply.Note != tt.wantNote {
				t.Errorf("note = %q, want %q", reply.Note, tt.wantNote)
			}
			w := relayed(t, f, tt.body)
			if w.Code != tt.status || w.Body.String() != tt.reply {
				t.Errorf("Vapi got HTTP %d %q, want the server's HTTP %d %q byte for byte", w.Code, w.Body, tt.status, tt.reply)
			}
			for k, v := range hdr {
				if got := w.Header().Values(k); fmt.Sprint(got) != fmt.Sprint(v) {
					t.Errorf("header %s = %q, want the server's %q", k, got, v)
				}
			}
		})
	}
}

func TestForwardRaw(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		status     int
		reply      string
		header     http.Header
		wantErr    string // in the forward health
		wantKind   webhook.ForwardFailure
	}{
		{"500 to a tool call", toolCallsBody, 500, "boom", nil, "HTTP 500 from ", webhook.ForwardStatus},
		{"garbage to a tool call", toolCallsBody, 200, "<html>oops</html>", nil, "unusable reply from ", webhook.ForwardUnusable},
		{"201 with a broken body", toolCallsBody, 201, `{"results":[{"toolCallId":"call_9","result":"x"}]}`, nil, "does not match any tool call", webhook.ForwardUnusable},
		{"204 to a tool call", toolCallsBody, 204, "", nil, "no result returned", webhook.ForwardUnusable},
		{"redirect", assistantReqBody, 302, "", http.Header{"Location": {"/elsewhere"}}, "vapimon does not follow redirects", webhook.ForwardRedirect},
		{"500 to a status update", statusUpdateBody, 500, "down", nil, "", webhook.ForwardOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := webhooktest.Server(t, tt.status, tt.header, tt.reply)
			bus := webhook.NewBus()
			sub := bus.Subscribe(4)
			f := NewForwarder([]Route{{"*", srv.URL}}, ForwardOptions{Raw: true, Bus: bus})
			w := relayed(t, f, tt.body)
			if w.Code != tt.status || w.Body.String() != tt.reply {
				t.Errorf("Vapi got HTTP %d %q, want the server's HTTP %d %q unchanged", w.Code, w.Body, tt.status, tt.reply)
			}
			if loc := tt.header.Get("Location"); loc != "" && w.Header().Get("Location") != loc {
				t.Errorf("Location = %q, want %q", w.Header().Get("Location"), loc)
			}
			h := healthOf(t, sub)
			if tt.wantErr == "" && h.Err != "" || !strings.Contains(h.Err, tt.wantErr) {
				t.Errorf("health error = %q, want it to say %q", h.Err, tt.wantErr)
			}
			if h.Failure != tt.wantKind {
				t.Errorf("health failure = %q, want %q (the reply went out, but it is still what is wrong)", h.Failure, tt.wantKind)
			}
		})
	}
	t.Run("no reply at all still falls back", func(t *testing.T) {
		t.Parallel()
		f := NewForwarder([]Route{{"*", "http://" + webhooktest.FreeAddr(t)}}, ForwardOptions{Raw: true})
		if _, err := f.Respond(context.Background(), newEvent(t, toolCallsBody)); err == nil || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("err = %v: with nothing to pass on, the chain must move on", err)
		}
	})
}

// dnsFailure is a transport whose every dial fails as an unknown host does, so that the
// DNS case needs no network.
type dnsFailure struct{}

func (dnsFailure) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, &url.Error{Op: "Post", URL: r.URL.String(), Err: &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: r.URL.Hostname(), IsNotFound: true}}}
}

// TestForwardFailureKinds covers the failure kinds TestForwardFailuresMoveTheChainOn does
// not: a timeout before the headers and in the body, a reply over the cap, the
// concurrency cap, a host that does not resolve, a failed review (--intercept), and a
// good exchange (no kind).
func TestForwardFailureKinds(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) { webhooktest.Hang(t, r) })
	mux.HandleFunc("/slow-body", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"results":[`)
		w.(http.Flusher).Flush()
		webhooktest.Hang(t, r)
	})
	arrived := make(chan struct{}, 1)
	mux.HandleFunc("/hold", func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		webhooktest.Hang(t, r)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, strings.Repeat("x", 2048)) })
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, toolCallsReply) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	tests := []struct {
		name     string
		url      string
		opts     ForwardOptions
		deadline time.Duration
		want     webhook.ForwardFailure
		status   int
	}{
		{"timeout before the headers", srv.URL + "/hang", ForwardOptions{}, 200 * time.Millisecond, webhook.ForwardTimeout, 0},
		{"timeout in the body", srv.URL + "/slow-body", ForwardOptions{}, 200 * time.Millisecond, webhook.ForwardTimeout, 200},
		{"over the cap", srv.URL + "/big", ForwardOptions{MaxResponse: 1024}, 0, webhook.ForwardTooLarge, 200},
		{"host does not resolve", "http://nowhere.invalid/hook", ForwardOptions{Client: &http.Client{Transport: dnsFailure{}}}, 0, webhook.ForwardDNS, 0},
		{"review failed", srv.URL + "/ok", ForwardOptions{Intercept: func(context.Context, *webhook.Event, webhook.Reply) (webhook.Reply, error) {
			return webhook.Reply{}, errors.New("the reviewer went away")
		}}, 0, webhook.ForwardOther, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bus := webhook.NewBus()
			sub := bus.Subscribe(4)
			tt.opts.Bus = bus
			f := NewForwarder([]Route{{"*", tt.url}}, tt.opts)
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			_, err := f.Respond(ctx, newEvent(t, toolCallsBody))
			if err == nil {
				t.Fatal("no error")
			}
			h := healthOf(t, sub)
			if tt.want == webhook.ForwardOther { // the exchange itself worked: its health says so
				if h.Failure != webhook.ForwardOK {
					t.Errorf("health failure = %q, want none", h.Failure)
				}
				h.Failure = tt.want
			}
			checkKind(t, err, h, tt.want, tt.status)
		})
	}

	t.Run("busy", func(t *testing.T) {
		t.Parallel()
		bus := webhook.NewBus()
		sub := bus.Subscribe(4)
		f := NewForwarder([]Route{{"*", srv.URL + "/hold"}}, ForwardOptions{MaxInFlight: 1, Bus: bus})
		ctx, cancel := context.WithCancel(context.Background())
		held := make(chan error, 1)
		go func() {
			_, err := f.Respond(ctx, newEvent(t, toolCallsBody))
			held <- err
		}()
		<-arrived // the first forward holds the only slot
		_, err := f.Respond(context.Background(), newEvent(t, toolCallsBody))
		checkKind(t, err, healthOf(t, sub), webhook.ForwardBusy, 0)
		cancel()
		<-held
		healthOf(t, sub) // the first one's, cancelled
	})

	t.Run("ok", func(t *testing.T) {
		t.Parallel()
		bus := webhook.NewBus()
		sub := bus.Subscribe(4)
		if _, err := NewForwarder([]Route{{"*", srv.URL + "/ok"}}, ForwardOptions{Bus: bus}).Respond(context.Background(), newEvent(t, toolCallsBody)); err != nil {
			t.Fatal(err)
		}
		if h := healthOf(t, sub); h.Failure != webhook.ForwardOK || h.Err != "" {
			t.Errorf("health = %q %q, want no failure", h.Failure, h.Err)
		}
	})
}
