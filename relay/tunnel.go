// Package relay gets traffic to vapimon and on from it: the Tunnel that Vapi reaches
// (an embedded ngrok agent, or a plain local listener), the Forwarder that relays each
// webhook to the developer's own server, and the VapiClient that points an assistant,
// phone number or tool at vapimon and puts it back afterwards.
package relay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/charmbracelet/x/ansi"

	"github.com/vapimon/vapimon/webhook"
)

// Tunnel is where vapimon receives webhooks. Serve the webhook handler on Listener with
// an http.Server; on exit call srv.Shutdown first, then Close.
type Tunnel interface {
	// Listener yields the incoming connections (local and, with ngrok, public ones).
	Listener() net.Listener
	// URL is the address Vapi should use: the public https URL for ngrok or
	// --public-url, http://127.0.0.1:PORT for a local-only listener.
	URL() string
	// Public reports whether Vapi can reach URL from the internet.
	Public() bool
	// Close releases the tunnel. For ngrok it disconnects the agent, then cancels the
	// session's context. It never hangs for more than a few seconds.
	Close() error
}

// Tunnel states, as shown in webhook.Status.Tunnel and passed to OnStatus callbacks.
const (
	StateOff          = webhook.TunnelOff
	StateConnecting   = webhook.TunnelConnecting
	StateOnline       = webhook.TunnelOnline
	StateReconnecting = webhook.TunnelReconnecting
	StateFailed       = webhook.TunnelFailed
)

// DefaultAddr is where vapimon listens when --addr is not given.
const DefaultAddr = "127.0.0.1:4242"

// ListenConfig is what ResolveListen needs from flags and the environment.
type ListenConfig struct {
	// Addr is the local listen address (--addr); DefaultAddr when empty.
	Addr string
	// NoTunnel keeps vapimon local even with an authtoken (--no-tunnel).
	NoTunnel bool
	// PublicURL is a URL the user runs themselves (--public-url): vapimon listens
	// locally and reports this URL as the one Vapi should use.
	PublicURL string
	// Ngrok configures the embedded agent; it is used when Ngrok.Authtoken is set (read
	// NGROK_AUTHTOKEN yourself: ngrok does not) and neither NoTunnel nor PublicURL is.
	// Its OnStatus is not used: ResolveListen reports through OnChange.
	Ngrok NgrokOptions
	// OnChange, when set, is told of every later change of the tunnel's status (ListenURL,
	// PublicURL, Tunnel, TunnelNote): ngrok online with its URL, failed and why,
	// reconnecting. It must not block.
	OnChange func(webhook.Status)
}

// ResolveListen opens the listener vapimon serves on, as the flags ask: always a local
// listener on cfg.Addr, plus the embedded ngrok endpoint when a token is set and neither
// --no-tunnel nor --public-url is given. It returns at once: the local listener accepts
// from the first moment, whatever ngrok is doing. ngrok connects in the background
// (Status.Tunnel is "connecting") and its endpoint joins the same Listener when it is up;
// when it cannot connect, vapimon goes on locally and says why. Every change (online with
// the public URL, failed with the reason, reconnecting) reaches cfg.OnChange; the returned
// Tunnel's Ready is closed when the first connect has ended either way. Only a local
// listen failure (port busy) is returned as an error.
//
// The Status has ListenURL, PublicURL, Tunnel and TunnelNote filled.
func ResolveListen(ctx context.Context, cfg ListenConfig) (Tunnel, webhook.Status, error) {
	tun, err := ListenLocal(cfg.Addr)
	if err != nil {
		return nil, webhook.Status{}, err
	}
	local := tun.(*localTunnel)
	st := webhook.Status{ListenURL: local.URL(), Tunnel: StateOff}
	switch {
	case cfg.PublicURL != "":
		pub, err := checkPublicURL(cfg.PublicURL)
		if err != nil {
			local.Close()
			return nil, webhook.Status{}, err
		}
		st.PublicURL = pub
		st.TunnelNote = fmt.Sprintf("using --public-url %s: it must forward to %s", pub, local.URL())
		return &publicURLTunnel{Tunnel: local, url: pub}, st, nil
	case cfg.NoTunnel:
		st.TunnelNote = "--no-tunnel: listening on " + local.reach()
		return local, st, nil
	case cfg.Ngrok.Authtoken == "":
		st.TunnelNote = fmt.Sprintf("NGROK_AUTHTOKEN is not set: listening on %s (set it, or pass --public-url, so that Vapi can reach vapimon)", local.reach())
		return local, st, nil
	}
	st.Tunnel = StateConnecting
	st.TunnelNote = "connecting to ngrok… meanwhile listening " + local.where()
	t := startPairTunnel(ctx, local, cfg, st)
	return t, st, nil
}

// where says where the local listener is reachable, for notes.
func (t *localTunnel) where() string {
	if t.wildcard {
		return "on " + t.reach()
	}
	return "locally on " + t.URL()
}

// connectFailed is the note shown when ngrok could not connect: why, and that vapimon
// goes on locally.
func connectFailed(err error, local *localTunnel) string {
	why := reason(err)
	if !strings.HasPrefix(why, "ngrok") {
		why = "ngrok failed: " + why
	}
	return fmt.Sprintf("%s: listening %s", why, local.where())
}

// reason returns err's text without the "ngrok: " prefix ListenNgrok adds, so that the
// fallback note does not say "ngrok failed: ngrok ...".
func reason(err error) string {
	return strings.TrimPrefix(err.Error(), "ngrok: ")
}

// checkPublicURL validates --public-url: an absolute http(s) URL with a host.
func checkPublicURL(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("--public-url %q is not an http(s) URL: pass the full address your tunnel gives you, e.g. https://example.trycloudflare.com", s)
	}
	return u.String(), nil
}

// publicURLTunnel is a local listener reached through a tunnel the user runs
// (--public-url).
type publicURLTunnel struct {
	Tunnel
	url string
}

func (t *publicURLTunnel) URL() string  { return t.url }
func (t *publicURLTunnel) Public() bool { return true }

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
			ng.setState(StateFailed, "ngrok stopped accepting connections: "+printable(err.Error(), 200)+": Vapi cannot reach vapimon; restart it")
		}
	}, local.ln)
	opts := cfg.Ngrok
	opts.OnStatus = func(state webhook.TunnelState, note string) {
		t.change(func(st *webhook.Status) {
			if t.ng == nil && (state == StateOnline || state == StateFailed) {
				return // the first connect's outcome is told below, with the URL or the fallback
			}
			if t.ng == nil && note == "" {
				note = st.TunnelNote
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

// plainError is an error whose text is written for a person, keeping the underlying
// error for errors.Is/As.
type plainError struct {
	msg string
	err error
}

func (e *plainError) Error() string { return e.msg }
func (e *plainError) Unwrap() error { return e.err }

// printable keeps one line of s made of printable runes: text from outside (ngrok's
// cloud, a developer's server) must not move the cursor or recolour the terminal.
func printable(s string, max int) string {
	s = ansi.Strip(strings.ToValidUTF8(s, "?"))
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			r = ' '
		case !unicode.IsPrint(r):
			continue
		}
		if b.Len() >= max {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
	}
	return strings.Join(strings.Fields(b.String()), " ")
}
