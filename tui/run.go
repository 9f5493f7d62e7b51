package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/term"
	"github.com/vapimon/vapimon/webhook"
)

// Forwarder tuning: the bus buffer Run subscribes with, how long it gathers values before
// handing them to the program in one message, and the most values in one message. The
// screen is drawn at most fps times a second: a monitor read by a person needs no more,
// and every frame drawn under load is CPU the handler (on the same two cores) does not get.
const (
	busBuffer   = 8192
	coalesceFor = 33 * time.Millisecond
	maxBatch    = 4096
	fps         = 30
)

// Run shows the monitor on the terminal (alternate screen, mouse cell motion) until the user
// quits, the terminal closes, or ctx ends. One goroutine forwards bus values and operator
// requests to the program, coalesced into one message per ~33ms, so a burst of requests never
// backs the program up; when the program falls behind, the bus drops screen updates (never
// tape records) and the count is shown.
//
// When ctx ends (the caller caught a signal) or Run returns, operator requests still waiting
// get ErrOperatorGone at once (with any answers already typed, see webhook.PartialAnswer) and
// the handler sends its fallback: callers never wait on a terminal that is going away. Run
// installs no signal handler of its own: the caller decides what a signal means.
//
// With no progOpts, Run reads keys from the terminal (stdin, else /dev/tty), and the end of
// that input (EOF or EIO: the terminal was closed, the SSH connection dropped, tmux killed
// the session) ends Run as a quit does, returning nil. progOpts are passed to
// tea.NewProgram instead (tests use tea.WithInput and tea.WithOutput).
func Run(parent context.Context, opts Options, op *Operator, progOpts ...tea.ProgramOption) error {
	var input inputFunc
	if len(progOpts) == 0 {
		input = terminalInput
	}
	m := NewModel(opts, op)
	m.frames = &frameMemo{}
	return run(parent, m, op, input, progOpts...)
}

// inputFunc returns the reader the program takes keys from, made to call gone when it
// ends, and a function releasing what it opened; a nil reader leaves the choice to
// bubbletea.
type inputFunc func(gone func()) (io.Reader, func())

// quitWait is how long Run waits for the program to quit once its context has ended
// before killing it.
const quitWait = time.Second

// stopMsg quits the program as q does (a blank last frame, no question asked): Run sends
// it when its context ends.
type stopMsg struct{}

// errTerminalGone ends Run when the terminal's input ends.
var errTerminalGone = errors.New("tui: the terminal closed")

// run is Run with the model made by the caller (the load test watches it apply batches)
// and the input chosen by it (nil: bubbletea's, or the one in progOpts).
func run(parent context.Context, m *Model, op *Operator, input inputFunc, progOpts ...tea.ProgramOption) (err error) {
	opts := m.opts
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	if op != nil {
		defer op.close()
		// A signal releases the prompts before the screen is torn down, so that the
		// callers are answered even if the terminal no longer takes output.
		stopRelease := context.AfterFunc(parent, op.close)
		defer stopRelease()
	}
	base := []tea.ProgramOption{tea.WithoutSignalHandler(), tea.WithFPS(fps)}
	if input != nil {
		in, closeIn := input(func() { cancel(errTerminalGone) })
		if in != nil {
			defer closeIn()
			base = append(base, tea.WithInput(in))
		}
	}
	p := tea.NewProgram(m, append(base, progOpts...)...)

	var sub <-chan any
	if opts.Bus != nil {
		sub = opts.Bus.Subscribe(busBuffer)
	}
	fwdErr := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		fwdErr <- forward(ctx, p, sub, op.requests(), opts.Bus)
	}()
	startErr := make(chan error, 1)
	if r := opts.Replay; r != nil && r.Start != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if v := recover(); v != nil {
					startErr <- fmt.Errorf("tui: replay panic: %v\n%s", v, debug.Stack())
					p.Kill()
				}
			}()
			r.Start(ctx)
		}()
	}

	// The end of ctx (a signal, the terminal closing) quits the program as q does, so that
	// it stops reading the terminal before closing its reader (bubbletea's kill path closes
	// the reader under a read in flight: a data race), and through the model (stopMsg), so
	// that its last frame is blank as q's is: tmux, after a resize, leaves what the
	// alternate screen last showed in the shell's screen. A program that does not quit in
	// time (its loop stuck, say) is killed.
	finished := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-finished:
			return
		case <-ctx.Done():
		}
		go p.Send(stopMsg{}) // returns once the loop takes it, or once Run has ended
		select {
		case <-finished:
		case <-time.After(quitWait):
			p.Kill()
		}
	}()

	_, err = p.Run()
	close(finished)
	gone := errors.Is(context.Cause(ctx), errTerminalGone)
	cancel(nil)
	wg.Wait()
	if opts.Bus != nil {
		// Nothing reads the screen's queue any more: stop filling it during shutdown.
		opts.Bus.Unsubscribe(sub)
	}
	if ferr := <-fwdErr; ferr != nil {
		return ferr
	}
	select {
	case serr := <-startErr:
		return serr
	default:
	}
	if errors.Is(err, tea.ErrProgramKilled) && !errors.Is(err, tea.ErrProgramPanic) && (parent.Err() != nil || gone) {
		// Killed because the caller's context ended or the terminal closed: that is a
		// normal shutdown.
		return nil
	}
	if err != nil {
		return fmt.Errorf("tui: %w", err)
	}
	return nil
}

