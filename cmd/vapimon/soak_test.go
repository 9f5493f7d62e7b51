package main

// The reliability soak of issue 9 (not run in CI):
//
//	go test ./cmd/vapimon -run Soak -soak -v                       # 10 minutes
//	go test ./cmd/vapimon -run Soak -soak -soak-duration 2m -v      # shorter
//
// It runs the real binary (`vapimon listen --headless`) under mixed load from a dozen
// clients (transcripts, status updates, end-of-call reports, tool calls answered by your
// server, the answers file or the fallback, assistant requests, bad signatures, broken
// JSON, invalid UTF-8, slow and abandoned bodies, huge headers), forwarding some message
// types to a development server that is by turns fine, slow, down, or closing idle
// connections the moment they go idle. At random moments the test kills vapimon with
// SIGKILL and starts it again on the same address and the same tape; at the end it stops
// it with SIGTERM while requests are in flight. Then it checks the tape against what the
// clients saw and what vapimon printed:
//
//   - every acknowledged request (the client read a whole reply) is on the tape, with that
//     status and those bytes;
//   - every request vapimon received is on the tape as a request, with the bytes sent:
//     vapimon prints a headless "event" line only after the request line is written, and
//     a "reply" line only after the reply went out, so every printed event and reply must
//     be on the tape; a request line without a reply is allowed only when vapimon was
//     killed while that client waited;
//   - no request appears twice, no line on the tape names a request no client sent, and
//     no reply line is without its request;
//   - every line is valid UTF-8 JSON ending in a newline (a torn last line left by a kill,
//     or injected by the test after one, must be gone once vapimon reopens the tape), the
//     product's own reader reads the whole tape with the same counts, and the HMAC secret
//     appears nowhere.
//
// One tape for every run, as `--record FILE` gives a user who restarts vapimon: that is the
// case that needs the torn-line repair on reopen and ids unique across runs (every run's
// seq starts at 1 again), and a reader must join each reply to its own run's request.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
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
	"unicode/utf8"

	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/webhook"
	"github.com/vapimon/vapimon/webhook/webhooktest"
)

var (
	soakRun      = flag.Bool("soak", false, "run TestSoak: mixed load against the real binary with random kill -9 (see soak_test.go)")
	soakDuration = flag.Duration("soak-duration", 10*time.Minute, "how long TestSoak sends load")
	soakSeed     = flag.Uint64("soak-seed", 0, "random seed of TestSoak (0: from the clock; the seed is logged)")
	soakWorkers  = flag.Int("soak-workers", 12, "concurrent clients in TestSoak")
)

const (
	soakPathPrefix = "/vapi/webhook?soak="
	soakToolTO     = 6 * time.Second // --tool-timeout of the soak's vapimon
)

// soakReq is one request a client made and what it saw.
type soakReq struct {
	n        int
	kind     string
	path     string
	bodyHash [32]byte
	hasBody  bool // a POST whose whole body vapimon should record
	// mayFail marks a fault the client causes itself (a body cut off, headers too large):
	// getting no reply is not vapimon's failure.
	mayFail bool
	// budget is Vapi's wait for the reply (0 when Vapi does not wait).
	budget time.Duration
	// toolCalls are the ids of a tool-calls message: the reply needs a result for each.
	toolCalls []string
	// badReply says what is wrong with an acknowledged reply ("" when nothing).
	badReply string

	start, end time.Time
	// idleSince is when the kept-alive connection the request went out on was last used
	// (zero for a new connection): a kill after that means it led to a dead process.
	idleSince time.Time
	wrote     bool // the whole request reached the socket
	refused   bool // connection refused: vapimon was down, nothing sent
	acked     bool // a whole reply was read
	status    int
	replyHash [32]byte
	fallback  string // X-Vapimon-Fallback of the reply
	err       string
}

// window is a span of time during which vapimon was going down: from the signal to the
// process's exit.
type window struct{ from, to time.Time }

func (w window) overlaps(r *soakReq) bool { return !w.from.After(r.end) && !w.to.Before(r.start) }

// stale says r went out on a kept-alive connection to the run this kill ended: the client
// took it from its pool after the kill, before it noticed the connection was dead.
func (w window) stale(r *soakReq) bool {
	return !r.idleSince.IsZero() && !w.from.Before(r.idleSince) && !w.from.After(r.start)
}

// soakGen is one run of the vapimon binary.
type soakGen struct {
	n       int
	cmd     *exec.Cmd
	started time.Time
	exited  chan struct{}
	waitErr error

	stderr webhooktest.Buffer

	mu      sync.Mutex
	events  map[uint64]string // seq → path, from "event" lines
	replies []uint64          // seqs of "reply" lines
	badOut  int               // stdout lines that are not JSON
	lines   int
}

func (g *soakGen) stderrText() string {
	return g.stderr.String()
}

type soak struct {
	t       *testing.T
	dir     string
	tape    string
	answers string
	secret  string
	addr    string
	dev     *devServer
	seed    uint64

	kills atomic.Int64
	next  atomic.Int64 // request counter

	mu     sync.Mutex
	reqs   []*soakReq
	gens   []*soakGen
	cur    *soakGen
	kills9 []window // every kill -9, from the signal to the exit
	stop   window   // the final SIGTERM

	// figures
	serveAfterStart []time.Duration
	serveAfterKill  []time.Duration
	tornFound       int // torn last lines a kill left
	tornInjected    int // torn last lines the test appended after a kill
	repairedSaid    int // runs whose stderr said the tape was repaired
	restartFailures int

	bodies map[string][]byte // fixture bodies by name, compacted
}

