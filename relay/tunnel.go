// Package relay gets traffic to vapimon and on from it: the Tunnel that Vapi reaches
// (an embedded ngrok agent, or a plain local listener), the Forwarder that relays each
// webhook to the developer's own server, and the VapiClient that points an assistant,
// phone number or tool at vapimon and puts it back afterwards.
package relay

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"

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

// plainError is an error whose text is written for a person, keeping the underlying
// error for errors.Is/As.
type plainError struct {
	msg string
	err error
}

func (e *plainError) Error() string { return e.msg }
func (e *plainError) Unwrap() error { return e.err }
