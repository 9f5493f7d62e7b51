package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
	"github.com/vapimon/vapimon/relay"
	"github.com/vapimon/vapimon/tui"
	"github.com/vapimon/vapimon/webhook"
)

// listenFlags are the flags of `vapimon listen` (and of the bare `vapimon`): most go
// straight into the session's Config; the rest are mapped by config.
type listenFlags struct {
	cfg                             relay.Config
	auth                            authFlags
	headless                        bool
	keepCalls                       int
	theme                           tui.Theme
	forwardTo, forwardHeaders       []string
	callIdle                        time.Duration
	hide, only, recordOnly          []string
	assistants, phoneNumbers, tools []string
}

func (f *listenFlags) register(cmd *cobra.Command) {
	c, fs := &f.cfg, cmd.Flags()
	fs.StringVar(&c.Addr, "addr", relay.DefaultAddr, "local address to listen on (loopback only unless you ask otherwise)")
	fs.BoolVar(&f.headless, "headless", false, "print one JSON line per event on stdout instead of the TUI (automatic when stdout is not a terminal)")
	fs.BoolVar(&c.Headless.Payload, "headless-payload", false, "headless: add the parsed essentials to each event line as \"payload\" (tools and arguments, transcript and role, status, ended reason, cost); implies --headless")
	fs.BoolVar(&c.Headless.Body, "headless-body", false, "headless: add the full request body to each event line as \"body\"; implies --headless")
	fs.StringArrayVar(&f.hide, "hide", nil, "leave these message types out of the events pane and headless output, e.g. speech-update,conversation-update (H toggles in the TUI); recorded all the same")
	fs.StringArrayVar(&f.only, "only", nil, "show only these message types in the events pane and headless output (rejected requests always show); recorded all the same")
	fs.StringVar(&c.KeepTapes, "keep-tapes", "", "say at start how many tapes are older than this (30d, 2w) and how to delete them (vapimon tapes --keep-tapes); nothing is deleted")
	fs.StringArrayVar(&f.recordOnly, "record-only", nil, "record only these message types on the tape (and rejected requests); without it every request is recorded")
	fs.Int64Var(&c.MaxBody, "max-body", webhook.DefaultMaxBody, "largest request body accepted, in bytes (413 past it)")
	fs.IntVar(&c.MaxInFlight, "max-inflight", webhook.DefaultMaxInFlight, "most requests handled at once (503 past it)")
	fs.DurationVar(&c.ToolTimeout, "tool-timeout", webhook.DefaultToolTimeout, "default wait for messages whose payload names no server.timeoutSeconds (the tool's, assistant's or phone number's is used when present; assistant-request always has 7.5s)")
	fs.StringVar(&c.AnswersFile, "answers", "", "canned answers file (YAML or JSON; see fixtures/answers.example.yaml); re-read when it changes")
	fs.StringVar(&c.TapePath, "record", "", "tape file to append every request and reply to (default: a new file under the state directory)")
	fs.BoolVar(&c.NoTape, "no-record", false, "do not record a tape")
	fs.StringVar(&c.LogFile, "log-file", "", "diagnostic log file (default: vapimon.log in the state directory)")
	fs.IntVar(&f.keepCalls, "keep-calls", 500, "calls kept in memory by the TUI (older ones stay on the tape)")
	fs.Var(&f.theme, "theme", tui.ThemeUsage)
	fs.StringArrayVar(&f.forwardTo, "forward-to", nil, "relay events to your server: URL, or TYPE=URL per message type (e.g. tool-calls=http://localhost:3000/tools, *=http://localhost:3000/webhook); repeatable")
	fs.DurationVar(&c.Forward.Timeout, "forward-timeout", 0, "how long your server may take to answer a message Vapi waits on (default: half the time left, so the answers file and you still get a turn when it hangs)")
	fs.StringArrayVar(&f.forwardHeaders, "forward-header", nil, "add a header to every request forwarded to your server, 'Name: value' (e.g. your server's own auth); repeatable")
	fs.BoolVar(&c.Forward.Insecure, "forward-insecure", false, "do not check the TLS certificate of an https --forward-to server (a self-signed development server)")
	fs.DurationVar(&f.callIdle, "call-idle", tui.DefaultCallIdle, "a call started by vapimon send or replay that gets no event for this long is shown as ended (0: stays live)")
	fs.BoolVar(&c.Forward.Raw, "forward-raw", false, "send your server's reply to Vapi unchanged whatever it is (a 500, a body Vapi cannot use, a redirect) instead of answering from the answers file, you or the fallback: to see what Vapi does with it")
	fs.BoolVar(&c.Forward.Intercept, "intercept", false, "show your server's reply to the operator, who sends, edits or replaces it before the deadline (TUI)")
	fs.BoolVar(&c.Tunnel.NoTunnel, "no-tunnel", false, "do not open an ngrok tunnel even when NGROK_AUTHTOKEN is set")
	fs.StringVar(&c.Tunnel.Domain, "domain", "", "reserved ngrok domain to use, e.g. my-agent.ngrok.app")
	fs.StringVar(&c.Tunnel.TrafficPolicyFile, "traffic-policy", "", "ngrok traffic policy file (YAML or JSON) applied to the tunnel")
	fs.StringVar(&c.Tunnel.PublicURL, "public-url", "", "your own public URL (cloudflared, Tailscale Funnel, a reverse proxy) that reaches --addr")
	fs.StringArrayVar(&f.assistants, "assistant", nil, "point this Vapi assistant's server URL at vapimon while it runs (needs VAPI_API_KEY); repeatable")
	fs.StringArrayVar(&f.phoneNumbers, "phone-number", nil, "point this Vapi phone number's server URL at vapimon (needs VAPI_API_KEY); repeatable")
	fs.StringArrayVar(&f.tools, "tool", nil, "point this Vapi tool's server URL at vapimon (needs VAPI_API_KEY); repeatable")
	fs.BoolVar(&c.Audio.All, "listen", false, "listen to every call's audio (its monitor.listenUrl): recorded as a WAV beside the tape, levels and turn gaps in the transcript pane (l does it for the selected call); VAPI_PUBLIC_KEY when the assistant's monitorPlan.listenAuthenticationEnabled is on")
	fs.BoolVar(&c.Audio.Play, "play", false, "play the listened call's audio through a player on PATH (ffplay, paplay, aplay, play); P in the TUI")
	fs.StringVar(&c.Audio.Player, "player", "", "player command reading raw 16-bit PCM on stdin, {rate} {channels} {layout} replaced (implies --play), e.g. 'aplay -q -t raw -f S16_LE -r {rate} -c {channels}'")
	f.auth.register(cmd)
	for _, name := range []string{"hide", "only", "record-only"} {
		_ = cmd.RegisterFlagCompletionFunc(name, fixedCompletion(webhook.KnownTypes...))
	}
	_ = cmd.MarkFlagFilename("answers", "yaml", "yml", "json")
	_ = cmd.MarkFlagFilename("record", "jsonl")
	_ = cmd.MarkFlagFilename("log-file", "log")
	_ = cmd.MarkFlagFilename("traffic-policy", "yaml", "yml", "json")
}

