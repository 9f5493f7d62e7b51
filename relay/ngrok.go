package relay

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.ngrok.com/ngrok/v2"

	"github.com/vapimon/vapimon/tui/sanitize"
	"github.com/vapimon/vapimon/webhook"
)

// DefaultConnectTimeout bounds the first connection to ngrok's cloud.
const DefaultConnectTimeout = 15 * time.Second

// NgrokOptions configures the embedded ngrok agent.
type NgrokOptions struct {
	// Authtoken is required. ngrok does not read NGROK_AUTHTOKEN itself: the caller does.
	Authtoken string
	// Domain is a reserved domain (--domain), e.g. "vapimon-ada.ngrok.app"; a scheme is
	// optional (https:// is assumed). Empty: ngrok assigns one.
	Domain string
	// TrafficPolicy is the contents of the --traffic-policy file, passed through as is.
	TrafficPolicy string
	// ConnectTimeout bounds the first connect; DefaultConnectTimeout when zero.
	ConnectTimeout time.Duration
	// ConnectURL overrides ngrok's connect address (host:port), for tests.
	ConnectURL string
	// Logger receives ngrok's own logs. Nil discards them: ngrok never writes to
	// stdout or stderr, which would corrupt the TUI.
	Logger *slog.Logger
	// OnStatus is told of every state change: "connecting", "online", "reconnecting",
	// "failed", with ngrok's reason in plain words. It is called from ngrok's goroutines
	// and must not block: publish to a buffered bus.
	OnStatus func(state webhook.TunnelState, note string)

	// agentOpts are extra agent options for tests (a fake edge's CA pool, a dialer).
	agentOpts []ngrok.AgentOption
}

// ngrokTunnel is a public https endpoint served by the embedded ngrok agent.
type ngrokTunnel struct {
	agent    ngrok.Agent
	raw      ngrok.EndpointListener
	url      string
	cancel   context.CancelFunc
	onStatus func(state webhook.TunnelState, note string)
	// fatal receives an error that retrying will not fix (bad token) during the first
	// connect, so that ListenNgrok gives up at once instead of at the timeout.
	fatal chan error

	mu         sync.Mutex
	state      webhook.TunnelState
	online     bool // the first connect finished; later disconnects are reconnects
	closing    bool // we are tearing the session down: our own cancel is not news
	lastReason string

	lnOnce    sync.Once
	ln        *fanInListener
	closeOnce sync.Once
	closeErr  error
}