func TestSoak(t *testing.T) {
	if !*soakRun {
		t.Skip("soak test: run with -soak (10 minutes of mixed load with random kill -9; -soak-duration to change)")
	}
	seed := *soakSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("soak: seed %d (-soak-seed %d to repeat the choices), %s, %d clients", seed, seed, *soakDuration, *soakWorkers)

	dir := t.TempDir()
	s := &soak{
		t:       t,
		dir:     dir,
		tape:    filepath.Join(dir, "soak.jsonl"),
		answers: filepath.Join(dir, "answers.yaml"),
		secret:  "soak-secret-" + strconv.FormatUint(seed, 36),
		seed:    seed,
		bodies:  map[string][]byte{},
	}
	if err := os.WriteFile(s.answers, []byte(soakAnswers), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"status-update", "end-of-call-report", "conversation-update", "speech-update", "assistant-request"} {
		recs := loadFixture(t, name)
		s.bodies[name] = recs[0].Body
	}
	s.dev = newDevServer(t, rand.New(rand.NewPCG(seed, 1)))
	s.addr = webhooktest.FreeAddr(t)

	g, err := s.launch()
	if err != nil {
		t.Fatal(err)
	}
	s.cur = g
	if _, err := s.probeUntilServed(rand.New(rand.NewPCG(seed, 2))); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), *soakDuration)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.dev.cycle(ctx) }()
	chaosDone := make(chan error, 1)
	go func() { chaosDone <- s.chaos(ctx, rand.New(rand.NewPCG(seed, 3))) }()
	for w := 0; w < *soakWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.worker(ctx, w, rand.New(rand.NewPCG(seed, uint64(100+w))))
		}()
	}
	chaosErr := <-chaosDone // returns once the last run has been stopped (or failed)
	wg.Wait()
	s.dev.close()
	if chaosErr != nil {
		t.Fatal(chaosErr)
	}
	s.check()
}

// soakAnswers answers three of the four tools the clients call; check_stock is left to
// your server and, when it fails, the fallback.
const soakAnswers = `tools:
  get_weather: "Paris: 18C, light rain"
  book_table: {error: "fully booked"}
  lookup_order:
    - when: {orderId: "A123"}
      result: "Order A123 shipped yesterday."
    - result: "No order {{orderId}}."
replies:
  assistant-request: {assistantId: "5a6b2c1d-0000-4000-8000-000000000001"}
`

// launch starts one run of vapimon on s.addr, appending to s.tape.
func (s *soak) launch() (*soakGen, error) {
	s.mu.Lock()
	g := &soakGen{n: len(s.gens) + 1, exited: make(chan struct{}), events: map[uint64]string{}}
	s.gens = append(s.gens, g)
	s.mu.Unlock()
	dev := s.dev.url()
	args := []string{"listen", "--headless", "--addr", s.addr, "--record", s.tape, "--answers", s.answers,
		"--auth", "hmac", "--hmac-preset", "x-vapi-signature", "--secret", s.secret,
		"--tool-timeout", soakToolTO.String(), "--log-file", filepath.Join(s.dir, "vapimon.log"),
		"--forward-to", "tool-calls=" + dev + "/tools",
		"--forward-to", "assistant-request=" + dev + "/assistant",
		"--forward-to", "status-update=" + dev + "/status",
		"--forward-to", "end-of-call-report=" + dev + "/report",
	}
	home := filepath.Join(s.dir, "home")
	g.cmd = exec.Command(vapimonBin, args...)
	g.cmd.Env = testEnv(home, filepath.Join(home, "state"))
	g.cmd.Dir = s.dir
	g.cmd.Stderr = &g.stderr
	stdout, err := g.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	g.started = time.Now()
	if err := g.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start vapimon: %w", err)
	}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		r := bufio.NewReaderSize(stdout, 1<<20)
		for {
			b, err := r.ReadBytes('\n')
			if len(b) > 0 {
				g.addLine(b)
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		<-readDone
		err := g.cmd.Wait()
		g.mu.Lock()
		g.waitErr = err
		g.mu.Unlock()
		close(g.exited)
	}()
	s.t.Cleanup(func() {
		select {
		case <-g.exited:
		default:
			_ = g.cmd.Process.Kill()
			<-g.exited
		}
	})
	return g, nil
}

// addLine notes what one headless line says about the tape.
func (g *soakGen) addLine(b []byte) {
	var l struct {
		Kind string `json:"kind"`
		Seq  uint64 `json:"seq"`
		Path string `json:"path"`
	}
	complete := bytes.HasSuffix(b, []byte("\n"))
	err := json.Unmarshal(b, &l)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.lines++
	if err != nil {
		if complete { // a line cut by kill -9 is not a bad line
			g.badOut++
		}
		return
	}
	switch l.Kind {
	case "event":
		g.events[l.Seq] = l.Path
	case "reply":
		g.replies = append(g.replies, l.Seq)
	}
}

// chaos kills the running vapimon at random moments and starts it again, until ctx ends;
// then it stops the last run with SIGTERM and waits for it.
func (s *soak) chaos(ctx context.Context, rng *rand.Rand) error {
	for {
		// Mostly seconds apart; one kill in five soon after a restart, to hit start-up.
		wait := time.Duration(2000+rng.IntN(23000)) * time.Millisecond
		if rng.IntN(5) == 0 {
			wait = time.Duration(50+rng.IntN(950)) * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return s.finalStop()
		case <-time.After(wait):
		}
		g := s.current()
		s.kills.Add(1)
		killedAt := time.Now()
		if err := g.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			return fmt.Errorf("kill -9 run %d: %w", g.n, err)
		}
		<-g.exited
		s.mu.Lock()
		s.kills9 = append(s.kills9, window{killedAt, time.Now()})
		s.mu.Unlock()
		torn, err := s.tornTail()
		if err != nil {
			return err
		}
		if !torn && rng.IntN(4) == 0 {
			// A kill rarely lands inside a write: make the crash mid-write happen.
			if err := s.injectTornTail(rng); err != nil {
				return err
			}
			torn = true
		}
		if rng.IntN(3) == 0 { // sometimes a pause before the restart: clients are refused
			time.Sleep(time.Duration(rng.IntN(800)) * time.Millisecond) // down time, not synchronisation
		}
		var ng *soakGen
		for attempt := 0; ; attempt++ {
			ng, err = s.launch()
			if err != nil {
				return err
			}
			served, perr := s.probeUntilServed(rng)
			if perr == nil {
				s.mu.Lock()
				s.serveAfterStart = append(s.serveAfterStart, served.Sub(ng.started))
				s.serveAfterKill = append(s.serveAfterKill, served.Sub(killedAt))
				s.mu.Unlock()
				break
			}
			s.mu.Lock()
			s.restartFailures++
			s.mu.Unlock()
			_ = ng.cmd.Process.Kill()
			<-ng.exited
			if attempt >= 2 {
				return fmt.Errorf("run %d does not serve after %d attempts: %v\nstderr:\n%s", ng.n, attempt+1, perr, ng.stderrText())
			}
		}
		if torn {
			if strings.Contains(ng.stderrText(), "ended in a torn line") {
				s.mu.Lock()
				s.repairedSaid++
				s.mu.Unlock()
			}
		}
	}
}

