package main

// End-to-end tests of vapimon's orderly shutdown: every terminating signal, and the
// terminal closing under the TUI, answers every caller still waiting (with the fallback),
// leaves every request and reply on the tape, and exits 0. Each runs the real binary with
// 50 tool calls waiting: for the operator in the TUI (no answers file), for a server that
// never answers in headless mode.

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/webhook/webhooktest"
)

// waitingCallers is how many tool calls wait when the signal comes.
const waitingCallers = 50

// callerReply is what one caller got.
type callerReply struct {
	body  []byte // what it sent
	code  int
	reply []byte
	err   error
}

// sendWaiting posts n tool calls at once to url, one call id each, and returns the bodies
// sent and a channel receiving each caller's reply. The client waits up to 2×waitTimeout:
// only vapimon's shutdown is to end the wait.
func sendWaiting(t *testing.T, url string, n int) ([][]byte, <-chan callerReply) {
	t.Helper()
	client := &http.Client{Timeout: 2 * waitTimeout, Transport: &http.Transport{DisableKeepAlives: true}}
	bodies := make([][]byte, n)
	out := make(chan callerReply, n)
	for i := range n {
		bodies[i] = toolCallsBody(fmt.Sprintf("call-waiting-%02d", i), "get_weather")
		go func(body []byte) {
			r := callerReply{body: body}
			resp, err := client.Post(url, "application/json", bytes.NewReader(body))
			if err != nil {
				r.err = err
				out <- r
				return
			}
			defer resp.Body.Close()
			r.code = resp.StatusCode
			r.reply, r.err = io.ReadAll(resp.Body)
			out <- r
		}(bodies[i])
	}
	return bodies, out
}

// checkEveryCallerAnswered waits for every caller's reply: each must be a 200 tool-calls
// reply for its call, with the fallback's error in it.
func checkEveryCallerAnswered(t *testing.T, replies <-chan callerReply, n int) map[[32]byte][]byte {
	t.Helper()
	got := map[[32]byte][]byte{}
	deadline := time.After(2 * waitTimeout)
	for range n {
		select {
		case r := <-replies:
			if r.err != nil {
				t.Errorf("a caller got no reply: %v", r.err)
				continue
			}
			res := decodeResults(t, r.reply)
			if r.code != http.StatusOK || len(res) != 1 || res[0].ToolCallID != "t1" || res[0].Error == nil {
				t.Errorf("a caller got HTTP %d %s, want 200 with the fallback's error for t1", r.code, r.reply)
			}
			got[sha256.Sum256(r.body)] = r.reply
		case <-deadline:
			t.Fatalf("only %d of %d callers got a reply", len(got), n)
		}
	}
	return got
}

// checkTapeHasAll reads the tape: every request sent must be on it, byte for byte, with the
// reply its caller got.
func checkTapeHasAll(t *testing.T, path string, bodies [][]byte, replies map[[32]byte][]byte) {
	t.Helper()
	recs, warnings, err := fixtures.ReadTapeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) > 0 {
		t.Errorf("tape warnings after an orderly shutdown: %q", warnings)
	}
	bySum := map[[32]byte]fixtures.Record{}
	seqs := map[uint64]bool{}
	for _, r := range recs {
		bySum[sha256.Sum256(r.Body)] = r
		if seqs[r.Seq] {
			t.Errorf("tape: seq %d twice", r.Seq)
		}
		seqs[r.Seq] = true
	}
	missing, noReply := 0, 0
	for _, b := range bodies {
		r, ok := bySum[sha256.Sum256(b)]
		switch {
		case !ok:
			missing++
		case r.Reply == nil || r.Reply.Status != http.StatusOK:
			noReply++
		case replies[sha256.Sum256(b)] != nil && !webhooktest.JSONEqual(t, r.Reply.Body, replies[sha256.Sum256(b)]):
			t.Errorf("seq %d: the tape's reply %s differs from what the caller got %s", r.Seq, r.Reply.Body, replies[sha256.Sum256(b)])
		}
	}
	if missing > 0 || noReply > 0 {
		t.Errorf("tape: %d of %d requests missing, %d without their reply", missing, len(bodies), noReply)
	}
}

// hangingServer is a developer's server that never answers until the request is
// abandoned; arrived receives one value per request.
func hangingServer(t *testing.T) (*httptest.Server, <-chan struct{}) {
	t.Helper()
	arrived := make(chan struct{}, 1024)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		arrived <- struct{}{}
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv, arrived
}

