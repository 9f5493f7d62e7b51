package main

// End-to-end tests of `vapimon send` and `vapimon fixtures`, run against in-process
// servers with the real binary built by TestMain.

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/webhook"
	"github.com/vapimon/vapimon/webhook/webhooktest"
)

// target is a server that records what it receives and answers with a function of it.
type target struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	errs   []string // verification failures
}

// newTarget starts a server verifying auth (zero: none) and answering with answer.
func newTarget(t *testing.T, auth webhook.AuthConfig, answer func(msg *webhook.Message) (int, string)) *target {
	t.Helper()
	v, err := webhook.NewVerifier(auth)
	if err != nil {
		t.Fatal(err)
	}
	tg := &target{}
	tg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		tg.mu.Lock()
		tg.bodies = append(tg.bodies, body)
		if err := v.Verify(r.Method, "http://"+r.Host+r.URL.RequestURI(), r.Header, body, time.Now()); err != nil {
			tg.errs = append(tg.errs, err.Error())
		}
		tg.mu.Unlock()
		msg, _ := webhook.Parse(body)
		status, reply := answer(msg)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, reply)
	}))
	t.Cleanup(tg.Close)
	return tg
}

func (tg *target) received() ([][]byte, []string) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return append([][]byte(nil), tg.bodies...), append([]string(nil), tg.errs...)
}

// goodAnswer answers tool calls correctly and acknowledges everything else.
func goodAnswer(msg *webhook.Message) (int, string) {
	if msg == nil || msg.Kind != webhook.TypeToolCalls {
		return 200, `{}`
	}
	var res []webhook.ToolResult
	for _, tc := range msg.ToolCalls {
		res = append(res, webhook.ToolResult{ToolCallID: tc.ID, Name: tc.Name, Result: "done"})
	}
	return 200, string(webhook.ToolCallsReply(res))
}

// closedURL returns a loopback URL nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	return "http://" + webhooktest.FreeAddr(t) + "/"
}

