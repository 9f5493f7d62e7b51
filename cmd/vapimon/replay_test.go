package main

// End-to-end tests of `vapimon replay` with the real binary built by TestMain.

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/webhook"
	"github.com/vapimon/vapimon/webhook/webhooktest"
)

// TestReplayKeepToListen replays a scenario with --keep --instant into a real
// `vapimon listen` and finds every recorded body byte-identical (sha256) to the scenario's,
// in order, answered from the same answers file.
func TestReplayKeepToListen(t *testing.T) {
	t.Parallel()
	answers, err := filepath.Abs("../../fixtures/answers.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tape := filepath.Join(t.TempDir(), "replayed.jsonl")
	p := startVapimon(t, procOpts{args: []string{"--headless", "--no-tunnel", "--answers", answers, "--record", tape, "--secret", "rt-secret"}})
	r := runVapimon(t, "replay", "inbound-call", "--to", p.base+"/vapi", "--keep", "--instant", "--compare", "--secret", "rt-secret")
	if r.code != 0 {
		t.Fatalf("replay: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	scenario := loadFixture(t, "inbound-call")
	n := len(scenario)
	// The scenario's book_table call is answered with an error on purpose ("fully booked"):
	// the right shape, but a warning.
	webhooktest.Holds(t, "stdout", r.stdout, fmt.Sprintf("sent %d · 2xx %d · failed 0 · wrong shape 0 · ⚠ 1", n, n),
		`⚠ the tool result is an error ("fully booked")`, "⚠ Vapi can use every reply, but 1 reply has a warning")
	p.stop()
	got, _, err := fixtures.ReadTapeFile(tape)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(scenario) {
		t.Fatalf("listen recorded %d requests, the scenario has %d", len(got), len(scenario))
	}
	for i := range got {
		if sha256.Sum256(got[i].Body) != sha256.Sum256(scenario[i].Body) {
			t.Errorf("request %d (%s): body differs from the scenario's", i, got[i].Type)
		}
		if !got[i].Verified {
			t.Errorf("request %d was not verified: replay did not sign with --secret", i)
		}
	}
}

func writeTape(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tape.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tapeLines returns the web-call scenario as tape lines, each ending in "\n".
func tapeLines(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, rec := range loadFixture(t, "web-call") {
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b)+"\n")
	}
	return out
}

func TestReplayBadTapes(t *testing.T) {
	t.Parallel()
	lines := tapeLines(t)
	n := len(lines)
	corrupt := append(append(append([]string(nil), lines[:2]...), `{"v":1,"seq":3,"body":`+"\n"), lines[3:]...)
	torn := append(append([]string(nil), lines...), lines[0][:len(lines[0])/2])

	t.Run("corrupt middle line: nothing sent", func(t *testing.T) {
		t.Parallel()
		tg := newTarget(t, webhook.AuthConfig{}, goodAnswer)
		path := writeTape(t, corrupt...)
		r := runVapimon(t, "replay", path, "--to", tg.URL, "--instant")
		bodies, _ := tg.received()
		if r.code == 0 || !strings.Contains(r.stderr, "line 3") || !strings.Contains(r.stderr, path) || len(bodies) != 0 {
			t.Errorf("exit %d, %d requests sent, stderr %q: want a failure naming %s line 3 and nothing sent", r.code, len(bodies), r.stderr, path)
		}
	})
	t.Run("torn last line: warning, the rest sent", func(t *testing.T) {
		t.Parallel()
		tg := newTarget(t, webhook.AuthConfig{}, goodAnswer)
		r := runVapimon(t, "replay", writeTape(t, torn...), "--to", tg.URL, "--instant")
		bodies, _ := tg.received()
		if r.code != 0 || len(bodies) != n {
			t.Errorf("exit %d, %d requests sent: want 0 and %d\nstderr:\n%s", r.code, len(bodies), n, r.stderr)
		}
		if want := "warning: line " + strconv.Itoa(n+1) + ": torn last line skipped"; !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	})
}

func TestReplayOutcomes(t *testing.T) {
	t.Parallel()
	scenario := loadFixture(t, "web-call")
	n := len(scenario)
	first, last := scenario[0].Type, scenario[n-1].Type
	wrongTool := func(msg *webhook.Message) (int, string) {
		if msg != nil && msg.Kind == webhook.TypeToolCalls {
			return 200, `{"results":[{"result":"sunny"}]}`
		}
		return goodAnswer(msg)
	}
	allErrors := func(msg *webhook.Message) (int, string) {
		if msg != nil && msg.Kind == webhook.TypeToolCalls {
			return 200, `{"results":[{"toolCallId":"` + msg.ToolCalls[0].ID + `","name":"` + msg.ToolCalls[0].Name + `","error":"nobody answered"}]}`
		}
		return goodAnswer(msg)
	}
	created := func(msg *webhook.Message) (int, string) { _, body := goodAnswer(msg); return 201, body }
	tests := []struct {
		name   string
		to     func(t *testing.T) string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{name: "warning", to: func(t *testing.T) string { return newTarget(t, webhook.AuthConfig{}, allErrors).URL },
			args: []string{"web-call", "--instant"}, code: 0,
			stdout: []string{"tool-calls → 200 in ", " ⚠\n", `    ⚠ the tool result is an error ("nobody answered")`, "wrong shape 0 · ⚠ 1",
				"⚠ Vapi can use every reply, but 1 reply has a warning (--strict fails the run on this)"}},
		{name: "warning, strict", to: func(t *testing.T) string { return newTarget(t, webhook.AuthConfig{}, allErrors).URL },
			args: []string{"web-call", "--instant", "--strict"}, code: 1,
			stdout: []string{"⚠ 1", "✗ replay failed"}},
		{name: "warning, strict json", to: func(t *testing.T) string { return newTarget(t, webhook.AuthConfig{}, allErrors).URL },
			args: []string{"web-call", "--instant", "--strict", "--json"}, code: 1,
			stdout: []string{`"warnings":["the tool result is an error`, `"warned":1,`, `"ok":false}`}},
		{name: "201 everywhere: a warning on the tool reply only", to: func(t *testing.T) string { return newTarget(t, webhook.AuthConfig{}, created).URL },
			args: []string{"web-call", "--instant"}, code: 0,
			stdout: []string{"tool-calls → 201 in ", "    ⚠ HTTP 201: Vapi's docs ask for 200; Vapi's own examples answer 201", fmt.Sprintf("2xx %d · failed 0 · wrong shape 0 · ⚠ 1", n)}},
		{name: "201, strict", to: func(t *testing.T) string { return newTarget(t, webhook.AuthConfig{}, created).URL },
			args: []string{"web-call", "--instant", "--strict"}, code: 1,
			stdout: []string{"⚠ 1", "✗ replay failed"}},
		{name: "all good", to: func(t *testing.T) string { return newTarget(t, webhook.AuthConfig{}, goodAnswer).URL },
			args: []string{"web-call", "--instant"}, code: 0,
			stdout: []string{fmt.Sprintf("[%*d/%d] %s → 200 in ", len(strconv.Itoa(n)), 1, n, first), fmt.Sprintf("sent %d · 2xx %d · failed 0 · wrong shape 0", n, n), "✓ every reply came back 2xx"}},
		{name: "wrong shape", to: func(t *testing.T) string { return newTarget(t, webhook.AuthConfig{}, wrongTool).URL },
			args: []string{"web-call", "--instant"}, code: 1,
			stdout: []string{"tool-calls → 200 in ", "✗ results[0].toolCallId is missing", "wrong shape 1", "✗ replay failed"}},
		{name: "compare", to: func(t *testing.T) string { return newTarget(t, webhook.AuthConfig{}, goodAnswer).URL },
			args: []string{"web-call", "--instant", "--compare"}, code: 1,
			stdout: []string{"1 reply differs from the recording:", `results[0].result: recorded "`, `now "done"`,
				" · 1 reply differs\n", "✗ replay failed: 1 reply differs from the recording, listed above (--compare fails on any difference"}},
		{name: "down: every failure reported, run goes on", to: closedURL,
			args: []string{"web-call", "--instant"}, code: 1,
			stdout: []string{fmt.Sprintf("[%d/%d] %s ✗ POST ", n, n, last), ": connection refused — is the server running?", fmt.Sprintf("sent %d · 2xx 0 · failed %d", n, n)}},
		{name: "json", to: func(t *testing.T) string { return newTarget(t, webhook.AuthConfig{}, goodAnswer).URL },
			args: []string{"web-call", "--instant", "--json"}, code: 0,
			stdout: []string{fmt.Sprintf(`{"kind":"result","index":0,"type":%q,"status":200,`, first), `{"kind":"summary",`, fmt.Sprintf(`"sent":%d,"ok2xx":%d,"failed":0,"wrongShape":0`, n, n)}},
		{name: "no --to", to: func(*testing.T) string { return "" }, args: []string{"web-call"}, code: 1,
			stderr: []string{"replay: without --to, replay opens the monitor, which needs a terminal; to send the tape to a server, pass --to URL"}},
		{name: "bad speed", to: func(*testing.T) string { return "http://127.0.0.1:1/" }, args: []string{"web-call", "--speed", "0"}, code: 1,
			stderr: []string{"--speed 0: want a positive number"}},
		{name: "unknown scenario", to: func(*testing.T) string { return "http://127.0.0.1:1/" }, args: []string{"web-cal"}, code: 1,
			stderr: []string{`unknown fixture "web-cal"`, "web-call"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"replay"}, tt.args...)
			if to := tt.to(t); to != "" {
				args = append(args, "--to", to)
			}
			r := runVapimon(t, args...)
			checkRun(t, args, r, tt.code, tt.stdout, tt.stderr)
			if strings.Contains(tt.name, "json") {
				sc := bufio.NewScanner(strings.NewReader(r.stdout))
				for sc.Scan() {
					if !json.Valid(sc.Bytes()) {
						t.Errorf("--json printed a line that is not JSON: %q", sc.Text())
					}
				}
			}
		})
	}
}

