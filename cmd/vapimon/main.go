// Command vapimon is a terminal monitor and relay for Vapi "Server URL" webhooks.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/vapimon/vapimon/fixtures/report"
	"github.com/vapimon/vapimon/relay"
	"github.com/vapimon/vapimon/tui/sanitize"
)

// version is set at build time with -ldflags "-X main.version=..."; otherwise it comes
// from the module's build info.
var version = ""

func versionString() string { return report.ModuleVersion(version) }

// versionLine is what `vapimon version` and `vapimon --version` print.
func versionLine() string { return report.Version("vapimon", versionString()) }

// exitError carries an exit status for failures that were already explained to the user.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	// A closed pipe on stdout (`vapimon listen --headless | head`) must end the output, not
	// kill vapimon before it restores Vapi's settings and closes the tape.
	signal.Ignore(syscall.SIGPIPE)
	// Every terminating signal (Ctrl-C, kill, Ctrl-\, the terminal closing) runs the same
	// orderly shutdown; a second one only makes it hurry (see relay.WatchSignals). Signals stay
	// caught until the process exits, so one arriving as vapimon finishes cannot turn a clean
	// exit into "killed by SIGTERM".
	ctx := relay.WatchSignals(context.Background(), os.Stderr)
	// Fewer collections for a small heap under load; GOGC, when set, wins.
	relay.TuneGC()
	if path := os.Getenv("VAPIMON_CPUPROFILE"); path != "" { // for the load benchmark's -load.pprof
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	root := newRootCmd()
	err := root.ExecuteContext(ctx)
	var ee exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		os.Exit(ee.code)
	case errors.Is(err, relay.ErrRestoreFailed): // already said, with the next step
		os.Exit(1)
	default:
		fmt.Fprintln(os.Stderr, "vapimon:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	lf := &listenFlags{}
	root := &cobra.Command{
		Use:   "vapimon",
		Short: "Monitor, answer and replay Vapi server-URL webhooks",
		Long: `vapimon receives Vapi "Server URL" webhooks (through an embedded ngrok tunnel when
NGROK_AUTHTOKEN is set), verifies them, shows calls, transcripts and tool calls live,
lets you answer tool calls by hand or relay them to your own server, records every
request to a tape, and replays fixtures and tapes to any server, signed as Vapi would.

Run with no arguments to start the monitor (same as "vapimon listen").
Try "vapimon demo" to watch a realistic call with no account and no token.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runListen(cmd, lf)
		},
	}
	lf.register(root)
	root.AddCommand(
		newListenCmd(),
		newDemoCmd(),
		newRestoreCmd(),
		newVersionCmd(),
	)
	for _, c := range extraCommands() {
		root.AddCommand(c)
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.Version = versionLine()
	useGroupedHelp(root)
	strictCompletion(root)
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print vapimon's version, commit and Go version (as --version does)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), versionLine())
			return nil
		},
	}
}

// strictCompletion makes `vapimon completion SHELL` fail with a clear error for a shell
// cobra cannot write a script for (tcsh, csh...), instead of printing help and exiting 0.
func strictCompletion(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		var shells []string
		for _, s := range c.Commands() {
			shells = append(shells, s.Name())
		}
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return fmt.Errorf("completion %s: no completion for that shell; vapimon writes scripts for %s", sanitize.Line(args[0], 40), strings.Join(shells, ", "))
		}
	}
}
