package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/vapimon/vapimon/relay"
	"github.com/vapimon/vapimon/webhook"
)

func newControlCmd() *cobra.Command {
	var o webhook.ControlOptions
	var controlURL string
	var tapes []string
	var timeout time.Duration
	var actions strings.Builder
	for _, a := range webhook.ControlActions {
		fmt.Fprintf(&actions, "  %-12s %-20s %s\n", a.Name, a.Args, a.Help)
	}
	cmd := &cobra.Command{
		Use:   "control CALL ACTION [ARGS]",
		Short: "Control a live call: say, add a message, mute, end, transfer",
		Long: `Send a live-call control message to a call's monitor.controlUrl, exactly as Vapi's
Live Call Control docs show, and print Vapi's answer (exit 1 with its reason on failure).

CALL is a call id, or its first characters as the monitor shows them. Its control URL
is looked up in the current and latest tapes, then in Vapi's API when VAPI_API_KEY is
set; --control-url URL skips the lookup (CALL is then only a label).

When the assistant's monitorPlan.controlAuthenticationEnabled is on, the control URL
wants Authorization: Bearer with your org's PUBLIC API key: set VAPI_PUBLIC_KEY.

Actions:
` + actions.String(),
		Example: `  vapimon control f26d846a say "One moment, I'm checking that for you"
  vapimon control f26d846a say --interrupt --end-after "Sorry, we have to end the call here"
  vapimon control f26d846a add-message --role system "The customer is a VIP: offer 20% off"
  vapimon control f26d846a mute assistant
  vapimon control f26d846a transfer +14155550123 --message "Transferring you now"
  vapimon control - end --control-url https://…vapi.ai/7420f27a-…/control`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return errors.New(`control needs a call and an action, e.g. vapimon control f26d846a say "One moment" (vapimon control --help lists the actions)`)
			}
			return nil
		},
		ValidArgsFunction: completeControl,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := webhook.ControlFromArgs(args[1], args[2:], o)
			if err != nil {
				return err
			}
			ok, err := relay.ControlCall{Call: args[0], URL: controlURL, Tapes: tapes, Timeout: timeout, Control: c}.Send(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr())
			if err == nil && !ok {
				err = exitError{1}
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&controlURL, "control-url", "", "the call's monitor.controlUrl (skips the lookup)")
	f.StringArrayVar(&tapes, "tape", nil, "tape to look the call up in (repeatable; default: the latest tapes)")
	f.DurationVar(&timeout, "timeout", relay.DefaultControlTimeout, "how long to wait for the control URL's answer")
	f.BoolVar(&o.Interrupt, "interrupt", false, "say: cut off what the assistant is saying")
	f.BoolVar(&o.EndAfter, "end-after", false, "say: end the call once said")
	f.StringVar(&o.Role, "role", "system", "add-message: system, user or assistant")
	f.BoolVar(&o.Silent, "silent", false, "add-message: add to the history without a response")
	f.StringVar(&o.Message, "message", "", "transfer: what the assistant says first")
	_ = cmd.RegisterFlagCompletionFunc("role", cobra.FixedCompletions(webhook.AddMessageRoles, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// completeControl completes recent call ids (newest first), then the action and its
// argument.
func completeControl(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	return relay.ControlCompletions(args, relay.RecentTapes), cobra.ShellCompDirectiveNoFileComp
}
