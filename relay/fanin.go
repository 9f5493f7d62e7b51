package relay

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/vapimon/vapimon/tui/sanitize"
)

// pairTunnel serves the same handler on the local listener and the ngrok endpoint.
type pairTunnel struct {
	local *localTunnel
	ng    *ngrokTunnel
	ln    *fanInListener
}

func newPairTunnel(local *localTunnel, ng *ngrokTunnel) *pairTunnel {
	ln := newFanIn(func(i int, err error) {
		if i == 1 { // the ngrok endpoint died while the local listener lives on
			ng.setState(StateFailed, "ngrok stopped accepting connections: "+sanitize.Line(err.Error(), 200)+": Vapi cannot reach vapimon; restart it")
		}
	}, local.ln, ng.raw)
	return &pairTunnel{local: local, ng: ng, ln: ln}
}

func (t *pairTunnel) Listener() net.Listener { return t.ln }
func (t *pairTunnel) URL() string            { return t.ng.URL() }
func (t *pairTunnel) Public() bool           { return true }

// Close closes both listeners, then disconnects the ngrok agent.
func (t *pairTunnel) Close() error {
	t.ln.Close()
	return errors.Join(t.ng.Close(), t.local.Close())
}

// fanInListener merges several listeners into one, so that one http.Server serves them
// all. Close returns at once even when an underlying Close is slow (ngrok's unbind is a
// round trip to its cloud), waiting for it at most closeWait.
type fanInListener struct {
	inners []net.Listener
	conns  chan net.Conn
	done   chan struct{}
	// dead is closed when every inner listener has failed for good; err says why.
	dead      chan struct{}
	err       error
	closeOnce sync.Once
	wg        sync.WaitGroup
	wait      time.Duration // closeWait; shorter in tests
	// onFail, when set, hears of an inner listener (by index) failing for good while the
	// fan-in is open.
	onFail func(i int, err error)
}

// closeWait bounds how long fanInListener.Close waits for the underlying listeners.
const closeWait = 3 * time.Second

func newFanIn(onFail func(i int, err error), inners ...net.Listener) *fanInListener {
	l := &fanInListener{inners: inners, conns: make(chan net.Conn), done: make(chan struct{}), dead: make(chan struct{}), wait: closeWait, onFail: onFail}
	errs := make(chan error, len(inners))
	for i, in := range inners {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			err := l.acceptLoop(in)
			if l.onFail != nil && !errors.Is(err, net.ErrClosed) {
				l.onFail(i, err)
			}
			errs <- err
		}()
	}
	go func() {
		var last error
		for range inners {
			last = <-errs
		}
		l.err = last
		close(l.dead)
	}()
	return l
}

// acceptLoop feeds one inner listener's connections to Accept until it fails for good or
// the fan-in is closed.
func (l *fanInListener) acceptLoop(in net.Listener) error {
	var delay time.Duration
	for {
		c, err := in.Accept()
		if err != nil {
			select {
			case <-l.done:
				return net.ErrClosed
			default:
			}
			var ne interface{ Temporary() bool }
			if errors.As(err, &ne) && ne.Temporary() {
				// Same back-off as http.Server for EMFILE and friends.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				t := time.NewTimer(delay)
				select {
				case <-t.C:
					continue
				case <-l.done:
					t.Stop()
					return net.ErrClosed
				}
			}
			return err
		}
		delay = 0
		select {
		case l.conns <- c:
		case <-l.done:
			c.Close()
			return net.ErrClosed
		}
	}
}

// Accept returns the next connection from any inner listener.
func (l *fanInListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-l.dead:
		return nil, l.err
	}
}

// Close stops Accept at once and closes every inner listener, waiting at most closeWait.
func (l *fanInListener) Close() error {
	var err error
	l.closeOnce.Do(func() {
		close(l.done)
		closed := make(chan error, 1)
		go func() {
			var errs []error
			for _, in := range l.inners {
				if e := in.Close(); e != nil && !errors.Is(e, net.ErrClosed) {
					errs = append(errs, e)
				}
			}
			l.wg.Wait()
			closed <- errors.Join(errs...)
		}()
		t := time.NewTimer(l.wait)
		defer t.Stop()
		select {
		case err = <-closed:
		case <-t.C:
			err = fmt.Errorf("listener did not close within %s", l.wait)
		}
	})
	return err
}

// Addr is the first inner listener's address (the local one, when there is one).
func (l *fanInListener) Addr() net.Addr { return l.inners[0].Addr() }
