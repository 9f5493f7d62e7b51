package relay

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/vapimon/vapimon/webhook"
)

// Config is everything a Session needs, as plain data: `vapimon listen` fills it from its
// flags and the environment, `vapimon demo` builds it directly. Its errors name the flags
// (--tool-timeout, --forward-to...), since a person reads them at the command line.
type Config struct {
	// Mode says what feeds the monitor (webhook.ModeDemo for the demo).
	Mode webhook.SessionMode
	// Addr is the local listen address (DefaultAddr when empty).
	Addr string
	// Auth is how requests are verified (a normalised webhook.AuthConfig).
	Auth webhook.AuthConfig
	// MaxBody, MaxInFlight and ToolTimeout configure the handler (webhook.Config).
	MaxBody     int64
	MaxInFlight int
	ToolTimeout time.Duration
	// AnswersFile is the canned answers file, re-read when it changes; "" for none.
	AnswersFile string
	// TapePath is where the tape goes; "" for a new file in the state directory.
	// NoTape turns recording off.
	TapePath string
	NoTape   bool
	// LogFile is the diagnostic log; "" for vapimon.log in the state directory.
	LogFile string
	// Forward relays events to the developer's server.
	Forward ForwardConfig
	// Tunnel says how Vapi reaches vapimon.
	Tunnel TunnelConfig
	// Vapi names the resources to point at vapimon while it runs.
	Vapi VapiConfig
	// Audio is listening to calls' audio.
	Audio AudioConfig
	// TunnelNote, when set, replaces the tunnel's note in the status (the demo says what
	// it plays).
	TunnelNote string
	// Operator is the responder slot after the forwarder and the answers file, before
	// the fallback: the person at the TUI (tui.Operator). Nil when nobody is there.
	Operator webhook.Responder
	// Interceptor reviews the forwarded replies while interception is on (the TUI's
	// Operator.Intercept); nil when nobody can review.
	Interceptor InterceptFunc
	// Control sends the operator's live-call controls (say, mute, end...) to a call's
	// control URL; nil uses a ControlClient without a key.
	Control *ControlClient
	// Stderr receives the lines for a person (connecting, pointed, restored, a repaired
	// tape); io.Discard when nil.
	Stderr io.Writer
}

// ForwardConfig is --forward-to and its companions.
type ForwardConfig struct {
	// Routes are the parsed --forward-to values (ParseRoutes); none: no forwarding.
	Routes []Route
	// Timeout bounds a forward of a message Vapi waits on (ForwardOptions.ReplyTimeout).
	Timeout time.Duration
	// Raw passes the server's reply on unchanged (ForwardOptions.Raw).
	Raw bool
	// Intercept starts with interception on (needs Config.Interceptor to mean anything).
	Intercept bool
}

// TunnelConfig is how traffic reaches vapimon.
type TunnelConfig struct {
	// Authtoken is NGROK_AUTHTOKEN; "" keeps vapimon local.
	Authtoken string
	// NoTunnel keeps vapimon local even with a token (--no-tunnel).
	NoTunnel bool
	// Domain is a reserved ngrok domain (--domain).
	Domain string
	// TrafficPolicyFile is an ngrok traffic policy file (--traffic-policy), read at Start.
	TrafficPolicyFile string
	// PublicURL is a tunnel the user runs themselves (--public-url).
	PublicURL string
	// ngrokOptions, in tests, adjusts the ngrok options (a fake edge, a short timeout).
	ngrokOptions func(NgrokOptions) NgrokOptions
}

// VapiConfig is the Vapi resources to point at vapimon, and how to reach Vapi's API.
type VapiConfig struct {
	Targets []Target
	// APIKey and BaseURL are VAPI_API_KEY and VAPI_BASE_URL.
	APIKey  string
	BaseURL string
	// StatePath is where the previous settings are saved; DefaultStatePath when empty.
	StatePath string
}

// ngrok reports whether the embedded ngrok tunnel is asked for.
func (t TunnelConfig) ngrok() bool {
	return t.Authtoken != "" && !t.NoTunnel && t.PublicURL == ""
}

// check refuses a configuration that cannot work, before anything is opened.
func (c *Config) check() error {
	if c.ToolTimeout < time.Second {
		return fmt.Errorf("--tool-timeout %s: Vapi's server.timeoutSeconds is 1 to 300 seconds (default 20s)", c.ToolTimeout)
	}
	if len(c.Forward.Routes) == 0 {
		if c.Forward.Intercept {
			return errors.New("--intercept needs --forward-to: it shows your server's reply before it goes to Vapi")
		}
		if c.Forward.Raw {
			return errors.New("--forward-raw needs --forward-to: it passes your server's reply on unchanged")
		}
	}
	return nil
}

// warnings are the things a person should know before trusting the listener.
func (c *Config) warnings() []string {
	var out []string
	if host, _, err := net.SplitHostPort(c.Addr); err == nil {
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			w := fmt.Sprintf("--addr %s listens on every interface: other machines on your network can reach it", c.Addr)
			if c.Auth.Mode == webhook.AuthNone {
				w += ", and with auth none anyone there can answer for your tools"
			}
			out = append(out, w)
		}
	}
	t := c.Tunnel
	if t.Domain != "" && !t.ngrok() {
		out = append(out, "--domain "+t.Domain+" is ignored: it needs NGROK_AUTHTOKEN and the embedded tunnel")
	}
	if u, err := url.Parse(t.PublicURL); err == nil && t.PublicURL != "" {
		if h := u.Hostname(); h == "localhost" || strings.HasPrefix(h, "127.") || h == "::1" {
			out = append(out, "--public-url "+t.PublicURL+" is this machine: Vapi cannot reach it")
		}
	}
	if c.ToolTimeout > 300*time.Second {
		out = append(out, fmt.Sprintf("--tool-timeout %s is longer than Vapi allows (server.timeoutSeconds is at most 300)", c.ToolTimeout))
	}
	return out
}

// checkLoop refuses a forward route whose target is vapimon itself (its listen or public
// URL, or a loopback name for its port): every event would come back in, again and again,
// until the in-flight cap. routes are ParseRoutes's, so their URLs have a scheme.
func checkLoop(routes []Route, listenURL, publicURL string) error {
	self := map[string]bool{}
	for _, u := range []string{listenURL, publicURL} {
		if pu, err := url.Parse(u); err == nil && pu.Host != "" {
			self[hostPort(pu)] = true
		}
	}
	for _, r := range routes {
		pu, err := url.Parse(r.URL)
		if err != nil {
			continue
		}
		hp := hostPort(pu)
		host, port, _ := net.SplitHostPort(hp)
		if self[hp] || (isLoopbackName(host) && selfPort(self, port)) {
			return fmt.Errorf("--forward-to %s is vapimon itself (%s): every event would loop back in; point it at your own server", r.URL, listenURL)
		}
	}
	return nil
}

func isLoopbackName(host string) bool {
	return host == "localhost" || host == "0.0.0.0" || host == "::1" || strings.HasPrefix(host, "127.")
}

// hostPort is u's host and port, the scheme's default port when it names none.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// selfPort reports whether one of vapimon's own loopback addresses uses port.
func selfPort(self map[string]bool, port string) bool {
	for hp := range self {
		h, p, _ := net.SplitHostPort(hp)
		if p == port && (h == "127.0.0.1" || h == "localhost" || h == "::1" || h == "0.0.0.0") {
			return true
		}
	}
	return false
}
