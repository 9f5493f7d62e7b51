package main

// End-to-end tests of `vapimon listen`: the real binary, real HTTP over loopback, real
// files. See testmain_test.go for the harness.

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/webhook/webhooktest"
)

// toolCallsBody is a tool-calls webhook as Vapi sends it, with one call per tool name
// (ids t1, t2, ...), each with arguments {}.
func toolCallsBody(callID string, tools ...string) []byte {
	var list []string
	for i, name := range tools {
		list = append(list, fmt.Sprintf(`{"id":"t%d","type":"function","function":{"name":%q,"arguments":{}}}`, i+1, name))
	}
	return fmt.Appendf(nil, `{"message":{"type":"tool-calls","timestamp":1764427000000,"call":{"id":%q},"toolCallList":[%s]}}`,
		callID, strings.Join(list, ","))
}

// toolResult is one entry of a tool-calls reply, as Vapi reads it.
type toolResult struct {
	ToolCallID string  `json:"toolCallId"`
	Name       string  `json:"name"`
	Result     *string `json:"result"`
	Error      *string `json:"error"`
}

func decodeResults(t *testing.T, body []byte) []toolResult {
	t.Helper()
	var r struct {
		Results []toolResult `json:"results"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("tool-calls reply is not JSON: %v\n%s", err, body)
	}
	return r.Results
}

func str(p *string) string {
	if p == nil {
		return "<absent>"
	}
	return *p
}

// checkHeadlessStreams checks the split between the streams once the process has exited:
// every stdout line is one JSON object with a known kind, and stderr is for people (a
// banner, no JSON).
func checkHeadlessStreams(t *testing.T, p *vapimonProc) {
	t.Helper()
	kinds := map[string]bool{"status": true, "event": true, "reply": true, "rejected": true, "notice": true, "forward": true}
	p.mu.Lock()
	raw := append([]string(nil), p.raw...)
	p.mu.Unlock()
	if len(raw) == 0 {
		t.Fatal("stdout is empty")
	}
	for i, s := range raw {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Errorf("stdout line %d is not a JSON object: %v: %q", i+1, err, s)
			continue
		}
		if k, _ := m["kind"].(string); !kinds[k] {
			t.Errorf("stdout line %d: kind %q is not one of the documented kinds: %s", i+1, m["kind"], s)
		}
	}
	stderr := p.stderrText()
	if !strings.Contains(stderr, "listening on "+p.status.Listen) {
		t.Errorf("stderr has no human banner naming %s:\n%s", p.status.Listen, stderr)
	}
	for _, l := range strings.Split(stderr, "\n") {
		if s := strings.TrimSpace(l); strings.HasPrefix(s, "{") || strings.Contains(s, `"kind"`) {
			t.Errorf("stderr has a JSON line (JSON belongs on stdout): %q", l)
		}
	}
}

func TestListenHeadlessLines(t *testing.T) {
	t.Parallel()
	p := startVapimon(t, procOpts{args: []string{"--headless", "--no-tunnel", "--max-body", "1024"}})

	t.Run("status", func(t *testing.T) {
		st := p.status
		if !strings.HasPrefix(st.Tape, filepath.Join(p.state, "vapimon", "tapes")+string(filepath.Separator)) {
			t.Errorf("status tape = %q, want a file under %s", st.Tape, filepath.Join(p.state, "vapimon", "tapes"))
		}
		if !strings.Contains(st.Auth, "NOT verified") {
			t.Errorf("status auth = %q: with no secret it must say plainly that requests are not verified", st.Auth)
		}
	})

	t.Run("tool-calls", func(t *testing.T) {
		from := p.nlines()
		body := toolCallsBody("call-headless-1", "get_weather")
		// Credentials sent anyway are never recorded, even with auth none.
		code, reply, _, _ := p.post("/vapi/webhook", body, "Authorization: Bearer "+strayToken, "X-Vapi-Secret: "+straySecret)
		if code != http.StatusOK {
			t.Fatalf("HTTP %d, want 200: %s", code, reply)
		}
		ev := p.mustLine(from, "event line", func(l line) bool { return l.Kind == "event" && l.CallID == "call-headless-1" })
		if ev.Seq == 0 || ev.Type != "tool-calls" || ev.Path != "/vapi/webhook" || ev.Verified == nil || *ev.Verified || ev.AuthMode != "none" {
			t.Errorf("event line = %+v, want seq>0, type tool-calls, path /vapi/webhook, verified false (auth none)", ev)
		}
		rep := p.mustLine(from, "reply line", func(l line) bool { return l.Kind == "reply" && l.Seq == ev.Seq })
		if rep.Status != http.StatusOK || rep.Source == "" || rep.LatencyMs == nil || *rep.LatencyMs < 0 {
			t.Errorf("reply line = %+v, want status 200, a source, latencyMs >= 0", rep)
		}
		if !webhooktest.JSONEqual(t, rep.Body, reply) {
			t.Errorf("reply line body = %s, but HTTP reply was %s", rep.Body, reply)
		}
		res := decodeResults(t, reply)
		if len(res) != 1 || res[0].ToolCallID != "t1" || res[0].Error == nil || res[0].Result != nil {
			t.Errorf("with no answers configured the reply must be one error entry for t1, got %s", reply)
		}
	})

	t.Run("informational", func(t *testing.T) {
		from := p.nlines()
		code, reply, _, _ := p.post("/", []byte(`{"message":{"type":"status-update","status":"in-progress","call":{"id":"call-headless-2"}}}`))
		if code != http.StatusOK || !webhooktest.JSONEqual(t, reply, []byte(`{}`)) {
			t.Errorf("status-update: HTTP %d %s, want 200 {}", code, reply)
		}
		ev := p.mustLine(from, "event line", func(l line) bool { return l.Kind == "event" && l.CallID == "call-headless-2" })
		if ev.Type != "status-update" || ev.Path != "/" {
			t.Errorf("event line = %+v", ev)
		}
		p.mustLine(from, "reply line", func(l line) bool { return l.Kind == "reply" && l.Seq == ev.Seq && l.Status == 200 })
	})

	rejections := []struct {
		name, method, path string
		body               []byte
		status             int
		reasonHas          []string
	}{
		{"GET", http.MethodGet, "/reject/get", nil, http.StatusMethodNotAllowed, []string{"GET"}},
		{"broken JSON", http.MethodPost, "/reject/json", []byte(`{"message":{"type":"tool-calls",`), http.StatusBadRequest, []string{"JSON"}},
		{"no type", http.MethodPost, "/reject/notype", []byte(`{"message":{"call":{}}}`), http.StatusBadRequest, []string{"type"}},
		{"too big", http.MethodPost, "/reject/big", append(toolCallsBody("big", "x"), bytes.Repeat([]byte(" "), 2048)...), http.StatusRequestEntityTooLarge, []string{"1 KiB", "--max-body"}},
	}
	for _, tc := range rejections {
		t.Run("rejected/"+tc.name, func(t *testing.T) {
			from := p.nlines()
			code, reply, hdr, _ := p.do(tc.method, tc.path, tc.body)
			if code != tc.status {
				t.Errorf("HTTP %d, want %d (%s)", code, tc.status, reply)
			}
			var e struct {
				Error string `json:"error"`
			}
			if err := json.Unmarshal(reply, &e); err != nil || e.Error == "" {
				t.Errorf("reply %q: want a short JSON error", reply)
			}
			if tc.status == http.StatusMethodNotAllowed && hdr.Get("Allow") != http.MethodPost {
				t.Errorf("405 without Allow: POST (Allow = %q)", hdr.Get("Allow"))
			}
			l := p.mustLine(from, "rejected line", func(l line) bool { return l.Kind == "rejected" && l.Path == tc.path })
			if l.Status != tc.status {
				t.Errorf("rejected line status = %d, want %d", l.Status, tc.status)
			}
			for _, s := range tc.reasonHas {
				if !strings.Contains(l.Reason, s) {
					t.Errorf("rejected line reason %q does not mention %q", l.Reason, s)
				}
			}
		})
	}

	t.Run("shutdown", func(t *testing.T) {
		p.stop()
		checkHeadlessStreams(t, p)
		checkNothingLeaks(t, p, strayToken, straySecret)
		p.mu.Lock()
		defer p.mu.Unlock()
		rejected := map[uint64]bool{}
		for _, l := range p.lines {
			if l.Kind == "rejected" {
				rejected[l.Seq] = true
			}
		}
		if len(rejected) != len(rejections) {
			t.Errorf("%d rejected lines, want %d", len(rejected), len(rejections))
		}
		for _, l := range p.lines {
			if l.Kind == "reply" && rejected[l.Seq] {
				t.Errorf("rejected request #%d also printed a reply line: %+v", l.Seq, l)
			}
		}
	})
}

// TestListenNotATerminal: with stdout a pipe, plain `vapimon` (no subcommand, no
// --headless) prints JSON lines rather than starting the TUI.
func TestListenNotATerminal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts procOpts
	}{
		{"listen", procOpts{args: []string{"--no-tunnel"}}},
		{"bare vapimon", procOpts{args: []string{"--no-tunnel"}, noListenArg: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := startVapimon(t, tc.opts)
			from := p.nlines()
			if code, reply, _, _ := p.post("/pipe", toolCallsBody("call-pipe", "get_weather")); code != 200 {
				t.Fatalf("HTTP %d %s", code, reply)
			}
			ev := p.mustLine(from, "event line", func(l line) bool { return l.Kind == "event" && l.CallID == "call-pipe" })
			p.mustLine(from, "reply line", func(l line) bool { return l.Kind == "reply" && l.Seq == ev.Seq })
			p.stop()
			checkHeadlessStreams(t, p)
		})
	}
}

// TestListenEveryInterface: with --addr 0.0.0.0 the warning says every interface and
// nothing says "127.0.0.1 only"; the warning is a warning (stderr, the status line's
// warnings), not part of the tunnel note; the listen URL is one this machine can use.
func TestListenEveryInterface(t *testing.T) {
	t.Parallel()
	p := startVapimon(t, procOpts{args: []string{"--headless", "--addr", "0.0.0.0:0"}})
	if code, reply, _, _ := p.post("/vapi", toolCallsBody("call-every", "get_weather")); code != 200 {
		t.Fatalf("HTTP %d %s through the listen URL %s", code, reply, p.status.Listen)
	}
	p.stop()
	p.mu.Lock()
	first := p.raw[0]
	p.mu.Unlock()
	var st struct {
		TunnelNote string   `json:"tunnelNote"`
		Warnings   []string `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(first), &st); err != nil {
		t.Fatalf("first line %q: %v", first, err)
	}
	if len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "every interface") {
		t.Errorf("status warnings = %q, want the --addr warning", st.Warnings)
	}
	if strings.Contains(st.TunnelNote, "warning") || strings.Contains(st.TunnelNote, " only") || !strings.Contains(st.TunnelNote, "every interface") {
		t.Errorf("tunnel note = %q: want every interface, and no warning in it", st.TunnelNote)
	}
	stderr := p.stderrText()
	if strings.Contains(stderr, " only") || !strings.Contains(stderr, "vapimon: warning: --addr 0.0.0.0:0 listens on every interface") {
		t.Errorf("stderr must warn about every interface and never say \"only\":\n%s", stderr)
	}
}

// TestListenStateDirRelativeXDG: a relative XDG_STATE_HOME is invalid under the XDG spec;
// the log and the tape both go under ~/.local/state/vapimon, together, never under the
// directory vapimon was started from.
func TestListenStateDirRelativeXDG(t *testing.T) {
	t.Parallel()
	p := startVapimon(t, procOpts{args: []string{"--headless", "--no-tunnel"}, env: []string{"XDG_STATE_HOME=relative-state"}})
	p.stop()
	dir := filepath.Join(p.home, ".local", "state", "vapimon")
	if !strings.HasPrefix(p.status.Tape, filepath.Join(dir, "tapes")+string(filepath.Separator)) {
		t.Errorf("tape %s is not under %s", p.status.Tape, dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "vapimon.log")); err != nil {
		t.Errorf("log not beside the tapes: %v", err)
	}
	if _, err := os.Stat(filepath.Join(p.home, "relative-state")); !os.IsNotExist(err) {
		t.Errorf("vapimon wrote under the relative XDG_STATE_HOME (in its working directory): %v", err)
	}
}

func TestListenAnswers(t *testing.T) {
	t.Parallel()

	t.Run("example file", func(t *testing.T) {
		t.Parallel()
		example, err := filepath.Abs(filepath.Join("..", "..", "fixtures", "answers.example.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		p := startVapimon(t, procOpts{args: []string{"--headless", "--no-tunnel", "--no-record", "--tool-timeout", "20s", "--answers", example}})

		from := p.nlines()
		code, reply, _, _ := p.post("/tools", toolCallsBody("call-answers", "get_weather", "book_table"))
		if code != http.StatusOK {
			t.Fatalf("HTTP %d, want 200 (tool errors are still 200): %s", code, reply)
		}
		res := decodeResults(t, reply)
		if len(res) != 2 {
			t.Fatalf("want 2 results, one per tool call, in order: %s", reply)
		}
		if res[0].ToolCallID != "t1" || res[0].Name != "get_weather" || str(res[0].Result) != "Paris: 18C, light rain" || res[0].Error != nil {
			t.Errorf("get_weather: %+v, want result %q", res[0], "Paris: 18C, light rain")
		}
		if res[1].ToolCallID != "t2" || res[1].Name != "book_table" || str(res[1].Error) != "fully booked" || res[1].Result != nil {
			t.Errorf("book_table: %+v, want error %q", res[1], "fully booked")
		}
		ev := p.mustLine(from, "event", func(l line) bool { return l.Kind == "event" && l.CallID == "call-answers" })
		if rep := p.mustLine(from, "reply", func(l line) bool { return l.Kind == "reply" && l.Seq == ev.Seq }); rep.Source != "answers" {
			t.Errorf("reply source = %q, want answers", rep.Source)
		}

		// A tool the file does not know: the fallback answers at once (not at the deadline,
		// which with --tool-timeout 20s would be ~18 s away).
		from = p.nlines()
		code, reply, _, took := p.post("/tools", toolCallsBody("call-unknown", "launch_rocket"))
		if code != http.StatusOK {
			t.Fatalf("unknown tool: HTTP %d: %s", code, reply)
		}
		res = decodeResults(t, reply)
		if len(res) != 1 || res[0].ToolCallID != "t1" || res[0].Name != "launch_rocket" || res[0].Result != nil || !strings.Contains(str(res[0].Error), "no answer configured") {
			t.Errorf("unknown tool: want one error entry for launch_rocket saying no answer is configured, got %s", reply)
		}
		if took > 5*time.Second {
			t.Errorf("unknown tool answered after %s: the fallback must answer at once when nobody else can", took)
		}
		ev = p.mustLine(from, "event", func(l line) bool { return l.Kind == "event" && l.CallID == "call-unknown" })
		if rep := p.mustLine(from, "reply", func(l line) bool { return l.Kind == "reply" && l.Seq == ev.Seq }); rep.Source != "fallback" {
			t.Errorf("reply source = %q, want fallback", rep.Source)
		}
		p.stop()
	})

	t.Run("reload", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "answers.yaml")
		webhooktest.WriteAtomic(t, path, "tools:\n  get_weather: \"sunny\"\n")
		p := startVapimon(t, procOpts{args: []string{"--headless", "--no-tunnel", "--no-record", "--answers", path}})

		weather := func() string {
			t.Helper()
			code, reply, _, _ := p.post("/", toolCallsBody("call-reload", "get_weather"))
			res := decodeResults(t, reply)
			if code != 200 || len(res) != 1 {
				t.Fatalf("HTTP %d %s", code, reply)
			}
			if res[0].Error != nil {
				return "error: " + *res[0].Error
			}
			return str(res[0].Result)
		}
		// waitWeather polls (the watcher checks the file periodically) until the answer is want.
		waitWeather := func(want string) {
			t.Helper()
			deadline := time.Now().Add(waitTimeout)
			for got := weather(); got != want; got = weather() {
				if time.Now().After(deadline) {
					t.Fatalf("answer is still %q %s after the edit, want %q", got, waitTimeout, want)
				}
				time.Sleep(50 * time.Millisecond) // polling interval
			}
		}
		if got := weather(); got != "sunny" {
			t.Fatalf("before the edit: %q, want sunny", got)
		}

		webhooktest.WriteAtomic(t, path, "tools:\n  get_weather: \"light rain, 12C\"\n")
		waitWeather("light rain, 12C")

		from := p.nlines()
		webhooktest.WriteAtomic(t, path, "tools:\n  get_weather: [unclosed\n")
		// The notice of the good edit's reload may come out after the reply that showed
		// it (headless output is written beside the replies): skip it.
		n := p.mustLine(from, "a notice about the broken answers file", func(l line) bool {
			return l.Kind == "notice" && !strings.HasPrefix(l.Text, "answers reloaded")
		})
		if !strings.Contains(n.Text, "answers.yaml") || n.Level != "error" {
			t.Errorf("notice = %+v: want level error and the file's name", n)
		}
		if got := weather(); got != "light rain, 12C" {
			t.Errorf("after a broken edit the answer is %q, want the last good one", got)
		}

		webhooktest.WriteAtomic(t, path, "tools:\n  get_weather: {error: \"weather service down\"}\n")
		waitWeather("error: weather service down")
		p.stop()
	})
}

// Distinctive secrets, so that finding one in an output cannot be a coincidence.
const (
	secretOld = "vm-e2e-secret-OLD-7f3a9c"
	secretNew = "vm-e2e-secret-NEW-51d2be"
	secretEnv = "vm-e2e-secret-ENV-c09e44"
	hmacKey   = "vm-e2e-hmac-key-8b17aa"
	// Credentials a sender includes although vapimon is not configured to check them.
	strayToken  = "vm-e2e-stray-bearer-2c4d"
	straySecret = "vm-e2e-stray-secret-9e0f"
)

// checkNothingLeaks reads stdout, stderr, the tape and the log file of a stopped process
// and fails if any of them contains one of secrets.
func checkNothingLeaks(t *testing.T, p *vapimonProc, secrets ...string) {
	t.Helper()
	outputs := map[string]string{"stdout": p.stdoutText(), "stderr": p.stderrText()}
	files := 0
	err := filepath.WalkDir(p.home, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		outputs[path] = string(b)
		files++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.status.Tape != "" {
		if _, ok := outputs[p.status.Tape]; !ok {
			t.Errorf("tape %s was not found under %s", p.status.Tape, p.home)
		}
	}
	if _, ok := outputs[filepath.Join(p.state, "vapimon", "vapimon.log")]; !ok {
		t.Errorf("no log file at %s", filepath.Join(p.state, "vapimon", "vapimon.log"))
	}
	for name, content := range outputs {
		for _, s := range secrets {
			if strings.Contains(content, s) {
				t.Errorf("%s contains the secret %q", name, s)
			}
		}
	}
}

func TestListenAuth(t *testing.T) {
	t.Parallel()

	t.Run("secret rotation", func(t *testing.T) {
		t.Parallel()
		p := startVapimon(t, procOpts{args: []string{"--headless", "--no-tunnel", "--secret", secretOld, "--secret", secretNew}})
		if !strings.Contains(strings.ToLower(p.status.Auth), "x-vapi-secret") {
			t.Errorf("status auth = %q, want it to name x-vapi-secret", p.status.Auth)
		}
		body := toolCallsBody("call-auth", "get_weather")
		for _, s := range []string{secretNew, secretOld} {
			if code, reply, _, _ := p.post("/ok", body, "X-Vapi-Secret: "+s); code != 200 {
				t.Errorf("a configured secret was refused: HTTP %d %s", code, reply)
			}
		}
		for _, tc := range []struct {
			name, path string
			headers    []string
			reasonHas  string
		}{
			{"wrong secret", "/wrong", []string{"X-Vapi-Secret: " + secretNew + "x"}, "does not match"},
			{"no header", "/missing", nil, "no X-Vapi-Secret header"},
			{"bearer instead", "/bearer", []string{"Authorization: Bearer " + secretNew}, "no X-Vapi-Secret header"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				from := p.nlines()
				code, reply, _, _ := p.post(tc.path, body, tc.headers...)
				if code != http.StatusUnauthorized || string(reply) != `{"error":"unauthorized"}` {
					t.Errorf("HTTP %d %q, want 401 {\"error\":\"unauthorized\"} (the same for every failure)", code, reply)
				}
				l := p.mustLine(from, "rejected line", func(l line) bool { return l.Kind == "rejected" && l.Path == tc.path })
				if l.Status != 401 || !strings.Contains(l.Reason, tc.reasonHas) {
					t.Errorf("rejected line = %+v, want status 401 and a reason with %q", l, tc.reasonHas)
				}
			})
		}
		p.stop()
		checkNothingLeaks(t, p, secretOld, secretNew)
	})

	t.Run("VAPI_WEBHOOK_SECRET", func(t *testing.T) {
		t.Parallel()
		p := startVapimon(t, procOpts{args: []string{"--headless", "--no-tunnel"}, env: []string{"VAPI_WEBHOOK_SECRET=" + secretEnv}})
		body := toolCallsBody("call-env", "get_weather")
		if code, reply, _, _ := p.post("/ok", body, "X-Vapi-Secret: "+secretEnv); code != 200 {
			t.Errorf("the secret from VAPI_WEBHOOK_SECRET was refused: HTTP %d %s", code, reply)
		}
		from := p.nlines()
		if code, reply, _, _ := p.post("/wrong", body, "X-Vapi-Secret: nope"); code != 401 || string(reply) != `{"error":"unauthorized"}` {
			t.Errorf("wrong secret: HTTP %d %s, want 401", code, reply)
		}
		p.mustLine(from, "rejected line", func(l line) bool { return l.Kind == "rejected" && l.Path == "/wrong" && l.Status == 401 })
		p.stop()
		checkNothingLeaks(t, p, secretEnv)
	})

	t.Run("hmac", func(t *testing.T) {
		t.Parallel()
		p := startVapimon(t, procOpts{args: []string{"--headless", "--no-tunnel", "--auth", "hmac", "--secret", hmacKey}})
		// sign is Vapi's default HMAC credential: hex HMAC-SHA256 of "{timestamp}.{body}",
		// timestamp in milliseconds.
		sign := func(ts time.Time, body []byte) (sig, stamp string) {
			stamp = strconv.FormatInt(ts.UnixMilli(), 10)
			m := hmac.New(sha256.New, []byte(hmacKey))
			m.Write([]byte(stamp + "." + string(body)))
			return hex.EncodeToString(m.Sum(nil)), stamp
		}
		body := toolCallsBody("call-hmac", "get_weather")
		var macs []string

		from := p.nlines()
		sig, ts := sign(time.Now(), body)
		macs = append(macs, sig)
		if code, reply, _, _ := p.post("/signed", body, "X-Signature: "+sig, "X-Timestamp: "+ts); code != 200 {
			t.Errorf("correctly signed request refused: HTTP %d %s", code, reply)
		}
		if ev := p.mustLine(from, "event line", func(l line) bool { return l.Kind == "event" && l.Path == "/signed" }); ev.Verified == nil || !*ev.Verified {
			t.Errorf("event line = %+v, want verified true", ev)
		}

		for _, tc := range []struct {
			name, path string
			body       []byte
			signedAt   time.Time
			reasonHas  []string
		}{
			{"10 minutes old", "/old", body, time.Now().Add(-10 * time.Minute), []string{"old", "10m"}},
			{"body re-serialised", "/tampered", bytes.ReplaceAll(body, []byte(`":`), []byte(`": `)), time.Now(), []string{"signature mismatch"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				from := p.nlines()
				sig, ts := sign(tc.signedAt, body) // signed over the original body
				macs = append(macs, sig)
				code, reply, _, _ := p.post(tc.path, tc.body, "X-Signature: "+sig, "X-Timestamp: "+ts)
				if code != 401 || string(reply) != `{"error":"unauthorized"}` {
					t.Errorf("HTTP %d %s, want 401 {\"error\":\"unauthorized\"}", code, reply)
				}
				l := p.mustLine(from, "rejected line", func(l line) bool { return l.Kind == "rejected" && l.Path == tc.path })
				for _, s := range tc.reasonHas {
					if !strings.Contains(l.Reason, s) {
						t.Errorf("rejected reason %q does not mention %q", l.Reason, s)
					}
				}
			})
		}
		p.stop()
		checkNothingLeaks(t, p, append(macs, hmacKey)...)
	})
}

// heldRequest is a request that vapimon's handler is provably working on: its headers are
// in, with Expect: 100-continue, and its body has not been sent yet.
type heldRequest struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
	body []byte
}

