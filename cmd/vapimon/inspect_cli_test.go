package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/fixtures/tapetest"
)

// runInState runs the binary with XDG_STATE_HOME=state and stdin from in.
func runInState(t *testing.T, state, in string, args ...string) runResult {
	t.Helper()
	return runVapimonIn(t, t.TempDir(), state, strings.NewReader(in), args...)
}

func TestTapesCmd(t *testing.T) {
	t.Parallel()
	state, dir := stateWithTapes(t)
	if r := runInState(t, state, "", "tapes"); r.code != 0 || !strings.Contains(r.stdout, "no tapes in "+dir) {
		t.Fatalf("empty: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	now := time.Now()
	old := now.Add(-45 * 24 * time.Hour)
	nOld := len(tapetest.WriteScenario(t, filepath.Join(dir, "2026-10-01T10-00-00.jsonl"), "transfer", old, 0, old))
	nNew := len(tapetest.WriteScenario(t, filepath.Join(dir, "2026-12-01T10-00-00.jsonl"), "inbound-call", now.Add(-time.Hour), 0, now))

	r := runInState(t, state, "", "tapes")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 4 || !strings.HasPrefix(lines[0], "TIME") {
		t.Fatalf("tapes: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(lines[1], "2026-12-01T10-00-00.jsonl") || !strings.Contains(lines[2], "2026-10-01T10-00-00.jsonl") {
		t.Errorf("not newest first:\n%s", r.stdout)
	}
	if !regexp.MustCompile(`\s1\s+` + itoa(nNew) + `\s+0\s+\+\d+`).MatchString(lines[1]) {
		t.Errorf("newest row lacks 1 call, %d events, 0 rejected and a caller: %q", nNew, lines[1])
	}
	if !strings.Contains(lines[3], "2 tapes in "+dir) {
		t.Errorf("no total line: %q", lines[3])
	}

	r = runInState(t, state, "", "tapes", "--json")
	var list []fixtures.TapeInfo
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 2 {
		t.Fatalf("--json: %v\n%s", err, r.stdout)
	}
	if list[0].Events != nNew || list[1].Events != nOld || list[0].Calls != 1 || list[0].Size == 0 || list[0].FirstCaller == "" {
		t.Errorf("--json: %+v", list)
	}

	// last: the newest tape, named on stderr.
	r = runInState(t, state, "", "fixtures", "show", "last", "--json")
	if r.code != 0 || strings.Count(r.stdout, "\n") < nNew || !strings.Contains(r.stderr, "last is "+filepath.Join(dir, "2026-12-01T10-00-00.jsonl")) {
		t.Errorf("fixtures show last: exit %d, %d lines\n%s", r.code, strings.Count(r.stdout, "\n"), r.stderr)
	}

	// Old tapes are offered, never deleted silently: without a terminal and without
	// --yes nothing goes.
	r = runInState(t, state, "y\n", "tapes", "--keep-tapes", "30d")
	if r.code != 0 || !strings.Contains(r.stdout, "1 tape last written more than 30d ago") || !strings.Contains(r.stdout, "2026-10-01T10-00-00.jsonl") || !strings.Contains(r.stdout, "kept them") {
		t.Errorf("--keep-tapes without --yes: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "2026-10-01T10-00-00.jsonl")); err != nil {
		t.Fatalf("deleted without --yes: %v", err)
	}
	r = runInState(t, state, "", "tapes", "--keep-tapes", "30d", "--yes")
	if r.code != 0 || !strings.Contains(r.stdout, "deleted 1 of 1") {
		t.Errorf("--keep-tapes --yes: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "2026-10-01T10-00-00.jsonl")); !os.IsNotExist(err) {
		t.Errorf("old tape still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "2026-12-01T10-00-00.jsonl")); err != nil {
		t.Errorf("new tape deleted: %v", err)
	}
	if r := runInState(t, state, "", "tapes", "--keep-tapes", "soon"); r.code == 0 || !strings.Contains(r.stderr, "--keep-tapes") {
		t.Errorf("bad age accepted: exit %d %s", r.code, r.stderr)
	}
}

// TestFailedStartLeavesNoTape: a start that fails before serving (the port in use,
// --forward-to pointing at vapimon itself) leaves no tape; an empty tape from an earlier
// run is marked by "vapimon tapes" and passed over by "last", which stays the newest tape
// with records.
func TestFailedStartLeavesNoTape(t *testing.T) {
	t.Parallel()
	state, dir := stateWithTapes(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	if r := runInState(t, state, "", "--headless", "--no-tunnel", "--addr", addr); r.code != 1 || !strings.Contains(r.stderr, addr+" is in use") {
		t.Fatalf("port in use: exit %d\n%s", r.code, r.stderr)
	}
	busy.Close()
	if r := runInState(t, state, "", "--headless", "--no-tunnel", "--addr", addr, "--forward-to", "http://"+addr+"/hook"); r.code != 1 || !strings.Contains(r.stderr, "is vapimon itself") {
		t.Fatalf("forward to itself: exit %d\n%s", r.code, r.stderr)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.jsonl")); len(left) != 0 {
		t.Fatalf("failed starts left tapes: %v", left)
	}

	now := time.Now()
	n := len(tapetest.WriteScenario(t, filepath.Join(dir, "2026-12-01T10-00-00.jsonl"), "inbound-call", now.Add(-time.Hour), 0, now.Add(-time.Hour)))
	emptyTape := filepath.Join(dir, "2026-12-01T11-00-00.jsonl") // newer, nothing recorded
	if err := os.WriteFile(emptyTape, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r := runInState(t, state, "", "tapes")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 4 || !strings.Contains(lines[1], "2026-12-01T11-00-00.jsonl (empty: nothing recorded)") || strings.Contains(lines[2], "empty") {
		t.Errorf("tapes: exit %d, want the empty tape marked\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(lines[3], "1 empty") || !strings.Contains(lines[3], "2026-12-01T10-00-00.jsonl") {
		t.Errorf("total line does not say which tape last is: %q", lines[3])
	}
	r = runInState(t, state, "", "fixtures", "show", "last", "--json")
	if r.code != 0 || strings.Count(r.stdout, "\n") < n || !strings.Contains(r.stderr, "last is "+filepath.Join(dir, "2026-12-01T10-00-00.jsonl")) {
		t.Errorf("fixtures show last: exit %d, %d lines\n%s", r.code, strings.Count(r.stdout, "\n"), r.stderr)
	}
}

func TestReplayLastNoTapes(t *testing.T) {
	t.Parallel()
	r := runInState(t, t.TempDir(), "", "replay", "last", "--to", "http://127.0.0.1:1")
	if r.code != 1 || !strings.Contains(r.stderr, "no tapes in") || !strings.Contains(r.stderr, "vapimon listen") {
		t.Errorf("replay last with no tapes: exit %d\n%s", r.code, r.stderr)
	}
}

func TestSecretCmd(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, mode := range []string{"secret", "bearer", "hmac"} {
		r := runVapimon(t, "secret", "--auth", mode)
		s := strings.TrimSpace(r.stdout)
		if r.code != 0 || !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(s) || seen[s] {
			t.Fatalf("secret --auth %s: exit %d, stdout %q", mode, r.code, r.stdout)
		}
		seen[s] = true
		for _, want := range []string{"VAPI_WEBHOOK_SECRET='" + s + "'", "--secret '" + s + "'", "--auth " + mode, "Custom Credentials"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("secret --auth %s: stderr lacks %q:\n%s", mode, want, r.stderr)
			}
		}
	}
	if r := runVapimon(t, "secret", "--auth", "none"); r.code == 0 {
		t.Errorf("secret --auth none accepted")
	}
}

func TestVersionBuildInfo(t *testing.T) {
	t.Parallel()
	r := runVapimon(t, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "vapimon ") || !strings.Contains(r.stdout, runtime.Version()) {
		t.Fatalf("version: exit %d %q, want the Go version %s", r.code, r.stdout, runtime.Version())
	}
	if f := runVapimon(t, "--version"); f.stdout != r.stdout {
		t.Errorf("--version %q differs from version %q", f.stdout, r.stdout)
	}
}

func TestCompletionUnknownShell(t *testing.T) {
	t.Parallel()
	r := runVapimon(t, "completion", "tcsh")
	if r.code != 1 || !strings.Contains(r.stderr, "completion tcsh") || !strings.Contains(r.stderr, "bash, fish, powershell, zsh") || r.stdout != "" {
		t.Errorf("completion tcsh: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// send completes events only (a scenario holds many); replay offers scenarios and last.
	send := runVapimon(t, "__complete", "send", "")
	if !strings.Contains(send.stdout, "tool-calls\t") || strings.Contains(send.stdout, "inbound-call\t") || strings.Contains(send.stdout, "last\t") {
		t.Errorf("send <TAB>:\n%s", send.stdout)
	}
	replay := runVapimon(t, "__complete", "replay", "")
	if !strings.Contains(replay.stdout, "inbound-call\t") || !strings.Contains(replay.stdout, "last\t") {
		t.Errorf("replay <TAB>:\n%s", replay.stdout)
	}
}

// TestFlagsThatDoNothing: flags that have no effect in the chosen mode are refused (or, for
// --traffic-policy without a tunnel, warned about), and a broken traffic policy names its
// line before anything starts.
func TestFlagsThatDoNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.yml")
	if err := os.WriteFile(broken, []byte("on_http_request:\n  - actions:\n      - type: deny\n    bad: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	unknown := filepath.Join(dir, "unknown.yml")
	if err := os.WriteFile(unknown, []byte("on_http_request: []\non_request: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"listen", "--auth", "none", "--secret", "x"}, []string{"--secret with --auth none"}},
		{[]string{"listen", "--secret", "x", "--hmac-algorithm", "sha512"}, []string{"--hmac-algorithm needs --auth hmac"}},
		{[]string{"send", "hang", "--hmac-no-timestamp", "--to", "127.0.0.1:1"}, []string{"--hmac-no-timestamp needs --auth hmac"}},
		{[]string{"listen", "--max-body", "-1"}, []string{"--max-body -1"}},
		{[]string{"listen", "--keep-calls", "0"}, []string{"--keep-calls 0"}},
		{[]string{"listen", "--forward-insecure"}, []string{"--forward-insecure needs --forward-to"}},
		{[]string{"listen", "--forward-header", "X-Key: 1"}, []string{"--forward-header needs --forward-to"}},
		{[]string{"listen", "--forward-to", "localhost:3000", "--forward-header", "no colon"}, []string{`--forward-header "no colon"`, "Name: value"}},
		{[]string{"listen", "--hide", "speech-update,speech-updates"}, []string{`--hide: unknown message type "speech-updates"`, "did you mean speech-update"}},
		{[]string{"listen", "--record-only", "tool-call"}, []string{`--record-only: unknown message type "tool-call"`}},
		{[]string{"listen", "--traffic-policy", broken}, []string{"--traffic-policy " + broken, "line 4"}},
		{[]string{"listen", "--traffic-policy", unknown}, []string{"line 2", `unknown key "on_request"`}},
	} {
		args := append([]string(nil), tc.args...)
		if args[0] == "listen" {
			args = append(args, "--headless", "--no-tunnel", "--addr", "127.0.0.1:0", "--no-record")
		}
		r := runVapimon(t, args...)
		if r.code == 0 {
			t.Errorf("vapimon %s: exit 0", strings.Join(args, " "))
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("vapimon %s: stderr lacks %q:\n%s", strings.Join(args, " "), w, r.stderr)
			}
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestListenKeepTapes: listen --keep-tapes says at start how many tapes are older and how
// to delete them, and deletes nothing.
func TestListenKeepTapes(t *testing.T) {
	t.Parallel()
	state, dir := stateWithTapes(t)
	old := time.Now().Add(-40 * 24 * time.Hour)
	p1 := filepath.Join(dir, "old-1.jsonl")
	tapetest.WriteScenario(t, p1, "transfer", old, 0, old)
	tapetest.WriteScenario(t, filepath.Join(dir, "old-2.jsonl"), "transfer", old, 0, old)
	p := startVapimon(t, procOpts{args: []string{"--headless", "--no-tunnel", "--keep-tapes", "30d"}, env: []string{"XDG_STATE_HOME=" + state}})
	p.stop()
	if want := `--keep-tapes 30d: 2 tapes in ` + dir + ` older than that`; !strings.Contains(p.stderrText(), want) || !strings.Contains(p.stderrText(), `"vapimon tapes --keep-tapes 30d"`) {
		t.Errorf("stderr lacks %q:\n%s", want, p.stderrText())
	}
	if _, err := os.Stat(p1); err != nil {
		t.Errorf("listen deleted a tape: %v", err)
	}
	if r := runVapimon(t, "listen", "--headless", "--no-tunnel", "--keep-tapes", "a month"); r.code == 0 || !strings.Contains(r.stderr, "--keep-tapes") {
		t.Errorf("a bad age was accepted: %d %s", r.code, r.stderr)
	}
}
