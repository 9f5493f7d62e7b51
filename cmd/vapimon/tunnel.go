package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/vapimon/vapimon/relay"
	"github.com/vapimon/vapimon/webhook"
)

// tunnelFlags are the relay flags: how traffic reaches vapimon and where it goes on.
type tunnelFlags struct {
	forwardTo     []string
	intercept     bool
	noTunnel      bool
	domain        string
	trafficPolicy string
	publicURL     string
	assistants    []string
	phoneNumbers  []string
	tools         []string
}

func (t *tunnelFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringArrayVar(&t.forwardTo, "forward-to", nil, "relay events to your server: URL, or TYPE=URL per message type (e.g. tool-calls=http://localhost:3000/tools, *=http://localhost:3000/webhook); repeatable")
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
		return nil, nil
	}
	routes, err := relay.ParseRoutes(t.forwardTo)
	if err != nil {
		return nil, fmt.Errorf("--forward-to: %w", err)
	}
	return relay.NewForwarder(routes, relay.ForwardOptions{Bus: bus}), nil
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