// holdRequest sends the headers of a POST with Expect: 100-continue and waits for
// "100 Continue". Go's server sends that only when the handler starts reading the body, so
// from then on the request is inside vapimon, counted in flight, until finish sends the
// body. No sleeping, no guessing.
func holdRequest(t *testing.T, p *vapimonProc, path string, body []byte) *heldRequest {
	t.Helper()
	conn, err := net.DialTimeout("tcp", p.addr(), waitTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(2 * waitTimeout))
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", path, p.addr(), len(body))
	br := bufio.NewReader(conn)
	status, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 100 ") {
		t.Fatalf("POST %s: want 100 Continue before sending the body, got %q, %v", path, status, err)
	}
	if blank, err := br.ReadString('\n'); err != nil || blank != "\r\n" {
		t.Fatalf("POST %s: after 100 Continue: %q, %v", path, blank, err)
	}
	return &heldRequest{t: t, conn: conn, br: br, body: body}
}

// finish sends the body and returns the reply (its body already read).
func (h *heldRequest) finish() (*http.Response, []byte) {
	h.t.Helper()
	if _, err := h.conn.Write(h.body); err != nil {
		h.t.Fatalf("sending the held body: %v", err)
	}
	resp, err := http.ReadResponse(h.br, nil)
	if err != nil {
		h.t.Fatalf("the held request got no reply: %v", err)
	}
	reply, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		h.t.Fatalf("reading the held request's reply: %v", err)
	}
	return resp, reply
}

