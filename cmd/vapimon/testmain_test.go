package main

// End-to-end test support: TestMain builds the real vapimon binary once, and the helpers
// below start it with an isolated environment, read its JSON lines, and stop it the way a
// person would (SIGINT).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vapimon/vapimon/fixtures/tapetest"
	"github.com/vapimon/vapimon/webhook/webhooktest"
)

// vapimonBin is the path of the vapimon binary built by TestMain, shared by every test.
var vapimonBin string

// waitTimeout bounds every wait for the binary. It is generous because the machine is
// small and shared; a passing run never comes near it.
const waitTimeout = 15 * time.Second

func TestMain(m *testing.M) { os.Exit(runTestMain(m)) }

func runTestMain(m *testing.M) int {
	if role := os.Getenv("VAPIMON_LOAD_ROLE"); role != "" { // a helper process of TestLoadExternal
		return runLoadRole(role)
	}
	dir, err := os.MkdirTemp("", "vapimon-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: end-to-end tests: temp dir for the vapimon binary:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	vapimonBin = filepath.Join(dir, "vapimon")
	if err := buildVapimon(vapimonBin); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: end-to-end tests: could not build the vapimon binary:")
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// buildVapimon builds this package into out. When the tests run with -race the binary is
// built with -race too, so a data race in the product fails the end-to-end tests
// (checked by vapimonProc's cleanup).
func buildVapimon(out string) error {
	// go test puts its own GOROOT/bin first on the PATH, so this is the same toolchain.
	gobin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("no go command on the PATH: %w", err)
	}
	args := []string{"build", "-buildvcs=false", "-o", out}
	if tapetest.RaceEnabled() {
		args = append(args, "-race")
	}
	args = append(args, ".")
	cmd := exec.Command(gobin, args...)
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, output.String())
	}
	return nil
}

// stateWithTapes returns a fresh XDG_STATE_HOME and the tapes directory vapimon keeps in it,
// made as vapimon makes it (0700), for a test that puts tapes there first.
func stateWithTapes(t *testing.T) (state, tapes string) {
	t.Helper()
	state = t.TempDir()
	tapes = filepath.Join(state, "vapimon", "tapes")
	if err := os.MkdirAll(tapes, 0o700); err != nil {
		t.Fatal(err)
	}
	return state, tapes
}

// testEnv returns an environment for the binary: the test's environment without anything
// that could reach a real account (ngrok, Vapi) or carry a secret, with HOME and
// XDG_STATE_HOME pointing into the test's temp dirs. extra entries ("K=V") come last.
func testEnv(home, state string, extra ...string) []string {
	drop := map[string]bool{
		"NGROK_AUTHTOKEN": true, "VAPI_API_KEY": true, "VAPI_WEBHOOK_SECRET": true, "VAPI_PUBLIC_KEY": true,
		"HOME": true, "XDG_STATE_HOME": true, "GORACE": true,
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			env = append(env, kv)
		}
	}
	// A -race binary sleeps 1 s at exit by default so that late reports get out; races are
	// reported where they happen, and 100 ms keeps the tests' wall time down.
	gorace := os.Getenv("GORACE")
	if !strings.Contains(gorace, "atexit_sleep_ms") {
		gorace = strings.TrimSpace(gorace + " atexit_sleep_ms=100")
	}
	env = append(env, "HOME="+home, "XDG_STATE_HOME="+state, "GORACE="+gorace)
	return append(env, extra...)
}

// runResult is what a finished run of the binary produced.
type runResult struct {
	code           int
	stdout, stderr string
}

// runVapimon runs the binary to completion with an isolated environment and stdin closed,
// killing it (and failing the test) if it has not exited within waitTimeout.
func runVapimon(t *testing.T, args ...string) runResult {
	t.Helper()
	tmp := t.TempDir()
	return runVapimonIn(t, tmp, filepath.Join(tmp, "state"), nil, args...)
}

// runVapimonIn is runVapimon with HOME (and the working directory) home, XDG_STATE_HOME
// state and standard input stdin (nil: closed).
func runVapimonIn(t *testing.T, home, state string, stdin io.Reader, args ...string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, vapimonBin, args...)
	cmd.Env = testEnv(home, state)
	cmd.Dir = home
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("vapimon %s: still running after %s (killed)\nstderr:\n%s", strings.Join(args, " "), waitTimeout, stderr.String())
	}
	res := runResult{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		t.Fatalf("vapimon %s: %v", strings.Join(args, " "), err)
	}
	checkNoRace(t, res.stderr)
	return res
}

func checkNoRace(t *testing.T, stderr string) {
	t.Helper()
	if strings.Contains(stderr, "WARNING: DATA RACE") {
		t.Errorf("the vapimon binary reported a data race:\n%s", stderr)
	}
}

