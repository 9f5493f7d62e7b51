package main

// The end-to-end test of the TUI as a person uses it: vapimon in a real terminal (tmux),
// a tool call sent with `vapimon send`, the answer typed with send-keys, and the reply that
// send printed checked; then a transcript full of escape sequences, checked harmless on the
// screen.

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// tmuxSession drives one tmux server of its own (-L), so it never touches the user's.
type tmuxSession struct {
	t      *testing.T
	socket string
}

// tmuxEnv is the environment of a terminal test: HOME home, the state directory under it, a
// 256-colour terminal; extra entries ("K=V") come last.
func tmuxEnv(home string, extra ...string) []string {
	return append([]string{"HOME=" + home, "XDG_STATE_HOME=" + filepath.Join(home, "state"), "TERM=xterm-256color"}, extra...)
}

func newTmux(t *testing.T, width, height int, env []string, command string) *tmuxSession {
	t.Helper()
	// Keep the pane after the command exits, so its last words can be read.
	return newTmuxScript(t, width, height, env, command+"\nsleep 60")
}

// newTmuxScript runs the shell script body (after the exports of env) in a new tmux
// session of its own server.
func newTmuxScript(t *testing.T, width, height int, env []string, body string) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (apt-get install tmux): the terminal end-to-end test is skipped")
	}
	s := &tmuxSession{t: t, socket: fmt.Sprintf("vapimon-e2e-%d-%d", os.Getpid(), time.Now().UnixNano())}
	script := filepath.Join(t.TempDir(), "run.sh")
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&b, "export %s=%s\n", k, shellQuote(v))
	}
	fmt.Fprintf(&b, "%s\n", body)
	if err := os.WriteFile(script, []byte(b.String()), 0o700); err != nil {
		t.Fatal(err)
	}
	s.run("new-session", "-d", "-x", fmt.Sprint(width), "-y", fmt.Sprint(height), "-s", "e2e", script)
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", s.socket, "kill-server").Run() })
	return s
}

// shellQuote quotes v for sh.
func shellQuote(v string) string { return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'" }

func (s *tmuxSession) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// screen returns the visible pane as text; with escapes, including colour codes.
func (s *tmuxSession) screen(escapes bool) string {
	args := []string{"capture-pane", "-p", "-t", "e2e"}
	if escapes {
		args = append(args, "-e")
	}
	return s.run(args...)
}

// waitFor polls the screen until re matches, and returns the match's groups.
func (s *tmuxSession) waitFor(what string, re *regexp.Regexp) []string {
	s.t.Helper()
	return s.waitScreen(what, "", re, func(string) bool { return true })
}

// graceHint is what a prompt that opened by itself shows while it still ignores keys, and
// promptGrace how long that lasts (tui's default grace period).
const (
	graceHint   = "keys are ignored for a moment"
	promptGrace = 300 * time.Millisecond
)

// waitPrompt waits until the prompt matching re is on screen and takes keys: its grace
// period (the prompt ignores keys for a moment after it opens by itself, so that typing
// already in flight cannot answer it) is over. A capture can catch a frame half drawn (the
// prompt's title there, its hint line not yet), so the hint's absence alone does not say
// it; the grace is over once the hint has been seen and is gone, or once promptGrace has
// passed since the prompt was first seen (it opened before that) and the hint is gone.
func (s *tmuxSession) waitPrompt(what string, re *regexp.Regexp) []string {
	s.t.Helper()
	var seen time.Time
	hinted := false
	return s.waitScreen(what, " to take keys (or it is still in its grace period)", re, func(screen string) bool {
		if seen.IsZero() {
			seen = time.Now()
		}
		if strings.Contains(screen, graceHint) {
			hinted = true
			return false
		}
		return hinted || time.Since(seen) >= promptGrace
	})
}

// waitScreen polls the screen until re matches on a screen that also satisfies ok.
func (s *tmuxSession) waitScreen(what, also string, re *regexp.Regexp, ok func(string) bool) []string {
	s.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	var last string
	for time.Now().Before(deadline) {
		last = s.screen(false)
		if m := re.FindStringSubmatch(last); m != nil && ok(last) {
			return m
		}
		time.Sleep(50 * time.Millisecond) // polling interval, not synchronisation
	}
	s.t.Fatalf("waiting for %s%s: not on screen after %s. Screen:\n%s", what, also, waitTimeout, last)
	return nil
}

// listenURL waits for the listen URL in the status bar and returns it.
func (s *tmuxSession) listenURL() string {
	s.t.Helper()
	return s.waitFor("the listen URL in the status bar", regexp.MustCompile(`(http://127\.0\.0\.1:\d+)`))[1]
}

func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	s.run(append([]string{"send-keys", "-t", "e2e"}, keys...)...)
}