// TestListenShutdown sends SIGINT while a reply is in flight: vapimon stops accepting,
// finishes the reply, records every request byte for byte, and exits 0.
func TestListenShutdown(t *testing.T) {
	t.Parallel()

	t.Run("in-flight request", func(t *testing.T) {
		t.Parallel()
		tape := filepath.Join(t.TempDir(), "tape.jsonl")
		p := startVapimon(t, procOpts{args: []string{"--headless", "--no-tunnel", "--tool-timeout", "3s", "--record", tape}})
		if p.status.Tape != tape {
			t.Errorf("status tape = %q, want %q", p.status.Tape, tape)
		}

		sent := map[string][]byte{} // path -> body
		send := func(path string, body []byte, wantStatus int) {
			t.Helper()
			code, reply, _, _ := p.post(path, body)
			if code != wantStatus {
				t.Errorf("POST %s: HTTP %d %s, want %d", path, code, reply, wantStatus)
			}
			sent[path] = body
		}
		send("/plain", toolCallsBody("call-tape", "get_weather"), 200)
		// HTML characters, unicode (accents, CJK, emoji, U+2028) and bytes that are not
		// UTF-8 at all: the tape must give back exactly these bytes.
		send("/tricky", []byte("{\"message\":{\"type\":\"transcript\",\"role\":\"user\",\"transcript\":\"<b>Tom & Jerry</b> café 東京 🎧 \u2028 \xff\xfe\xc3(\",\"call\":{\"id\":\"call-tape\"}}}\n"), 200)
		send("/ws", []byte("  {\n \"message\" : {\"type\":\"hang\"} }\t"), 200)
		send("/broken", []byte("{\"message\":\xff"), 400)

		// The in-flight request is held inside vapimon (see holdRequest); its body follows
		// only once vapimon has stopped accepting connections after SIGINT.
		inflight := toolCallsBody("call-inflight", "get_weather")
		held := holdRequest(t, p, "/inflight", inflight)
		sent["/inflight"] = inflight

		p.interrupt()
		p.waitRefused()
		resp, reply := held.finish()
		if resp.StatusCode != 200 {
			t.Errorf("in-flight reply: HTTP %d %s, want 200", resp.StatusCode, reply)
		}
		if res := decodeResults(t, reply); len(res) != 1 || res[0].ToolCallID != "t1" {
			t.Errorf("in-flight reply is not a tool-calls reply for t1: %s", reply)
		}
		if code := p.wait(); code != 0 {
			t.Fatalf("exit status %d after SIGINT, want 0", code)
		}
		checkHeadlessStreams(t, p)

		recs, warnings, err := fixtures.ReadTapeFile(tape)
		if err != nil {
			t.Fatal(err)
		}
		if len(warnings) > 0 {
			t.Errorf("tape warnings after a clean exit: %q", warnings)
		}
		byPath := map[string]fixtures.Record{}
		for _, r := range recs {
			byPath[r.Path] = r
		}
		if len(recs) != len(sent) {
			t.Errorf("tape has %d records, want %d (one per request)", len(recs), len(sent))
		}
		for path, body := range sent {
			r, ok := byPath[path]
			if !ok {
				t.Errorf("tape has no record of POST %s", path)
				continue
			}
			if got, want := sha256.Sum256(r.Body), sha256.Sum256(body); got != want {
				t.Errorf("POST %s: tape body differs from the bytes sent\n got %q\nwant %q", path, r.Body, body)
			}
			if r.Reply == nil || r.Reply.Status == 0 {
				t.Errorf("POST %s: tape record has no reply", path)
			}
		}
		if r := byPath["/inflight"]; r.Reply != nil && !webhooktest.JSONEqual(t, r.Reply.Body, reply) {
			t.Errorf("tape reply for the in-flight request %s differs from what was sent %s", r.Reply.Body, reply)
		}
	})

	t.Run("SIGTERM", func(t *testing.T) {
		t.Parallel()
		tape := filepath.Join(t.TempDir(), "tape.jsonl")
		p := startVapimon(t, procOpts{args: []string{"--headless", "--no-tunnel", "--record", tape}})
		body := toolCallsBody("call-term", "get_weather")
		if code, reply, _, _ := p.post("/term", body); code != 200 {
			t.Fatalf("HTTP %d %s", code, reply)
		}
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := p.wait(); code != 0 {
			t.Fatalf("exit status %d after SIGTERM, want 0\n%s", code, p.stderrText())
		}
		recs, _, err := fixtures.ReadTapeFile(tape)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 || sha256.Sum256(recs[0].Body) != sha256.Sum256(body) {
			t.Errorf("tape after SIGTERM: want the one request, byte-identical; got %d records", len(recs))
		}
	})

	// A client that sends its headers and then stalls must not turn a clean Ctrl-C into a
	// failure: once the grace period is over vapimon gives up on it, says so, and exits 0.
	t.Run("stalled client", func(t *testing.T) {
		t.Parallel()
		p := startVapimon(t, procOpts{args: []string{"--headless", "--no-tunnel", "--tool-timeout", "1s"}})
		stalled := holdRequest(t, p, "/stalled", toolCallsBody("call-stalled", "get_weather"))
		defer stalled.conn.Close()
		p.interrupt()
		code := p.wait()
		if code != 0 {
			t.Errorf("exit status %d after SIGINT with a stalled client, want 0", code)
		}
		if strings.Contains(p.stderrText(), "context deadline exceeded") {
			t.Errorf("stderr says %q instead of naming the unfinished request", "context deadline exceeded")
		}
	})

	// While vapimon waits for in-flight replies (a client stalled mid-body here), a second
	// Ctrl-C is the person saying "now": it must quit at once, still answering what it can.
	t.Run("second SIGINT", func(t *testing.T) {
		t.Parallel()
		tape := filepath.Join(t.TempDir(), "tape.jsonl")
		p := startVapimon(t, procOpts{args: []string{"--headless", "--no-tunnel", "--tool-timeout", "1s", "--record", tape}})
		if code, reply, _, _ := p.post("/before", toolCallsBody("call-before", "get_weather")); code != 200 {
			t.Fatalf("HTTP %d %s", code, reply)
		}
		stalled := holdRequest(t, p, "/stalled", toolCallsBody("call-stalled", "get_weather"))
		defer stalled.conn.Close()
		p.interrupt()
		p.waitRefused() // the first SIGINT has been handled: shutdown is under way
		start := time.Now()
		p.interrupt()
		p.wait()
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("vapimon took %s to quit after the second SIGINT", took.Round(100*time.Millisecond))
		}
		if recs, _, err := fixtures.ReadTapeFile(tape); err != nil || len(recs) == 0 {
			t.Errorf("tape after a forced quit: %d records, %v; want the finished request kept", len(recs), err)
		}
	})

	t.Run("forwarding in flight", func(t *testing.T) {
		t.Parallel()
		arrived := make(chan struct{}, 1)
		release := make(chan struct{})
		dev := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case arrived <- struct{}{}:
			default:
			}
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"results":[{"toolCallId":"t1","name":"get_weather","result":"from your server"}]}`)
		}))
		defer dev.Close()
		releaseOnce := sync.OnceFunc(func() { close(release) })
		defer releaseOnce()

		tape := filepath.Join(t.TempDir(), "tape.jsonl")
		p, err := launchVapimon(t, procOpts{args: []string{"--headless", "--no-tunnel", "--tool-timeout", "3s", "--record", tape, "--forward-to", dev.URL}})
		if err != nil {
			if p != nil && strings.Contains(p.stderrText(), "--forward-to") {
				t.Skipf("--forward-to does not work in this build yet, so SIGINT during a forwarded reply is untested: %s", strings.TrimSpace(p.stderrText()))
			}
			t.Fatal(err)
		}
		body := toolCallsBody("call-forward", "get_weather")
		type result struct {
			code  int
			reply []byte
			err   error
		}
		done := make(chan result, 1)
		go func() {
			resp, err := p.client.Post(p.base+"/forwarded", "application/json", bytes.NewReader(body))
			if err != nil {
				done <- result{err: err}
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			done <- result{resp.StatusCode, b, err}
		}()
		select {
		case <-arrived:
		case <-time.After(waitTimeout):
			t.Fatal("the request was never forwarded to the test server")
		}
		p.interrupt()
		p.waitRefused()
		releaseOnce()
		r := <-done
		if r.err != nil {
			t.Fatalf("in-flight forwarded request: %v", r.err)
		}
		if res := decodeResults(t, r.reply); r.code != 200 || len(res) != 1 || str(res[0].Result) != "from your server" {
			t.Errorf("in-flight forwarded reply: HTTP %d %s, want 200 with the server's result", r.code, r.reply)
		}
		if code := p.wait(); code != 0 {
			t.Fatalf("exit status %d after SIGINT, want 0", code)
		}
		recs, _, err := fixtures.ReadTapeFile(tape)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 || sha256.Sum256(recs[0].Body) != sha256.Sum256(body) || recs[0].Reply == nil || recs[0].Reply.Source != "forward" {
			t.Errorf("tape: want the one forwarded request, byte-identical, with source forward: %+v", recs)
		}
	})
}

func TestListenTape(t *testing.T) {
	t.Parallel()

	// oneRequest sends one request and stops vapimon.
	oneRequest := func(t *testing.T, p *vapimonProc) {
		t.Helper()
		if code, reply, _, _ := p.post("/tape", toolCallsBody("call-tape", "get_weather")); code != 200 {
			t.Fatalf("HTTP %d %s", code, reply)
		}
		p.stop()
	}
	checkTape := func(t *testing.T, path string) {
		t.Helper()
		recs, _, err := fixtures.ReadTapeFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 || recs[0].Path != "/tape" || recs[0].CallID != "call-tape" {
			t.Errorf("tape %s: want the one request, got %+v", path, recs)
		}
	}

	t.Run("--record", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "new", "tapes")
		path := filepath.Join(dir, "session.jsonl")
		p := startVapimon(t, procOpts{args: []string{"--headless", "--no-tunnel", "--record", path}})
		if p.status.Tape != path {
			t.Errorf("status tape = %q, want %q", p.status.Tape, path)
		}
		oneRequest(t, p)
		checkTape(t, path)
		webhooktest.Perm(t, path, 0o600)
		webhooktest.Perm(t, dir, 0o700)
		webhooktest.Perm(t, filepath.Dir(dir), 0o700)
		if _, err := os.Stat(filepath.Join(p.state, "vapimon", "tapes")); err == nil {
			t.Errorf("--record also created the default tapes directory")
		}
	})

	t.Run("--no-record", func(t *testing.T) {
		t.Parallel()
		p := startVapimon(t, procOpts{args: []string{"--headless", "--no-tunnel", "--no-record"}})
		if p.status.Tape != "" {
			t.Errorf("status tape = %q with --no-record", p.status.Tape)
		}
		oneRequest(t, p)
		_ = filepath.WalkDir(p.home, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(path, ".jsonl") {
				t.Errorf("--no-record wrote %s", path)
			}
			return nil
		})
	})

	t.Run("default", func(t *testing.T) {
		t.Parallel()
		p := startVapimon(t, procOpts{args: []string{"--headless", "--no-tunnel"}})
		dir := filepath.Join(p.state, "vapimon", "tapes")
		oneRequest(t, p)
		matches, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
		if len(matches) != 1 || matches[0] != p.status.Tape {
			t.Fatalf("tapes in %s: %q, want exactly the status line's %q", dir, matches, p.status.Tape)
		}
		checkTape(t, matches[0])
		webhooktest.Perm(t, matches[0], 0o600)
		webhooktest.Perm(t, dir, 0o700)
	})
}

// TestListenInFlightCap: past --max-inflight a request gets 503 at once and a rejected
// line, and the request already in flight is unaffected. A request whose body has not
// arrived yet takes no slot (slow senders cannot starve the others).
func TestListenInFlightCap(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"results":[{"toolCallId":"t1","name":"get_weather","result":"sunny"}]}`)
	}))
	defer slow.Close()
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	p := startVapimon(t, procOpts{args: []string{"--headless", "--no-tunnel", "--no-record", "--max-inflight", "1", "--forward-to", "tool-calls=" + slow.URL}})

	unsent := holdRequest(t, p, "/unsent", []byte(`{"message":{"type":"status-update","status":"in-progress"}}`))
	if code, reply, _, _ := p.post("/free", []byte(`{"message":{"type":"hang"}}`)); code != http.StatusOK {
		t.Fatalf("with a request still sending its body: HTTP %d %s, want 200 (it must not hold the only slot)", code, reply)
	}
	if resp, reply := unsent.finish(); resp.StatusCode != 200 {
		t.Errorf("the request that sent its body late: HTTP %d %s", resp.StatusCode, reply)
	}

	type result struct {
		code  int
		reply []byte
	}
	heldDone := make(chan result, 1)
	go func() {
		code, reply, _, _ := p.post("/held", toolCallsBody("call-held", "get_weather"))
		heldDone <- result{code, reply}
	}()
	select {
	case <-entered:
	case <-time.After(waitTimeout):
		t.Fatal("the held request never reached the forward target")
	}
	from := p.nlines()
	code, reply, _, _ := p.post("/over-cap", toolCallsBody("call-over", "get_weather"))
	if code != http.StatusServiceUnavailable {
		t.Errorf("over the cap: HTTP %d %s, want 503", code, reply)
	}
	l := p.mustLine(from, "rejected line", func(l line) bool { return l.Kind == "rejected" && l.Path == "/over-cap" })
	if l.Status != 503 || !strings.Contains(l.Reason, "in flight") {
		t.Errorf("rejected line = %+v, want 503 and a reason about requests in flight", l)
	}
	close(release)
	released = true
	if r := <-heldDone; r.code != 200 {
		t.Errorf("held request: HTTP %d %s, want 200", r.code, r.reply)
	}
	if code, reply, _, _ := p.post("/after", toolCallsBody("call-after", "get_weather")); code != 200 {
		t.Errorf("after the held request finished: HTTP %d %s, want 200 (the slot must be freed)", code, reply)
	}
	p.stop()
}
