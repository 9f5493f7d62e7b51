package webhook

import (
	"runtime"
	"testing"
)

// keptSink holds what TestParseRetainsOnlyWhatIsKept keeps, so that the compiler cannot
// drop it.
var keptSink []string

// TestParseRetainsOnlyWhatIsKept: a string kept from a parsed message (a call's id, its
// type, a tool's name: what the monitor keeps long after the message is gone) keeps only
// its own bytes alive, not a buffer shared with the message's other strings.
func TestParseRetainsOnlyWhatIsKept(t *testing.T) {
	keeps := []struct {
		name string
		of   func(m *Message) string
	}{
		{"call id", func(m *Message) string { return m.Call.ID }},
		{"type", func(m *Message) string { return m.Type }},
		{"tool name", func(m *Message) string {
			if len(m.ToolCalls) > 0 {
				return m.ToolCalls[0].Name
			}
			return ""
		}},
	}
	const n = 500
	for _, body := range fixtureBodies(t) {
		m, err := Parse(body)
		if err != nil {
			continue
		}
		for _, k := range keeps {
			kept := k.of(m)
			if kept == "" {
				continue
			}
			keptSink = make([]string, 0, n)
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range n {
				m, err := Parse(append([]byte(nil), body...))
				if err != nil {
					t.Fatal(err)
				}
				keptSink = append(keptSink, k.of(m))
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
			// The string's own allocation (rounded up to its size class), with room for
			// the collector's noise; a shared buffer costs hundreds of bytes more.
			if limit := int64(3*len(kept) + 96); per > limit {
				t.Errorf("%s message: keeping its %s (%d bytes) keeps %d bytes per message alive, want at most %d",
					m.Type, k.name, len(kept), per, limit)
			}
			keptSink = nil
		}
	}
}
