package relay

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"
)

// Shutdown timing. After the first terminating signal (or q in the TUI), requests waiting
// for your server get ShutdownGrace to finish; then, or at once when the person asks a
// second time, every request still waiting gets its fallback reply, and replyWriteGrace
// later the connections still open (a client stalled mid-body) are closed. The operator's
// prompts do not wait: nobody is left to type, so their fallback (with any answer already
// typed) goes at once.
const (
	ShutdownGrace   = 3 * time.Second
	replyWriteGrace = time.Second
	// uiStopWait is how long the shutdown waits for the monitor (or the JSON lines) to give
	// the terminal back once a signal came: a terminal that takes no more output must not
	// hold up the callers.
	uiStopWait = 2 * time.Second
)

// ErrRestoreFailed is returned by Shutdown when Vapi's server URLs could not be put back;
// the reason and the next step (`vapimon restore`) were already written to Config.Stderr.
var ErrRestoreFailed = errors.New("restoring Vapi's server URLs failed")

// RunUI runs ui (the TUI) until it returns. Once ctx ends (a signal), it waits at most
// uiStopWait for ui to give the terminal back: ui releases the operator's prompts at the
// signal, and a terminal that takes no more output must not keep the callers waiting for
// the shutdown. An error the session finds after Start (a --forward-to target that is the
// public URL ngrok gave) ends ui and is returned. A panic in ui is reported and returned
// as an error.
func (s *Session) RunUI(ctx context.Context, ui func(context.Context) error) error {
	uiCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() {
		err := errors.New("the monitor stopped unexpectedly (details in the log file)")
		defer func() { done <- err }()
		defer s.RecoverPanic("monitor")
		err = ui(uiCtx)
	}()
	var failed error
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	case failed = <-s.failed: // found after Start (a loop through the public URL): end the monitor
		stop()
	}
	select {
	case err := <-done:
		if failed != nil {
			return failed
		}
		return err
	case <-time.After(uiStopWait):
		s.log.Warn("the monitor did not give the terminal back in time: shutting down without it", "wait", uiStopWait)
		return failed
	}
}

// Shutdown is the orderly end of a session, whatever asked for it (a signal, q in the
// TUI, the terminal closing): Vapi's resources are pointed back first, then the listener
// stops accepting; requests still waiting for your server get ShutdownGrace to finish
// (until hurry is closed: the person asked again), then every request still waiting gets
// its fallback reply; finally the tunnel closes, the tape is flushed and the bus closed,
// and the JSON lines still queued (StreamJSON) are written. A monitor has released its
// prompts by then (their fallback keeps any answer typed in time).
//
// A reader of the JSON lines that went away (| head) or a terminal that closed is not an
// error: every caller was answered and the tape is flushed.
func (s *Session) Shutdown(hurry <-chan struct{}) error {
	s.handler.Closing() // a request cancelled from here on was cut by the shutdown
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		t := time.NewTimer(ShutdownGrace)
		defer t.Stop()
		select {
		case <-t.C:
		case <-hurry:
		case <-stopped:
			return
		}
		s.cancelReqs() // every request still waiting gets its fallback now
	}()
	var err error
	if s.vapi != nil {
		// Put Vapi back first, so it stops sending here before the listener goes away.
		rctx, rcancel := context.WithTimeout(context.Background(), 15*time.Second)
		if rerr := s.vapi.Restore(rctx, s.vapiState); rerr != nil {
			// Said here, whatever else failed: the assistant may point at a dead URL.
			fmt.Fprintf(s.say, "vapimon: restoring Vapi's server URLs failed: %v\nvapimon: run `vapimon restore` to retry\n", rerr)
			err = ErrRestoreFailed
		}
		rcancel()
		s.vapi = nil
	}
	s.stopServer()
	if s.tunnel != nil {
		if cerr := s.tunnel.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	s.close()
	if s.output != nil {
		select {
		case oerr := <-s.output:
			if oerr != nil && err == nil && !errors.Is(oerr, syscall.EPIPE) && !errors.Is(oerr, syscall.EIO) {
				err = oerr
			}
		case <-time.After(uiStopWait):
			// The output takes no more (a pipe nobody reads): the lines still queued are
			// lost to it, not to the tape.
		}
	}
	return err
}

// stopServer stops accepting and waits for the requests in flight; once their fallbacks
// are going out (reqCtx ended), connections still open after replyWriteGrace are closed.
func (s *Session) stopServer() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.srv.Shutdown(ctx) }()
	select {
	case <-done:
		return
	case <-s.reqCtx.Done():
	}
	// The fallbacks are going out: give them a moment to be written, then give up on
	// connections that are still open (a client stalled mid-body, say) rather than fail
	// the whole exit.
	select {
	case <-done:
	case <-time.After(replyWriteGrace):
		n := s.handler.InFlight()
		cancel()
		<-done
		_ = s.srv.Close()
		if n > 0 {
			fmt.Fprintf(s.say, "vapimon: gave up on %d request(s) still unfinished at exit (a client that stopped sending?)\n", n)
		}
	}
}

// close runs the closers in reverse order, waits for the session's goroutines, closes the
// tape and then the bus.
func (s *Session) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
	s.wg.Wait()
	if s.tape != nil {
		s.tapeCloseErr = s.tape.Close()
	}
	s.bus.Close()
}

// RunFront runs a front end over the started session until it returns, with feed (when
// not nil: the demo's or the simulator's player) beside it, then stops the feed and shuts
// the session down, hurrying when HurryOf(ctx) says so. feed must return when its context
// ends; a panic in it is reported and ends the session like a front end's failure would.
func (s *Session) RunFront(ctx context.Context, front func(context.Context) error, feed func(context.Context, *Session)) error {
	feedCtx, stopFeed := context.WithCancel(ctx)
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		defer s.RecoverPanic("demo player")
		if feed != nil {
			feed(feedCtx, s)
		}
	}()
	err := s.RunUI(ctx, front)
	stopFeed()
	<-fed
	if serr := s.Shutdown(HurryOf(ctx)); err == nil {
		err = serr
	}
	return err
}
