package webhook_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/webhook"
)

const benchBody = `{"message":{"type":"tool-calls","timestamp":1760000006200,"call":{"id":"7420f27a-30fd-4f49-a995-5549ae7cc00d","orgId":"0b1c9e2a-1111-4000-8000-000000000000","type":"inboundPhoneCall","customer":{"number":"+14155550123"}},"toolCallList":[{"id":"call_VaJOd8ZeZgWCEHDYomyCPfwN","type":"function","function":{"name":"get_weather","arguments":{"location":"Paris"}}}],"toolWithToolCallList":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}},"server":{"url":"https://abc.ngrok.app/vapi"},"messages":[],"async":false,"toolCall":{"id":"call_VaJOd8ZeZgWCEHDYomyCPfwN","type":"function","function":{"name":"get_weather","arguments":{"location":"Paris"}}}}]}}`

const benchReply = `{"results":[{"toolCallId":"call_VaJOd8ZeZgWCEHDYomyCPfwN","name":"get_weather","result":"Paris: 18C, light rain"}]}`

// bareHandler is the baseline: read the same body, write a fixed reply.
func bareHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(benchReply))
	})
}

// vapimonHandler is the full path: HMAC verification, parsing, canned answer, recording to a
// tape on disk, publishing on a bus that a subscriber drains.
func vapimonHandler(b *testing.B) (http.Handler, webhook.AuthConfig, func()) {
	b.Helper()
	auth := webhook.AuthConfig{Mode: webhook.AuthHMAC, Secrets: []string{"bench-secret"}}
	v, err := webhook.NewVerifier(auth)
	if err != nil {
		b.Fatal(err)
	}
	tape, err := fixtures.OpenTape(filepath.Join(b.TempDir(), "bench.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	set, err := webhook.ParseAnswers([]byte("tools:\n  get_weather: \"Paris: 18C, light rain\"\n"))
	if err != nil {
		b.Fatal(err)
	}
	ans := webhook.NewAnswers(set)
	bus := webhook.NewBus()
	sub := bus.Subscribe(4096)
	done := make(chan struct{})
	go func() {
		for range sub {
		}
		close(done)
	}()
	h := webhook.NewHandler(webhook.Config{Verifier: v, Responders: []webhook.Responder{ans}, Recorder: tape, Bus: bus})
	return h, v.Config(), func() { bus.Close(); <-done; _ = tape.Close() }
}

func post(b *testing.B, c *http.Client, url string, auth *webhook.AuthConfig) {
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte(benchBody)))
	req.Header.Set("Content-Type", "application/json")
	if auth != nil {
		if err := webhook.Sign(*auth, http.MethodPost, url, req.Header, []byte(benchBody), time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || len(body) == 0 {
		b.Fatalf("HTTP %d %s", resp.StatusCode, body)
	}
}

func median(d []time.Duration) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}

// BenchmarkHandlerLatency sends b.N sequential requests to the bare handler and b.N to
// vapimon's handler over loopback, interleaved, and reports both medians and their ratio.
// The client signs both (the bare handler ignores it) so the client's work is the same.
func BenchmarkHandlerLatency(b *testing.B) {
	h, auth, stop := vapimonHandler(b)
	defer stop()
	bare := httptest.NewServer(bareHandler())
	defer bare.Close()
	vm := httptest.NewServer(h)
	defer vm.Close()
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	for i := 0; i < 200; i++ { // warm connections and caches
		post(b, c, bare.URL, &auth)
		post(b, c, vm.URL, &auth)
	}
	bareT := make([]time.Duration, 0, b.N)
	vmT := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		post(b, c, bare.URL, &auth)
		t1 := time.Now()
		post(b, c, vm.URL, &auth)
		t2 := time.Now()
		bareT = append(bareT, t1.Sub(t0))
		vmT = append(vmT, t2.Sub(t1))
	}
	b.StopTimer()
	mb, mv := median(bareT), median(vmT)
	b.ReportMetric(float64(mb.Microseconds()), "bare-p50-µs")
	b.ReportMetric(float64(mv.Microseconds()), "vapimon-p50-µs")
	b.ReportMetric(float64(mv)/float64(mb), "p50-ratio")
}

