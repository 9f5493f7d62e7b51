package tui

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/vapimon/vapimon/webhook"
)

// The load command (issue 4, Performance): 20,000 requests/s for 30 s through the bus into
// the real monitor, and the same load into headless mode in the same run. It is skipped
// unless asked for:
//
//	go test ./tui -run TestLoad -load -v                     # 30 s each, 20,000/s
//	go test ./tui -run TestLoad -load -load.duration 5s -v   # a quick look
var (
	loadOn   = flag.Bool("load", false, "run TestLoad: publish -load.rate requests/s for -load.duration into the TUI and into headless mode, and report how far each falls behind")
	loadFor  = flag.Duration("load.duration", 30*time.Second, "how long TestLoad publishes, for each consumer")
	loadRate = flag.Int("load.rate", 20000, "requests per second TestLoad publishes (each is an Event and its Outcome on the bus)")
)

// loadSentinel is the notice published after the load: once a consumer has taken it in,
// every value published before it has been processed or dropped.
const loadSentinel = "vapimon load test: end of load"

// lagLog records, for each request a consumer processed, how long after its publication
// that happened. One goroutine (the consumer's) writes it; it is read once the consumer
// has seen the sentinel.
type lagLog struct {
	start  time.Time
	pub    []time.Duration // publication time of request seq, from start (index seq-1)
	lags   []time.Duration
	window []time.Duration // worst lag per second of publication
	done   chan struct{}
	once   sync.Once
}

func newLagLog(n int, secs int) *lagLog {
	return &lagLog{pub: make([]time.Duration, n), lags: make([]time.Duration, 0, n), window: make([]time.Duration, secs+1), done: make(chan struct{})}
}

// seen records that request seq was processed now.
func (l *lagLog) seen(seq uint64, now time.Duration) {
	if seq == 0 || int(seq) > len(l.pub) {
		return
	}
	p := l.pub[seq-1]
	lag := now - p
	l.lags = append(l.lags, lag)
	if w := int(p / time.Second); w < len(l.window) {
		l.window[w] = max(l.window[w], lag)
	}
}

func (l *lagLog) finish() { l.once.Do(func() { close(l.done) }) }

// loadResult is what one consumer did under the load.
type loadResult struct {
	name       string
	published  int
	seen       int
	busDropped uint64 // bus values (events and outcomes) dropped
	rate       float64
	p50, p99   time.Duration
	maxLag     time.Duration
	window     []time.Duration
	batches    int   // TUI: batches applied (each followed by one View)
	outBytes   int64 // bytes written to the terminal or stdout
}

func (r loadResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-8s published %d requests (%.0f/s), processed %d, dropped %d (%.2f%%; bus values dropped %d)\n",
		r.name, r.published, r.rate, r.seen, r.published-r.seen, 100*float64(r.published-r.seen)/float64(max(r.published, 1)), r.busDropped)
	fmt.Fprintf(&b, "%-8s lag publish→processed: p50 %s, p99 %s, max %s", "", fmtLag(r.p50), fmtLag(r.p99), fmtLag(r.maxLag))
	if r.batches > 0 {
		fmt.Fprintf(&b, "; %d batches applied (one View each), %.0f values/batch", r.batches, 2*float64(r.seen)/float64(r.batches))
	}
	fmt.Fprintf(&b, "; %.1f MB written\n", float64(r.outBytes)/1e6)
	fmt.Fprintf(&b, "%-8s worst lag per second of load:", "")
	for _, w := range r.window {
		fmt.Fprintf(&b, " %s", fmtLag(w))
	}
	return b.String()
}