// startSend runs `vapimon send ARGS` in the background with home's environment; sent
// gets its exit once it is done, out and errOut its output.
func startSend(t *testing.T, home string, args ...string) (out, errOut *bytes.Buffer, sent <-chan error) {
	t.Helper()
	send := exec.Command(vapimonBin, append([]string{"send"}, args...)...)
	send.Env = testEnv(home, filepath.Join(home, "state"))
	out, errOut = new(bytes.Buffer), new(bytes.Buffer)
	send.Stdout, send.Stderr = out, errOut
	if err := send.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- send.Wait() }()
	return out, errOut, done
}

func TestTUIAnswerToolCallInTmux(t *testing.T) {
	home := t.TempDir()
	s := newTmux(t, 160, 48, tmuxEnv(home), vapimonBin+" listen --addr 127.0.0.1:0 --tool-timeout 20s")
	url := s.listenURL()
	s.waitFor("the events pane", regexp.MustCompile(`Events`))

	// A tool-calls event with two calls (get_weather and lookup_order) sent as Vapi would.
	out, errOut, sent := startSend(t, home, "tool-calls", "--to", url+"/vapi/webhook", "--timeout", "30s")

	answer := func(tool, text string) {
		t.Helper()
		// A prompt that opens by itself ignores keys for a moment, so that typing already
		// in flight cannot answer it: a person reads it first, and so does this test.
		s.waitPrompt("the prompt for "+tool, regexp.MustCompile(`Answer tool call `+tool))
		s.keys("-l", text)
		s.keys("Enter")
	}
	answer("get_weather", "Sunny, 21C in Paris")
	answer("lookup_order", "Order A123 shipped yesterday")

	select {
	case err := <-sent:
		if err != nil {
			t.Fatalf("vapimon send: %v\nstdout:\n%s\nstderr:\n%s\nscreen:\n%s", err, out.String(), errOut.String(), s.screen(false))
		}
	case <-time.After(waitTimeout):
		t.Fatalf("vapimon send did not finish. Screen:\n%s", s.screen(false))
	}
	for _, want := range []string{"200", `"result": "Sunny, 21C in Paris"`, `"result": "Order A123 shipped yesterday"`, `"toolCallId"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("send printed no %q:\n%s", want, out.String())
		}
	}
	s.waitFor("the answered tool call in the tool calls pane", regexp.MustCompile(`get_weather → Sunny, 21C in Paris`))

	// A transcript carrying escape sequences, a carriage return and a title change: the
	// text shows, the control sequences do not reach the terminal.
	evil := "before\x1b[31;5mBLINKRED\x1b[0m after\rCROVERWRITE \x1b]0;PWNED\x07tail"
	tr := exec.Command(vapimonBin, "send", "transcript", "--to", url+"/vapi/webhook", "--set", "transcript="+evil)
	tr.Env = testEnv(home, filepath.Join(home, "state"))
	if b, err := tr.CombinedOutput(); err != nil {
		t.Fatalf("send transcript: %v\n%s", err, b)
	}
	s.waitFor("the sanitised transcript", regexp.MustCompile(`BLINKRED`))
	raw := s.screen(true)
	for _, bad := range []string{"\x1b[31;5m", "\x1b]0;", "PWNED\x07", "\a"} {
		if strings.Contains(raw, bad) {
			t.Errorf("the terminal received %q from the payload:\n%q", bad, raw)
		}
	}
	plain := s.screen(false)
	if !regexp.MustCompile(`before.?BLINKRED.? after.?CROVERWRITE`).MatchString(plain) {
		t.Errorf("transcript text not shown intact on one line (a \\r would have overwritten it):\n%s", plain)
	}
	if title := strings.TrimSpace(s.run("display-message", "-p", "-t", "e2e", "#{pane_title}")); strings.Contains(title, "PWNED") {
		t.Errorf("the payload changed the terminal title to %q", title)
	}

	s.keys("q")
	s.waitFor("the TUI to exit and print the tape path", regexp.MustCompile(`tape saved`))
}

// TestTUITapeFailuresInTmux: with a tape that cannot be written (/dev/full), requests are
// still answered, the status bar counts the failed writes in the error colour, and the exit
// summary says how many requests could not be written instead of "tape saved".
func TestTUITapeFailuresInTmux(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full here")
	}
	home := t.TempDir()
	s := newTmux(t, 160, 48, tmuxEnv(home), vapimonBin+" listen --addr 127.0.0.1:0 --record /dev/full")
	url := s.listenURL()
	for i := range 3 {
		body := fmt.Sprintf(`{"message":{"type":"status-update","status":"in-progress","call":{"id":"call-full-%d"}}}`, i)
		resp, err := http.Post(url+"/vapi/webhook", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: HTTP %d: a failing tape must not fail the request", i, resp.StatusCode)
		}
	}
	s.waitFor("the failed writes in the status bar", regexp.MustCompile(`tape [1-9][\d,]* writes? failed /dev/full`))
	if raw := s.screen(true); !regexp.MustCompile(`\x1b\[[0-9;]*m[1-9][\d,]* writes? failed`).MatchString(raw) {
		t.Errorf("the failed-write count is not coloured:\n%q", raw)
	}
	s.keys("q")
	s.waitFor("the exit summary", regexp.MustCompile(`tape incomplete: 3 of 3 requests could not be written to /dev/full`))
	if scr := s.screen(false); strings.Contains(scr, "tape saved") {
		t.Errorf("the exit summary says the tape was saved:\n%s", scr)
	}
}

// TestDemoInTmux: `vapimon demo` builds its session directly (no flags of listen): it
// plays the scenario to its own port over HTTP, signed, the status says it is the demo,
// and q leaves a tape beside the demo's answers and the log, in the one state directory
// (a relative XDG_STATE_HOME is ignored).
func TestDemoInTmux(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	env := []string{"HOME=" + home, "XDG_STATE_HOME=relative-state", "TERM=xterm-256color"}
	s := newTmux(t, 160, 48, env, "cd "+shellQuote(home)+" && "+vapimonBin+" demo --speed 20 --tool-timeout 1s; echo EXIT=$?")
	s.waitFor("the demo note", regexp.MustCompile(`demo: simulating the inbound-call call`))
	s.waitFor("the auth of the demo", regexp.MustCompile(`auth hmac`))
	s.waitFor("the end of the call", regexp.MustCompile(`simulated call ended \(\S+\): \d+ events`))
	s.keys("q")
	m := s.waitFor("the exit summary", regexp.MustCompile(`tape saved: (\d+) requests in `))
	s.waitFor("a clean exit", regexp.MustCompile(`EXIT=0`))
	dir := filepath.Join(home, ".local", "state", "vapimon")
	for _, f := range []string{"demo-answers.yaml", "vapimon.log"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s not in the state directory: %v", f, err)
		}
	}
	if tapes, _ := filepath.Glob(filepath.Join(dir, "tapes", "*.jsonl")); len(tapes) != 1 {
		t.Errorf("tapes under %s: %q, want the demo's", dir, tapes)
	}
	if _, err := os.Stat(filepath.Join(home, "relative-state")); !os.IsNotExist(err) {
		t.Errorf("the demo wrote under the relative XDG_STATE_HOME: %v", err)
	}
	if m[1] == "0" {
		t.Error("the demo recorded nothing")
	}
}

// TestDemoReactsInTmux: in the demo, what you type for get_weather is what the assistant
// says next and what the summary reports, and the action menu's say reaches the call
// (the simulated control URL) and comes back as an assistant turn.
//
// The demo's call runs on its own clock, and a say cannot reach it while it waits on a
// tool call (the simulator answers 503 "the call is busy"): with the built-in script as it
// is, the say had to be done within the few seconds before get_weather, which a loaded
// machine does not always give. So the test plays the built-in script with one step added
// after the first words, a long wait, and ends that wait itself with a say that interrupts
// (ctrl+t): the call goes on when the operator has spoken, as in a person's session.
func TestDemoReactsInTmux(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	script, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "sim", "scripts", "inbound-call.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const firstStep = "steps:\n"
	if !strings.Contains(string(script), firstStep) {
		t.Fatalf("the inbound-call script has no %q", firstStep)
	}
	held := filepath.Join(home, "inbound-call-held.yaml")
	if err := os.WriteFile(held, []byte(strings.Replace(string(script), firstStep, firstStep+"  - wait: 10m\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newTmux(t, 160, 48, tmuxEnv(home), vapimonBin+" demo --speed 4 --scenario "+shellQuote(held)+"; echo EXIT=$?")
	// The whole first turn (its final transcript), so that the say interrupts the wait
	// after it, not the turn itself.
	s.waitFor("the first words", regexp.MustCompile(`asst Hi, this is Riley from Bistro Verde\. How can I help\?`))
	s.keys("a")
	s.waitFor("the action menu", regexp.MustCompile(`Control call [0-9a-f]{8}`))
	s.keys("s")
	s.keys("C-t") // interrupt: ends the wait the test added
	s.keys("-l", "An operator is listening.")
	s.keys("Enter")
	s.waitFor("the operator line", regexp.MustCompile(`op ▸ say "An operator is listening\."[^\n]*→ 200`))
	s.waitFor("the said words", regexp.MustCompile(`asst An operator is listening\.`))
	s.waitPrompt("the get_weather prompt", regexp.MustCompile(`Answer tool call get_weather`))
	s.keys("-l", "Sunny, 21C")
	s.keys("Enter")
	s.waitFor("the assistant using the answer", regexp.MustCompile(`asst The weather in Paris: Sunny, 21C\.`))
	s.waitFor("the end of the call", regexp.MustCompile(`simulated call ended \(customer-ended-call\)`))
	s.keys("q")
	s.waitFor("a clean exit", regexp.MustCompile(`EXIT=0`))
	tapes, _ := filepath.Glob(filepath.Join(home, "state", "vapimon", "tapes", "*.jsonl"))
	if len(tapes) != 1 {
		t.Fatalf("tapes %v", tapes)
	}
	b, _ := os.ReadFile(tapes[0])
	if !strings.Contains(string(b), `told: Sunny, 21C`) || !strings.Contains(string(b), `"kind":"operator"`) {
		t.Error("the tape lacks the summary with the typed answer, or the operator line")
	}
}

// TestTUIQuitWithToolCallWaitingInTmux: quitting the monitor while a tool call waits for
// the operator sends the fallback at once, and its error says why, truly: the monitor was
// closed (not "no answer configured", which it was: the operator was the answer).
func TestTUIQuitWithToolCallWaitingInTmux(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	s := newTmux(t, 160, 48, tmuxEnv(home), vapimonBin+" listen --addr 127.0.0.1:0 --tool-timeout 20s")
	url := s.listenURL()
	out, errOut, sent := startSend(t, home, "tool-calls", "--to", url+"/vapi/webhook", "--timeout", "30s")
	s.waitPrompt("the prompt for get_weather", regexp.MustCompile(`Answer tool call get_weather`))
	s.keys("Escape")
	s.waitFor("the prompt put aside", regexp.MustCompile(`deferred, enter to answer`))
	s.keys("q")
	s.waitFor("the quit question", regexp.MustCompile(`y quit`))
	s.keys("y")
	s.waitFor("the exit message", regexp.MustCompile(`got the fallback reply`))
	select {
	case <-sent:
	case <-time.After(waitTimeout):
		t.Fatalf("vapimon send did not finish. Screen:\n%s", s.screen(false))
	}
	for _, want := range []string{"200", `"toolCallId"`, `"error": "vapimon was closed before anyone answered"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("send printed no %q:\n%s\n%s", want, out.String(), errOut.String())
		}
	}
	if strings.Contains(out.String(), "no answer configured") {
		t.Errorf("the fallback says no answer was configured, but the operator had quit:\n%s", out.String())
	}
}

