package main

import (
	"time"

	"github.com/spf13/cobra"
	"github.com/vapimon/vapimon/relay"
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