func fmtLag(d time.Duration) string {
	if d >= 10*time.Millisecond {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(10 * time.Microsecond).String()
}

func (l *lagLog) result(name string, published int, bus *webhook.Bus, took time.Duration) loadResult {
	r := loadResult{name: name, published: published, seen: len(l.lags), busDropped: bus.Dropped(),
		rate: float64(published) / took.Seconds(), window: l.window[:min(max(int(took/time.Second), 1), len(l.window))]}
	if len(l.lags) > 0 {
		s := slices.Clone(l.lags)
		slices.Sort(s)
		r.p50, r.p99, r.maxLag = s[len(s)/2], s[len(s)*99/100], s[len(s)-1]
	}
	return r
}

// loadTraffic builds the requests of a busy deployment: 20 live calls at a time (replaced
// by new calls every 50,000 requests), mostly transcripts, with speech updates, status
// updates and a tool call in every hundred, each followed by its outcome as the handler
// publishes it.
type loadTraffic struct {
	calls []string
	gen   int
	msgs  map[string][]*webhook.Message // per call: the message variants
	ended map[string]*webhook.Message   // per call: its end
}

const loadCalls, loadVariants = 20, 100

func newLoadTraffic() *loadTraffic {
	t := &loadTraffic{msgs: map[string][]*webhook.Message{}, ended: map[string]*webhook.Message{}}
	t.rotate()
	return t
}

func (t *loadTraffic) rotate() {
	t.gen++
	t.calls = t.calls[:0]
	clear(t.msgs)
	clear(t.ended)
	for c := range loadCalls {
		id := fmt.Sprintf("load%04d-%02d-4f49-a995-5549ae7cc00d", t.gen, c)
		t.calls = append(t.calls, id)
		call := webhook.Call{ID: id, Type: "inboundPhoneCall", Customer: webhook.Customer{Number: fmt.Sprintf("+1415555%04d", c)}}
		vs := make([]*webhook.Message, loadVariants)
		for v := range vs {
			m := &webhook.Message{Known: true, Call: call}
			switch {
			case v == 0:
				m.Type, m.Kind = webhook.TypeToolCalls, webhook.TypeToolCalls
				m.ToolCalls = []webhook.ToolCall{{ID: fmt.Sprintf("call_%d_%d", c, v), Name: "book_table", Arguments: []byte(`{"people":4,"time":"20:00"}`)}}
			case v == 1:
				m.Type, m.Kind, m.Status = webhook.TypeStatusUpdate, webhook.TypeStatusUpdate, "in-progress"
			case v%10 == 2:
				m.Type, m.Kind, m.Status, m.Role = webhook.TypeSpeechUpdate, webhook.TypeSpeechUpdate, "started", "user"
			case v%3 == 0:
				m.Type, m.Kind, m.Role, m.TranscriptType = webhook.TypeTranscript, webhook.TypeTranscript, "user", "partial"
				m.Transcript = fmt.Sprintf("I would like to book a table for %d", v)
			default:
				m = transcriptMsg(id, v)
				m.Call = call
			}
			vs[v] = m
		}
		t.msgs[id] = vs
		t.ended[id] = &webhook.Message{Known: true, Call: call, Type: webhook.TypeStatusUpdate, Kind: webhook.TypeStatusUpdate,
			Status: "ended", EndedReason: "customer-ended-call"}
	}
}

// next returns the i-th request (from 0) and its outcome.
func (t *loadTraffic) next(i int, seq uint64, at time.Time) (*webhook.Event, *webhook.Outcome) {
	if i > 0 && i%50000 == 0 {
		t.rotate()
	}
	id := t.calls[i%loadCalls]
	msg := t.msgs[id][(i/loadCalls)%loadVariants]
	if i%50000 >= 50000-loadCalls {
		msg = t.ended[id] // the generation's calls end before the next one starts
	}
	ev := &webhook.Event{Seq: seq, Received: at, Method: "POST", Path: "/vapi", Verified: true, Body: benchBody, Msg: msg}
	out := &webhook.Outcome{Seq: seq, Latency: 40 * time.Microsecond, Reply: webhook.Ack()}
	if webhook.ExpectsReply(msg.Kind) {
		ev.Deadline = at.Add(18500 * time.Millisecond)
		out.Reply = webhook.JSONReply([]byte(`{"results":[{"toolCallId":"`+msg.ToolCalls[0].ID+`","name":"book_table","result":"Booked for 4 at 20:00."}]}`), webhook.SourceAnswers)
	}
	return ev, out
}

// publishLoad publishes rate requests/s for d, then the sentinel until the consumer has it.
// It returns how many requests it published and how long that took.
func publishLoad(t *testing.T, bus *webhook.Bus, l *lagLog, rate int, d time.Duration) (int, time.Duration) {
	t.Helper()
	traffic := newLoadTraffic()
	n := int(d.Seconds() * float64(rate))
	l.start = time.Now()
	interval := time.Second / time.Duration(rate)
	for i := 0; i < n; i++ {
		due := time.Duration(i) * interval
		for time.Since(l.start) < due {
			time.Sleep(100 * time.Microsecond)
		}
		now := time.Now()
		l.pub[i] = now.Sub(l.start)
		ev, out := traffic.next(i, uint64(i+1), now)
		bus.Publish(ev)
		bus.Publish(out)
	}
	took := time.Since(l.start)
	for {
		bus.Publish(webhook.Notice{Time: time.Now(), Level: "info", Text: loadSentinel})
		select {
		case <-l.done:
			return n, took
		case <-time.After(100 * time.Millisecond):
		}
		if time.Since(l.start) > d+time.Minute {
			t.Fatal("the consumer never caught up with the load (no sentinel a minute after it ended)")
		}
	}
}

// countingWriter counts bytes; it stands for the terminal.
type countingWriter struct{ n atomic.Int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n.Add(int64(len(p))); return len(p), nil }

// headlessWriter stands for stdout in headless mode: it notes when each request's event
// line is written (the moment headless mode has processed it) and spots the sentinel.
type headlessWriter struct {
	l     *lagLog
	carry []byte
	bytes int64
}

var (
	eventLine  = []byte(`{"kind":"event"`)
	seqField   = []byte(`"seq":`)
	sentinelIn = []byte(loadSentinel)
)

func (w *headlessWriter) Write(p []byte) (int, error) {
	now := time.Since(w.l.start)
	w.bytes += int64(len(p))
	w.carry = append(w.carry, p...)
	buf := w.carry
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			break
		}
		line := buf[:i]
		buf = buf[i+1:]
		switch {
		case bytes.HasPrefix(line, eventLine):
			if j := bytes.Index(line, seqField); j >= 0 {
				rest := line[j+len(seqField):]
				k := bytes.IndexByte(rest, ',')
				if k < 0 {
					k = len(rest)
				}
				if seq, err := strconv.ParseUint(string(rest[:k]), 10, 64); err == nil {
					w.l.seen(seq, now)
				}
			}
		case bytes.Contains(line, sentinelIn):
			w.l.finish()
		}
	}
	w.carry = append(w.carry[:0], buf...)
	return len(p), nil
}

