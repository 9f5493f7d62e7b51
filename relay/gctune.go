package relay

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// The garbage collector's pace for a process whose live heap is small (a listener holds a
// few megabytes): Go's default (GOGC=100) collects each time the heap doubles, which under
// load of small requests means a collection every few milliseconds. TuneGC lets the heap
// grow to gcFloor before collecting, and behaves as GOGC=100 once the live heap is past
// half of it (a TUI holding many calls).
const (
	gcFloor      = 32 << 20
	gcMaxPercent = 800
)

// TuneGC paces the garbage collector by the live heap (see gcFloor), re-computed after
// every collection. It does nothing, and says so, when the user set GOGC themselves;
// GOMEMLIMIT, when set, still bounds the heap as always.
func TuneGC() bool {
	if os.Getenv("GOGC") != "" {
		return false
	}
	t := &gcTuner{}
	t.adjust()
	t.arm()
	return true
}

type gcTuner struct {
	percent atomic.Int64
	sample  [1]metrics.Sample
}

// gcSentinel is an object nothing refers to: its cleanup runs after the next collection.
type gcSentinel struct{ _ [32]byte }

func (t *gcTuner) arm() {
	runtime.AddCleanup(new(gcSentinel), func(t *gcTuner) {
		t.adjust()
		t.arm()
	}, t)
}

func (t *gcTuner) adjust() {
	t.sample[0].Name = "/gc/heap/live:bytes"
	metrics.Read(t.sample[:])
	if t.sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	p := gcPercent(t.sample[0].Value.Uint64())
	if t.percent.Swap(int64(p)) != int64(p) {
		debug.SetGCPercent(p)
	}
}

// gcPercent is the GOGC value that lets a heap with live bytes grow to gcFloor before the
// next collection: between 100 (Go's default) and gcMaxPercent.
func gcPercent(live uint64) int {
	if live == 0 {
		return gcMaxPercent
	}
	p := int(100 * (float64(gcFloor)/float64(live) - 1))
	return min(max(p, 100), gcMaxPercent)
}