func (s *soak) current() *soakGen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// finalStop stops the last run as a person would, while clients still have requests in
// flight: every one of them must be answered and on the tape, and the exit is 0.
func (s *soak) finalStop() error {
	g := s.current()
	at := time.Now()
	if err := g.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("SIGTERM: %w", err)
	}
	select {
	case <-g.exited:
	case <-time.After(30 * time.Second):
		return fmt.Errorf("the last run did not exit within 30s of SIGTERM\nstderr:\n%s", g.stderrText())
	}
	s.mu.Lock()
	s.stop = window{at, time.Now()}
	s.mu.Unlock()
	if g.waitErr != nil {
		return fmt.Errorf("the last run exited with %v after SIGTERM, want 0\nstderr:\n%s", g.waitErr, g.stderrText())
	}
	if !strings.Contains(g.stderrText(), "vapimon: tape saved: ") {
		return fmt.Errorf("the last run did not say the tape was saved\nstderr:\n%s", g.stderrText())
	}
	return nil
}

// tornTail reports whether the tape ends in an unterminated line.
func (s *soak) tornTail() (bool, error) {
	f, err := os.Open(s.tape)
	if err != nil {
		return false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return false, err
	}
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, st.Size()-1); err != nil {
		return false, err
	}
	if b[0] != '\n' {
		s.mu.Lock()
		s.tornFound++
		s.mu.Unlock()
		return true, nil
	}
	return false, nil
}

