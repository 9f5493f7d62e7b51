package tui

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/vapimon/vapimon/webhook"
)

// Forwarder tuning: the bus buffer Run subscribes with, how long it gathers values before
// handing them to the program in one message, and the most values in one message.
const (
	busBuffer   = 8192
	coalesceFor = 16 * time.Millisecond
	maxBatch    = 4096
)

// Run shows the monitor on the terminal (alternate screen, mouse cell motion) until the user
// quits or ctx ends. One goroutine forwards bus values and operator requests to the program,
// coalesced into one message per ~16ms, so a burst of requests never backs the program up;
// when the program falls behind, the bus drops screen updates (never tape records) and the
// count is shown. When Run returns, operator requests still waiting get ErrOperatorGone and
// the handler sends its fallback. progOpts are passed to tea.NewProgram (tests use
// tea.WithInput and tea.WithOutput).
func Run(parent context.Context, opts Options, op *Operator, progOpts ...tea.ProgramOption) error {
	return run(parent, NewModel(opts, op), op, progOpts...)
}

// run is Run with the model made by the caller (the load test watches it apply batches).
func run(parent context.Context, m *Model, op *Operator, progOpts ...tea.ProgramOption) (err error) {
	opts := m.opts
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	if op != nil {
		defer op.close()
	}
	p := tea.NewProgram(m, append([]tea.ProgramOption{tea.WithContext(ctx)}, progOpts...)...)

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

	_, err = p.Run()
	cancel()
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
	if errors.Is(err, tea.ErrProgramKilled) && !errors.Is(err, tea.ErrProgramPanic) && parent.Err() != nil {
		// Killed because the caller's context ended: that is a normal shutdown.
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
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case v, ok := <-sub:
			if !ok {
				sub = nil
				continue
			}
			add(v)
			if len(batch) >= maxBatch {
				timer.Stop()
				flush()
			}
		case r := <-reqs:
			add(r)
		case <-flushC:
			flush()
		}
	}
}
