package listen

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// A recording plays in step with the replay's clock: its meter moves, the turn gaps are
// measured again from the audio (the same as live), and the player hears it at 1× only.
func TestReplayRecordingInStep(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "t.c.wav")
	w, err := CreateWAV(path, DefaultFormat)
	if err != nil {
		t.Fatal(err)
	}
	pcm := script(seg{time.Second, caller}, seg{600 * time.Millisecond, quiet}, seg{500 * time.Millisecond, assistant}, seg{500 * time.Millisecond, quiet})
	_, _ = w.Write(pcm)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	for _, speed := range []float64{1, 4} {
		got := filepath.Join(dir, "played.pcm")
		_ = os.Remove(got)
		pl := NewPlayer(PlayerCommand("cat > " + got))
		m, _, sub := run(t, Config{Player: pl, PlayAll: true})
		var ticks atomic.Int64
		clock := func() (time.Time, bool, float64) {
			// Each tick the replay moves 100 ms of recorded time: deterministic, whatever
			// the machine's speed.
			return start.Add(time.Duration(ticks.Add(1)) * 100 * time.Millisecond), false, speed
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			m.Replay(context.Background(), []Recording{{CallID: "c", File: path, Start: start}}, clock)
		}()
		u := watch(t, sub, ended)
		<-done
		if len(u.Levels.Latencies) != 1 || u.Levels.Latencies[0] != 600*time.Millisecond || !u.Replayed {
			t.Errorf("speed %g: gaps %v (replayed %v), want [600ms]", speed, u.Levels.Latencies, u.Replayed)
		}
		m.Close()
		b, _ := os.ReadFile(got)
		switch {
		case speed == 1 && len(b) != len(pcm):
			t.Errorf("at 1× the player got %d bytes of %d", len(b), len(pcm))
		case speed != 1 && len(b) != 0:
			t.Errorf("at %g× the player got %d bytes: want none", speed, len(b))
		}
	}
}