// injectTornTail appends the first part of the tape's last line again, without its end:
// what a crash in the middle of a write leaves.
func (s *soak) injectTornTail(rng *rand.Rand) error {
	f, err := os.OpenFile(s.tape, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	b := make([]byte, min(st.Size(), 4<<20))
	if _, err := f.ReadAt(b, st.Size()-int64(len(b))); err != nil {
		return err
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	i := bytes.LastIndexByte(b, '\n')
	last := b[i+1:]
	if (i < 0 && int64(len(b)+1) < st.Size()) || len(last) < 4 {
		return nil // the last line is longer than what was read, or too short to tear
	}
	frag := last[:1+rng.IntN(len(last)-2)] // never the whole line: an unbalanced object
	if _, err := f.Write(frag); err != nil {
		return err
	}
	s.mu.Lock()
	s.tornInjected++
	s.mu.Unlock()
	return nil
}

// probeUntilServed posts a transcript every few milliseconds until one is answered, and
// makes the run that answered it current. The probes are requests like any other.
func (s *soak) probeUntilServed(rng *rand.Rand) (time.Time, error) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		r := s.do(client, "probe", rng)
		if r.acked && r.status == 200 {
			s.mu.Lock()
			s.cur = s.gens[len(s.gens)-1]
			s.mu.Unlock()
			return r.end, nil
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not synchronisation
	}
	return time.Time{}, errors.New("no reply to a probe within 20s")
}

// worker sends requests one after the other until ctx ends. Even workers keep their
// connections alive, odd ones open one per request. A quarter of the workers are chatty:
// informational messages only (transcripts, speech and status updates), as fast as they
// are acknowledged, the traffic of many calls at once.
func (s *soak) worker(ctx context.Context, w int, rng *rand.Rand) {
	client := &http.Client{
		Timeout:       40 * time.Second,
		Transport:     &http.Transport{DisableKeepAlives: w%2 == 1, MaxIdleConnsPerHost: 4},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	chatty := w%4 == 3
	for ctx.Err() == nil {
		kind := pickKind(rng)
		if chatty {
			kind = []string{"transcript", "transcript", "transcript", "speech-update", "status-update", "conversation-update"}[rng.IntN(6)]
		}
		r := s.do(client, kind, rng)
		if r.refused {
			time.Sleep(time.Duration(5+rng.IntN(20)) * time.Millisecond) // vapimon is down: back off
			continue
		}
		think := 25
		if chatty {
			think = 5
		}
		time.Sleep(time.Duration(rng.IntN(think)) * time.Millisecond) // think time
	}
}

var soakKinds = []struct {
	name   string
	weight int
}{
	{"transcript", 22}, {"transcript-bad-utf8", 3}, {"speech-update", 6}, {"conversation-update", 6},
	{"status-update", 8}, {"end-of-call-report", 4}, {"end-of-call-report-big", 1},
	{"tool-calls", 24}, {"assistant-request", 5}, {"unknown-type", 1},
	{"bad-signature", 5}, {"broken-json", 3}, {"slow-body", 3}, {"slow-body-408", 1}, {"abandoned-body", 1},
	{"huge-header", 1}, {"get", 1},
}

func pickKind(rng *rand.Rand) string {
	total := 0
	for _, k := range soakKinds {
		total += k.weight
	}
	n := rng.IntN(total)
	for _, k := range soakKinds {
		if n < k.weight {
			return k.name
		}
		n -= k.weight
	}
	return "transcript"
}

var soakSpeech = []string{
	"Hi! What's the weather like in Paris today?",
	"Could you check on my order A123?",
	"Je voudrais réserver une table pour quatre personnes 🍷",
	"\u202eevil bidi override\u202c and \u001b[31mred\u001b[0m and a bell \u0007",
	"שלום, אני רוצה להזמין שולחן",
	`quotes "inside" and a backslash \ and <html> & friends`,
	"un très long silence… " + strings.Repeat("euh ", 40),
}

// build returns the request for kind: method, body (signed unless the kind says not) and
// what the client should expect.
func (s *soak) build(r *soakReq, rng *rand.Rand) (method string, body []byte, headers map[string]string) {
	callID := fmt.Sprintf("5c0a%04x-%04x-4000-8000-%012x", rng.IntN(1<<16), rng.IntN(1<<16), r.n)
	headers = map[string]string{"Content-Type": "application/json"}
	method = http.MethodPost
	fixture := func(name string) []byte {
		b := s.bodies[name]
		msg, err := webhook.Parse(b)
		if err == nil && msg.Call.ID != "" {
			b = bytes.ReplaceAll(b, []byte(msg.Call.ID), []byte(callID))
		}
		return b
	}
	switch r.kind {
	case "probe", "transcript", "slow-body", "slow-body-408", "abandoned-body":
		text, _ := json.Marshal(soakSpeech[rng.IntN(len(soakSpeech))])
		body = fmt.Appendf(nil, `{"message":{"type":"transcript","timestamp":%d,"role":"user","transcriptType":"final","transcript":%s,"call":{"id":%q}}}`,
			time.Now().UnixMilli(), text, callID)
	case "transcript-bad-utf8":
		// Raw bytes that are not UTF-8 inside a JSON string (an interpreted literal: the
		// bytes, not their escapes); encoding/json reads them, so vapimon must take them.
		body = fmt.Appendf(nil, "{\"message\":{\"type\":\"transcript\",\"timestamp\":%d,\"role\":\"user\",\"transcriptType\":\"partial\",\"transcript\":\"caf\xe9 au lait \xff\xfe and \xc3\",\"call\":{\"id\":%q}}}",
			time.Now().UnixMilli(), callID)
	case "speech-update", "conversation-update", "status-update", "end-of-call-report":
		body = fixture(r.kind)
	case "end-of-call-report-big":
		b := fixture("end-of-call-report")
		pad, _ := json.Marshal(strings.Repeat("AI: How can I help?\nUser: Tell me a long story. ", 2000+rng.IntN(8000)))
		body = append(fmt.Appendf(nil, `{"message":{"padding":%s,`, pad), bytes.TrimPrefix(b, []byte(`{"message":{`))...)
	case "assistant-request":
		body = fixture("assistant-request")
		r.budget = 7500 * time.Millisecond
	case "tool-calls":
		body, r.budget, r.toolCalls = soakToolCalls(callID, r.n, rng)
	case "unknown-type":
		body = fmt.Appendf(nil, `{"message":{"type":"soak.something-new","timestamp":%d,"call":{"id":%q}}}`, time.Now().UnixMilli(), callID)
	case "bad-signature":
		body = fixture("status-update")
	case "broken-json":
		b := fixture("speech-update")
		body = b[:len(b)/2]
	case "huge-header":
		body = fixture("speech-update")
		headers["X-Padding"] = strings.Repeat("p", 70<<10)
	case "get":
		method, body = http.MethodGet, nil
		delete(headers, "Content-Type")
	}
	key := s.secret
	if r.kind == "bad-signature" {
		key = "not-the-secret"
	}
	if body != nil {
		m := hmac.New(sha256.New, []byte(key))
		m.Write(body)
		headers["X-Vapi-Signature"] = hex.EncodeToString(m.Sum(nil))
	}
	return method, body, headers
}

// soakToolCalls is a tool-calls message as Vapi sends it (the three lists, same ids) with
// one to three calls, each tool with its own server.timeoutSeconds (or none, or one vapimon
// must not use). It returns the body, Vapi's wait and the calls' ids.
func soakToolCalls(callID string, n int, rng *rand.Rand) ([]byte, time.Duration, []string) {
	tools := []string{"get_weather", "lookup_order", "book_table", "check_stock"}
	args := map[string]string{"get_weather": `{"location":"Paris"}`, "lookup_order": `{"orderId":"B%d"}`, "book_table": `{"partySize":4}`, "check_stock": `{"sku":"X%d"}`}
	k := 1 + rng.IntN(3)
	var toolCalls, list, with, ids []string
	budget := time.Duration(0)
	for i := range k {
		name := tools[rng.IntN(len(tools))]
		a := args[name]
		if strings.Contains(a, "%d") {
			a = fmt.Sprintf(a, n)
		}
		id := fmt.Sprintf("call_soak%d_%d", n, i)
		ids = append(ids, id)
		var timeout string
		var secs time.Duration
		switch p := rng.IntN(10); {
		case p < 5:
			secs = time.Duration(2+rng.IntN(4)) * time.Second
			timeout = fmt.Sprintf(`,"timeoutSeconds":%d`, secs/time.Second)
		case p < 7:
			secs = 9 * time.Second
			timeout = `,"timeoutSeconds":9`
		case p < 8:
			timeout = []string{`,"timeoutSeconds":"4"`, `,"timeoutSeconds":0`, `,"timeoutSeconds":301`, `,"timeoutSeconds":-3`}[rng.IntN(4)]
		}
		if secs > 0 && (budget == 0 || secs < budget) {
			budget = secs
		}
		aj, _ := json.Marshal(a)
		toolCalls = append(toolCalls, fmt.Sprintf(`{"id":%q,"type":"function","function":{"name":%q,"arguments":%s}}`, id, name, aj))
		list = append(list, fmt.Sprintf(`{"id":%q,"type":"function","function":{"name":%q,"arguments":%s}}`, id, name, a))
		with = append(with, fmt.Sprintf(`{"type":"function","async":false,"function":{"name":%q},"server":{"url":"https://example.ngrok.app/tools"%s},"messages":[],"toolCall":{"id":%q,"type":"function","function":{"name":%q,"arguments":%s}}}`,
			name, timeout, id, name, a))
	}
	if budget == 0 {
		budget = soakToolTO // no usable timeout in the payload: --tool-timeout
	}
	body := fmt.Appendf(nil, `{"message":{"type":"tool-calls","timestamp":%d,"call":{"id":%q},"toolCalls":[%s],"toolCallList":[%s],"toolWithToolCallList":[%s]}}`,
		time.Now().UnixMilli(), callID, strings.Join(toolCalls, ","), strings.Join(list, ","), strings.Join(with, ","))
	return body, budget, ids
}

// freshClient opens a connection per request.
var freshClient = &http.Client{Timeout: 40 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// do sends one request of kind and records what happened.
func (s *soak) do(client *http.Client, kind string, rng *rand.Rand) *soakReq {
	r := &soakReq{n: int(s.next.Add(1)), kind: kind}
	r.path = soakPathPrefix + strconv.Itoa(r.n)
	method, body, headers := s.build(r, rng)
	r.bodyHash = sha256.Sum256(body)
	r.hasBody = body != nil
	switch kind {
	case "slow-body-408", "abandoned-body", "huge-header":
		r.mayFail = true
		r.hasBody = false // never read whole by vapimon
	}
	r.start = time.Now()
	switch kind {
	case "slow-body", "slow-body-408", "abandoned-body":
		s.doRaw(r, body, headers, rng)
	case "huge-header":
		// On a kept-alive connection net/http lets headers somewhat past MaxHeaderBytes
		// through (70 KiB was accepted after a first request): a new connection for these.
		s.doHTTP(freshClient, r, method, body, headers)
	default:
		s.doHTTP(client, r, method, body, headers)
	}
	r.end = time.Now()
	s.mu.Lock()
	s.reqs = append(s.reqs, r)
	s.mu.Unlock()
	return r
}

func (s *soak) doHTTP(client *http.Client, r *soakReq, method string, body []byte, headers map[string]string) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+s.addr+r.path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	var wrote atomic.Bool
	var idleSince atomic.Int64
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) { wrote.Store(i.Err == nil) },
		GotConn: func(i httptrace.GotConnInfo) {
			if i.Reused {
				idleSince.Store(time.Now().Add(-i.IdleTime).UnixNano())
			}
		},
	}))
	resp, err := client.Do(req)
	r.wrote = wrote.Load()
	if n := idleSince.Load(); n != 0 {
		r.idleSince = time.Unix(0, n)
	}
	if err != nil {
		r.err = err.Error()
		r.refused = errors.Is(err, syscall.ECONNREFUSED) && !r.wrote
		return
	}
	r.noteReply(resp)
}

