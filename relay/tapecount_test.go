package relay

import (
	"errors"
	"testing"

	"github.com/vapimon/vapimon/webhook"
)

// flakyRecorder fails the writes it is told to.
type flakyRecorder struct{ failReceived, failReplied map[uint64]bool }

func (f flakyRecorder) Received(ev *webhook.Event) error {
	if f.failReceived[ev.Seq] {
		return errors.New("no space left on device")
	}
	return nil
}

func (f flakyRecorder) Replied(ev *webhook.Event, _ *webhook.Outcome) error {
	if f.failReplied[ev.Seq] {
		return errors.New("no space left on device")
	}
	return nil
}

// TestTapeCounter: a request counts once however many of its writes fail, and a request
// rejected before it was received (only Replied) counts too.
func TestTapeCounter(t *testing.T) {
	t.Parallel()
	rec := flakyRecorder{
		failReceived: map[uint64]bool{2: true, 3: true},
		failReplied:  map[uint64]bool{3: true, 4: true, 6: true},
	}
	c := newTapeCounter(rec)
	accepted := func(seq uint64) *webhook.Event { return &webhook.Event{Seq: seq, Msg: &webhook.Message{}} }
	for seq := uint64(1); seq <= 4; seq++ { // 1 fine, 2 request lost, 3 both lost, 4 reply lost
		_ = c.Received(accepted(seq))
		_ = c.Replied(accepted(seq), &webhook.Outcome{Seq: seq})
	}
	_ = c.Replied(&webhook.Event{Seq: 5, Rejected: "unauthorized"}, &webhook.Outcome{Seq: 5}) // fine
	_ = c.Replied(&webhook.Event{Seq: 6, Rejected: "unauthorized"}, &webhook.Outcome{Seq: 6}) // lost
	// Refused after it was received (a cap checked after parsing): still one request.
	ev := accepted(7)
	_ = c.Received(ev)
	ev.Rejected = "too many tool calls"
	_ = c.Replied(ev, &webhook.Outcome{Seq: 7})
	n, failed, lastErr := c.counts()
	if n != 7 || failed != 4 || lastErr == "" {
		t.Errorf("counts = %d requests, %d failed, %q; want 7, 4 (seq 2, 3, 4, 6) and the error", n, failed, lastErr)
	}
	got := tapeSummary("t.jsonl", c, nil, true)
	want := "vapimon: tape incomplete: 4 of 7 requests could not be written to t.jsonl (last error: no space left on device); 3 recorded in full"
	if got != want {
		t.Errorf("summary:\n got %q\nwant %q", got, want)
	}
	if ok := tapeSummary("t.jsonl", newTapeCounter(rec), nil, true); ok != "vapimon: tape saved: 0 requests in t.jsonl" {
		t.Errorf("empty tape summary = %q", ok)
	}
	if s := webhook.Thousands(1588); s != "1,588" {
		t.Errorf("webhook.Thousands(1588) = %q", s)
	}
}
