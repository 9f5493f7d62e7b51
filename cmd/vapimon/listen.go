package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
	"github.com/vapimon/vapimon/relay"
	"github.com/vapimon/vapimon/webhook"
)

// listenFlags are the flags of `vapimon listen` (and of the bare `vapimon`).
type listenFlags struct {
	auth        authFlags
	addr        string
	headless    bool
	maxBody     int64
	maxInFlight int
	toolTimeout time.Duration
	answers     string
	record      string
	noRecord    bool
	logFile     string
	keepCalls   int
	tunnel      tunnelFlags
}

func (f *listenFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.addr, "addr", "127.0.0.1:4242", "local address to listen on (loopback only unless you ask otherwise)")
	fs.BoolVar(&f.headless, "headless", false, "print one JSON line per event on stdout instead of the TUI (automatic when stdout is not a terminal)")
	fs.Int64Var(&f.maxBody, "max-body", webhook.DefaultMaxBody, "largest request body accepted, in bytes (413 past it)")
	fs.IntVar(&f.maxInFlight, "max-inflight", webhook.DefaultMaxInFlight, "most requests handled at once (503 past it)")
	fs.DurationVar(&f.toolTimeout, "tool-timeout", webhook.DefaultToolTimeout, "default wait for messages whose payload names no server.timeoutSeconds (the tool's, assistant's or phone number's is used when present; assistant-request always has 7.5s)")
	fs.StringVar(&f.answers, "answers", "", "canned answers file (YAML or JSON; see fixtures/answers.example.yaml); re-read when it changes")
	fs.StringVar(&f.record, "record", "", "tape file to append every request and reply to (default: a new file under the state directory)")
	fs.BoolVar(&f.noRecord, "no-record", false, "do not record a tape")
	fs.StringVar(&f.logFile, "log-file", "", "diagnostic log file (default: vapimon.log in the state directory)")
	fs.IntVar(&f.keepCalls, "keep-calls", 500, "calls kept in memory by the TUI (older ones stay on the tape)")
	f.auth.register(cmd)
	f.tunnel.register(cmd)
	_ = cmd.MarkFlagFilename("answers", "yaml", "yml", "json")
	_ = cmd.MarkFlagFilename("record", "jsonl")
	_ = cmd.MarkFlagFilename("log-file", "log")
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

// config maps the flags and the environment (NGROK_AUTHTOKEN, VAPI_API_KEY,
// VAPI_BASE_URL, VAPI_WEBHOOK_SECRET) to a session's Config; the session checks the rest.
func (f *listenFlags) config(stderr io.Writer) (relay.Config, error) {
	auth, err := f.auth.config()
	if err != nil {
		return relay.Config{}, err
	}
	var routes []relay.Route
	if len(f.tunnel.forwardTo) > 0 {
		if routes, err = relay.ParseRoutes(f.tunnel.forwardTo); err != nil {
			return relay.Config{}, fmt.Errorf("--forward-to: %w", err)
		}
	}
	t := f.tunnel
	return relay.Config{
		Addr:        f.addr,
		Auth:        auth,
		MaxBody:     f.maxBody,
		MaxInFlight: f.maxInFlight,
		ToolTimeout: f.toolTimeout,
		AnswersFile: f.answers,
		TapePath:    f.record,
		NoTape:      f.noRecord,
		LogFile:     f.logFile,
		Forward:     relay.ForwardConfig{Routes: routes, Timeout: t.forwardTimeout, Raw: t.forwardRaw, Intercept: t.intercept},
		Tunnel: relay.TunnelConfig{
			Authtoken: strings.TrimSpace(os.Getenv("NGROK_AUTHTOKEN")),
			NoTunnel:  t.noTunnel, Domain: t.domain, TrafficPolicyFile: t.trafficPolicy, PublicURL: t.publicURL,
		},
		Vapi:   relay.VapiConfig{Targets: t.targets(), APIKey: os.Getenv("VAPI_API_KEY"), BaseURL: os.Getenv("VAPI_BASE_URL")},
		Stderr: stderr,
	}, nil
}

func runListen(cmd *cobra.Command, f *listenFlags) error {
	ctx := cmd.Context()
	cfg, err := f.config(cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	if f.headless || !term.IsTerminal(os.Stdout.Fd()) {
		return runHeadless(ctx, cfg, cmd.OutOrStdout())
	}
	return runTUI(ctx, cfg, f.keepCalls, nil)
}

// runHeadless prints the session as JSON lines on stdout until a signal or a server
// failure, then shuts it down.
func runHeadless(ctx context.Context, cfg relay.Config, stdout io.Writer) error {
	s := relay.NewSession(cfg)
	if err := s.Start(ctx); err != nil {
		return err
	}
	s.StreamJSON(stdout)
	err := s.Wait(ctx)
	if ctx.Err() != nil {
		tryWrite(cfg.Stderr, fmt.Sprintf("vapimon: %s: shutting down: replies from your server get up to %s, then every request still waiting gets its fallback (Ctrl-C again: at once)\n", stopReason(ctx), relay.ShutdownGrace))
	}
	if serr := s.Shutdown(hurryOf(ctx)); err == nil {
		err = serr
	}
	if sum := s.TapeSummary(false); sum != "" {
		tryWrite(cfg.Stderr, sum+"\n")
	}
	return err
}

// stopReason names what ended the session: the signal, else "stopping".
func stopReason(ctx context.Context) string {
	if c := context.Cause(ctx); c != nil && c != context.Canceled {
		return c.Error()
	}
	return "stopping"
}