// rejectedTapeFile writes the web-call scenario with a request that was refused when
// recorded (not JSON, answered 400) after its first record.
func rejectedTapeFile(t *testing.T) string {
	t.Helper()
	lines := tapeLines(t)
	bad, err := json.Marshal(fixtures.Record{V: 1, Seq: 99, Method: "POST", Path: "/", Body: []byte("GET / HTTP/1.1 junk"), Rejected: "body is not JSON", Status: 400})
	if err != nil {
		t.Fatal(err)
	}
	return writeTape(t, append([]string{lines[0], string(bad) + "\n"}, lines[1:]...)...)
}

func TestReplayRejectedWhenRecorded(t *testing.T) {
	t.Parallel()
	n := len(tapeLines(t))
	// Like vapimon listen, the target answers 400 to a body that is not a Vapi message.
	strictTarget := func(msg *webhook.Message) (int, string) {
		if msg == nil {
			return 400, `{"error":"bad request"}`
		}
		return goodAnswer(msg)
	}
	tests := []struct {
		name   string
		args   []string
		sent   int
		stdout []string
	}{
		{name: "skipped by default", sent: n,
			stdout: []string{fmt.Sprintf("sent %d · 2xx %d · failed 0", n, n), "skipped 1 request rejected when recorded; --include-rejected sends them", "✓ every reply came back 2xx"}},
		{name: "included: same status is as recorded", args: []string{"--include-rejected"}, sent: n + 1,
			stdout: []string{"request → 400 in ", "= as recorded", "    rejected when recorded: body is not JSON",
				fmt.Sprintf("sent %d · 2xx %d · failed 0 · wrong shape 0 · as recorded 1", n+1, n), "or as it was recorded"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t, webhook.AuthConfig{}, strictTarget)
			args := append([]string{"replay", rejectedTapeFile(t), "--instant", "--to", tg.URL}, tt.args...)
			r := runVapimon(t, args...)
			if r.code != 0 {
				t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			webhooktest.Holds(t, "stdout", r.stdout, tt.stdout...)
			if bodies, _ := tg.received(); len(bodies) != tt.sent {
				t.Errorf("the target got %d requests, want %d", len(bodies), tt.sent)
			}
		})
	}
	t.Run("a different status still fails", func(t *testing.T) {
		t.Parallel()
		tg := newTarget(t, webhook.AuthConfig{}, func(*webhook.Message) (int, string) { return 500, "" })
		r := runVapimon(t, "replay", rejectedTapeFile(t), "--instant", "--include-rejected", "--to", tg.URL, "--json")
		if r.code != 1 || !strings.Contains(r.stdout, `"index":1,"status":500,`) || strings.Contains(r.stdout, `"asRecorded":true`) {
			t.Errorf("exit %d, want 1 and request 1 failed, not as recorded:\n%s", r.code, r.stdout)
		}
	})
}