// line is one headless JSON line, decoded with the field names the headless format
// documents (deliberately not the product's own struct, so a renamed field fails here).
type line struct {
	Kind      string          `json:"kind"`
	Time      time.Time       `json:"time"`
	Seq       uint64          `json:"seq"`
	Type      string          `json:"type"`
	CallID    string          `json:"callId"`
	Path      string          `json:"path"`
	Verified  *bool           `json:"verified"`
	AuthMode  string          `json:"authMode"`
	Status    int             `json:"status"`
	Source    string          `json:"source"`
	LatencyMs *float64        `json:"latencyMs"`
	Body      json.RawMessage `json:"body"`
	Reason    string          `json:"reason"`
	Note      string          `json:"note"`
	Listen    string          `json:"listen"`
	PublicURL string          `json:"publicUrl"`
	Auth      string          `json:"auth"`
	Tape      string          `json:"tape"`
	Level     string          `json:"level"`
	Text      string          `json:"text"`
}

// vapimonProc is a running `vapimon listen`.
type vapimonProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	home   string // HOME and the parent of XDG_STATE_HOME
	state  string // XDG_STATE_HOME
	status line   // the first status line
	base   string // http://127.0.0.1:PORT
	client *http.Client

	mu      sync.Mutex
	raw     []string // every stdout line, as printed
	lines   []line   // the same lines, decoded (zero line when not JSON)
	notify  chan struct{}
	stderr  webhooktest.Buffer // its own lock: read while the process writes
	exited  chan struct{}
	waitErr error
}

// procOpts configures startVapimon.
type procOpts struct {
	args []string // after "listen"; --addr 127.0.0.1:0 is added unless args set --addr
	env  []string // extra "K=V"
	// noListenArg runs `vapimon ARGS` instead of `vapimon listen ARGS`.
	noListenArg bool
	// shell, when set, is sh commands run before vapimon replaces the shell (e.g. a
	// ulimit).
	shell string
}

// startVapimon starts the binary and waits for its status line. Every process gets its own
// HOME and XDG_STATE_HOME, and --addr 127.0.0.1:0 so the kernel picks a free port (the
// status line says which): no port is ever guessed, so tests cannot collide.
func startVapimon(t *testing.T, o procOpts) *vapimonProc {
	t.Helper()
	p, err := launchVapimon(t, o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// launchVapimon is startVapimon returning the startup failure instead of failing, for
// tests that probe whether a feature is available.
func launchVapimon(t *testing.T, o procOpts) (*vapimonProc, error) {
	t.Helper()
	home := t.TempDir()
	p := &vapimonProc{
		t:      t,
		home:   home,
		state:  filepath.Join(home, "state"),
		notify: make(chan struct{}),
		exited: make(chan struct{}),
		client: &http.Client{
			Timeout:   waitTimeout,
			Transport: &http.Transport{DisableKeepAlives: true},
			// vapimon never redirects; a redirect would be a bug to see, not to follow.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	args := append([]string(nil), o.args...)
	if !o.noListenArg {
		args = append([]string{"listen"}, args...)
	}
	hasAddr := false
	for _, a := range args {
		hasAddr = hasAddr || a == "--addr" || strings.HasPrefix(a, "--addr=")
	}
	if !hasAddr {
		args = append(args, "--addr", "127.0.0.1:0")
	}
	p.cmd = exec.Command(vapimonBin, args...)
	if o.shell != "" {
		p.cmd = exec.Command("sh", append([]string{"-c", o.shell + `; exec "$0" "$@"`, vapimonBin}, args...)...)
	}
	p.cmd.Env = testEnv(home, p.state, o.env...)
	p.cmd.Dir = home
	p.cmd.Stderr = &p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start vapimon: %v", err)
	}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
		for sc.Scan() {
			var l line
			if json.Unmarshal(sc.Bytes(), &l) != nil {
				l = line{}
			}
			p.mu.Lock()
			p.raw = append(p.raw, sc.Text())
			p.lines = append(p.lines, l)
			close(p.notify)
			p.notify = make(chan struct{})
			p.mu.Unlock()
		}
	}()
	go func() {
		<-readDone // Wait closes the pipe: read everything first
		err := p.cmd.Wait()
		p.mu.Lock()
		p.waitErr = err
		p.mu.Unlock()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("vapimon %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), p.stdoutText(), p.stderrText())
		}
		checkNoRace(t, p.stderrText())
	})

	st, _, err := p.waitLine(0, func(l line) bool { return l.Kind == "status" })
	if err != nil {
		return p, fmt.Errorf("vapimon %s: no status line: %v\nstderr:\n%s", strings.Join(args, " "), err, p.stderrText())
	}
	p.status = st
	p.base = strings.TrimRight(st.Listen, "/")
	if !strings.HasPrefix(p.base, "http://127.0.0.1:") {
		return p, fmt.Errorf("status line: listen = %q, want http://127.0.0.1:PORT", st.Listen)
	}
	return p, nil
}

func (p *vapimonProc) stdoutText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.raw, "\n")
}

func (p *vapimonProc) stderrText() string {
	return p.stderr.String()
}

