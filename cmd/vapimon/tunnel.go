package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/vapimon/vapimon/relay"
	"github.com/vapimon/vapimon/webhook"
)

// tunnelFlags are the relay flags: how traffic reaches vapimon and where it goes on.
type tunnelFlags struct {
	forwardTo      []string
	forwardTimeout time.Duration
	forwardRaw     bool
	intercept      bool
	noTunnel       bool
	domain         string
	trafficPolicy  string
	publicURL      string
	assistants     []string
	phoneNumbers   []string
	tools          []string
}

func (t *tunnelFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringArrayVar(&t.forwardTo, "forward-to", nil, "relay events to your server: URL, or TYPE=URL per message type (e.g. tool-calls=http://localhost:3000/tools, *=http://localhost:3000/webhook); repeatable")
	fs.DurationVar(&t.forwardTimeout, "forward-timeout", 0, "how long your server may take to answer a message Vapi waits on (default: half the time left, so the answers file and you still get a turn when it hangs)")
	fs.BoolVar(&t.forwardRaw, "forward-raw", false, "send your server's reply to Vapi unchanged whatever it is (a 500, a body Vapi cannot use, a redirect) instead of answering from the answers file, you or the fallback: to see what Vapi does with it")
	fs.BoolVar(&t.intercept, "intercept", false, "show your server's reply to the operator, who sends, edits or replaces it before the deadline (TUI)")
	fs.BoolVar(&t.noTunnel, "no-tunnel", false, "do not open an ngrok tunnel even when NGROK_AUTHTOKEN is set")
	fs.StringVar(&t.domain, "domain", "", "reserved ngrok domain to use, e.g. my-agent.ngrok.app")
	fs.StringVar(&t.trafficPolicy, "traffic-policy", "", "ngrok traffic policy file (YAML or JSON) applied to the tunnel")
	fs.StringVar(&t.publicURL, "public-url", "", "your own public URL (cloudflared, Tailscale Funnel, a reverse proxy) that reaches --addr")
	fs.StringArrayVar(&t.assistants, "assistant", nil, "point this Vapi assistant's server URL at vapimon while it runs (needs VAPI_API_KEY); repeatable")
	fs.StringArrayVar(&t.phoneNumbers, "phone-number", nil, "point this Vapi phone number's server URL at vapimon (needs VAPI_API_KEY); repeatable")
	fs.StringArrayVar(&t.tools, "tool", nil, "point this Vapi tool's server URL at vapimon (needs VAPI_API_KEY); repeatable")
	_ = cmd.MarkFlagFilename("traffic-policy", "yaml", "yml", "json")
}

// forwarder returns the forwarder when --forward-to is set (nil otherwise).
func (t *tunnelFlags) forwarder(bus *webhook.Bus) (*relay.Forwarder, error) {
	if len(t.forwardTo) == 0 {
		if t.intercept {
			return nil, fmt.Errorf("--intercept needs --forward-to: it shows your server's reply before it goes to Vapi")
		}
		if t.forwardRaw {
			return nil, fmt.Errorf("--forward-raw needs --forward-to: it passes your server's reply on unchanged")
		}
		return nil, nil
	}
	routes, err := relay.ParseRoutes(t.forwardTo)
	if err != nil {
		return nil, fmt.Errorf("--forward-to: %w", err)
	}
	return relay.NewForwarder(routes, relay.ForwardOptions{Bus: bus, ReplyTimeout: t.forwardTimeout, Raw: t.forwardRaw}), nil
}

// checkLoop refuses a forward target that is vapimon itself: every event would come back
// in, again and again, until the in-flight cap.
func (t *tunnelFlags) checkLoop(listenURL, publicURL string) error {
	self := map[string]bool{}
	for _, u := range []string{listenURL, publicURL} {
		if pu, err := url.Parse(u); err == nil && pu.Host != "" {
			self[hostPort(pu)] = true
		}
	}
	for _, spec := range t.forwardTo {
		target := spec
		if i := strings.Index(spec, "="); i >= 0 && !strings.Contains(spec[:i], "/") && !strings.Contains(spec[:i], ":") {
			target = spec[i+1:]
		}
		if !strings.Contains(target, "://") {
			target = "http://" + target
		}
		pu, err := url.Parse(target)
		if err != nil {
			continue
		}
		hp := hostPort(pu)
		host, port, _ := net.SplitHostPort(hp)
		if self[hp] || ((host == "localhost" || host == "0.0.0.0" || host == "::1" || strings.HasPrefix(host, "127.")) && selfPort(self, port)) {
			return fmt.Errorf("--forward-to %s is vapimon itself (%s): every event would loop back in; point it at your own server", target, listenURL)
		}
	}
	return nil
}

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

func selfPort(self map[string]bool, port string) bool {
	for hp := range self {
		h, p, _ := net.SplitHostPort(hp)
		if p == port && (h == "127.0.0.1" || h == "localhost" || h == "::1" || h == "0.0.0.0") {
			return true
		}
	}
	return false
}

// targets lists the Vapi resources to point at vapimon.
func (t *tunnelFlags) targets() []relay.Target {
	var out []relay.Target
	for _, id := range t.assistants {
		out = append(out, relay.Target{Kind: relay.KindAssistant, ID: id})
	}
	for _, id := range t.phoneNumbers {
		out = append(out, relay.Target{Kind: relay.KindPhoneNumber, ID: id})
	}
	for _, id := range t.tools {
		out = append(out, relay.Target{Kind: relay.KindTool, ID: id})
	}
	return out
}

// open starts listening (locally, plus ngrok when NGROK_AUTHTOKEN is set) and reports where.
// Later tunnel state changes are published on bus through onStatus.
func (t *tunnelFlags) open(ctx context.Context, addr string, log *slog.Logger, onStatus func(state, note string)) (relay.Tunnel, webhook.Status, error) {
	cfg := relay.ListenConfig{Addr: addr, NoTunnel: t.noTunnel, PublicURL: t.publicURL}
	cfg.Ngrok = relay.NgrokOptions{
		Authtoken: strings.TrimSpace(os.Getenv("NGROK_AUTHTOKEN")),
		Domain:    t.domain,
		Logger:    log,
		OnStatus:  onStatus,
	}
	if t.trafficPolicy != "" {
		b, err := os.ReadFile(t.trafficPolicy)
		if err != nil {
			return nil, webhook.Status{}, fmt.Errorf("--traffic-policy: %w", err)
		}
		cfg.Ngrok.TrafficPolicy = string(b)
	}
	return relay.ResolveListen(ctx, cfg)
}
