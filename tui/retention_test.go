package tui

import (
	"runtime"
	"strings"
	"testing"

	"github.com/vapimon/vapimon/webhook"
)

// keptResults holds what TestToolRowKeepsOnlyItsResult keeps.
var keptResults []string

// TestToolRowKeepsOnlyItsResult: a tool row keeps its own result, not the text of the
// whole reply it came in (here a second result of 1 MiB), which a busy monitor would
// otherwise hold once per kept row.
func TestToolRowKeepsOnlyItsResult(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	body := []byte(`{"results":[{"toolCallId":"a","result":"ok"},{"toolCallId":"b","result":"` + big + `"}]}`)
	const n = 20
	var buf resultsBuf
	keptResults = make([]string, 0, n)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		rows := []*toolRow{{id: "a"}, {id: "b"}}
		applyOutcome(rows, &webhook.Outcome{Reply: webhook.Reply{Source: webhook.SourceForward, Body: append([]byte(nil), body...)}}, nil, &buf)
		if rows[0].result != "ok" {
			t.Fatalf("row a's result %q, want ok", rows[0].result)
		}
		keptResults = append(keptResults, rows[0].result) // only the short row is kept
	}
	buf = resultsBuf{}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if kept := int64(after.HeapAlloc) - int64(before.HeapAlloc); kept > 1<<20 {
		t.Errorf("keeping %d results of 2 bytes keeps %.1f MB alive", n, float64(kept)/(1<<20))
	}
	keptResults = nil
}

// keptArgs holds what TestToolRowKeepsOnlyItsArguments keeps.
var keptArgs [][]byte

// TestToolRowKeepsOnlyItsArguments: a tool row's arguments are its own bytes, not a part
// of the parsed message (which would stay alive, whole, as long as the row).
func TestToolRowKeepsOnlyItsArguments(t *testing.T) {
	body := []byte(weatherBody)
	const n = 500
	keptArgs = make([][]byte, 0, n)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		msg, err := webhook.Parse(append([]byte(nil), body...))
		if err != nil {
			t.Fatal(err)
		}
		rows := newToolRows(&webhook.Event{Seq: 1, Msg: msg, Body: body}, nil)
		keptArgs = append(keptArgs, rows[0].rawArgs)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
	if limit := int64(3*len(keptArgs[0]) + 96); per > limit {
		t.Errorf("keeping a row's %d bytes of arguments keeps %d bytes per message alive, want at most %d", len(keptArgs[0]), per, limit)
	}
	keptArgs = nil
}
