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
				return runSimulatedMonitor(cmd.Context(), sc, "", speed, 0, answers, nil, theme, cmd.ErrOrStderr())
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

// runSimulatedMonitor opens the monitor on a local port and plays sc into it: the demo,
// and `simulate SCRIPT` without --to. answersFile (or answersData, written to the state
// directory) answers some requests; the operator the rest.
func runSimulatedMonitor(ctx context.Context, sc *sim.Script, note string, speed float64, toolTimeout time.Duration, answersFile string, answersData []byte, theme tui.Theme, stderr io.Writer) error {
	if !term.IsTerminal(os.Stdout.Fd()) || !term.IsTerminal(os.Stdin.Fd()) {
		return fmt.Errorf("the monitor needs a terminal. Without one, drive a listener:\n  vapimon listen --headless &\n  vapimon simulate %s --to http://127.0.0.1:4242/", sc.Name)
	}
	cfg, err := relay.DemoConfig(answersFile, answersData, toolTimeout, note+"simulating the "+sc.Name+" call to this local port (nothing leaves this machine; a key acts on the call)", stderr)
	if err != nil {
		return err
	}
	ctl, err := sim.StartControl("")
	if err != nil {
		return err
	}
	defer ctl.Close()
	return runTUI(ctx, cfg, tui.Options{Theme: theme}, func(ctx context.Context, s *relay.Session) {
		s.PlayScript(ctx, sc, sim.Config{Speed: speed, Control: ctl, ToolTimeout: toolTimeout})
	})
}

// completeScripts offers the built-in scripts, then YAML files.
func completeScripts(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return sim.Builtin(), cobra.ShellCompDirectiveDefault
}