func TestShutdownHeadlessSignals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		sigs []syscall.Signal
	}{
		{"SIGHUP", []syscall.Signal{syscall.SIGHUP}},
		{"SIGTERM twice", []syscall.Signal{syscall.SIGTERM, syscall.SIGTERM}},
		{"SIGQUIT", []syscall.Signal{syscall.SIGQUIT}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dev, arrived := hangingServer(t)
			tape := filepath.Join(t.TempDir(), "tape.jsonl")
			// With a 20 s budget your server has 9 s: the signal comes long before that.
			p := startVapimon(t, procOpts{args: []string{"--headless", "--no-tunnel", "--tool-timeout", "20s", "--record", tape, "--forward-to", dev.URL}})
			bodies, replies := sendWaiting(t, p.base+"/vapi/webhook", waitingCallers)
			for i := range waitingCallers {
				select {
				case <-arrived:
				case <-time.After(waitTimeout):
					t.Fatalf("only %d of %d requests reached the server", i, waitingCallers)
				}
			}
			for i, sig := range tc.sigs {
				if err := p.cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				if i == 0 && len(tc.sigs) > 1 {
					p.waitRefused() // the first was handled: the second one hurries
				}
			}
			got := checkEveryCallerAnswered(t, replies, waitingCallers)
			if code := p.wait(); code != 0 {
				t.Fatalf("exit status %d after %s, want 0\nstderr:\n%s", code, tc.name, p.stderrText())
			}
			checkTapeHasAll(t, tape, bodies, got)
			stderr := p.stderrText()
			if want := fmt.Sprintf("tape saved: %d requests in %s", waitingCallers, tape); !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
			if name := strings.Fields(tc.name)[0]; !strings.Contains(stderr, name+": shutting down") {
				t.Errorf("stderr does not name the signal %s:\n%s", name, stderr)
			}
		})
	}
}

// tuiShutdown starts the TUI in tmux with a tape, sends waitingCallers tool calls that wait
// for the operator, and returns the session, vapimon's pid, the tape path, a function
// waiting for vapimon's exit status, and the callers' bodies and replies. ignoreHUP starts
// vapimon with SIGHUP ignored, as nohup does.
func tuiShutdown(t *testing.T, ignoreHUP bool) (s *tmuxSession, pid int, url, tape string, exitCode func() int, bodies [][]byte, replies <-chan callerReply) {
	t.Helper()
	home := t.TempDir()
	tape = filepath.Join(home, "tape.jsonl")
	exitFile := filepath.Join(home, "exit-status")
	// Race reports (a -race build) go to files the test reads, since the pane may be gone.
	racePath := filepath.Join(home, "race")
	env := tmuxEnv(home, "GORACE=atexit_sleep_ms=100 log_path="+racePath)
	t.Cleanup(func() {
		reports, _ := filepath.Glob(racePath + "*")
		for _, r := range reports {
			b, _ := os.ReadFile(r)
			t.Errorf("the vapimon binary reported a data race:\n%s", b)
		}
	})
	s = newTmuxScript(t, 160, 48, env, hangupScript(vapimonBin+" listen --addr 127.0.0.1:0 --tool-timeout 60s --record "+shellQuote(tape), exitFile, ignoreHUP))
	url = s.listenURL()
	pid = s.childPid()
	bodies, replies = sendWaiting(t, url+"/vapi/webhook", waitingCallers)
	s.waitFor("every call pending", regexp.MustCompile(fmt.Sprintf(`pending %d\b`, waitingCallers)))
	s.waitFor("the answer prompt", regexp.MustCompile(`Answer tool call get_weather`))
	exitCode = func() int {
		t.Helper()
		deadline := time.Now().Add(2 * waitTimeout)
		for time.Now().Before(deadline) {
			if b, err := os.ReadFile(exitFile); err == nil && bytes.HasSuffix(b, []byte("\n")) {
				code, err := strconv.Atoi(strings.TrimSpace(string(b)))
				if err != nil {
					t.Fatalf("exit status file: %q", b)
				}
				return code
			}
			time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
		}
		t.Fatalf("vapimon did not exit within %s", 2*waitTimeout)
		return -1
	}
	return s, pid, url, tape, exitCode, bodies, replies
}

// hangupScript runs command in a tmux pane as a login shell would, and writes its exit
// status to exitFile. When the terminal closes, the shell (the session leader) gets the
// hang-up and passes it on to vapimon, as bash does to its jobs; unlike a real shell it
// survives, to write the status. With ignoreHUP, vapimon starts with SIGHUP ignored (nohup)
// and in the foreground: only the end of its terminal tells it.
func hangupScript(command, exitFile string, ignoreHUP bool) string {
	if ignoreHUP {
		return fmt.Sprintf("trap '' HUP\n%s\necho $? > %s\nsleep 60", command, shellQuote(exitFile))
	}
	return fmt.Sprintf(`%s &
child=$!
trap 'hup=1; kill -HUP $child' HUP
wait $child
st=$?
if [ -n "$hup" ]; then wait $child; st=$?; fi
echo $st > %s
sleep 60`, command, shellQuote(exitFile))
}