func loadFixture(t *testing.T, name string) []fixtures.Record {
	t.Helper()
	recs, err := fixtures.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestSend(t *testing.T) {
	t.Parallel()
	secret := webhook.AuthConfig{Mode: webhook.AuthSecret, Secrets: []string{"s3cret"}}
	hmac := webhook.AuthConfig{Mode: webhook.AuthHMAC, Secrets: []string{"hmac-key"}}
	bad := func(*webhook.Message) (int, string) { return 200, `{"results":[{"result":"x"}]}` }
	allErrors := func(msg *webhook.Message) (int, string) {
		if msg == nil || msg.Kind != webhook.TypeToolCalls {
			return 200, `{"error":"vapimon: nobody answered within 6.8s"}`
		}
		var res []webhook.ToolResult
		for _, tc := range msg.ToolCalls {
			res = append(res, webhook.ToolResult{ToolCallID: tc.ID, Error: "vapimon: nobody answered"})
		}
		return 200, string(webhook.ToolCallsReply(res))
	}
	original := loadFixture(t, "tool-calls")[0].Body

	tests := []struct {
		name     string
		auth     webhook.AuthConfig
		answer   func(*webhook.Message) (int, string)
		args     []string // after "send", before --to
		code     int
		stdout   []string
		stderr   []string
		absent   []string // in neither stdout nor stderr
		checkReq func(t *testing.T, body []byte)
	}{
		{name: "good reply, secret", auth: secret, answer: goodAnswer,
			args: []string{"tool-calls", "--secret", "s3cret"}, code: 0,
			stdout: []string{"→ POST ", "  tool-calls  call ", "← 200 OK in ", `"result": "done"`, "✓ the reply has the shape Vapi expects for tool-calls"},
			checkReq: func(t *testing.T, body []byte) {
				m, err := webhook.Parse(body)
				if err != nil {
					t.Fatal(err)
				}
				if !uuidPattern.MatchString(m.Call.ID) || bytes.Contains(body, []byte("7420f27a")) || bytes.Equal(body, original) {
					t.Errorf("the body was not freshened: call %q", m.Call.ID)
				}
			}},
		{name: "hmac", auth: hmac, answer: goodAnswer,
			args: []string{"tool-calls", "--auth", "hmac", "--secret", "hmac-key"}, code: 0,
			stdout: []string{"✓ the reply has the shape"}},
		{name: "wrong shape", answer: bad, args: []string{"tool-calls"}, code: 1,
			stdout: []string{"← 200 OK", "✗ results[0].toolCallId is missing"}},
		{name: "every tool result an error: warning", answer: allErrors, args: []string{"tool-calls"}, code: 0,
			stdout: []string{`⚠ every tool result is an error ("vapimon: nobody answered"): the model reads out an error`, "--strict makes this exit 1"},
			absent: []string{"✓"}},
		{name: "warning with --strict exits 1", answer: allErrors, args: []string{"tool-calls", "--strict"}, code: 1,
			stdout: []string{"⚠ every tool result is an error", "--strict fails on the warning"}},
		{name: "assistant-request error: warning", answer: allErrors, args: []string{"assistant-request"}, code: 0,
			stdout: []string{`⚠ assistant-request answered with error ("vapimon: nobody answered within 6.8s"): Vapi ends the call`},
			absent: []string{"✓"}},
		{name: "transfer error, json, strict", answer: allErrors, args: []string{"transfer-destination-request", "--json", "--strict"}, code: 1,
			stdout: []string{`"warnings":["transfer answered with error`, `"problems":[]`, `"ok":false`}},
		{name: "good reply: no warning with --strict", answer: goodAnswer, args: []string{"tool-calls", "--strict", "--json"}, code: 0,
			stdout: []string{`"warnings":[]`, `"ok":true`}},
		{name: "http 500", answer: func(*webhook.Message) (int, string) { return 500, "boom" }, args: []string{"assistant-request"}, code: 1,
			stdout: []string{"← 500 Internal Server Error", "boom", "✗ HTTP 500: Vapi ignores non-2xx replies to assistant-request"}},
		{name: "informational", answer: goodAnswer, args: []string{"status-update"}, code: 0,
			stdout: []string{"✓ acknowledged (Vapi needs no reply body for status-update)"}},
		{name: "keep", answer: goodAnswer, args: []string{"tool-calls", "--keep"}, code: 0,
			checkReq: func(t *testing.T, body []byte) {
				if sha256.Sum256(body) != sha256.Sum256(original) {
					t.Errorf("--keep changed the body:\n%s\nwant\n%s", body, original)
				}
			}},
		{name: "set", answer: goodAnswer, args: []string{"tool-calls", "--keep", "--set", "toolCallList[0].function.arguments.location=Berlin", "--set", "message.call.customer.number=+15550001"}, code: 0,
			checkReq: func(t *testing.T, body []byte) {
				m, _ := webhook.Parse(body)
				if m == nil || string(m.ToolCalls[0].Arguments) != `{"location":"Berlin"}` || m.Call.Customer.Number != "+15550001" {
					t.Errorf("--set not applied: %s", body)
				}
			}},
		{name: "call id", answer: goodAnswer, args: []string{"tool-calls", "--call-id", "12345"}, code: 0,
			checkReq: func(t *testing.T, body []byte) {
				if m, _ := webhook.Parse(body); m == nil || m.Call.ID != "12345" || !strings.Contains(string(body), `"id":"12345"`) {
					t.Errorf("--call-id not applied as a string: %s", body)
				}
			}},
		{name: "json", answer: goodAnswer, args: []string{"tool-calls", "--json"}, code: 0,
			stdout: []string{`"ok":true`, `"status":200`, `"type":"tool-calls"`, `"problems":[]`}},
		{name: "bad set", answer: goodAnswer, args: []string{"tool-calls", "--set", "toolCallList[9].id=x"}, code: 1,
			stderr: []string{"--set toolCallList[9].id: message.toolCallList has 2 entries: no [9]"}},
		{name: "scenario", answer: goodAnswer, args: []string{"inbound-call"}, code: 1,
			stderr: []string{"inbound-call holds", "events", `vapimon replay inbound-call --to URL`}},
		{name: "unknown", answer: goodAnswer, args: []string{"tool-cals"}, code: 1,
			stderr: []string{`unknown fixture "tool-cals"`, "did you mean", "tool-calls"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t, tt.auth, tt.answer)
			args := append(append([]string{"send"}, tt.args...), "--to", tg.URL+"/vapi")
			r := runVapimon(t, args...)
			checkRun(t, args, r, tt.code, tt.stdout, tt.stderr)
			for _, s := range tt.absent {
				if strings.Contains(r.stdout+r.stderr, s) {
					t.Errorf("output has %q:\n%s%s", s, r.stdout, r.stderr)
				}
			}
			bodies, authErrs := tg.received()
			if len(authErrs) > 0 {
				t.Errorf("the target rejected what send signed: %q", authErrs)
			}
			if tt.checkReq != nil {
				if len(bodies) != 1 {
					t.Fatalf("target got %d requests, want 1", len(bodies))
				}
				tt.checkReq(t, bodies[0])
			}
		})
	}
}

