package listen

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/vapimon/vapimon/webhook"
)

// frame20ms is one 20 ms frame of 16 kHz stereo speech-like audio, as Vapi sends.
var frame20ms = tone(20*time.Millisecond, [2]float64{0.3, 0.2}, 0)

// BenchmarkAudioPath measures what one listened call costs per 20 ms frame: the analysis
// (levels, speech, gaps) and the WAV write, against a baseline of copying the frame, in
// the same run. "%core" is the share of one core a call streaming in real time takes
// (the target: below 2% at 16 kHz stereo).
func BenchmarkAudioPath(b *testing.B) {
	sink := make([]byte, len(frame20ms))
	baseline := measure(func(n int) {
		for i := 0; i < n; i++ {
			copy(sink, frame20ms)
		}
	})
	dir := b.TempDir()
	bus := webhook.NewBus()
	m := NewManager(Config{Dir: dir, TapePath: filepath.Join(dir, "t.jsonl"), Bus: bus})
	s := &session{m: m, c: &call{id: "bench"}}
	s.setFormat(DefaultFormat)
	defer s.closeRecording()
	b.ReportAllocs()
	b.SetBytes(int64(len(frame20ms)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.audio(frame20ms)
	}
	b.StopTimer()
	perFrame := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(perFrame/float64((20*time.Millisecond).Nanoseconds())*100, "%core")
	b.ReportMetric(1e9/perFrame, "frames/s")
	b.ReportMetric(perFrame/baseline, "x-copy")
}

// BenchmarkListenStream measures frames through the whole path, a WebSocket on loopback
// included (a fake listen server writing as fast as it can), against the same server's
// frames read by a bare coder/websocket reader, in the same run.
func BenchmarkListenStream(b *testing.B) {
	const frames = 5000
	serve := func(tb testing.TB) *fakeListen {
		f := newFakeListen(tb)
		f.script = func(ctx context.Context, c *websocket.Conn, n int) {
			for i := 0; i < frames; i++ {
				if c.Write(ctx, websocket.MessageBinary, frame20ms) != nil {
					return
				}
			}
			_ = c.Close(websocket.StatusNormalClosure, "")
		}
		tb.Cleanup(f.srv.Close)
		return f
	}
	f := serve(b)
	bare := measure(func(n int) {
		for i := 0; i < n; i++ {
			c, _, err := websocket.Dial(context.Background(), f.url("x"), nil)
			if err != nil {
				b.Fatal(err)
			}
			for {
				if _, _, err := c.Read(context.Background()); err != nil {
					break
				}
			}
		}
	})
	dir := b.TempDir()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bus := webhook.NewBus()
		m := NewManager(Config{All: true, Dir: dir, TapePath: filepath.Join(dir, "t"+itoa(i)+".jsonl"), Bus: bus})
		sub := bus.Subscribe(1 << 16)
		ev := bus.Subscribe(16)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); m.Run(ctx, ev) }()
		bus.Publish(event("c", webhook.TypeStatusUpdate, f.url("c"), false))
		for v := range sub {
			if u, ok := v.(Update); ok && (u.State == StateEnded || u.State == StateFailed) {
				if u.Bytes != frames*int64(len(frame20ms)) {
					b.Fatalf("heard %d bytes: %s", u.Bytes, u.Note)
				}
				break
			}
		}
		cancel()
		<-done
	}
	b.StopTimer()
	perRun := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(frames/(perRun/1e9), "frames/s")
	// A call streams one frame per 20 ms: the share of a core one call takes, the fake
	// server's writing included (so an upper bound).
	b.ReportMetric(perRun/frames/float64((20*time.Millisecond).Nanoseconds())*100, "%core/call")
	b.ReportMetric(perRun/bare, "x-bare-reader")
}

// measure returns the nanoseconds per iteration of f(n), for a baseline measured in the
// same run (testing.Benchmark cannot be called from inside a benchmark): n doubles until
// a run takes 200 ms.
func measure(f func(n int)) float64 {
	for n := 1; ; n *= 2 {
		start := time.Now()
		f(n)
		if d := time.Since(start); d >= 200*time.Millisecond || n >= 1<<30 {
			return float64(d.Nanoseconds()) / float64(n)
		}
	}
}
