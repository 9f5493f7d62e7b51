package main

// TestLoadExternal measures vapimon from outside, as Vapi and the developer's server see
// it: the real binary, a load generator in a process of its own, and the baselines (a bare
// net/http handler; httputil.ReverseProxy in front of it) also in processes of their own,
// all over loopback. Rounds alternate between the targets so that a noisy machine slows
// them alike; the figures are medians of rounds, reported as ratios against the baselines
// of the same run. Not in CI (it takes a few minutes and wants a quiet machine):
//
//	go test ./cmd/vapimon -run TestLoadExternal -load -v
//
// The helper processes are this test binary again, in the role VAPIMON_LOAD_ROLE names
// (see runLoadRole): "bare", "proxy" or "gen".

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vapimon/vapimon/fixtures/tapetest"
	"github.com/vapimon/vapimon/webhook/webhooktest"
)

var (
	loadRounds  = flag.Int("load.rounds", 5, "TestLoadExternal: rounds per target (medians are reported)")
	loadLatN    = flag.Int("load.latn", 2000, "TestLoadExternal: requests per latency round (1 client)")
	loadThrDur  = flag.Duration("load.thrdur", 2*time.Second, "TestLoadExternal: length of a throughput round (8 clients)")
	loadClients = flag.Int("load.clients", 8, "TestLoadExternal: clients of a throughput round")
	loadExtra   = flag.Bool("load.extra", false, "TestLoadExternal: also measure the handler without a tape and without the secret check (where the time goes)")
	loadPprof   = flag.String("load.pprof", "", "TestLoadExternal: write a CPU profile of each vapimon process into this directory (NAME.prof)")
	loadEnv     = flag.String("load.env", "", "TestLoadExternal: comma-separated KEY=VALUE pairs added to the vapimon processes' environment (GOGC=200, GOMAXPROCS=1...), for experiments")
	loadOnly    = flag.String("load.only", "", "TestLoadExternal: measure only the vapimon targets whose name contains one of these comma-separated words (handler, relay, TUI...); the baselines are always measured")
)

const loadSecret = "load-test-secret-0123456789"

// loadToolCalls is a tool-calls message as Vapi sends it (one call, the three lists).
const loadToolCalls = `{"message":{"timestamp":1764460800000,"type":"tool-calls","toolCalls":[{"id":"call_load_1","type":"function","function":{"name":"get_weather","arguments":{"city":"Paris"}}}],"toolCallList":[{"id":"call_load_1","type":"function","function":{"name":"get_weather","arguments":{"city":"Paris"}}}],"toolWithToolCallList":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}},"toolCall":{"id":"call_load_1","type":"function","function":{"name":"get_weather","arguments":{"city":"Paris"}}}}],"call":{"id":"9f6c0b8e-load-4e1a-9d55-000000000001","orgId":"org-load","type":"inboundPhoneCall","status":"in-progress"},"customer":{"number":"+14155550123"},"assistant":{"name":"Load"}}}`

// loadReply is what the bare server answers: the same result vapimon's answers file gives.
const loadReply = `{"results":[{"toolCallId":"call_load_1","result":"Paris: 18C, light rain"}]}`

// runLoadRole runs this binary as one of TestLoadExternal's helper processes.
func runLoadRole(role string) int {
	addr := os.Getenv("VAPIMON_LOAD_ADDR")
	switch role {
	case "bare":
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, loadReply)
		})
		return serveRole(addr, h)
	case "proxy":
		target, err := url.Parse(os.Getenv("VAPIMON_LOAD_TARGET"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		p := httputil.NewSingleHostReverseProxy(target)
		// A proxy configured for the load: as many idle connections as clients, so that
		// it is not slowed by DefaultTransport's 2 idle connections per host.
		p.Transport = &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second}
		return serveRole(addr, p)
	case "gen":
		res, err := generate(os.Getenv("VAPIMON_LOAD_URL"), atoi(os.Getenv("VAPIMON_LOAD_CLIENTS")), atoi(os.Getenv("VAPIMON_LOAD_N")), parseDur(os.Getenv("VAPIMON_LOAD_DUR")))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		json.NewEncoder(os.Stdout).Encode(res)
		return 0
	}
	fmt.Fprintln(os.Stderr, "unknown VAPIMON_LOAD_ROLE", role)
	return 2
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func parseDur(s string) time.Duration { d, _ := time.ParseDuration(s); return d }

