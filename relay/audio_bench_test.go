package relay

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/vapimon/vapimon/fixtures/audiosim"
	"github.com/vapimon/vapimon/relay/listen"
)

// BenchmarkHandlerWhileListening measures the webhook handler's latency (a status-update
// through a whole Session: parse, tape, bus, reply) with no call listened, then with 20
// calls streaming 16 kHz stereo audio in real time (both sides speaking, recorded to WAVs),
// in the same run, and reports the ratio: the webhook path never waits on audio.
//
//	go test -run '^$' -bench HandlerWhileListening -benchtime 2000x ./relay/
func BenchmarkHandlerWhileListening(b *testing.B) {
	sim, err := audiosim.New(audiosim.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	cfg := testConfig(&testing.T{})
	cfg.TapePath, cfg.LogFile = b.TempDir()+"/tape.jsonl", b.TempDir()+"/vapimon.log"
	cfg.Audio = AudioConfig{All: true, LookPath: func(string) (string, error) { return "", fmt.Errorf("none") }}
	s := NewSession(cfg)
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Shutdown(nil) }()
	url := s.Status().ListenURL + "/"
	client := &http.Client{Timeout: 10 * time.Second}
	send := func(body []byte) time.Duration {
		start := time.Now()
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
		return time.Since(start)
	}
	phase := func() (mean, p50, p99 time.Duration) {
		lat := make([]time.Duration, b.N)
		var sum time.Duration
		for i := range lat {
			lat[i] = send([]byte(`{"message":{"type":"status-update","status":"in-progress","call":{"id":"plain-call"}}}`))
			sum += lat[i]
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		return sum / time.Duration(b.N), lat[len(lat)/2], lat[len(lat)*99/100]
	}
	phase() // warm up (connections, caches, the tape file) before the baseline
	b.ResetTimer()
	base, baseP50, baseP99 := phase()

	b.StopTimer()
	updates := s.Bus().Subscribe(1 << 16)
	const calls = 20
	for i := 0; i < calls; i++ {
		id := fmt.Sprintf("listened-%d", i)
		send([]byte(`{"message":{"type":"status-update","status":"in-progress","call":{"id":"` + id + `","monitor":{"listenUrl":"` + sim.ListenURL(id) + `"}}}}`))
		sim.Speak(id, "customer", time.Hour)
		sim.Speak(id, "assistant", time.Hour)
	}
	live := map[string]bool{}
	for deadline := time.After(10 * time.Second); len(live) < calls; {
		select {
		case v := <-updates:
			if u, ok := v.(listen.Update); ok && u.State == listen.StateLive && u.Frames > 0 {
				live[u.CallID] = true
			}
		case <-deadline:
			b.Fatalf("only %d of %d calls live", len(live), calls)
		}
	}
	s.Bus().Unsubscribe(updates)
	b.StartTimer()
	loaded, loadedP50, loadedP99 := phase()
	b.StopTimer()
	b.ReportMetric(float64(base.Microseconds()), "base-µs")
	b.ReportMetric(float64(loaded.Microseconds()), "listened-µs")
	b.ReportMetric(float64(loaded)/float64(base), "mean-ratio")
	b.ReportMetric(float64(loadedP50)/float64(baseP50), "p50-ratio")
	b.ReportMetric(float64(loadedP99)/float64(baseP99), "p99-ratio")
}