// TestSendArgs: a missing argument and a URL without a scheme get plain answers.
func TestSendArgs(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, webhook.AuthConfig{}, goodAnswer)
	hostPort := strings.TrimPrefix(tg.URL, "http://")
	tests := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{args: []string{"send"}, code: 1,
			stderr: "vapimon: send needs a fixture name or file, e.g. vapimon send tool-calls (vapimon fixtures lists them)"},
		{args: []string{"send", "tool-calls", "hang"}, code: 1, stderr: "send takes one fixture name or file, got 2: tool-calls hang"},
		{args: []string{"replay"}, code: 1,
			stderr: "vapimon: replay needs a tape, scenario or fixture name, e.g. vapimon replay inbound-call --to URL (vapimon fixtures lists them)"},
		{args: []string{"fixtures", "show"}, code: 1, stderr: "show needs a fixture name or file, e.g. vapimon fixtures show tool-calls"},
		{args: []string{"send", "hang", "--to", hostPort}, code: 0, stdout: "→ POST http://" + hostPort + "  hang"},
		{args: []string{"send", "hang", "--to", hostPort + "/hook"}, code: 0, stdout: "→ POST http://" + hostPort + "/hook  hang"},
		{args: []string{"replay", "web-call", "--instant", "--to", hostPort + "/hook"}, code: 0, stdout: "to http://" + hostPort + "/hook in "},
		{args: []string{"send", "hang", "--to", "ftp://" + hostPort}, code: 1, stderr: `scheme "ftp" is not supported: use http:// or https://`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			r := runVapimon(t, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stdout, tt.stdout) || !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("exit %d, want %d\nstdout (want %q):\n%s\nstderr (want %q):\n%s", r.code, tt.code, tt.stdout, r.stdout, tt.stderr, r.stderr)
			}
			if strings.Contains(r.stderr, "arg(s)") || strings.Contains(r.stderr, "Usage:") {
				t.Errorf("cobra's generic message or usage leaked:\n%s", r.stderr)
			}
		})
	}
}

func TestSendDown(t *testing.T) {
	t.Parallel()
	to := closedURL(t)
	r := runVapimon(t, "send", "hang", "--to", to)
	if want := "✗ POST " + to + ": connection refused — is the server running?"; r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("exit %d, stderr %q: want 1 and %q", r.code, r.stderr, want)
	}
}

func TestFixturesCmd(t *testing.T) {
	t.Parallel()
	list := runVapimon(t, "fixtures")
	if list.code != 0 || !strings.Contains(list.stdout, "SCENARIOS") || !strings.Contains(list.stdout, "EVENTS") {
		t.Fatalf("vapimon fixtures: exit %d\n%s", list.code, list.stdout)
	}
	for _, fx := range fixtures.List() {
		if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(fx.Name) + ` `).MatchString(list.stdout) {
			t.Errorf("vapimon fixtures does not list %s", fx.Name)
		}
	}

	js := runVapimon(t, "fixtures", "--json")
	var got []fixtures.Fixture
	if err := json.Unmarshal([]byte(js.stdout), &got); err != nil || len(got) != len(fixtures.List()) {
		t.Errorf("vapimon fixtures --json: %v, %d entries, want %d", err, len(got), len(fixtures.List()))
	}

	show := runVapimon(t, "fixtures", "show", "tool-calls")
	var want bytes.Buffer
	_ = json.Indent(&want, loadFixture(t, "tool-calls")[0].Body, "", "  ")
	want.WriteByte('\n')
	if show.code != 0 || show.stdout != want.String() {
		t.Errorf("vapimon fixtures show tool-calls: exit %d\n%s", show.code, show.stdout)
	}

	scen := runVapimon(t, "fixtures", "show", "web-call")
	var bodies []json.RawMessage
	if err := json.Unmarshal([]byte(scen.stdout), &bodies); err != nil || len(bodies) != len(loadFixture(t, "web-call")) {
		t.Errorf("vapimon fixtures show web-call: %v, %d bodies", err, len(bodies))
	}

	tape := runVapimon(t, "fixtures", "show", "web-call", "--json")
	recs, warnings, err := fixtures.ReadTape(strings.NewReader(tape.stdout))
	orig := loadFixture(t, "web-call")
	if err != nil || len(warnings) > 0 || len(recs) != len(orig) {
		t.Fatalf("show --json is not a tape: %v %q (%d records)", err, warnings, len(recs))
	}
	for i := range recs {
		if !bytes.Equal(recs[i].Body, orig[i].Body) {
			t.Errorf("record %d body changed through show --json", i)
		}
	}

	unknown := runVapimon(t, "fixtures", "show", "inbound")
	if unknown.code == 0 || !strings.Contains(unknown.stderr, "inbound-call") {
		t.Errorf("show of an unknown name: exit %d, stderr %q: want a suggestion", unknown.code, unknown.stderr)
	}

	// A real tape keeps the requests it rejected byte for byte: shown as JSON strings.
	rejected := runVapimon(t, "fixtures", "show", rejectedTapeFile(t))
	var shown []any
	if err := json.Unmarshal([]byte(rejected.stdout), &shown); rejected.code != 0 || err != nil || len(shown) != len(loadFixture(t, "web-call"))+1 || shown[1] != "GET / HTTP/1.1 junk" {
		t.Errorf("fixtures show of a tape with a non-JSON body: exit %d, %v\n%s%s", rejected.code, err, rejected.stdout, rejected.stderr)
	}

	comp := runVapimon(t, "__complete", "send", "tool")
	if !strings.Contains(comp.stdout, "tool-calls\t") || !strings.Contains(comp.stdout, "tool-calls-flat\t") {
		t.Errorf("completion of send does not offer fixtures:\n%s", comp.stdout)
	}
}

