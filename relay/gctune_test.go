package relay

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
)

func TestGCPercent(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, gcMaxPercent},
		{1 << 20, gcMaxPercent}, // 1 MiB live: 3100% would do, capped
		{4 << 20, 700},          // 4 MiB live may grow to 32 MiB
		{8 << 20, 300},
		{16 << 20, 100},
		{200 << 20, 100}, // a large heap: Go's default
	} {
		if got := gcPercent(tc.live); got != tc.want {
			t.Errorf("gcPercent(%d MiB) = %d, want %d", tc.live>>20, got, tc.want)
		}
	}
}

// TestTuneGC: GOGC set by the user wins; otherwise the percent follows the live heap
// after each collection.
func TestTuneGC(t *testing.T) {
	t.Setenv("GOGC", "150")
	if TuneGC() {
		t.Fatal("TuneGC ran although GOGC is set")
	}
	t.Setenv("GOGC", "")
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	if !TuneGC() {
		t.Fatal("TuneGC did not run without GOGC")
	}
	runtime.GC()
	runtime.GC() // the cleanup runs after a collection, on its own goroutine
	gogc := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	for range 100 {
		if metrics.Read(gogc); gogc[0].Value.Uint64() > 100 {
			return
		}
		runtime.Gosched()
		runtime.GC()
	}
	t.Error("the GC percent stayed at 100 with a small live heap")
}
