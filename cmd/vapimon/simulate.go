package main

import (
	"context"
	"os"
	"strings"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
	"github.com/vapimon/vapimon/fixtures/sim"
	"github.com/vapimon/vapimon/relay"
	"github.com/vapimon/vapimon/tui"
	"github.com/vapimon/vapimon/webhook"
)

func newSimulateCmd() *cobra.Command {
	var auth authFlags
	var to, answers string
	var speed float64
	var jsonOut, verbose bool
	var theme tui.Theme
	cmd := &cobra.Command{
		Use:   "simulate SCRIPT",
		Short: "Play Vapi for a whole scripted call against your server, or into the monitor",
		Long: `Play a conversation script as Vapi would: assistant-request, status updates, speech
and transcript events, conversation updates, tool calls and the end-of-call report, signed
for --auth. The replies steer the call: the assistant-request's assistant gives the first
message, tool results (and errors, and timeouts past the tool's timeoutSeconds) go into
what the assistant says next and into the summary. Each call has a local
monitor.controlUrl that obeys say, add-message, mute, end-call and transfer
(vapimon control CALL ... --control-url URL, or the monitor's a key).

SCRIPT is a built-in script (` + strings.Join(sim.Builtin(), ", ") + `) or a YAML file; the README
documents the format. With --to, each step is printed and vapimon exits 1 when a reply
Vapi needs was missing or unusable. Without --to, the call is played into the monitor,
where you answer what the script asks (--answers to answer some from a file).`,
		Example: `  vapimon simulate inbound-call --to http://localhost:3000/vapi --secret "$VAPI_SECRET"
  vapimon simulate my-call.yaml --to http://localhost:3000/vapi --auth hmac --secret "$KEY" --speed 4
  vapimon simulate my-call.yaml            # play it into the monitor, answer by hand`,
		Args:              oneFixtureArg("simulate needs a script: a built-in name (" + strings.Join(sim.Builtin(), ", ") + ") or a YAML file"),
		ValidArgsFunction: completeScripts,
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, err := sim.Load(args[0])
			if err != nil {
				return err
			}
			if to == "" {
				d, err := relay.NewSimulation(sc, relay.DemoOptions{Speed: speed, AnswersFile: answers, Terminal: isTerminal(), Stderr: cmd.ErrOrStderr()})
				return runSimulatedMonitor(cmd.Context(), d, err, theme)
			}
			a, err := auth.config()
			if err != nil {
				return err
			}
			return runSimulateTo(cmd.Context(), sc, to, a, speed, &sim.Printer{W: cmd.OutOrStdout(), JSON: jsonOut, Verbose: verbose})
		},
	}
	f := cmd.Flags()
	f.StringVar(&to, "to", "", "webhook URL to drive (your server); without it the call plays into the monitor")
	f.Float64Var(&speed, "speed", 1, "speed of the call (2 = twice as fast); deadlines stay Vapi's")
	f.BoolVar(&jsonOut, "json", false, "with --to: one JSON object per line instead of text")
	f.BoolVarP(&verbose, "verbose", "v", false, "with --to: print every request, speech and transcript updates too")
	f.StringVar(&answers, "answers", "", "without --to: answers file for the monitor")
	f.Var(&theme, "theme", tui.ThemeUsage)
	auth.register(cmd)
	return cmd
}

// runSimulateTo drives a developer's server through one scripted call (sim.Drive) and
// exits 1 when a reply Vapi needed was missing or unusable.
func runSimulateTo(ctx context.Context, sc *sim.Script, to string, auth webhook.AuthConfig, speed float64, pr *sim.Printer) error {
	rep, err := sim.Drive(ctx, sc, to, auth, speed, pr)
	if err != nil {
		return err
	}
	if !rep.OK() {
		return exitError{1}
	}
	return nil
}

// runSimulatedMonitor runs the monitor over d (the demo, and simulate SCRIPT without
// --to), once relay built it without error.
func runSimulatedMonitor(ctx context.Context, d *relay.Demo, err error, theme tui.Theme) error {
	if err != nil {
		return err
	}
	defer d.Close()
	return runTUI(ctx, d.Config, tui.Options{Theme: theme}, d.Feed)
}

// isTerminal reports whether stdin and stdout are terminals, as the monitor needs.
func isTerminal() bool { return term.IsTerminal(os.Stdout.Fd()) && term.IsTerminal(os.Stdin.Fd()) }

// completeScripts offers the built-in scripts, then YAML files.
func completeScripts(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return sim.Builtin(), cobra.ShellCompDirectiveDefault
}