func serveRole(addr string, h http.Handler) int {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// genResult is one round of load: the median latency (1 client) or the replies per
// second (several clients).
type genResult struct {
	P50    time.Duration `json:"p50"`
	P90    time.Duration `json:"p90"`
	RPS    float64       `json:"rps"`
	N      int           `json:"n"`
	Errors int           `json:"errors"`
}

// generate posts loadToolCalls to target: n requests one after another (clients == 1), or
// for d with that many clients. A reply that is not 200 with the tool's result counts as
// an error.
func generate(target string, clients, n int, d time.Duration) (genResult, error) {
	tr := &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second}
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	body := []byte(loadToolCalls)
	var errs atomic.Int64
	one := func() time.Duration {
		req, _ := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Vapi-Secret", loadSecret)
		start := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			errs.Add(1)
			return 0
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if resp.StatusCode != 200 || !bytes.Contains(b, []byte(`"toolCallId":"call_load_1"`)) {
			errs.Add(1)
		}
		return took
	}
	for range 200 { // warm up: connections, caches, the reply check's schemas
		one()
	}
	errs.Store(0)
	if clients <= 1 {
		lat := make([]time.Duration, 0, n)
		for range n {
			lat = append(lat, one())
		}
		slices.Sort(lat)
		return genResult{P50: lat[len(lat)/2], P90: lat[len(lat)*9/10], N: n, Errors: int(errs.Load())}, nil
	}
	var done atomic.Int64
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for time.Now().Before(stop) {
				one()
				done.Add(1)
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	ok := done.Load() - errs.Load()
	return genResult{RPS: float64(ok) / took.Seconds(), N: int(done.Load()), Errors: int(errs.Load())}, nil
}

// loadTarget is one server under load.
type loadTarget struct {
	name string
	url  string
	pid  int // the server's process, for its CPU time
	lat  []time.Duration
	rps  []float64
	cpu  []float64 // server CPU (user+system) per reply in the throughput rounds, µs
	gen  []float64 // the load generator's CPU per reply, µs
	// term is the terminal's (the tmux server's) process, for a TUI target: it draws what
	// the TUI writes, on the same cores. termCPU is its CPU per reply, µs.
	term    int
	termCPU []float64
}

// procCPU is the CPU time (user+system, all threads) process pid has used so far, read
// from /proc/PID/stat; ok is false where there is no /proc.
func procCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name (field 2) is in parentheses and may hold spaces: count from after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, false
	}
	const clkTck = 100 // USER_HZ: 100 on every Linux architecture Go supports
	return time.Duration(utime+stime) * time.Second / clkTck, true
}

