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
	st.TunnelNote = "connecting to ngrok… · meanwhile listening " + local.where()
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

// plainError is an error whose text is written for a person, keeping the underlying
// error for errors.Is/As.
type plainError struct {
	msg string
	err error
}

func (e *plainError) Error() string { return e.msg }
func (e *plainError) Unwrap() error { return e.err }