// BenchmarkHandlerThroughput drives each handler with 32 concurrent clients for b.N
// requests and reports replies per second; recording to the tape is on.
func BenchmarkHandlerThroughput(b *testing.B) {
	h, auth, stop := vapimonHandler(b)
	defer stop()
	for _, tc := range []struct {
		name string
		h    http.Handler
	}{{"bare", bareHandler()}, {"vapimon", h}} {
		b.Run(tc.name, func(b *testing.B) {
			srv := httptest.NewServer(tc.h)
			defer srv.Close()
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for w := 0; w < 32; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= int64(b.N) {
						post(b, c, srv.URL, &auth)
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "replies/s")
		})
	}
}

// BenchmarkServeHTTP is the handler's own work per request, without the network: verify,
// parse, canned answer, tape write, publish; allocations per request are the figure to
// watch (they are what the garbage collector pays for under load).
//
//	go test ./webhook -run '^$' -bench ServeHTTP -benchmem
func BenchmarkServeHTTP(b *testing.B) {
	h, auth, stop := vapimonHandler(b)
	defer stop()
	body := []byte(benchBody)
	hdr := http.Header{"Content-Type": {"application/json"}}
	if err := webhook.Sign(auth, http.MethodPost, "http://example.com/vapi", hdr, body, time.Now()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "http://example.com/vapi", bytes.NewReader(body))
		for k, v := range hdr {
			req.Header[k] = v
		}
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, req)
		if rr.Code != 200 {
			b.Fatalf("HTTP %d %s", rr.Code, rr.Body)
		}
	}
}

// BenchmarkHandlerLatencyParts says where the handler's latency goes: sequential requests
// over loopback, interleaved, to the bare handler and to the handler with its parts added
// one by one (secret check, answers file, tape), reporting each one's p50.
//
//	go test ./webhook -run '^$' -bench HandlerLatencyParts -benchtime 5000x -count 3
func BenchmarkHandlerLatencyParts(b *testing.B) {
	auth := webhook.AuthConfig{Mode: webhook.AuthSecret, Secrets: []string{"bench-secret"}}
	v, _ := webhook.NewVerifier(auth)
	set, _ := webhook.ParseAnswers([]byte("tools:\n  get_weather: \"Paris: 18C, light rain\"\n"))
	tape, _ := fixtures.OpenTape(filepath.Join(b.TempDir(), "bench.jsonl"))
	defer tape.Close()
	mk := func(ver, rec, ans bool) http.Handler {
		cfg := webhook.Config{}
		if ver {
			cfg.Verifier = v
		}
		if rec {
			cfg.Recorder = tape
		}
		if ans {
			cfg.Responders = []webhook.Responder{webhook.NewAnswers(set)}
		}
		return webhook.NewHandler(cfg)
	}
	servers := []struct {
		name string
		h    http.Handler
	}{
		{"bare", bareHandler()},
		{"handler-none", mk(false, false, false)},
		{"+verify", mk(true, false, false)},
		{"+answers", mk(true, false, true)},
		{"+tape", mk(true, true, true)},
	}
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	urls := make([]string, len(servers))
	for i, s := range servers {
		srv := httptest.NewServer(s.h)
		defer srv.Close()
		urls[i] = srv.URL
		for range 200 {
			post(b, c, urls[i], &auth)
		}
	}
	ts := make([][]time.Duration, len(servers))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range servers {
			t0 := time.Now()
			post(b, c, urls[j], &auth)
			ts[j] = append(ts[j], time.Since(t0))
		}
	}
	b.StopTimer()
	for j, s := range servers {
		b.ReportMetric(float64(median(ts[j]).Microseconds()), s.name+"-µs")
	}
}