// forward moves bus values and operator requests into the program, coalescing them. It
// recovers a panic, kills the program (restoring the terminal) and reports it.
func forward(ctx context.Context, p *tea.Program, sub <-chan any, reqs <-chan *opRequest, bus *webhook.Bus) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("tui: forwarder panic: %v\n%s", r, debug.Stack())
			p.Kill()
		}
	}()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var (
		batch  []any
		armed  bool
		flushC <-chan time.Time
	)
	add := func(v any) {
		batch = append(batch, v)
		if !armed {
			timer.Reset(coalesceFor)
			flushC, armed = timer.C, true
		}
	}
	flush := func() {
		if len(batch) == 0 {
			return
		}
		var dropped uint64
		if bus != nil {
			dropped = bus.Dropped()
		}
		p.Send(batchMsg{items: batch, dropped: dropped})
		batch = nil
		armed, flushC = false, nil
	}
	// drain takes what the bus holds, without waiting, up to a full batch.
	drain := func() (more bool) {
		for len(batch) < maxBatch {
			select {
			case v, ok := <-sub:
				if !ok {
					sub = nil
					return false
				}
				batch = append(batch, v)
			default:
				return false
			}
		}
		return true
	}
	for {
		// While a flush is armed the bus is not read: what arrives waits in the
		// subscription's buffer and is taken at the flush, so that under load the
		// handlers' publishes do not wake this goroutine once per event.
		busC := sub
		if armed {
			busC = nil
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case v, ok := <-busC:
			if !ok {
				sub = nil
				continue
			}
			add(v)
		case r := <-reqs:
			add(r)
		case <-flushC:
			for drain() {
				flush()
			}
			flush()
		}
	}
}

// watchedInput is the terminal the monitor reads keys from. Its first read error (EOF or
// EIO once the terminal has gone away, or anything else: no more keys will come either way)
// calls gone once and reads as EOF, so that bubbletea's reader stops quietly instead of
// failing the program. It keeps *os.File's Fd, Name, Write and Close, so bubbletea still
// puts the terminal in raw mode and can cancel a blocked read.
type watchedInput struct {
	*os.File
	once sync.Once
	gone func()
}

// Read implements io.Reader.
func (w *watchedInput) Read(p []byte) (int, error) {
	n, err := w.File.Read(p)
	if err != nil && n == 0 {
		w.once.Do(w.gone)
		return 0, io.EOF
	}
	return n, err
}

// terminalInput returns the terminal's input watched for its end, as bubbletea would pick
// it (stdin when it is a terminal, else /dev/tty), and a function closing what it opened;
// nil when there is no terminal (bubbletea then fails with its own message).
func terminalInput(gone func()) (io.Reader, func()) {
	if term.IsTerminal(os.Stdin.Fd()) {
		return &watchedInput{File: os.Stdin, gone: gone}, func() {}
	}
	in, _, err := tea.OpenTTY() // one file for both directions; the screen goes to stdout
	if err != nil {
		return nil, func() {}
	}
	return &watchedInput{File: in, gone: gone}, func() { _ = in.Close() }
}
