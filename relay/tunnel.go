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
	Ngrok NgrokOptions
}

// ResolveListen opens the listener vapimon serves on, as the flags ask: always a local
// listener on cfg.Addr, plus the embedded ngrok endpoint when a token is set and neither
// --no-tunnel nor --public-url is given. When ngrok cannot connect, it falls back to the
// local listener and says why in the returned Status; only a local listen failure (port
// busy) or the end of ctx is returned as an error.
//
// The Status has ListenURL, PublicURL, Tunnel and TunnelNote filled; later tunnel changes
// (reconnecting, online) arrive through cfg.Ngrok.OnStatus.
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
	ng, err := ListenNgrok(ctx, cfg.Ngrok)
	if err != nil {
		if ctx.Err() != nil {
			local.Close()
			return nil, webhook.Status{}, ctx.Err()
		}
		why := reason(err)
		if !strings.HasPrefix(why, "ngrok") {
			why = "ngrok failed: " + why
		}
		st.Tunnel = StateFailed
		where := "locally on " + local.URL()
		if local.wildcard {
			where = "on " + local.reach()
		}
		st.TunnelNote = fmt.Sprintf("%s: listening %s", why, where)
		return local, st, nil
	}
	st.Tunnel = StateOnline
	st.PublicURL = ng.URL()
	return newPairTunnel(local, ng.(*ngrokTunnel)), st, nil
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

// pairTunnel serves the same handler on the local listener and the ngrok endpoint.
type pairTunnel struct {
	local *localTunnel
	ng    *ngrokTunnel
	ln    *fanInListener
}

func newPairTunnel(local *localTunnel, ng *ngrokTunnel) *pairTunnel {
	ln := newFanIn(func(i int, err error) {
		if i == 1 { // the ngrok endpoint died while the local listener lives on
			ng.setState(StateFailed, "ngrok stopped accepting connections: "+printable(err.Error(), 200)+": Vapi cannot reach vapimon; restart it")
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