// soakStatuses are the statuses each kind may get; 201 where vapimon passes on the dev
// server's 201.
var soakStatuses = map[string][]int{
	"probe": {200}, "transcript": {200}, "transcript-bad-utf8": {200}, "speech-update": {200},
	"conversation-update": {200}, "unknown-type": {200}, "slow-body": {200},
	"status-update": {200, 201}, "end-of-call-report": {200, 201}, "end-of-call-report-big": {200, 201},
	"tool-calls": {200, 201}, "assistant-request": {200, 201},
	"bad-signature": {401}, "broken-json": {400}, "get": {405}, "slow-body-408": {408}, "huge-header": {431},
}

// judgeSoakReply says what is wrong with a whole reply: a status the kind should not get,
// or a tool-calls reply without a result for every call.
func judgeSoakReply(r *soakReq, body []byte) string {
	if !slices.Contains(soakStatuses[r.kind], r.status) {
		return fmt.Sprintf("HTTP %d, want %v: %.200s", r.status, soakStatuses[r.kind], body)
	}
	if r.kind != "tool-calls" {
		return ""
	}
	var reply struct {
		Results []struct {
			ToolCallID string  `json:"toolCallId"`
			Result     *string `json:"result"`
			Error      *string `json:"error"`
		} `json:"results"`
	}
	if err := json.Unmarshal(body, &reply); err != nil {
		return fmt.Sprintf("tool-calls reply is not JSON: %v: %.200s", err, body)
	}
	got := map[string]bool{}
	for _, res := range reply.Results {
		got[res.ToolCallID] = res.Result != nil || res.Error != nil
	}
	for _, id := range r.toolCalls {
		if !got[id] {
			return fmt.Sprintf("tool-calls reply has no result for %s: %.300s", id, body)
		}
	}
	return ""
}