// childPid returns the pid of the pane's shell's one child (vapimon).
func (s *tmuxSession) childPid() int {
	s.t.Helper()
	shell := strings.TrimSpace(s.run("display-message", "-p", "-t", "e2e", "#{pane_pid}"))
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(filepath.Join("/proc", shell, "task", shell, "children"))
		if err != nil {
			s.t.Skipf("cannot find vapimon's pid (no /proc/PID/task/PID/children): %v", err)
		}
		if f := strings.Fields(string(b)); len(f) == 1 {
			pid, _ := strconv.Atoi(f[0])
			return pid
		}
		time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
	}
	s.t.Fatal("the pane's shell has no single child process")
	return 0
}

func TestShutdownTUISignals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		ignoreHUP bool
		stop      func(t *testing.T, s *tmuxSession, pid int, url string)
		// said is what the terminal shows after the exit ("" when it is gone).
		said string
	}{
		{"SIGHUP", false, func(t *testing.T, s *tmuxSession, pid int, url string) { kill(t, pid, syscall.SIGHUP) }, "SIGHUP"},
		{"SIGTERM twice", false, func(t *testing.T, s *tmuxSession, pid int, url string) {
			kill(t, pid, syscall.SIGTERM)
			waitRefused(t, strings.TrimPrefix(url, "http://")) // handled: the second one hurries
			// The shutdown may be over by now (the waiting callers had their fallback at
			// once): a process already gone has nothing left to hurry.
			if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
				t.Fatalf("second kill -TERM %d: %v", pid, err)
			}
		}, "SIGTERM"},
		{"SIGQUIT", false, func(t *testing.T, s *tmuxSession, pid int, url string) { kill(t, pid, syscall.SIGQUIT) }, "SIGQUIT"},
		// tmux closes the terminal and the shell passes the hang-up on: an SSH drop.
		{"tmux kill-session", false, func(t *testing.T, s *tmuxSession, pid int, url string) { s.run("kill-session", "-t", "e2e") }, ""},
		// Started under nohup, vapimon outlives SIGHUP, but its terminal is gone: the end
		// of the TUI's input is the sign.
		{"terminal closed under nohup", true, func(t *testing.T, s *tmuxSession, pid int, url string) { s.run("kill-session", "-t", "e2e") }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, pid, url, tape, exitCode, bodies, replies := tuiShutdown(t, tc.ignoreHUP)
			tc.stop(t, s, pid, url)
			got := checkEveryCallerAnswered(t, replies, waitingCallers)
			if code := exitCode(); code != 0 {
				t.Fatalf("exit status %d after %s, want 0", code, tc.name)
			}
			checkTapeHasAll(t, tape, bodies, got)
			if tc.said != "" {
				s.waitFor("the exit message", regexp.MustCompile(tc.said+fmt.Sprintf(`: shut down; %d requests waiting for you got the fallback reply`, waitingCallers)))
				s.waitFor("the tape summary", regexp.MustCompile(fmt.Sprintf(`tape saved: %d requests in`, waitingCallers)))
			}
		})
	}
}

func kill(t *testing.T, pid int, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(pid, sig); err != nil {
		t.Fatalf("kill -%d %d: %v", sig, pid, err)
	}
}