// nlines returns how many stdout lines have been read so far: a cursor for waitLine.
func (p *vapimonProc) nlines() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.lines)
}

// seqSince waits for the event (or rejected) line of the first request vapimon received at
// or after sent, and returns that request's sequence number. A test that sends one request
// at a time takes time.Now() before sending and so finds the lines of its own request: a
// cursor from nlines() taken before sending is not enough, because the lines of the
// request before (its reply line is printed after its reply went out) may still be on
// their way to stdout.
func (p *vapimonProc) seqSince(sent time.Time) uint64 {
	p.t.Helper()
	l := p.mustLine(0, "the event line of the request sent at "+sent.Format(time.RFC3339Nano), func(l line) bool {
		return (l.Kind == "event" || l.Kind == "rejected") && l.Seq != 0 && !l.Time.Before(sent)
	})
	return l.Seq
}

// lineOf waits for the line of kind for request seq and returns it with its index.
func (p *vapimonProc) lineOf(kind string, seq uint64) (line, int, error) {
	return p.waitLine(0, func(l line) bool { return l.Kind == kind && l.Seq == seq })
}

// waitLine waits until a stdout line at index from or later satisfies match, and returns
// it with its index. It fails when the process exits first or after waitTimeout.
func (p *vapimonProc) waitLine(from int, match func(line) bool) (line, int, error) {
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		for i := from; i < len(p.lines); i++ {
			if p.lines[i].Kind != "" && match(p.lines[i]) {
				l := p.lines[i]
				p.mu.Unlock()
				return l, i, nil
			}
		}
		from = len(p.lines)
		ch := p.notify
		p.mu.Unlock()
		select {
		case <-ch:
		case <-p.exited:
			// The reader has finished: one last look, then give up.
			p.mu.Lock()
			n := len(p.lines)
			p.mu.Unlock()
			if from == n {
				return line{}, -1, fmt.Errorf("vapimon exited (%v) before printing the line", p.waitErr)
			}
		case <-deadline.C:
			return line{}, -1, fmt.Errorf("no matching line within %s", waitTimeout)
		}
	}
}

// mustLine is waitLine failing the test.
func (p *vapimonProc) mustLine(from int, what string, match func(line) bool) line {
	p.t.Helper()
	l, _, err := p.waitLine(from, match)
	if err != nil {
		p.t.Fatalf("waiting for %s: %v", what, err)
	}
	return l
}

// post sends body to path with the given headers ("K: V" pairs) and returns the status, the
// reply body and the time it took.
func (p *vapimonProc) post(path string, body []byte, headers ...string) (int, []byte, http.Header, time.Duration) {
	p.t.Helper()
	return p.do(http.MethodPost, path, body, headers...)
}

func (p *vapimonProc) do(method, path string, body []byte, headers ...string) (int, []byte, http.Header, time.Duration) {
	p.t.Helper()
	req, err := http.NewRequest(method, p.base+path, bytes.NewReader(body))
	if err != nil {
		p.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		k, v, ok := strings.Cut(h, ": ")
		if !ok {
			p.t.Fatalf("bad header %q", h)
		}
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := p.client.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		p.t.Fatalf("%s %s: reading reply: %v", method, path, err)
	}
	return resp.StatusCode, b, resp.Header, time.Since(start)
}

// interrupt sends SIGINT, as Ctrl-C would.
func (p *vapimonProc) interrupt() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		p.t.Fatalf("SIGINT: %v", err)
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *vapimonProc) wait() int {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(waitTimeout):
		p.t.Fatalf("vapimon did not exit within %s", waitTimeout)
	}
	p.mu.Lock()
	err := p.waitErr
	p.mu.Unlock()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		p.t.Fatalf("vapimon: %v", err)
	}
	return 0
}

// stop sends SIGINT and requires a clean exit (status 0).
func (p *vapimonProc) stop() {
	p.t.Helper()
	p.interrupt()
	if code := p.wait(); code != 0 {
		p.t.Fatalf("after SIGINT vapimon exited %d, want 0\nstderr:\n%s", code, p.stderrText())
	}
}

// addr is the host:port vapimon listens on.
func (p *vapimonProc) addr() string { return strings.TrimPrefix(p.base, "http://") }

// waitRefused polls until a new connection to vapimon's address is refused: it has
// stopped accepting.
func (p *vapimonProc) waitRefused() {
	p.t.Helper()
	waitRefused(p.t, p.addr())
}

// waitRefused polls until a new connection to addr is refused.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("vapimon still accepts connections on %s %s after the signal", addr, waitTimeout)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not synchronisation
	}
}

// checkRun fails the test unless a finished run exited with code and its stdout and stderr
// contain every wanted string.
func checkRun(t *testing.T, args []string, r runResult, code int, stdout, stderr []string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("vapimon %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	webhooktest.Holds(t, "stdout", r.stdout, stdout...)
	webhooktest.Holds(t, "stderr", r.stderr, stderr...)
}