// doRaw sends a POST over a raw connection: the body in pieces over about a second
// (slow-body, answered), or half of it and then nothing for 4.5 s (slow-body-408: vapimon
// must give up at 3 s), or half of it and a hang-up (abandoned-body).
func (s *soak) doRaw(r *soakReq, body []byte, headers map[string]string, rng *rand.Rand) {
	c, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
	if err != nil {
		r.err = err.Error()
		r.refused = errors.Is(err, syscall.ECONNREFUSED)
		return
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	var head strings.Builder
	fmt.Fprintf(&head, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", r.path, s.addr, len(body))
	for k, v := range headers {
		fmt.Fprintf(&head, "%s: %s\r\n", k, v)
	}
	head.WriteString("\r\n")
	if _, err := io.WriteString(c, head.String()); err != nil {
		r.err = err.Error()
		return
	}
	half := len(body) / 2
	switch r.kind {
	case "slow-body":
		pieces := 4 + rng.IntN(6)
		step := (len(body) + pieces - 1) / pieces
		for off := 0; off < len(body); off += step {
			time.Sleep(time.Duration(50+rng.IntN(150)) * time.Millisecond) // the slow sender's pace
			if _, err := c.Write(body[off:min(off+step, len(body))]); err != nil {
				r.err = err.Error()
				return
			}
		}
		r.wrote = true
	case "slow-body-408":
		if _, err := c.Write(body[:half]); err != nil {
			r.err = err.Error()
			return
		}
		time.Sleep(4500 * time.Millisecond) // the stall vapimon must cut at 3 s
	case "abandoned-body":
		_, _ = c.Write(body[:half])
		r.err = "abandoned by the client"
		return
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		r.err = "reading the reply: " + err.Error()
		return
	}
	r.noteReply(resp)
}

// tapeReq is a request as the tape holds it.
type tapeReq struct {
	line      int
	id        string
	kind      string // "request" or "" (a whole record)
	bodyHash  [32]byte
	hasBody   bool
	status    int // the request's own status (rejections)
	hasReply  bool
	replyStat int
	replyHash [32]byte
	fallback  string
}

type tapeLine struct {
	V          int             `json:"v"`
	Kind       string          `json:"kind"`
	ID         string          `json:"id"`
	Path       string          `json:"path"`
	Status     int             `json:"status"`
	Header     http.Header     `json:"header"`
	Body       *string         `json:"body"`
	BodyBase64 []byte          `json:"bodyBase64"`
	JSON       json.RawMessage `json:"json"`
	Reply      *struct {
		Status     int         `json:"status"`
		Header     http.Header `json:"header"`
		Body       *string     `json:"body"`
		BodyBase64 []byte      `json:"bodyBase64"`
		JSON       json.RawMessage
	} `json:"reply"`
}

func bodyOf(s *string, b64 []byte, raw json.RawMessage) ([]byte, bool) {
	switch {
	case s != nil:
		return []byte(*s), true
	case b64 != nil:
		return b64, true
	case raw != nil:
		return raw, true
	}
	return nil, false
}

// check compares the tape with what the clients and vapimon's output said.
func (s *soak) check() {
	t := s.t
	var fails []string
	fail := func(format string, args ...any) {
		fails = append(fails, fmt.Sprintf(format, args...))
	}

	// 1. Every line, raw.
	f, err := os.Open(s.tape)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	byPath := map[string]*tapeReq{}
	byID := map[string]*tapeReq{}
	rd := bufio.NewReaderSize(f, 1<<20)
	var nLines, badLines, dupPaths, phantoms, orphanReplies, dupReplies, secretLeaks, sigLeaks int
	for {
		b, err := rd.ReadBytes('\n')
		if len(b) == 0 && err != nil {
			break
		}
		nLines++
		if !bytes.HasSuffix(b, []byte("\n")) {
			badLines++
			fail("line %d: the tape ends in a torn line after a clean exit (%d bytes)", nLines, len(b))
			break
		}
		b = b[:len(b)-1]
		if !utf8.Valid(b) || !json.Valid(b) {
			badLines++
			if badLines <= 5 {
				fail("line %d is not valid UTF-8 JSON: %.200q", nLines, b)
			}
			continue
		}
		if bytes.Contains(b, []byte(s.secret)) {
			secretLeaks++
		}
		var l tapeLine
		if err := json.Unmarshal(b, &l); err != nil {
			badLines++
			fail("line %d: %v", nLines, err)
			continue
		}
		for k, vs := range l.Header {
			if strings.EqualFold(k, "X-Vapi-Signature") && !slices.Equal(vs, []string{"[redacted]"}) {
				sigLeaks++
			}
		}
		if l.Kind == "reply" {
			tr := byID[l.ID]
			switch {
			case tr == nil:
				orphanReplies++
				fail("line %d: reply %s has no request line before it", nLines, l.ID)
				continue
			case tr.hasReply:
				dupReplies++
				fail("line %d: a second reply for %s", nLines, l.ID)
				continue
			}
			rb, _ := bodyOf(l.Reply.Body, l.Reply.BodyBase64, l.Reply.JSON)
			tr.hasReply, tr.replyStat, tr.replyHash = true, l.Reply.Status, sha256.Sum256(rb)
			tr.fallback = l.Reply.Header.Get(webhook.HeaderFallback)
			continue
		}
		if !strings.HasPrefix(l.Path, soakPathPrefix) {
			phantoms++
			fail("line %d: a request no client sent: path %q", nLines, l.Path)
			continue
		}
		if byPath[l.Path] != nil {
			dupPaths++
			fail("line %d: %s is on the tape twice (first on line %d)", nLines, l.Path, byPath[l.Path].line)
			continue
		}
		tr := &tapeReq{line: nLines, id: l.ID, kind: l.Kind, status: l.Status}
		body, ok := bodyOf(l.Body, l.BodyBase64, l.JSON)
		tr.hasBody, tr.bodyHash = ok, sha256.Sum256(body)
		if l.Reply != nil {
			rb, _ := bodyOf(l.Reply.Body, l.Reply.BodyBase64, l.Reply.JSON)
			tr.hasReply, tr.replyStat, tr.replyHash = true, l.Reply.Status, sha256.Sum256(rb)
			tr.fallback = l.Reply.Header.Get(webhook.HeaderFallback)
		}
		byPath[l.Path] = tr
		if l.ID != "" {
			if byID[l.ID] != nil {
				fail("line %d: id %s used twice", nLines, l.ID)
			}
			byID[l.ID] = tr
		}
	}
	if secretLeaks > 0 || sigLeaks > 0 {
		fail("the HMAC secret is on %d tape lines, an unredacted signature on %d", secretLeaks, sigLeaks)
	}

	// 2. The product's own reader agrees.
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	tr := fixtures.NewTapeReader(bufio.NewReaderSize(f, 1<<20))
	var readRecs, readNoReply int
	for {
		rec, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fail("vapimon's tape reader stops at record %d: %v", readRecs+1, err)
			break
		}
		readRecs++
		if rec.NoReply {
			readNoReply++
		}
	}
	if w := tr.Warnings(); len(w) > 0 {
		fail("vapimon's tape reader warns: %s", strings.Join(w[:min(len(w), 5)], "; "))
	}

	// 3. Every client request against the tape.
	s.mu.Lock()
	reqs := slices.Clone(s.reqs)
	gens := slices.Clone(s.gens)
	kills, stop := slices.Clone(s.kills9), s.stop
	s.mu.Unlock()
	var sent, wroteWhole, acked, refusedDown, onTape, repliesOnTape, noReply, noReplyKilled, lostByKill, mayFailNoReply, stopRefused, staleConn int
	var fallbacks, late int
	why := map[string]int{} // X-Vapimon-Fallback values
	var maxLate time.Duration
	seen := map[string]*soakReq{}
	for _, r := range reqs {
		seen[r.path] = r
		if r.refused {
			refusedDown++
			if byPath[r.path] != nil {
				fail("%s (%s): refused to the client, yet on the tape", r.path, r.kind)
			}
			continue
		}
		sent++
		if r.wrote {
			wroteWhole++
		}
		killed, stale := false, false
		for _, k := range kills {
			killed = killed || k.overlaps(r)
			stale = stale || k.stale(r)
		}
		stopped := stop.overlaps(r)
		tp := byPath[r.path]
		if tp != nil {
			onTape++
			if tp.hasReply {
				repliesOnTape++
			}
			switch {
			case r.hasBody && tp.hasBody && tp.bodyHash != r.bodyHash:
				fail("%s (%s): the body on the tape (line %d) is not the body sent", r.path, r.kind, tp.line)
			case r.hasBody && !tp.hasBody && tp.status == 0:
				fail("%s (%s): accepted, but the tape (line %d) has no body", r.path, r.kind, tp.line)
			}
		}
		if r.acked {
			acked++
			if r.badReply != "" {
				fail("%s (%s): %s", r.path, r.kind, r.badReply)
			}
			if r.fallback != "" {
				fallbacks++
				why[r.fallback]++
			}
			if r.budget > 0 && r.end.Sub(r.start) > r.budget {
				late++
				maxLate = max(maxLate, r.end.Sub(r.start)-r.budget)
			}
			switch {
			case tp == nil:
				fail("%s (%s): acknowledged %d, not on the tape", r.path, r.kind, r.status)
			case !tp.hasReply:
				fail("%s (%s): acknowledged %d, the tape has no reply (line %d)", r.path, r.kind, r.status, tp.line)
			case tp.replyStat != r.status || tp.replyHash != r.replyHash:
				fail("%s (%s): acknowledged %d, the tape's reply (line %d) is %d with other bytes (same bytes: %v)", r.path, r.kind, r.status, tp.line, tp.replyStat, tp.replyHash == r.replyHash)
			case tp.fallback != r.fallback:
				fail("%s (%s): the client saw X-Vapimon-Fallback %q, the tape %q", r.path, r.kind, r.fallback, tp.fallback)
			}
			continue
		}
		// No reply reached the client.
		switch {
		case tp != nil && !tp.hasReply:
			noReply++
			if killed {
				noReplyKilled++
			} else {
				fail("%s (%s): on the tape with no reply recorded (line %d), and vapimon was not killed while it waited (%s)", r.path, r.kind, tp.line, r.err)
			}
		case killed:
			if r.wrote && tp == nil {
				lostByKill++ // sent whole, but vapimon died before reading it
			}
		case stale && tp == nil:
			staleConn++ // sent to a run already killed: nothing received it
		case r.mayFail:
			mayFailNoReply++
		case stopped && tp == nil:
			stopRefused++ // a kept-alive connection closed by the shutdown before vapimon read the request
		default:
			fail("%s (%s): no reply and no kill while it waited: %s", r.path, r.kind, r.err)
		}
	}
	// Tape lines with no client (paths are unique and have the prefix by now).
	for p, tp := range byPath {
		if seen[p] == nil {
			fail("line %d: %s is on the tape but no client sent it", tp.line, p)
		}
	}

	// 4. What each run printed is on the tape.
	var printedEvents, printedReplies int
	for _, g := range gens {
		g.mu.Lock()
		for seq, p := range g.events {
			printedEvents++
			if byPath[p] == nil {
				fail("run %d printed event #%d (%s) but it is not on the tape", g.n, seq, p)
			}
		}
		for _, seq := range g.replies {
			printedReplies++
			p, ok := g.events[seq]
			if !ok {
				continue // its event line was dropped from the output or the reply is for a rejection
			}
			if tp := byPath[p]; tp == nil || !tp.hasReply {
				fail("run %d printed the reply to #%d (%s) but the tape has no reply for it", g.n, seq, p)
			}
		}
		if g.badOut > 0 {
			fail("run %d printed %d stdout lines that are not JSON", g.n, g.badOut)
		}
		g.mu.Unlock()
	}

	if readRecs != len(byPath) {
		fail("vapimon's tape reader gives %d records, the tape has %d requests", readRecs, len(byPath))
	}
	if want := len(byPath) - countReplied(byPath); readNoReply != want {
		fail("vapimon's tape reader marks %d records no reply recorded, the tape has %d requests without reply", readNoReply, want)
	}

	s.mu.Lock()
	kinds := map[string]map[string]int{} // kind → outcome → count
	for _, r := range reqs {
		if kinds[r.kind] == nil {
			kinds[r.kind] = map[string]int{}
		}
		if byPath[r.path] != nil {
			kinds[r.kind]["taped"]++
		}
		switch {
		case r.refused:
			kinds[r.kind]["down"]++
		case r.acked:
			kinds[r.kind][strconv.Itoa(r.status)]++
		default:
			kinds[r.kind]["none"]++
		}
	}
	var mix []string
	for _, k := range soakKinds {
		mix = append(mix, fmt.Sprintf("%s %v", k.name, kinds[k.name]))
	}
	t.Logf("soak figures (%s, seed %d, %d clients, tape %.0f MB in %d lines, %d runs):", *soakDuration, s.seed, *soakWorkers, float64(st.Size())/(1<<20), nLines, len(gens))
	t.Logf("  requests sent                 %d (%d written whole; %d more refused while vapimon was down)", sent, wroteWhole, refusedDown)
	t.Logf("  acknowledged (whole reply)    %d (%d answered in place of the dev server: X-Vapimon-Fallback)", acked, fallbacks)
	t.Logf("  answered in place of the dev server, by why: %v", why)
	t.Logf("  on tape                       %d requests; replies on tape %d", onTape, repliesOnTape)
	t.Logf("  no reply recorded             %d (%d of them killed while waiting)", noReply, noReplyKilled)
	t.Logf("  sent whole, killed unread     %d; on a kept-alive connection to a killed run %d; client faults with no reply %d; closed by the final SIGTERM unread %d", lostByKill, staleConn, mayFailNoReply, stopRefused)
	t.Logf("  kills (kill -9)               %d; restarts that failed %d", s.kills.Load(), s.restartFailures)
	t.Logf("  torn last lines               %d left by kills, %d injected; repair announced on %d restarts", s.tornFound, s.tornInjected, s.repairedSaid)
	t.Logf("  time to serve after restart   max %s, median %s (from exec); max %s from the kill", maxDur(s.serveAfterStart), medianDur(s.serveAfterStart), maxDur(s.serveAfterKill))
	t.Logf("  replies after Vapi's deadline %d (worst by %s)", late, maxLate.Round(time.Millisecond))
	t.Logf("  printed by vapimon            %d events, %d replies (all checked against the tape)", printedEvents, printedReplies)
	t.Logf("  vapimon's tape reader         %d records, %d no reply recorded", readRecs, readNoReply)
	t.Logf("  dev server                    %s", s.dev.summary())
	t.Logf("  mix (kind: status → count; none = no reply, down = refused, taped = on the tape) %s; probe %v", strings.Join(mix, "; "), kinds["probe"])
	t.Logf("  tape lines invalid %d, duplicate requests %d, phantom %d, orphan replies %d, second replies %d", badLines, dupPaths, phantoms, orphanReplies, dupReplies)
	s.mu.Unlock()
	for i, f := range fails {
		if i == 30 {
			t.Errorf("... and %d more", len(fails)-30)
			break
		}
		t.Error(f)
	}
	if len(fails) > 0 {
		keep := filepath.Join(os.TempDir(), fmt.Sprintf("vapimon-soak-%d.jsonl", s.seed))
		if err := os.Rename(s.tape, keep); err == nil {
			t.Logf("the tape is kept in %s", keep)
		}
	}
}

func countReplied(m map[string]*tapeReq) int {
	n := 0
	for _, tr := range m {
		if tr.hasReply {
			n++
		}
	}
	return n
}

func maxDur(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return slices.Max(ds).Round(time.Millisecond)
}

func medianDur(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2].Round(time.Millisecond)
}