// TestLoad publishes the load into headless mode (webhook.WriteHeadless, subscribed with
// the buffer runHeadless uses) and then into the real monitor (Run's forwarder, program,
// model and renderer at 200x60, subscribed with Run's buffer), and reports for each the lag
// from publication to processing (headless: its line written out; the monitor: the batch
// applied by Update, after which the frame is drawn), the requests dropped, and the ratio.
// It asserts nothing about time (figures depend on the machine); it fails only if a
// consumer never catches up.
func TestLoad(t *testing.T) {
	if !*loadOn {
		t.Skip("load test: run with -load (and -v to see the figures); -load.duration and -load.rate adjust it")
	}
	rate, d := *loadRate, *loadFor
	n := int(d.Seconds()*float64(rate)) + 1
	secs := int(d/time.Second) + 1
	t.Logf("load: %d requests/s for %s into each consumer (GOMAXPROCS %d, %s)", rate, d, runtime.GOMAXPROCS(0), runtime.Version())

	// Headless mode, as runHeadless runs it.
	var headless loadResult
	{
		bus := webhook.NewBus()
		l := newLagLog(n, secs)
		w := &headlessWriter{l: l}
		sub := bus.Subscribe(1 << 16)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- webhook.WriteHeadless(ctx, w, sub, bus) }()
		published, took := publishLoad(t, bus, l, rate, d)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("headless: %v", err)
		}
		headless = l.result("headless", published, bus, took)
		headless.outBytes = w.bytes
	}
	runtime.GC()

	// The monitor, through Run's own machinery.
	var monitor loadResult
	{
		bus := webhook.NewBus()
		l := newLagLog(n, secs)
		m := NewModel(Options{Bus: bus, Status: webhook.Status{ListenURL: "http://127.0.0.1:4242", Tunnel: "off", Auth: "none"}}, nil)
		batches := 0
		m.applied = func(items []any) {
			now := time.Since(l.start)
			batches++
			for _, it := range items {
				switch v := it.(type) {
				case *webhook.Event:
					l.seen(v.Seq, now)
				case webhook.Notice:
					if v.Text == loadSentinel {
						l.finish()
					}
				}
			}
		}
		var out countingWriter
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, m, nil, nil, tea.WithInput(nil), tea.WithOutput(&out), tea.WithWindowSize(200, 60), tea.WithoutSignals())
		}()
		// The first frame is drawn after Run has subscribed to the bus.
		for deadline := time.Now().Add(10 * time.Second); out.n.Load() == 0; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the monitor drew nothing")
			}
		}
		published, took := publishLoad(t, bus, l, rate, d)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("monitor: %v", err)
		}
		monitor = l.result("monitor", published, bus, took)
		monitor.batches = batches
		monitor.outBytes = out.n.Load()
	}

	t.Logf("\n%s\n%s", headless, monitor)
	ratio := func(a, b time.Duration) string {
		if b <= 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.1fx", float64(a)/float64(b))
	}
	verdict := "within"
	if monitor.maxLag > time.Second {
		verdict = "OVER"
	}
	t.Logf("monitor vs headless: max lag %s vs %s (%s), p99 %s vs %s (%s), dropped %d vs %d; target: the monitor never more than 1 s behind: %s",
		fmtLag(monitor.maxLag), fmtLag(headless.maxLag), ratio(monitor.maxLag, headless.maxLag),
		fmtLag(monitor.p99), fmtLag(headless.p99), ratio(monitor.p99, headless.p99),
		monitor.published-monitor.seen, headless.published-headless.seen, verdict)
}
