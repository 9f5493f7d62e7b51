package webhook

import "testing"

// TestSubscribeWhere: a filtered subscriber receives only what its filter keeps, is not
// counted as dropping what it never wanted, and the others still get everything.
func TestSubscribeWhere(t *testing.T) {
	b := NewBus()
	all := b.Subscribe(8)
	events := b.SubscribeWhere(1, func(v any) bool { _, ok := v.(*Event); return ok })
	b.Publish(Notice{Text: "n1"})
	b.Publish(&Event{Seq: 1})
	b.Publish(&Outcome{Seq: 1})
	b.Publish(&Event{Seq: 2}) // events' buffer of 1 is full: dropped for it
	if got := len(all); got != 4 {
		t.Errorf("unfiltered subscriber holds %d values, want 4", got)
	}
	if ev, ok := (<-events).(*Event); !ok || ev.Seq != 1 {
		t.Errorf("filtered subscriber got %v first, want event 1", ev)
	}
	if len(events) != 0 {
		t.Errorf("filtered subscriber holds %d more values, want none", len(events))
	}
	if d := b.DroppedFor(events); d != 1 {
		t.Errorf("filtered subscriber dropped %d, want 1 (event 2; the notice and the outcome were never its)", d)
	}
	if d := b.DroppedFor(all); d != 0 {
		t.Errorf("unfiltered subscriber dropped %d, want 0", d)
	}
	b.Close()
	if _, ok := <-events; ok {
		t.Error("filtered channel not closed by Close")
	}
}