// devServer is the developer's own server that vapimon forwards to: by turns fine, slow,
// down, or closing connections as soon as they go idle (Node's keep-alive timeout, made
// as hostile as it gets). Its replies are mostly right, sometimes a 201, sometimes a
// 500, sometimes a tool result for the wrong call.
type devServer struct {
	t    *testing.T
	addr string
	rng  *rand.Rand

	mu       sync.Mutex
	mode     string
	srv      *http.Server
	serveErr chan error
	modeTime map[string]time.Duration
	since    time.Time
	hits     map[string]int
}

func newDevServer(t *testing.T, rng *rand.Rand) *devServer {
	d := &devServer{t: t, addr: webhooktest.FreeAddr(t), rng: rng, mode: "ok", modeTime: map[string]time.Duration{}, since: time.Now(), hits: map[string]int{}}
	if err := d.up(); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d *devServer) url() string { return "http://" + d.addr }

// up starts serving on d.addr (called with d.mu held, or before any use).
func (d *devServer) up() error {
	var ln net.Listener
	var err error
	for range 50 { // the port was just ours; a moment may pass before it is free again
		if ln, err = net.Listen("tcp", d.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond) // retry interval
	}
	if err != nil {
		return fmt.Errorf("dev server: listen again on %s: %w", d.addr, err)
	}
	srv := &http.Server{
		Handler:     http.HandlerFunc(d.serve),
		IdleTimeout: 5 * time.Second, // Node's default keep-alive timeout
		ConnState: func(c net.Conn, st http.ConnState) {
			if st != http.StateIdle {
				return
			}
			d.mu.Lock()
			hostile := d.mode == "idle-close"
			delay := time.Duration(d.rng.IntN(20)) * time.Millisecond
			d.mu.Unlock()
			if hostile {
				time.AfterFunc(delay, func() { c.Close() })
			}
		},
	}
	d.srv = srv
	d.serveErr = make(chan error, 1)
	go func() { d.serveErr <- srv.Serve(ln) }()
	return nil
}