// ListenNgrok connects the embedded agent and opens an https endpoint. ctx bounds only
// the first connect (with o.ConnectTimeout): the session then lives until Close, so that
// cancelling a signal context does not cut replies still in flight; the caller shuts down
// in order (srv.Shutdown, then Close).
//
// ngrok retries every failure, a bad token included, until its context ends. So the
// agent runs on a context of its own, and a timer (not a context deadline, which would
// also end the session after a successful connect) bounds the first connect. An error
// that retrying cannot fix ends the attempt at once. The returned error says why in plain
// words, e.g. "ngrok rejected the authtoken (ERR_NGROK_105): check NGROK_AUTHTOKEN".
func ListenNgrok(ctx context.Context, o NgrokOptions) (Tunnel, error) {
	if o.Authtoken == "" {
		return nil, errors.New("NGROK_AUTHTOKEN is not set")
	}
	timeout := o.ConnectTimeout
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	sessCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	t := &ngrokTunnel{cancel: cancel, onStatus: o.OnStatus, fatal: make(chan error, 1)}

	opts := []ngrok.AgentOption{
		ngrok.WithAuthtoken(o.Authtoken),
		ngrok.WithLogger(logger),
		ngrok.WithEventHandler(t.onEvent),
	}
	if o.ConnectURL != "" {
		opts = append(opts, ngrok.WithAgentConnectURL(o.ConnectURL))
	}
	opts = append(opts, o.agentOpts...)
	agent, err := ngrok.NewAgent(opts...)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("ngrok: %w", err)
	}
	t.agent = agent

	var epOpts []ngrok.EndpointOption
	endpoint := ""
	if o.Domain != "" {
		endpoint = endpointURL(o.Domain)
		epOpts = append(epOpts, ngrok.WithURL(endpoint))
	}
	if o.TrafficPolicy != "" {
		epOpts = append(epOpts, ngrok.WithTrafficPolicy(o.TrafficPolicy))
	}

	t.setState(StateConnecting, "")
	type result struct {
		ln  ngrok.EndpointListener
		err error
	}
	done := make(chan result, 1)
	go func() {
		ln, err := agent.Listen(sessCtx, epOpts...)
		done <- result{ln, err}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()

	var failure error
	pending := true // the Listen goroutine has not reported yet
	select {
	case r := <-done:
		pending = false
		if r.err == nil {
			t.raw = r.ln
			t.url = r.ln.URL().String()
			t.mu.Lock()
			t.online = true
			t.setStateLocked(StateOnline, "")
			t.mu.Unlock()
			return t, nil
		}
		subject := "the endpoint"
		if endpoint != "" {
			subject += " " + endpoint
		}
		failure = &plainError{msg: explainNgrok(r.err, subject), err: r.err}
	case err := <-t.fatal:
		failure = &plainError{msg: explainNgrok(err, ""), err: err}
	case <-timer.C:
		t.mu.Lock()
		why := t.lastReason
		t.mu.Unlock()
		if why == "" {
			why = "no answer from ngrok's servers"
		}
		failure = fmt.Errorf("ngrok did not connect within %s: %s", timeout, why)
	case <-ctx.Done():
		failure = fmt.Errorf("ngrok: connect abandoned: %w", ctx.Err())
	}

	// Give up: stop the retry loop, wait for the Listen goroutine, drop the session.
	t.mu.Lock()
	t.closing = true
	t.mu.Unlock()
	cancel()
	if pending {
		wait := time.NewTimer(closeWait)
		select {
		case r := <-done:
			if r.ln != nil { // it connected just as we gave up
				r.ln.Close()
			}
		case <-wait.C:
		}
		wait.Stop()
	}
	bounded(agent.Disconnect)
	t.mu.Lock()
	t.setStateLocked(StateFailed, failure.Error())
	t.mu.Unlock()
	return nil, failure
}

// endpointURL is the URL of a --domain: https unless it names a scheme.
func endpointURL(domain string) string {
	if strings.Contains(domain, "://") {
		return domain
	}
	return "https://" + domain
}

// onEvent turns agent events into status changes. ngrok calls it from its session
// goroutine, so it never blocks (OnStatus must not either).
func (t *ngrokTunnel) onEvent(ev ngrok.Event) {
	switch e := ev.(type) {
	case *ngrok.EventAgentConnectSucceeded:
		t.mu.Lock()
		defer t.mu.Unlock()
		// The first connect is reported online once the endpoint exists, by ListenNgrok.
		if t.closing || !t.online {
			return
		}
		if t.state != StateOnline {
			t.setStateLocked(StateOnline, "reconnected")
		}
	case *ngrok.EventAgentDisconnected:
		if e.Error == nil {
			return
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.closing {
			return
		}
		why := explainNgrok(e.Error, "")
		if !t.online {
			t.lastReason = why
			if isFatal(e.Error) {
				select {
				case t.fatal <- e.Error:
				default:
				}
			}
			t.setStateLocked(StateConnecting, "retrying: "+why)
			return
		}
		t.setStateLocked(StateReconnecting, why)
	}
}

func (t *ngrokTunnel) setState(state webhook.TunnelState, note string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.setStateLocked(state, note)
}

// setStateLocked records the state and tells OnStatus, under t.mu so that callbacks
// arrive in order.
func (t *ngrokTunnel) setStateLocked(state webhook.TunnelState, note string) {
	t.state = state
	if t.onStatus != nil {
		t.onStatus(state, note)
	}
}

// Listener returns the endpoint's connections. Its Close returns promptly even when
// ngrok's cloud is unreachable.
func (t *ngrokTunnel) Listener() net.Listener {
	t.lnOnce.Do(func() { t.ln = newFanIn(nil, t.raw) })
	return t.ln
}

// URL is the public https URL.
func (t *ngrokTunnel) URL() string { return t.url }

// Public is true: ngrok's edge is reachable from the internet.
func (t *ngrokTunnel) Public() bool { return true }

// Close disconnects the agent, then cancels the session's context. Call it after
// http.Server.Shutdown; each step is bounded, so it never hangs.
func (t *ngrokTunnel) Close() error {
	t.closeOnce.Do(func() {
		t.mu.Lock()
		t.closing = true
		t.mu.Unlock()
		var errs []error
		t.lnOnce.Do(func() {}) // no Listener after Close
		if t.ln != nil {
			errs = append(errs, t.ln.Close())
		}
		if err := bounded(t.agent.Disconnect); err != nil {
			errs = append(errs, fmt.Errorf("ngrok disconnect: %w", err))
		}
		t.cancel()
		t.closeErr = errors.Join(errs...)
	})
	return t.closeErr
}

// bounded runs f, waiting at most closeWait for it.
func bounded(f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	t := time.NewTimer(closeWait)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return fmt.Errorf("still running after %s", closeWait)
	}
}

