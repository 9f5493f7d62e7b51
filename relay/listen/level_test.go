package listen

import (
	"testing"
	"time"
)

// script builds 16 kHz stereo PCM from segments: who is loud, for how long.
func script(segs ...seg) []byte {
	var out []byte
	phase := 0
	for _, s := range segs {
		out = append(out, tone(s.d, s.amp, phase)...)
		phase += int(s.d.Seconds() * 16000)
	}
	return out
}

type seg struct {
	d   time.Duration
	amp [2]float64
}

var (
	caller    = [2]float64{0.3, 0}
	assistant = [2]float64{0, 0.3}
	both      = [2]float64{0.3, 0.3}
	quiet     = [2]float64{0, 0}
)

// The turn gap is measured from the audio: from the caller's last loud block to the
// assistant's first, whatever the frame sizes; talking over the caller is an overlap,
// not a gap.
func TestTurnLatencyFromTheAudio(t *testing.T) {
	t.Parallel()
	pcm := script(
		seg{time.Second, caller}, seg{740 * time.Millisecond, quiet}, seg{time.Second, assistant},
		seg{500 * time.Millisecond, quiet},
		seg{time.Second, caller}, seg{1200 * time.Millisecond, quiet}, seg{500 * time.Millisecond, assistant},
		seg{time.Second, caller}, seg{400 * time.Millisecond, both}, seg{time.Second, assistant}, // barge-in
		seg{2 * time.Second, quiet},
	)
	for _, frame := range []int{640, 1280, 4000} {
		a := newAnalyzer(DefaultFormat)
		for i := 0; i < len(pcm); i += frame {
			a.write(pcm[i:min(i+frame, len(pcm))])
		}
		l := a.levels()
		want := []time.Duration{740 * time.Millisecond, 1200 * time.Millisecond}
		if len(l.Latencies) != len(want) || l.Latencies[0] != want[0] || l.Latencies[1] != want[1] {
			t.Errorf("frames of %d: latencies %v, want %v", frame, l.Latencies, want)
		}
		if l.OverlapTotal != 400*time.Millisecond {
			t.Errorf("frames of %d: overlap %v, want 400ms", frame, l.OverlapTotal)
		}
		if l.Speaking[0] || l.Speaking[1] || l.Silence < 1600*time.Millisecond {
			t.Errorf("frames of %d: at the end speaking %v, silence %v: want nobody, ~2s", frame, l.Speaking, l.Silence)
		}
	}
}

// Levels: a full-scale sine is about -3 dBFS, silence the floor.
func TestLevels(t *testing.T) {
	t.Parallel()
	a := newAnalyzer(DefaultFormat)
	a.write(tone(100*time.Millisecond, [2]float64{1, 0}, 0))
	l := a.levels()
	if l.DB[0] < -3.2 || l.DB[0] > -2.8 || l.DB[1] != floorDB {
		t.Errorf("levels %v", l.DB)
	}
	if !l.Speaking[0] || l.Speaking[1] {
		t.Errorf("speaking %v", l.Speaking)
	}
}
