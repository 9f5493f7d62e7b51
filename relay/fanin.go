package relay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/vapimon/vapimon/tui/sanitize"
	"github.com/vapimon/vapimon/webhook"
)

// pairTunnel serves the same handler on the local listener, from the start, and on the
// ngrok endpoint once it has connected.
type pairTunnel struct {
	local  *localTunnel
	ln     *fanInListener
	cancel context.CancelFunc // abandons the first connect
	ready  chan struct{}      // closed when the first connect has ended

	mu      sync.Mutex
	st      webhook.Status // the tunnel's part of the status (URLs, state, note)
	ng      *ngrokTunnel   // nil until connected
	closing bool
	notify  func(webhook.Status)
}

// startPairTunnel serves local at once and connects ngrok in the background.
func startPairTunnel(ctx context.Context, local *localTunnel, cfg ListenConfig, st webhook.Status) *pairTunnel {
	cctx, cancel := context.WithCancel(ctx)
	t := &pairTunnel{local: local, cancel: cancel, ready: make(chan struct{}), st: st, notify: cfg.OnChange}
	t.ln = newFanIn(func(i int, err error) {
		if i == 1 { // the ngrok endpoint died while the local listener lives on
			t.mu.Lock()
			ng := t.ng
			t.mu.Unlock()
			ng.setState(StateFailed, "ngrok stopped accepting connections: "+sanitize.Line(err.Error(), 200)+": Vapi cannot reach vapimon; restart it")
		}
	}, local.ln)
	opts := cfg.Ngrok
	opts.OnStatus = func(state webhook.TunnelState, note string) {
		t.change(func(st *webhook.Status) {
			if t.ng == nil && (state == StateOnline || state == StateFailed) {
				return // the first connect's outcome is told below, with the URL or the fallback
			}
			if t.ng == nil { // still the first connect: vapimon serves locally meanwhile
				if note == "" {
					note = "connecting to ngrok…"
				}
				note += " · meanwhile listening " + local.where()
			}
			st.Tunnel, st.TunnelNote = state, note
		})
	}
	go func() {
		defer close(t.ready)
		tun, err := ListenNgrok(cctx, opts)
		if err != nil && cctx.Err() != nil {
			return // abandoned: vapimon is shutting down, nothing to tell
		}
		if err != nil {
			t.change(func(st *webhook.Status) {
				st.Tunnel, st.TunnelNote = StateFailed, connectFailed(err, local)
			})
			return
		}
		ng := tun.(*ngrokTunnel)
		t.mu.Lock()
		if t.closing {
			t.mu.Unlock()
			ng.Close()
			return
		}
		t.ng = ng
		t.mu.Unlock()
		t.ln.add(ng.raw)
		t.change(func(st *webhook.Status) {
			st.Tunnel, st.TunnelNote, st.PublicURL = StateOnline, "", ng.URL()
		})
	}()
	return t
}

// change updates the tunnel's status and tells OnChange, unless the tunnel is closing.
func (t *pairTunnel) change(f func(*webhook.Status)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closing {
		return
	}
	before := t.st
	f(&t.st)
	same := t.st.Tunnel == before.Tunnel && t.st.TunnelNote == before.TunnelNote && t.st.PublicURL == before.PublicURL
	if !same && t.notify != nil {
		t.notify(t.st)
	}
}

// Ready is closed when ngrok's first connect has ended, online or failed.
func (t *pairTunnel) Ready() <-chan struct{} { return t.ready }

// Status is the tunnel's part of the status as it is now.
func (t *pairTunnel) Status() webhook.Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.st
}

func (t *pairTunnel) Listener() net.Listener { return t.ln }

// URL is the public URL once ngrok is online, the local one before.
func (t *pairTunnel) URL() string {
	if st := t.Status(); st.PublicURL != "" {
		return st.PublicURL
	}
	return t.local.URL()
}

// Public reports whether ngrok is online.
func (t *pairTunnel) Public() bool { return t.Status().PublicURL != "" }

// Close abandons a connect still going on, closes both listeners, then disconnects the
// ngrok agent.
func (t *pairTunnel) Close() error {
	t.mu.Lock()
	t.closing = true
	t.mu.Unlock()
	t.cancel()
	wait := time.NewTimer(2 * closeWait)
	select {
	case <-t.ready:
	case <-wait.C:
	}
	wait.Stop()
	t.ln.Close()
	t.mu.Lock()
	ng := t.ng
	t.mu.Unlock()
	var err error
	if ng != nil {
		err = ng.Close()
	}
	return errors.Join(err, t.local.Close())
}

// fanInListener merges several listeners into one, so that one http.Server serves them
// all. A listener can join later (add: the ngrok endpoint, once it connects, beside the
// local listener that serves from the start). Close returns at once even when an
// underlying Close is slow (ngrok's unbind is a round trip to its cloud), waiting for it
// at most closeWait.
type fanInListener struct {
	mu     sync.Mutex
	inners []net.Listener
	live   int  // inner listeners whose accept loop still runs
	closed bool // Close was called: a late add is closed at once
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
	l := &fanInListener{conns: make(chan net.Conn), done: make(chan struct{}), dead: make(chan struct{}), wait: closeWait, onFail: onFail}
	for _, in := range inners {
		l.add(in)
	}
	return l
}

// add starts serving in's connections too. After Close it closes in instead.
func (l *fanInListener) add(in net.Listener) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		in.Close()
		return
	}
	i := len(l.inners)
	l.inners = append(l.inners, in)
	l.live++
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		err := l.acceptLoop(in)
		if l.onFail != nil && !errors.Is(err, net.ErrClosed) {
			l.onFail(i, err)
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.live--; l.live == 0 && !l.closed {
			l.err = err
			close(l.dead)
		}
	}()
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
		l.mu.Lock()
		l.closed = true
		inners := l.inners
		l.mu.Unlock()
		close(l.done)
		closed := make(chan error, 1)
		go func() {
			var errs []error
			for _, in := range inners {
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
func (l *fanInListener) Addr() net.Addr {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.inners[0].Addr()
}