// TestShutdownTapeIncomplete: when tape writes fail (a full disk, a file size limit),
// requests are still answered, and the exit summary says exactly how many requests are on
// the tape and how many are not, never "tape saved".
func TestShutdownTapeIncomplete(t *testing.T) {
	t.Parallel()
	summary := regexp.MustCompile(`tape incomplete: ([\d,]+) of ([\d,]+) requests could not be written to (\S+) \(last error: [^)]+\); ([\d,]+) recorded in full`)
	atoi := func(s string) int {
		n, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
		if err != nil {
			t.Fatalf("not a count: %q", s)
		}
		return n
	}
	send := func(t *testing.T, p *vapimonProc, n int) {
		t.Helper()
		for i := range n {
			if code, reply, _, _ := p.post("/vapi/webhook", toolCallsBody(fmt.Sprintf("call-full-%02d", i), "get_weather")); code != http.StatusOK {
				t.Fatalf("request %d: HTTP %d %s: a failing tape must not fail the request", i, code, reply)
			}
		}
		// A rejected request is one request to record too.
		if code, _, _, _ := p.do(http.MethodGet, "/vapi/webhook", nil); code != http.StatusMethodNotAllowed {
			t.Fatalf("GET: HTTP %d, want 405", code)
		}
	}

	t.Run("/dev/full", func(t *testing.T) {
		t.Parallel()
		if _, err := os.Stat("/dev/full"); err != nil {
			t.Skip("no /dev/full here")
		}
		p := startVapimon(t, procOpts{args: []string{"--headless", "--no-tunnel", "--record", "/dev/full"}})
		send(t, p, 5)
		p.mustLine(0, "a notice that recording failed", func(l line) bool {
			return l.Kind == "notice" && l.Level == "error" && strings.Contains(l.Text, "recording failed")
		})
		p.stop()
		stderr := p.stderrText()
		if strings.Contains(stderr, "tape saved") {
			t.Errorf("stderr says the tape was saved, but no write succeeded:\n%s", stderr)
		}
		m := summary.FindStringSubmatch(stderr)
		if m == nil {
			t.Fatalf("no tape summary matching %s in stderr:\n%s", summary, stderr)
		}
		if atoi(m[1]) != 6 || atoi(m[2]) != 6 || m[3] != "/dev/full" || atoi(m[4]) != 0 {
			t.Errorf("summary %q: want 6 of 6 requests not written to /dev/full, 0 recorded", m[0])
		}
	})

	t.Run("file size limit", func(t *testing.T) {
		t.Parallel()
		tape := filepath.Join(t.TempDir(), "tape.jsonl")
		// A few kilobytes of tape, then every write fails with EFBIG, as on a full disk.
		p := startVapimon(t, procOpts{shell: "ulimit -f 8", args: []string{"--headless", "--no-tunnel", "--record", tape}})
		const n = 60
		send(t, p, n)
		p.stop()
		stderr := p.stderrText()
		m := summary.FindStringSubmatch(stderr)
		if m == nil {
			t.Fatalf("no tape summary matching %s in stderr:\n%s", summary, stderr)
		}
		recs, _, err := fixtures.ReadTapeFile(tape)
		if err != nil {
			t.Fatalf("the tape that filled up is not readable: %v", err)
		}
		full := 0
		for _, r := range recs {
			if r.Reply != nil {
				full++
			}
		}
		failed, total, recorded := atoi(m[1]), atoi(m[2]), atoi(m[4])
		if total != n+1 || failed+recorded != total || recorded != full || full == 0 || failed == 0 {
			t.Errorf("summary %q, tape has %d requests with their replies: want %d requests in all, the recorded count equal to the tape's, some on it and some not", m[0], full, n+1)
		}
		if m[3] != tape {
			t.Errorf("summary names %s, want %s", m[3], tape)
		}
	})
}

// TestShutdownHeadlessTerminalClosed: headless mode printing to a terminal that closes.
// With the hang-up, vapimon shuts down in order; under nohup it keeps answering (its output
// now fails with EIO), and a later SIGTERM still exits 0: a terminal that went away is not
// vapimon's failure.
func TestShutdownHeadlessTerminalClosed(t *testing.T) {
	t.Parallel()
	for _, nohup := range []bool{false, true} {
		t.Run(map[bool]string{false: "hang-up", true: "nohup"}[nohup], func(t *testing.T) {
			t.Parallel()
			dev, arrived := hangingServer(t)
			home := t.TempDir()
			tape := filepath.Join(home, "tape.jsonl")
			exitFile := filepath.Join(home, "exit-status")
			s := newTmuxScript(t, 160, 48, tmuxEnv(home), hangupScript(fmt.Sprintf("%s listen --headless --addr 127.0.0.1:0 --tool-timeout 20s --forward-to %s --record %s",
				shellQuote(vapimonBin), shellQuote(dev.URL), shellQuote(tape)), exitFile, nohup))
			url := s.waitFor("the listen URL", regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`))[1]
			pid := s.childPid()
			bodies, replies := sendWaiting(t, url+"/vapi/webhook", waitingCallers)
			for i := range waitingCallers {
				select {
				case <-arrived:
				case <-time.After(waitTimeout):
					t.Fatalf("only %d of %d requests reached the server", i, waitingCallers)
				}
			}
			s.run("kill-session", "-t", "e2e")
			if nohup {
				// Still listening, its terminal gone: the operator stops it later.
				waitGone := time.Now().Add(500 * time.Millisecond)
				for time.Now().Before(waitGone) {
					if _, err := os.Stat(exitFile); err == nil {
						t.Fatal("under nohup, vapimon exited when its terminal closed")
					}
					time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
				}
				kill(t, pid, syscall.SIGTERM)
			}
			got := checkEveryCallerAnswered(t, replies, waitingCallers)
			code := -1
			deadline := time.Now().Add(2 * waitTimeout)
			for time.Now().Before(deadline) {
				if b, err := os.ReadFile(exitFile); err == nil && bytes.HasSuffix(b, []byte("\n")) {
					code, _ = strconv.Atoi(strings.TrimSpace(string(b)))
					break
				}
				time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
			}
			if code != 0 {
				t.Fatalf("exit status %d, want 0", code)
			}
			checkTapeHasAll(t, tape, bodies, got)
		})
	}
}
