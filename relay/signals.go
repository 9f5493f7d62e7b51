package relay

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// forcedExitAfter bounds the whole shutdown after a second signal: if something still
// hangs (a terminal that takes no output), vapimon exits 1 rather than never.
const forcedExitAfter = 10 * time.Second

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

// HurryOf returns the channel that is closed when the person asks a second time to stop
// ("now"); nil (never ready) when ctx has none.
func HurryOf(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(hurryKey{}).(chan struct{})
	return ch
}

// WatchSignals returns a context that ends at the first terminating signal and carries
// (see HurryOf) a channel closed at the second. Signals stay caught for the rest of the
// process, so that a third one cannot kill vapimon half way through answering the callers;
// after the second, a watchdog exits 1 if vapimon is still running forcedExitAfter later.
func WatchSignals(parent context.Context, stderr io.Writer) context.Context {
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
				TryWrite(stderr, fmt.Sprintf("vapimon: %s again: sending the fallback to every request still waiting, then quitting\n", signalName(sig)))
				time.AfterFunc(forcedExitAfter, func() {
					TryWrite(stderr, "vapimon: shutdown still not finished: quitting now (the tape may lack the last replies)\n")
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

// TryWrite writes s to w without letting a terminal that takes no output (closed, or
// stopped with Ctrl-S) hold up the caller for more than a moment. Errors are dropped: the
// person it was for cannot read it anyway.
func TryWrite(w io.Writer, s string) {
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

// StopReason names what ended the session: the signal, else "stopping".
func StopReason(ctx context.Context) string {
	if c := context.Cause(ctx); c != nil && c != context.Canceled {
		return c.Error()
	}
	return "stopping"
}