// ngrokCoded is implemented by ngrok's errors that carry an ERR_NGROK_ code: the errors
// in connect events (ErrorCode, Msg) and those returned by Listen (Code).
type ngrokCoded interface{ ErrorCode() string }
type ngrokMsg interface{ Msg() string }

func ngrokCode(err error) string {
	var c ngrokCoded
	if errors.As(err, &c) {
		return c.ErrorCode()
	}
	var e ngrok.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return ""
}

// isFatal reports whether retrying the connect cannot help: ngrok's cloud answered and
// refused (bad or revoked token, account limits).
func isFatal(err error) bool {
	return ngrokCode(err) != "" || strings.HasPrefix(err.Error(), "authentication failed")
}

// explainNgrok says in plain words why ngrok failed, with the next step when there is an
// obvious one. subject names what was refused ("the endpoint https://x.ngrok.app").
func explainNgrok(err error, subject string) string {
	if code := ngrokCode(err); code != "" {
		switch code {
		case "ERR_NGROK_105", "ERR_NGROK_107":
			return fmt.Sprintf("ngrok rejected the authtoken (%s): check NGROK_AUTHTOKEN", code)
		case "ERR_NGROK_4018":
			return fmt.Sprintf("ngrok needs a valid authtoken (%s): check NGROK_AUTHTOKEN", code)
		case "ERR_NGROK_108":
			return fmt.Sprintf("ngrok refused another agent session on this account (%s): stop the other ngrok agent", code)
		case "ERR_NGROK_334":
			return fmt.Sprintf("ngrok says the endpoint is already online (%s): stop the other agent using it, or pick another --domain", code)
		}
		msg := err.Error()
		var m ngrokMsg
		if errors.As(err, &m) {
			msg = m.Msg()
		}
		if i := strings.IndexByte(strings.TrimSpace(msg), '\n'); i > 0 {
			msg = strings.TrimSpace(msg)[:i]
		}
		what := "ngrok refused"
		if subject != "" {
			what += " " + subject
		}
		return fmt.Sprintf("%s (%s): %s", what, code, sanitize.Line(msg, 200))
	}

	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Sprintf("cannot resolve %s (no network?)", sanitize.Line(dnsErr.Name, 100))
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		addr := ""
		if opErr.Addr != nil {
			addr = " at " + opErr.Addr.String()
		}
		why := opErr.Err.Error()
		var errno syscall.Errno
		if errors.As(opErr.Err, &errno) {
			why = errno.Error()
		}
		if opErr.Timeout() {
			why = "timed out"
		}
		return fmt.Sprintf("cannot reach ngrok's servers%s: %s", addr, why)
	}
	var (
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		verifyErr *tls.CertificateVerificationError
	)
	if errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &verifyErr) {
		return "cannot verify ngrok's TLS certificate (is a proxy intercepting TLS?): " + sanitize.Line(err.Error(), 200)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "connect abandoned"
	}
	if subject != "" {
		return fmt.Sprintf("ngrok refused %s: %s", subject, sanitize.Line(err.Error(), 200))
	}
	return "ngrok: " + sanitize.Line(err.Error(), 200)
}
