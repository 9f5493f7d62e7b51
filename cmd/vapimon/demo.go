package main

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/fixtures/audiosim"
	"github.com/vapimon/vapimon/relay"
	"github.com/vapimon/vapimon/tui"
	"github.com/vapimon/vapimon/webhook"
)

// demoAnswers answers some of the demo call's tools; get_weather is left for the operator.
//
//go:embed demo-answers.yaml
var demoAnswers []byte

func newDemoCmd() *cobra.Command {
	var scenario string
	var speed float64
	var toolTimeout time.Duration
	var theme tui.Theme
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Watch a realistic Vapi call in the monitor, with no account and no token",
		Long: `Start the monitor on a local port and send it a built-in scenario over real HTTP, at
the pace of a real call, signed with HMAC as Vapi would. When the assistant calls
get_weather, a prompt opens: type the result and press Enter before the countdown ends.

Nothing leaves this machine. The demo's tape is kept, so you can replay it afterwards.`,
		Example: `  vapimon demo
  vapimon demo --speed 2
  vapimon demo --scenario transfer`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDemo(cmd.Context(), scenario, speed, toolTimeout, theme, cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&scenario, "scenario", "inbound-call", "built-in scenario to play (vapimon fixtures lists them)")
	cmd.Flags().Float64Var(&speed, "speed", 1, "playback speed (2 = twice as fast)")
	cmd.Flags().DurationVar(&toolTimeout, "tool-timeout", webhook.DefaultToolTimeout, "time you have to answer a tool call: the demo's tools carry it as their server.timeoutSeconds, as Vapi would (1s to 300s)")
	cmd.Flags().Var(&theme, "theme", tui.ThemeUsage)
	_ = cmd.RegisterFlagCompletionFunc("scenario", fixtureCompletion("scenario"))
	return cmd
}

func runDemo(ctx context.Context, scenario string, speed float64, toolTimeout time.Duration, theme tui.Theme, stderr io.Writer) error {
	if !term.IsTerminal(os.Stdout.Fd()) || !term.IsTerminal(os.Stdin.Fd()) {
		return fmt.Errorf("demo needs a terminal (it opens the monitor). Without one, try:\n  vapimon listen --headless &\n  vapimon replay %s --to http://127.0.0.1:4242/", scenario)
	}
	if err := fixtures.CheckSpeed(speed); err != nil {
		return err
	}
	recs, err := fixtures.LoadScenario(scenario)
	if err != nil {
		return err
	}
	if recs, err = withToolTimeout(recs, toolTimeout); err != nil {
		return err
	}
	sim, err := audiosim.New(audiosim.Options{}) // the call's audio, on its monitor.listenUrl
	if err != nil {
		return err
	}
	defer sim.Close()
	dir, err := fixtures.MakeStateDir()
	if err != nil {
		return err
	}
	answersPath := filepath.Join(dir, "demo-answers.yaml")
	if err := os.WriteFile(answersPath, demoAnswers, 0o600); err != nil {
		return fmt.Errorf("demo answers: %w", err)
	}
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	auth, err := webhook.AuthConfig{Mode: webhook.AuthHMAC, Secrets: []string{hex.EncodeToString(secret)}}.Normalize()
	if err != nil {
		return err
	}
	cfg := relay.Config{
		Mode:        webhook.ModeDemo,
		Addr:        "127.0.0.1:0",
		Auth:        auth,
		MaxBody:     webhook.DefaultMaxBody,
		MaxInFlight: webhook.DefaultMaxInFlight,
		ToolTimeout: toolTimeout,
		AnswersFile: answersPath,
		Tunnel:      relay.TunnelConfig{NoTunnel: true},
		TunnelNote:  "demo: playing the " + scenario + " scenario to this local port (nothing leaves this machine)",
		Stderr:      stderr,
		Audio:       relay.AudioConfig{All: true},
	}
	return runTUI(ctx, cfg, 500, theme, func(ctx context.Context, s *relay.Session) {
		// Give the screen a moment to draw before the call starts.
		select {
		case <-ctx.Done():
			return
		case <-time.After(800 * time.Millisecond):
		}
		r := &fixtures.Replayer{
			Sender: fixtures.Sender{To: strings.TrimRight(s.Status().ListenURL, "/") + "/vapi/webhook", Auth: auth},
			Speed:  speed,
		}
		played, onSent := sim.Follow(fixtures.Freshen(recs, time.Now()), speed)
		r.Progress = func(_, _ int, last fixtures.Result) { onSent(last.Index) }
		sum, err := r.Run(ctx, played)
		switch {
		case ctx.Err() != nil:
		case err != nil:
			s.Bus().Publish(webhook.Notice{Time: time.Now(), Level: "error", Text: "demo: " + err.Error()})
		default:
			s.Bus().Publish(webhook.Notice{Time: time.Now(), Level: "info", Text: fmt.Sprintf("demo call finished: %d events sent in %s. Browse with tab and the arrows; q quits.", sum.Sent, sum.Elapsed.Round(time.Second))})
		}
	})
}

// withToolTimeout gives every tool of the scenario's tool-calls messages the demo's
// --tool-timeout as its server.timeoutSeconds: the demo plays Vapi, and Vapi sends each
// tool's own timeout, which vapimon then follows.
func withToolTimeout(recs []fixtures.Record, d time.Duration) ([]fixtures.Record, error) {
	secs := int(d.Round(time.Second) / time.Second)
	if secs < 1 || secs > 300 {
		return nil, fmt.Errorf("--tool-timeout %s: Vapi's server.timeoutSeconds is 1 to 300 seconds", d)
	}
	out := make([]fixtures.Record, len(recs))
	for i, rec := range recs {
		out[i] = rec
		msg, err := webhook.Parse(rec.Body)
		if err != nil || msg.Kind != webhook.TypeToolCalls {
			continue
		}
		body := rec.Body
		for j := range msg.ToolCalls {
			if body, err = fixtures.SetField(body, fmt.Sprintf("message.toolWithToolCallList[%d].server.timeoutSeconds", j), strconv.Itoa(secs)); err != nil {
				return nil, fmt.Errorf("demo scenario: %w", err)
			}
		}
		out[i].Body = body
	}
	return out, nil
}

// fixtureCompletion completes built-in fixture names of the given kind ("" for all).
func fixtureCompletion(kind string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, fx := range fixtures.List() {
			if kind == "" || fx.Kind == kind {
				out = append(out, fx.Name+"\t"+fx.Description)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
