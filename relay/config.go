package relay

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vapimon/vapimon/fixtures"
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
	// RecordOnly, when set, records only requests of these types (--record-only), and
	// every rejected request; otherwise every request is recorded.
	RecordOnly []string
	// KeepTapes, when set (--keep-tapes 30d), makes the start say how many tapes in the
	// state directory are older, and how to delete them; nothing is deleted.
	KeepTapes string
	// Headless is what StreamJSON prints beyond the default lines (payloads, bodies) and
	// which requests it leaves out (--hide, --only).
	Headless webhook.HeadlessOptions
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
	// Header is added to every forwarded request (--forward-header), replacing a header
	// of the same name Vapi sent.
	Header http.Header
	// Insecure skips the TLS certificate check of an https target (--forward-insecure),
	// for a development server with a self-signed certificate.
	Insecure bool
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

	trafficPolicy string // the file's text, read and checked by Config.check
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
	if c.KeepTapes != "" {
		if _, err := fixtures.ParseAge(c.KeepTapes); err != nil {
			return fmt.Errorf("--keep-tapes: %w", err)
		}
	}
	if c.MaxBody < 0 {
		return fmt.Errorf("--max-body %d: must be a number of bytes above zero (default %d, 8 MiB)", c.MaxBody, webhook.DefaultMaxBody)
	}
	if c.Tunnel.TrafficPolicyFile != "" {
		text, err := ReadTrafficPolicy(c.Tunnel.TrafficPolicyFile)
		if err != nil {
			return err
		}
		c.Tunnel.trafficPolicy = text
	}
	if len(c.Forward.Routes) == 0 {
		if len(c.Forward.Header) > 0 {
			return errors.New("--forward-header needs --forward-to: it adds headers to the requests forwarded to your server")
		}
		if c.Forward.Insecure {
			return errors.New("--forward-insecure needs --forward-to: it skips the certificate check of your https server")
		}
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
	if t.TrafficPolicyFile != "" && !t.ngrok() {
		out = append(out, "--traffic-policy "+t.TrafficPolicyFile+" is ignored: it applies to the embedded ngrok tunnel, which needs NGROK_AUTHTOKEN (and no --no-tunnel or --public-url)")
	}
	if c.Forward.Insecure {
		out = append(out, "--forward-insecure: the TLS certificate of your server is not checked")
	}
	if u, err := url.Parse(t.PublicURL); err == nil && t.PublicURL != "" {
		if h := u.Hostname(); h == "localhost" || strings.HasPrefix(h, "127.") || h == "::1" {
			out = append(out, "--public-url "+t.PublicURL+" is this machine: Vapi cannot reach it")
		}
	}
	if len(c.RecordOnly) > 0 && !c.NoTape {
		out = append(out, "--record-only "+strings.Join(c.RecordOnly, ",")+": the tape keeps only these types (and rejected requests)")
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

// staleTapesWarning offers the deletion of the tapes older than --keep-tapes: it says how
// many there are and the command that deletes them (after asking); "" when none.
func (c *Config) staleTapesWarning(now time.Time) string {
	age, err := fixtures.ParseAge(c.KeepTapes)
	if c.KeepTapes == "" || err != nil {
		return ""
	}
	dir, err := fixtures.TapeDir()
	if err != nil {
		return ""
	}
	n, size, err := fixtures.StaleTapes(dir, age, now)
	if err != nil || n == 0 {
		return ""
	}
	what := "1 tape"
	if n > 1 {
		what = fmt.Sprintf("%d tapes", n)
	}
	return fmt.Sprintf("--keep-tapes %s: %s in %s older than that (%.1f MB): \"vapimon tapes --keep-tapes %s\" lists them and offers to delete them", c.KeepTapes, what, dir, float64(size)/1e6, c.KeepTapes)
}

// ParseForwardHeaders reads --forward-header values, "Name: value" each, into a header
// (a name given twice gets both values). Their values are never shown or recorded: they
// may be your server's own credentials.
func ParseForwardHeaders(values []string) (http.Header, error) {
	if len(values) == 0 {
		return nil, nil
	}
	h := http.Header{}
	for _, v := range values {
		name, val, ok := strings.Cut(v, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") || strings.ContainsAny(val, "\r\n") {
			return nil, fmt.Errorf("--forward-header %q: write it as 'Name: value'", v)
		}
		h.Add(name, strings.TrimSpace(val))
	}
	return h, nil
}
