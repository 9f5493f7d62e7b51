package main

import (
	"context"
	_ "embed"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/vapimon/vapimon/fixtures/sim"
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
		Short: "Watch a simulated Vapi call that reacts to your answers, with no account and no token",
		Long: `Start the monitor on a local port and play a simulated Vapi call into it, over real
HTTP, at the pace of a real call, signed with HMAC as Vapi would. When the assistant calls
get_weather, a prompt opens: type the result (say "Sunny, 21C") and press Enter before the
countdown ends. The call reacts: the assistant says what you typed, and the end-of-call
summary reports it. The call has a control URL: press a on the calls or transcript pane to
make the assistant say something, add a message, mute a side, end or transfer the call.

--scenario picks another built-in script (vapimon simulate's scripts) or a recorded
scenario (vapimon fixtures), which plays as recorded and does not react.
Nothing leaves this machine. The demo's tape is kept, so you can replay it afterwards.`,
		Example: `  vapimon demo
  vapimon demo --speed 2
  vapimon demo --scenario transfer`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDemo(cmd.Context(), scenario, speed, toolTimeout, theme, cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&scenario, "scenario", "inbound-call", "built-in script (simulated, reacts to you) or recorded scenario (vapimon fixtures) to play")
	cmd.Flags().Float64Var(&speed, "speed", 1, "playback speed (2 = twice as fast)")
	cmd.Flags().DurationVar(&toolTimeout, "tool-timeout", webhook.DefaultToolTimeout, "time you have to answer a tool call: the demo's tools carry it as their server.timeoutSeconds, as Vapi would (1s to 300s)")
	cmd.Flags().Var(&theme, "theme", tui.ThemeUsage)
	_ = cmd.RegisterFlagCompletionFunc("scenario", func(c *cobra.Command, a []string, t string) ([]string, cobra.ShellCompDirective) {
		out, dir := fixtureCompletion("scenario")(c, a, t)
		return append(sim.Builtin(), out...), dir
	})
	return cmd
}

func runDemo(ctx context.Context, scenario string, speed float64, toolTimeout time.Duration, theme tui.Theme, stderr io.Writer) error {
	d, err := relay.NewDemo(scenario, relay.DemoOptions{Speed: speed, ToolTimeout: toolTimeout, AnswersData: demoAnswers, Terminal: isTerminal(), Stderr: stderr})
	return runSimulatedMonitor(ctx, d, err, theme)
}
