package tui

import (
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/vapimon/vapimon/webhook"
)

// BenchmarkToolCallStream is the monitor's share of the external load benchmark's TUI mode:
// one call sends tool-calls messages as fast as the handler answers them (canned replies),
// each event and its outcome reach Update in small batches, and the screen (160x48) is
// drawn once per 150 events, as at 30 frames/s under 4,500 replies/s. The figure is the
// cost per event, Update and its share of View together.
func BenchmarkToolCallStream(b *testing.B) {
	clk := newClock(base)
	m := NewModel(Options{Now: clk.Now}, nil)
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	const callID = "9f6c0b8e-load-4e1a-9d55-000000000001"
	reply := webhook.Reply{Status: 200, Source: webhook.SourceAnswers,
		Body: []byte(`{"results":[{"toolCallId":"call_load_1","result":"sunny, 21°C"}]}`)}
	seq := uint64(0)
	batch := make([]any, 0, 8)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		seq++
		at := base.Add(time.Duration(i) * 200 * time.Microsecond)
		clk.Set(at)
		msg := &webhook.Message{Type: "tool-calls", Kind: "tool-calls", Known: true,
			Call:      webhook.Call{ID: callID, Type: "inboundPhoneCall", Status: "in-progress"},
			ToolCalls: []webhook.ToolCall{{ID: "call_load_1", Name: "get_weather", Arguments: []byte(`{"city":"Paris"}`)}}}
		ev := synthetic(seq, at, msg, benchBody)
		batch = append(batch, ev, &webhook.Outcome{Seq: seq, Reply: reply, Latency: 150 * time.Microsecond})
		if len(batch) == cap(batch) {
			m.Update(batchMsg{items: batch})
			batch = batch[:0]
		}
		if i%150 == 0 {
			_ = m.View()
		}
	}
}