// TestSendStatusAndFallback: a 2xx other than 200 is a warning, a 204 to tool-calls a
// failure, and a reply vapimon sent in place of your server is said loudly, before the
// body, and fails --strict.
func TestSendStatusAndFallback(t *testing.T) {
	t.Parallel()
	serve := func(t *testing.T, status int, fallback string, body func(*webhook.Message) string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			msg, _ := webhook.Parse(b)
			if fallback != "" {
				w.Header().Set(webhook.HeaderFallback, fallback)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			io.WriteString(w, body(msg))
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	good := func(msg *webhook.Message) string { _, b := goodAnswer(msg); return b }
	empty := func(*webhook.Message) string { return "" }
	tests := []struct {
		name     string
		status   int
		fallback string
		body     func(*webhook.Message) string
		args     []string
		code     int
		stdout   []string
		absent   []string
	}{
		{name: "201: a warning", status: 201, body: good, args: []string{"tool-calls"}, code: 0,
			stdout: []string{"← 201 Created", "⚠ HTTP 201: Vapi's docs ask for 200; Vapi's own examples answer 201", "--strict makes this exit 1"}, absent: []string{"✓", "✗"}},
		{name: "201, strict", status: 201, body: good, args: []string{"tool-calls", "--strict"}, code: 1,
			stdout: []string{"⚠ HTTP 201", "--strict fails on the warning"}},
		{name: "204 to tool-calls fails", status: 204, body: empty, args: []string{"tool-calls"}, code: 1,
			stdout: []string{"← 204 No Content", `✗ HTTP 204 with an empty body: Vapi gets no tool result ("no result returned")`}, absent: []string{"✓"}},
		{name: "204 to an informational message is fine", status: 204, body: empty, args: []string{"status-update"}, code: 0,
			stdout: []string{"✓ acknowledged"}, absent: []string{"⚠"}},
		{name: "fallback", status: 200, fallback: "forward failed: HTTP 500 from http://localhost:3000/vapi", body: good, args: []string{"tool-calls"}, code: 0,
			stdout: []string{"← 200 OK in ", "⚠ answered by vapimon, not your server: forward failed: HTTP 500 from http://localhost:3000/vapi\n{", "--strict makes this exit 1"}, absent: []string{"✓"}},
		{name: "fallback, strict", status: 200, fallback: "no answer from your server", body: good, args: []string{"tool-calls", "--strict"}, code: 1,
			stdout: []string{"⚠ answered by vapimon, not your server: no answer from your server"}},
		{name: "fallback, json", status: 200, fallback: "no answer from your server", body: good, args: []string{"tool-calls", "--json", "--strict"}, code: 1,
			stdout: []string{`"fallback":"no answer from your server"`, `"warnings":["answered by vapimon, not your server: no answer from your server"]`, `"ok":false`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append(append([]string{"send"}, tt.args...), "--to", serve(t, tt.status, tt.fallback, tt.body))
			r := runVapimon(t, args...)
			checkRun(t, args, r, tt.code, tt.stdout, nil)
			for _, s := range tt.absent {
				if strings.Contains(r.stdout, s) {
					t.Errorf("stdout has %q:\n%s", s, r.stdout)
				}
			}
			if n := strings.Count(r.stdout, "answered by vapimon"); tt.fallback != "" && !strings.Contains(strings.Join(args, " "), "--json") && n != 1 {
				t.Errorf("the fallback is said %d times:\n%s", n, r.stdout)
			}
		})
	}
}