func newListenCmd() *cobra.Command {
	f := &listenFlags{}
	cmd := &cobra.Command{
		Use:   "listen",
		Short: "Receive Vapi webhooks: show them live, answer them, record them",
		Long: `Listen for Vapi server-URL webhooks and show them live in the TUI, or as JSON lines
with --headless (also when stdout is not a terminal).

With NGROK_AUTHTOKEN set, vapimon opens an ngrok tunnel and shows the public URL to paste
into Vapi; otherwise it listens on --addr only. Messages that expect a reply are answered,
in this order, by your server (--forward-to), the answers file (--answers), you (the TUI
prompt), and finally a fallback sent just before Vapi's deadline.`,
		Example: `  vapimon listen
  vapimon listen --answers answers.yaml --secret "$VAPI_SECRET"
  vapimon listen --forward-to http://localhost:3000/webhook --headless | jq .
  vapimon listen --auth hmac --secret "$HMAC_KEY" --hmac-preset x-vapi-signature`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runListen(cmd, f) },
	}
	f.register(cmd)
	return cmd
}

// config completes the session's Config from the flags that need mapping and from the
// environment (NGROK_AUTHTOKEN, VAPI_API_KEY, VAPI_BASE_URL, VAPI_WEBHOOK_SECRET,
// VAPI_PUBLIC_KEY); the
// session checks the rest.
func (f *listenFlags) config(stderr io.Writer) (relay.Config, error) {
	c := f.cfg
	var err error
	if c.Auth, err = f.auth.config(); err != nil {
		return c, err
	}
	if len(f.forwardTo) > 0 {
		if c.Forward.Routes, err = relay.ParseRoutes(f.forwardTo); err != nil {
			return c, err // it names the flag value
		}
	}
	if c.Forward.Header, err = relay.ParseForwardHeaders(f.forwardHeaders); err != nil {
		return c, err
	}
	for _, tf := range []struct {
		flag string
		in   []string
		out  *[]string
	}{{"--hide", f.hide, &c.Headless.Filter.Hide}, {"--only", f.only, &c.Headless.Filter.Only}, {"--record-only", f.recordOnly, &c.RecordOnly}} {
		if *tf.out, err = relay.ParseTypes(tf.flag, tf.in); err != nil {
			return c, err
		}
	}
	if f.keepCalls < 1 {
		return c, fmt.Errorf("--keep-calls %d: the monitor keeps at least one call (default 500; older ones stay on the tape)", f.keepCalls)
	}
	for i, ids := range [][]string{f.assistants, f.phoneNumbers, f.tools} {
		for _, id := range ids {
			c.Vapi.Targets = append(c.Vapi.Targets, relay.Target{Kind: []string{relay.KindAssistant, relay.KindPhoneNumber, relay.KindTool}[i], ID: id})
		}
	}
	c.Tunnel.Authtoken = strings.TrimSpace(os.Getenv("NGROK_AUTHTOKEN"))
	c.Vapi.APIKey, c.Vapi.BaseURL = os.Getenv("VAPI_API_KEY"), os.Getenv("VAPI_BASE_URL")
	c.Audio.PublicKey = strings.TrimSpace(os.Getenv("VAPI_PUBLIC_KEY"))
	c.Audio.Play = c.Audio.Play || c.Audio.Player != ""
	c.Stderr = stderr
	return c, nil
}

func runListen(cmd *cobra.Command, f *listenFlags) error {
	ctx := cmd.Context()
	cfg, err := f.config(cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	if f.headless || cfg.Headless.Payload || cfg.Headless.Body || !term.IsTerminal(os.Stdout.Fd()) {
		return relay.RunHeadless(ctx, cfg, cmd.OutOrStdout())
	}
	return runTUI(ctx, cfg, tui.Options{KeepCalls: f.keepCalls, Theme: f.theme, CallIdle: f.callIdle, Show: cfg.Headless.Filter}, nil)
}