// TestTUIAnswerNewLinesInTmux: alt+enter breaks the line in the answer box, the prompt
// says new lines are sent as spaces, and they are; the README says the same (it said
// alt+enter adds a new line to the answer).
func TestTUIAnswerNewLinesInTmux(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	para := string(readme)
	if i := strings.Index(para, "In the answer prompt:"); i < 0 {
		t.Fatal(`README.md has no "In the answer prompt:" paragraph`)
	} else {
		para, _, _ = strings.Cut(para[i:], "\n\n")
	}
	if flat := strings.Join(strings.Fields(para), " "); !strings.Contains(flat, "new lines are sent as spaces") {
		t.Errorf("the README's answer prompt paragraph does not say that new lines are sent as spaces:\n%s", para)
	}

	home := t.TempDir()
	s := newTmux(t, 160, 48, tmuxEnv(home), vapimonBin+" listen --addr 127.0.0.1:0 --no-record --tool-timeout 20s")
	url := s.listenURL()
	out, errOut, sent := startSend(t, home, "tool-calls", "--to", url+"/vapi/webhook", "--timeout", "30s", "--json")
	s.waitPrompt("the prompt for get_weather", regexp.MustCompile(`Answer tool call get_weather`))
	s.keys("-l", "line one")
	s.keys("M-Enter")
	s.keys("-l", "line two")
	s.waitFor("the two lines and the note", regexp.MustCompile(`(?s)┃ line one.*┃ line two.*new lines are sent as spaces`))
	s.keys("Enter")
	s.waitPrompt("the prompt for lookup_order", regexp.MustCompile(`Answer tool call lookup_order`))
	s.keys("-l", "shipped")
	s.keys("Enter")
	select {
	case <-sent:
	case <-time.After(waitTimeout):
		t.Fatalf("vapimon send did not finish. Screen:\n%s", s.screen(false))
	}
	if !strings.Contains(out.String(), `"result":"line one line two"`) {
		t.Errorf("the answer typed on two lines was not sent as one line with a space:\n%s\n%s", out.String(), errOut.String())
	}
}