// cycle changes the mode every few seconds until ctx ends.
func (d *devServer) cycle(ctx context.Context) {
	for {
		d.mu.Lock()
		wait := time.Duration(2000+d.rng.IntN(10000)) * time.Millisecond
		d.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		d.mu.Lock()
		modes := []string{"ok", "ok", "ok", "slow", "slow", "down", "idle-close", "idle-close"}
		next := modes[d.rng.IntN(len(modes))]
		d.modeTime[d.mode] += time.Since(d.since)
		d.since = time.Now()
		prev := d.mode
		d.mode = next
		switch {
		case next == "down" && prev != "down":
			_ = d.srv.Close()
			<-d.serveErr
		case next != "down" && prev == "down":
			if err := d.up(); err != nil {
				d.t.Error(err)
				d.mode = "down"
			}
		}
		d.mu.Unlock()
	}
}

func (d *devServer) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.modeTime[d.mode] += time.Since(d.since)
	d.since = time.Now()
	if d.mode != "down" {
		_ = d.srv.Close()
		<-d.serveErr
		d.mode = "down"
	}
}

func (d *devServer) summary() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var parts []string
	for _, m := range []string{"ok", "slow", "down", "idle-close"} {
		parts = append(parts, fmt.Sprintf("%s %s", m, d.modeTime[m].Round(time.Second)))
	}
	return fmt.Sprintf("%s; %d requests (%v)", strings.Join(parts, ", "), d.hits["total"], d.hits)
}

func (d *devServer) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	d.mu.Lock()
	slow := d.mode == "slow"
	delay := time.Duration(200+d.rng.IntN(5800)) * time.Millisecond
	roll := d.rng.IntN(100)
	d.hits["total"]++
	d.mu.Unlock()
	if slow {
		select {
		case <-time.After(delay): // the slow server's pace
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	status := http.StatusOK
	if roll >= 97 {
		status = http.StatusInternalServerError
	} else if roll >= 93 {
		status = http.StatusCreated
	}
	var reply []byte
	switch r.URL.Path {
	case "/tools":
		msg, err := webhook.Parse(body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var res []webhook.ToolResult
		for _, tc := range msg.ToolCalls {
			id := tc.ID
			if roll >= 89 && roll < 93 {
				id = "call_wrong" // a result for the wrong call: unusable
			}
			res = append(res, webhook.ToolResult{ToolCallID: id, Name: tc.Name, Result: "dev server: " + tc.Name + " done"})
		}
		reply = webhook.ToolCallsReply(res)
	case "/assistant":
		reply = []byte(`{"assistantId":"5a6b2c1d-0000-4000-8000-000000000002"}`)
	default:
		reply = []byte(`{"success":true}`)
	}
	if status == http.StatusInternalServerError {
		reply = []byte(`{"error":"boom"}`)
	}
	w.WriteHeader(status)
	_, _ = w.Write(reply)
	d.mu.Lock()
	d.hits[r.URL.Path]++
	d.mu.Unlock()
}

// noteReply reads the reply to r and notes what it was: status, body hash, fallback and
// whether Vapi could use it.
func (r *soakReq) noteReply(resp *http.Response) {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.err = "reading the reply: " + err.Error()
		return
	}
	r.acked, r.status, r.replyHash = true, resp.StatusCode, sha256.Sum256(b)
	r.fallback = resp.Header.Get(webhook.HeaderFallback)
	r.badReply = judgeSoakReply(r, b)
}
