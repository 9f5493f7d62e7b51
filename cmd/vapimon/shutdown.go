package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/vapimon/vapimon/webhook"
)

// Shutdown timing. After the first terminating signal (or q in the TUI), requests waiting
// for your server get shutdownGrace to finish; then, or at once on a second signal, every
// request still waiting gets its fallback reply, and replyWriteGrace later the connections
// still open (a client stalled mid-body) are closed. The operator's prompts do not wait:
// nobody is left to type, so their fallback (with any answer already typed) goes at once.
const (
	shutdownGrace   = 3 * time.Second
	replyWriteGrace = time.Second
	// forcedExitAfter bounds the whole shutdown after a second signal: if something still
	// hangs (a terminal that takes no output), vapimon exits 1 rather than never.
	forcedExitAfter = 10 * time.Second
	// tuiStopWait is how long the shutdown waits for the TUI to give the terminal back once
	// a signal came; a terminal that no longer takes output must not hold up the callers.
	tuiStopWait = 2 * time.Second
)

// terminatingSignals are the signals that run vapimon's orderly shutdown: Ctrl-C, kill,
// Ctrl-\, and the hang-up sent when the terminal closes (an SSH drop, tmux kill-session).
// SIGHUP is left alone when vapimon was started ignoring it (nohup): the person asked for
// vapimon to outlive the terminal.
func terminatingSignals() []os.Signal {
	sigs := []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGQUIT}
	if !signal.Ignored(syscall.SIGHUP) {
		sigs = append(sigs, syscall.SIGHUP)
	}
	return sigs
}

// hurryKey carries the channel closed by a second signal in the command's context.
type hurryKey struct{}

// hurryOf returns the channel that is closed when the person asks a second time to stop
// ("now"); nil (never ready) when ctx has none.
func hurryOf(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(hurryKey{}).(chan struct{})
	return ch
}

// watchSignals returns a context that ends at the first terminating signal and carries
// (see hurryOf) a channel closed at the second. Signals stay caught for the rest of the
// process, so that a third one cannot kill vapimon half way through answering the callers;
// after the second, a watchdog exits 1 if vapimon is still running forcedExitAfter later.
func watchSignals(parent context.Context, stderr io.Writer) context.Context {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, terminatingSignals()...)
	hurry := make(chan struct{})
	ctx, cancel := context.WithCancelCause(context.WithValue(parent, hurryKey{}, hurry))
	go func() {
		n := 0
		for sig := range ch {
			n++
			switch n {
			case 1:
				cancel(fmt.Errorf("%s", signalName(sig)))
			case 2:
				close(hurry)
				tryWrite(stderr, fmt.Sprintf("vapimon: %s again: sending the fallback to every request still waiting, then quitting\n", signalName(sig)))
				time.AfterFunc(forcedExitAfter, func() {
					tryWrite(stderr, "vapimon: shutdown still not finished: quitting now (the tape may lack the last replies)\n")
					os.Exit(1)
				})
			}
		}
	}()
	return ctx
}

// signalName is how a person knows the signal ("SIGHUP", not "hangup").
func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGQUIT:
		return "SIGQUIT"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return sig.String()
}

// tryWrite writes s to w without letting a terminal that takes no output (closed, or
// stopped with Ctrl-S) hold up the caller for more than a moment. Errors are dropped: the
// person it was for cannot read it anyway.
func tryWrite(w io.Writer, s string) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.WriteString(w, s)
	}()
	select {
	case <-done:
	case <-time.After(200 * time.Millisecond):
	}
}

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

// tapeSummary is the exit line about the tape: how many requests it holds and, when some
// could not be written, how many of them, never "saved" then. closeErr is the error from
// closing (syncing) the tape.
func tapeSummary(path string, c *tapeCounter, closeErr error, replayHint bool) string {
	n, failed, lastErr := c.counts()
	if failed == 0 && closeErr == nil {
		s := fmt.Sprintf("vapimon: tape saved: %s in %s", count(n, "request"), path)
		if replayHint && n > 0 {
			s += fmt.Sprintf(" (replay it with: vapimon replay %s)", path)
		}
		return s
	}
	s := fmt.Sprintf("vapimon: tape incomplete: %s of %s could not be written to %s", thousands(failed), count(n, "request"), path)
	if lastErr != "" {
		s += " (last error: " + lastErr + ")"
	}
	s += fmt.Sprintf("; %s recorded in full", thousands(n-failed))
	if closeErr != nil {
		s += "; closing it failed too: " + closeErr.Error()
	}
	return s
}

// count is "1 request", "2,000 requests".
func count(n uint64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return thousands(n) + " " + what + "s"
}

// thousands formats n with comma separators: 1588 → "1,588".
func thousands(n uint64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
