package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vapimon/vapimon/webhook"
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

// captured is what a test server saw.
type captured struct {
	method, path string
	header       http.Header
	body         []byte
}

// recordingServer answers with status, header and body, and sends each request it sees.
func recordingServer(t *testing.T, status int, header http.Header, body string) (*httptest.Server, <-chan captured) {
	t.Helper()
	ch := make(chan captured, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ch <- captured{r.Method, r.URL.RequestURI(), r.Header.Clone(), b}
		for k, vs := range header {
			w.Header()[k] = vs
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, ch
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

func TestParseRoutes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		specs   []string
		want    []Route
		wantErr string
	}{
		{"bare host gets http", []string{"localhost:3000"}, []Route{{"*", "http://localhost:3000"}}, ""},
		{"typed routes", []string{"tool-calls=http://localhost:3000/tools", "*=https://dev.example.com/webhook"},
			[]Route{{"tool-calls", "http://localhost:3000/tools"}, {"*", "https://dev.example.com/webhook"}}, ""},
		{"query with =", []string{"http://localhost:3000/hook?token=a=b"}, []Route{{"*", "http://localhost:3000/hook?token=a=b"}}, ""},
		{"typed, no scheme", []string{"status-update=127.0.0.1:8080/s"}, []Route{{"status-update", "http://127.0.0.1:8080/s"}}, ""},
		{"literal final transcript", []string{`transcript[transcriptType="final"]=localhost:9/t`}, []Route{{`transcript[transcriptType="final"]`, "http://localhost:9/t"}}, ""},
		{"fragment dropped", []string{"HTTP://localhost:3000/x#frag"}, []Route{{"*", "http://localhost:3000/x"}}, ""},
		{"typo in type", []string{"tool-call=http://localhost:3000"}, nil, `--forward-to "tool-call=http://localhost:3000": unknown message type "tool-call" (did you mean tool-calls?)`},
		{"unknown type", []string{"banana=http://localhost:3000"}, nil, `--forward-to "banana=http://localhost:3000": unknown message type "banana"`},
		{"scheme", []string{"ftp://localhost/x"}, nil, `--forward-to "ftp://localhost/x": scheme "ftp" is not supported: use http:// or https://`},
		{"empty", []string{"tool-calls="}, nil, `--forward-to "tool-calls=": the URL is empty`},
		{"no host", []string{"http://:3000/x"}, nil, `--forward-to "http://:3000/x": the URL has no host`},
		{"bad port", []string{"localhost:99999"}, nil, `--forward-to "localhost:99999": port "99999" is not a port number`},
		{"not a URL", []string{"http://local host/"}, nil, `--forward-to "http://local host/": not a URL: invalid character " " in host name`},
		{"two catch-alls", []string{"localhost:1", "localhost:2"}, nil, `--forward-to "localhost:2": every other message type (*) already goes to http://localhost:1`},
		{"same type twice", []string{"tool-calls=localhost:1", "tool-calls=localhost:2"}, nil, `--forward-to "tool-calls=localhost:2": message type tool-calls already goes to http://localhost:1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseRoutes(tt.specs)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v\nwant    %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("routes = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestForwardCarriesRequestExactly(t *testing.T) {
	t.Parallel()
	srv, seen := recordingServer(t, http.StatusOK, http.Header{
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
	if got.method != http.MethodPost || got.path != "/vapi" {
		t.Errorf("request line = %s %s, want POST /vapi (the route has no path, so Vapi's is kept)", got.method, got.path)
	}
	if string(got.body) != toolCallsBody {
		t.Errorf("body changed:\n got %q\nwant %q", got.body, toolCallsBody)
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
		if g := got.header.Get(k); g != v {
			t.Errorf("header %s = %q, want %q", k, g, v)
		}
	}
	for _, k := range []string{"X-Hop", "Keep-Alive", "Accept-Encoding"} {
		if g := got.header.Get(k); g != "" {
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
			srv, seen := recordingServer(t, 200, nil, "{}")
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
			if got.path != "/hook" {
				t.Errorf("path = %q, want the route's /hook", got.path)
			}
			if g := got.header.Get("X-Forwarded-For"); g != tt.wantXFF {
				t.Errorf("X-Forwarded-For = %q, want %q", g, tt.wantXFF)
			}
			_, ok := got.header["User-Agent"]
			if g := got.header.Get("User-Agent"); g != tt.wantUA || ok != tt.wantUAOK {
				t.Errorf("User-Agent = %q (present %v), want %q (present %v)", g, ok, tt.wantUA, tt.wantUAOK)
			}
		})
	}
}

func TestForwardRoutesByType(t *testing.T) {
	t.Parallel()
	tools, toolsSeen := recordingServer(t, 200, nil, toolCallsReply)
	rest, restSeen := recordingServer(t, 200, nil, "{}")
	transcripts, trSeen := recordingServer(t, 200, nil, "{}")
	f := NewForwarder([]Route{{"tool-calls", tools.URL + "/tools"}, {"transcript", transcripts.URL}, {"*", rest.URL + "/webhook"}}, ForwardOptions{})

	tests := []struct {
		body     string
		seen     <-chan captured
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
			if got.path != tt.wantPath {
				t.Errorf("%s went to %s, want %s", ev.Type(), got.path, tt.wantPath)
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

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
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
	mux.HandleFunc("/201", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(201); io.WriteString(w, toolCallsReply) })
	mux.HandleFunc("/hangup", func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	down := "http://" + closedPort(t) + "/tools"

	tests := []struct {
		name, url  string
		wantErr    string
		wantStatus int // of the reply returned for display; 0 when none came
	}{
		{"server down", down, "connection refused by " + down + " (is your server running?)", 0},
		{"500", srv.URL + "/500", "HTTP 500 from " + srv.URL + `/500: {"error":"boom"}`, 500},
		{"redirect", srv.URL + "/redirect", "HTTP 302 from " + srv.URL + "/redirect: redirected to /elsewhere: vapimon does not follow redirects", 302},
		{"garbage", srv.URL + "/garbage", "unusable reply from " + srv.URL + "/garbage: body is not JSON: <html>oops</html>", 200},
		{"wrong id", srv.URL + "/wrong-id", "unusable reply from " + srv.URL + `/wrong-id: results[0].toolCallId "call_9" does not match any tool call (expected call_1)`, 200},
		{"empty body", srv.URL + "/empty", "unusable reply from " + srv.URL + "/empty: body is empty: Vapi needs a JSON object", 200},
		{"hang up", srv.URL + "/hangup", srv.URL + "/hangup closed the connection without a complete reply", 0},
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
			if h := healthOf(t, sub); h.Err != err.Error() || h.Status != tt.wantStatus {
				t.Errorf("health = %+v, want Err %q", h, err)
			}
		})
	}
	if redirectFollowed.Load() {
		t.Error("the redirect was followed")
	}
}

func TestForwardSlowServerReturnsByDeadline(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
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
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"results":[`)
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
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
		srv, seen := recordingServer(t, status, nil, "not json, and that is fine")
		reply, err := NewForwarder([]Route{{"*", srv.URL}}, ForwardOptions{}).Respond(context.Background(), newEvent(t, statusUpdateBody))
		if err != nil {
			t.Errorf("HTTP %d to status-update: %v (the handler acknowledges informational messages itself)", status, err)
		}
		if reply.Status != status || string(reply.Body) != "not json, and that is fine" {
			t.Errorf("reply = %d %q", reply.Status, reply.Body)
		}
		if got := <-seen; string(got.body) != statusUpdateBody {
			t.Errorf("body = %q", got.body)
		}
	}
}

func TestForwardReplyChecksByType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, reply string
		wantErr, wantNote string
	}{
		{"assistant-request ok", assistantReqBody, `{"assistantId":"5a6b"}`, "", ""},
		{"assistant-request odd shape fails", assistantReqBody, `{"assistantIdd":"5a6b"}`, "unusable reply from", ""},
		{"assistant-request array fails", assistantReqBody, `[]`, "unusable reply from", ""},
		{"tool-calls line breaks are a warning", toolCallsBody, `{"results":[{"toolCallId":"call_1","name":"get_weather","result":"a\nb"}]}`, "", "warning: results[0].result has line breaks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := recordingServer(t, 200, nil, tt.reply)
			reply, err := NewForwarder([]Route{{"*", srv.URL}}, ForwardOptions{}).Respond(context.Background(), newEvent(t, tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want prefix %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
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
	srv, _ := recordingServer(t, 200, http.Header{"Content-Type": {"application/json"}}, toolCallsReply)
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
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // hang until the forwarder gives up (or the test is over)
		case <-r.Context().Done():
		case <-time.After(3 * time.Second):
		}
	}))
	defer hung.Close()
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
	srv, _ := recordingServer(t, 200, http.Header{"Content-Type": {"application/json"}}, toolCallsReply)
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