func median[T int64 | float64 | time.Duration](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func TestLoadExternal(t *testing.T) {
	if !*tapeLoad {
		t.Skip("external load benchmark: run with -load (go test ./cmd/vapimon -run TestLoadExternal -load -v)")
	}
	if tapetest.RaceEnabled() {
		t.Skip("the load benchmark measures the binary without -race: run it without -race")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	answers := filepath.Join(dir, "answers.yaml")
	if err := os.WriteFile(answers, []byte("tools:\n  get_weather: \"Paris: 18C, light rain\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	role := func(name string, env ...string) (string, int) {
		addr := webhooktest.FreeAddr(t)
		cmd := exec.Command(self, "-test.run=^$")
		cmd.Env = append(os.Environ(), append(env, "VAPIMON_LOAD_ROLE="+name, "VAPIMON_LOAD_ADDR="+addr)...)
		cmd.Stderr = os.Stderr
		startProc(t, cmd)
		waitServing(t, "http://"+addr+"/")
		return "http://" + addr, cmd.Process.Pid
	}
	bare, barePid := role("bare")
	proxy, proxyPid := role("proxy", "VAPIMON_LOAD_TARGET="+bare)

	wanted := func(name string) bool {
		if *loadOnly == "" {
			return true
		}
		for _, w := range strings.Split(*loadOnly, ",") {
			if w = strings.TrimSpace(w); w != "" && strings.Contains(name, w) {
				return true
			}
		}
		return false
	}
	vapimon := func(name, display string, tuiMode bool, args ...string) *loadTarget {
		if !wanted(display) {
			return nil
		}
		addr := webhooktest.FreeAddr(t)
		home, state := filepath.Join(dir, name, "home"), filepath.Join(dir, name, "state")
		os.MkdirAll(home, 0o700)
		os.MkdirAll(state, 0o700)
		args = append([]string{"listen", "--addr", addr, "--secret", loadSecret}, args...)
		env := testEnv(home, state)
		if *loadEnv != "" {
			env = append(env, strings.Split(*loadEnv, ",")...)
		}
		if *loadPprof != "" {
			env = append(env, "VAPIMON_CPUPROFILE="+filepath.Join(*loadPprof, strings.ReplaceAll(name, " ", "_")+".prof"))
		}
		var pid, term int
		if tuiMode {
			pid = startTUI(t, name, env, args)
			if out, err := exec.Command("tmux", "display-message", "-p", "#{pid}").Output(); err == nil {
				term, _ = strconv.Atoi(strings.TrimSpace(string(out)))
			}
		} else {
			cmd := exec.Command(vapimonBin, append(args, "--headless")...)
			cmd.Env = env
			startProc(t, cmd) // stdout to /dev/null, as the setup
			pid = cmd.Process.Pid
		}
		waitServing(t, "http://"+addr+"/vapi")
		return &loadTarget{name: display, url: "http://" + addr + "/vapi", pid: pid, term: term}
	}
	targets := []*loadTarget{
		{name: "bare", url: bare + "/vapi", pid: barePid},
		vapimon("handler", "handler (headless)", false, "--answers", answers),
		{name: "ReverseProxy", url: proxy + "/vapi", pid: proxyPid},
		vapimon("relay", "relay (headless)", false, "--forward-to", bare),
	}
	if *loadExtra {
		targets = append(targets,
			vapimon("handler-notape", "handler, no tape", false, "--answers", answers, "--no-record"),
			vapimon("handler-bare", "handler, no tape/ans", false, "--no-record"),
			vapimon("relay-notape", "relay, no tape", false, "--forward-to", bare, "--no-record"))
	}
	if _, err := exec.LookPath("tmux"); err == nil {
		targets = append(targets,
			vapimon("handler-tui", "handler (TUI)", true, "--answers", answers),
			vapimon("relay-tui", "relay (TUI)", true, "--forward-to", bare))
	} else {
		t.Log("no tmux: the TUI mode is not measured")
	}

	targets = slices.DeleteFunc(targets, func(tg *loadTarget) bool { return tg == nil })

	gen := func(url string, clients int) (genResult, time.Duration) {
		cmd := exec.Command(self, "-test.run=^$")
		cmd.Env = append(os.Environ(), "VAPIMON_LOAD_ROLE=gen", "VAPIMON_LOAD_URL="+url,
			"VAPIMON_LOAD_CLIENTS="+strconv.Itoa(clients), "VAPIMON_LOAD_N="+strconv.Itoa(*loadLatN), "VAPIMON_LOAD_DUR="+loadThrDur.String())
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, os.Stderr
		ownSession(cmd)
		if err := cmd.Run(); err != nil {
			t.Fatalf("load generator against %s: %v", url, err)
		}
		var r genResult
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatalf("load generator output %q: %v", out.String(), err)
		}
		if r.Errors > 0 {
			t.Errorf("%s: %d of %d replies were not 200 with the tool's result", url, r.Errors, r.N)
		}
		return r, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	// cpuOf adds the server's CPU per reply over a throughput round (its warm-up requests
	// included, as they are in the round's process time) to tg.
	cpuOf := func(tg *loadTarget, before, after time.Duration, ok bool, r genResult, genCPU time.Duration) {
		if n := float64(r.N + 200); ok && r.N > 0 {
			tg.cpu = append(tg.cpu, float64(after-before)/float64(time.Microsecond)/n)
			tg.gen = append(tg.gen, float64(genCPU)/float64(time.Microsecond)/n)
		}
	}
	for round := range *loadRounds {
		for _, tg := range targets {
			r, _ := gen(tg.url, 1)
			tg.lat = append(tg.lat, r.P50)
		}
		for _, tg := range slices.Backward(targets) { // the other order, so no target always goes first
			// The tapes of the rounds before (tens of MB a round) are written back to disk
			// first: the kernel slows every writer once enough pages wait, and one target's
			// backlog must not slow the next one's round.
			syscall.Sync()
			before, ok1 := procCPU(tg.pid)
			tBefore, okT := procCPU(tg.term)
			r, genCPU := gen(tg.url, *loadClients)
			after, ok2 := procCPU(tg.pid)
			if tAfter, ok := procCPU(tg.term); tg.term > 0 && okT && ok && r.N > 0 {
				tg.termCPU = append(tg.termCPU, float64(tAfter-tBefore)/float64(time.Microsecond)/float64(r.N+200))
			}
			tg.rps = append(tg.rps, r.RPS)
			cpuOf(tg, before, after, ok1 && ok2, r, genCPU)
		}
		t.Logf("round %d of %d done", round+1, *loadRounds)
	}

	get := func(name string) *loadTarget {
		for _, tg := range targets {
			if tg.name == name {
				return tg
			}
		}
		return nil
	}
	var rep strings.Builder
	fmt.Fprintf(&rep, "\nexternal load, %d rounds, p50 of %d sequential requests, replies/s of %d clients for %s (medians of rounds):\n", *loadRounds, *loadLatN, *loadClients, *loadThrDur)
	for _, tg := range targets {
		fmt.Fprintf(&rep, "  %-20s p50 %8s   %8.0f replies/s", tg.name, median(tg.lat).Round(time.Microsecond), median(tg.rps))
		if len(tg.cpu) > 0 {
			fmt.Fprintf(&rep, "   server CPU %5.0f µs/reply   (generator %3.0f µs/reply)", median(tg.cpu), median(tg.gen))
			if len(tg.termCPU) > 0 {
				fmt.Fprintf(&rep, "   (terminal %3.0f µs/reply)", median(tg.termCPU))
			}
		}
		rep.WriteString("\n")
	}
	b, h, p, rl := get("bare"), get("handler (headless)"), get("ReverseProxy"), get("relay (headless)")
	ratio := func(a, b time.Duration) float64 { return float64(a) / float64(b) }
	added := func(x *loadTarget) time.Duration { return median(x.lat) - median(b.lat) }
	if h != nil {
		fmt.Fprintf(&rep, "handler: p50 %.2fx bare (target ≤ 1.3x); replies/s %.2fx bare (target ≥ 0.7x)\n",
			ratio(median(h.lat), median(b.lat)), median(h.rps)/median(b.rps))
	}
	if rl != nil {
		fmt.Fprintf(&rep, "relay: added p50 %s = %.2fx ReverseProxy's %s (target ≤ 1.0x); replies/s %.2fx ReverseProxy's (target ≥ 1.0x)\n",
			added(rl).Round(time.Microsecond), ratio(added(rl), added(p)), added(p).Round(time.Microsecond), median(rl.rps)/median(p.rps))
	}
	if ht := get("handler (TUI)"); ht != nil && h != nil {
		fmt.Fprintf(&rep, "TUI vs headless: handler p50 %.2fx, replies/s %.2fx (target within 1.1x)\n",
			ratio(median(ht.lat), median(h.lat)), median(h.rps)/median(ht.rps))
	}
	if rt := get("relay (TUI)"); rt != nil && rl != nil {
		fmt.Fprintf(&rep, "TUI vs headless: relay p50 %.2fx, replies/s %.2fx (target within 1.1x)\n",
			ratio(median(rt.lat), median(rl.lat)), median(rl.rps)/median(rt.rps))
	}
	if len(b.cpu) > 0 && len(p.cpu) > 0 && h != nil && rl != nil && len(h.cpu) > 0 && len(rl.cpu) > 0 {
		fmt.Fprintf(&rep, "server CPU per reply: handler %.2fx bare; relay %.2fx ReverseProxy (each process alone: the relay's excludes the server behind it)\n",
			median(h.cpu)/median(b.cpu), median(rl.cpu)/median(p.cpu))
	}
	if *loadOnly == "" {
		rep.WriteString(serveAtOnce(t, dir))
	}
	t.Log(rep.String())
}

// serveAtOnce measures the time from exec to the first served request, with
// NGROK_AUTHTOKEN set and ngrok unreachable (no network here; a bogus token where there
// is one: either way ngrok is not online), against the same without a token.
func serveAtOnce(t *testing.T, dir string) string {
	measure := func(name string, env ...string) time.Duration {
		var runs []time.Duration
		for i := range 5 {
			home, state := filepath.Join(dir, name+strconv.Itoa(i), "home"), filepath.Join(dir, name+strconv.Itoa(i), "state")
			os.MkdirAll(home, 0o700)
			os.MkdirAll(state, 0o700)
			addr := webhooktest.FreeAddr(t)
			cmd := exec.Command(vapimonBin, "listen", "--headless", "--addr", addr, "--secret", loadSecret)
			cmd.Env = testEnv(home, state, env...)
			start := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
			var took time.Duration
			for deadline := start.Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
				req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/vapi", strings.NewReader(loadToolCalls))
				req.Header.Set("X-Vapi-Secret", loadSecret)
				resp, err := c.Do(req)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode == 200 {
						took = time.Since(start)
						break
					}
				}
			}
			cmd.Process.Signal(os.Interrupt)
			cmd.Wait()
			if took == 0 {
				t.Errorf("%s: not served within 30 s of the start", name)
				took = 30 * time.Second
			}
			runs = append(runs, took)
		}
		return median(runs)
	}
	withNgrok := measure("ngrok-unreachable", "NGROK_AUTHTOKEN=2invalid_load_test_token")
	local := measure("no-token")
	return fmt.Sprintf("serve at once: exec to first served request %s with NGROK_AUTHTOKEN set and ngrok unreachable (target ≤ 200ms), %s without a token (median of 5)\n",
		withNgrok.Round(time.Millisecond), local.Round(time.Millisecond))
}

// startProc starts cmd and kills it when the test ends.
func startProc(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	ownSession(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
}

// ownSession starts cmd in a session of its own, as a process a user starts in a terminal
// or as a service of its own is: where the scheduler groups processes by session (Linux's
// autogroup, on by default), each session gets an equal share of the CPU, whatever its
// number of threads. The TUI is in a session of its own (tmux's pane); the other processes
// must be too, or the TUI's rounds would compare a process in another group with processes
// sharing one group (that alone made the TUI 1.2-1.6x slower in replies/s: a headless
// vapimon started with setsid was as slow).
func ownSession(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
}

// startTUI runs vapimon's TUI in a tmux session (a real pseudo-terminal), killed when the
// test ends, and returns its process id (the pane's: env -i execs vapimon).
func startTUI(t *testing.T, name string, env, args []string) int {
	t.Helper()
	session := "vapimon-load-" + name + "-" + strconv.Itoa(os.Getpid())
	var sb strings.Builder
	sb.WriteString("exec env -i")
	for _, kv := range env {
		sb.WriteString(" " + shellQuote(kv))
	}
	sb.WriteString(" " + shellQuote(vapimonBin))
	for _, a := range args {
		sb.WriteString(" " + shellQuote(a))
	}
	cmd := exec.Command("tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "48", sb.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("tmux", "kill-session", "-t", session).Run() })
	out, err := exec.Command("tmux", "display-message", "-p", "-t", session, "#{pane_pid}").Output()
	pid, perr := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || perr != nil {
		t.Logf("tmux pane pid of %s: %v %v: its CPU is not measured", session, err, perr)
	}
	return pid
}

// waitServing waits until url answers anything over HTTP.
func waitServing(t *testing.T, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			return
		} else if !errors.Is(err, context.DeadlineExceeded) && !isRefused(err) {
			t.Logf("waiting for %s: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not start serving", url)
}

func isRefused(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && strings.Contains(op.Err.Error(), "refused")
}
