package relay

import (
	"fmt"
	"sync"

	"github.com/vapimon/vapimon/webhook"
)

// tapeCounter wraps the tape (a webhook.Recorder) to count, per request, whether every
// write for it succeeded, so that the exit summary can say exactly how many requests are
// on the tape and how many are not (the handler's TapeFailed counts writes, and a request
// takes one or two).
type tapeCounter struct {
	rec webhook.Recorder

	mu       sync.Mutex
	requests uint64          // requests the tape was asked to record
	failed   uint64          // requests with at least one failed write
	open     map[uint64]bool // requests Received and not yet Replied: did a write fail?
	lastErr  string
}

func newTapeCounter(rec webhook.Recorder) *tapeCounter {
	return &tapeCounter{rec: rec, open: make(map[uint64]bool)}
}

// Received implements webhook.Recorder.
func (c *tapeCounter) Received(ev *webhook.Event) error {
	err := c.rec.Received(ev)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests++
	c.open[ev.Seq] = err != nil
	if err != nil {
		c.failed++
		c.lastErr = err.Error()
	}
	return err
}

// Replied implements webhook.Recorder. A request rejected before Received (auth, broken
// JSON, too large) has only this call.
func (c *tapeCounter) Replied(ev *webhook.Event, out *webhook.Outcome) error {
	err := c.rec.Replied(ev, out)
	c.mu.Lock()
	defer c.mu.Unlock()
	failedBefore, received := c.open[ev.Seq]
	delete(c.open, ev.Seq)
	if !received {
		c.requests++
	}
	if err != nil {
		c.lastErr = err.Error()
		if !failedBefore {
			c.failed++
		}
	}
	return err
}

// counts returns the requests seen, those not written in full, and the last error.
func (c *tapeCounter) counts() (requests, failed uint64, lastErr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests, c.failed, c.lastErr
}

// TapeSummary is the exit line about the tape, "" when recording was off: how many
// requests it holds and, when some could not be written, how many of them, never "saved"
// then. replayHint adds how to replay it. Call it after Shutdown.
func (s *Session) TapeSummary(replayHint bool) string {
	if s.tape == nil || s.tapeCount == nil {
		return ""
	}
	return tapeSummary(s.tape.Path(), s.tapeCount, s.tapeCloseErr, replayHint)
}

// tapeSummary is TapeSummary's line; closeErr is the error from closing (syncing) the tape.
func tapeSummary(path string, c *tapeCounter, closeErr error, replayHint bool) string {
	n, failed, lastErr := c.counts()
	if failed == 0 && closeErr == nil {
		s := fmt.Sprintf("vapimon: tape saved: %s in %s", webhook.Count(n, "request"), path)
		if replayHint && n > 0 {
			s += fmt.Sprintf(" (replay it with: vapimon replay %s)", path)
		}
		return s
	}
	s := fmt.Sprintf("vapimon: tape incomplete: %s of %s could not be written to %s", webhook.Thousands(failed), webhook.Count(n, "request"), path)
	if lastErr != "" {
		s += " (last error: " + lastErr + ")"
	}
	s += fmt.Sprintf("; %s recorded in full", webhook.Thousands(n-failed))
	if closeErr != nil {
		s += "; closing it failed too: " + closeErr.Error()
	}
	return s
}
