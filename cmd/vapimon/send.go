package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/fixtures/report"
	"github.com/vapimon/vapimon/tui/sanitize"
)

// defaultSendTo is where `vapimon send` posts without --to: a local `vapimon listen`.
const defaultSendTo = "http://127.0.0.1:4242/"

// sendFlags are the flags of `vapimon send`.
type sendFlags struct {
	auth    authFlags
	to      string
	sets    []string
	callID  string
	keep    bool
	timeout time.Duration
	json    bool
	strict  bool
}

func newSendCmd() *cobra.Command {
	f := &sendFlags{}
	cmd := &cobra.Command{
		Use:   "send NAME|FILE",
		Short: "Send one Vapi event to a server, signed as Vapi would, and check the reply",
		Long: `Send one webhook (a built-in fixture, or a tape or JSON file holding one event) to a
server, with the same headers Vapi would send for --auth, and show the status, latency and
reply. For a message Vapi waits on (tool-calls, assistant-request...) the reply's shape is
checked against Vapi's response schema for it and vapimon's own rules (every tool call
answered by its id), and vapimon exits with status 1 when Vapi could not use it (a 4xx or
5xx, no body, a required field missing...). A reply Vapi can use that is still worth a
look is marked ⚠, and --strict exits 1 then: a 2xx other than 200, a shape Vapi reads
although its schema says otherwise (a tool result that is an object...), every tool result
an error, an assistant-request, transfer or handoff answered with an error, and a reply
that a vapimon sent in place of your server (its X-Vapimon-Fallback header).

Call ids, tool-call ids and timestamps are made fresh (the call happens now) unless --keep
is given. --set overrides one field of the body; the leading "message." may be left out.
Run "vapimon fixtures" for the list of built-in events.`,
		Example: `  vapimon send tool-calls
  vapimon send tool-calls --to http://localhost:3000/vapi --secret "$VAPI_SECRET"
  vapimon send tool-calls --set 'toolCallList[0].function.arguments.location=Berlin'
  vapimon send assistant-request --to https://example.com/vapi --auth hmac --secret "$KEY" --json`,
		Args:              oneFixtureArg("send needs a fixture name or file, e.g. vapimon send tool-calls (vapimon fixtures lists them)"),
		ValidArgsFunction: completeFixtureNames(fixtures.KindEvent),
		RunE:              func(cmd *cobra.Command, args []string) error { return runSend(cmd, f, args[0]) },
	}
	fs := cmd.Flags()
	fs.StringVar(&f.to, "to", defaultSendTo, "URL to send to, used as given (http:// is added when there is no scheme)")
	fs.StringVar(&f.callID, "call-id", "", "send the event as part of this call (message.call.id), e.g. to add events to a call the monitor shows")
	fs.StringArrayVar(&f.sets, "set", nil, "override a body field, path=value (value is JSON when valid, else a string); repeatable")
	fs.BoolVar(&f.keep, "keep", false, "send the body byte for byte as stored: no fresh ids or timestamps")
	fs.DurationVar(&f.timeout, "timeout", fixtures.DefaultSendTimeout, "give up on a reply after this long")
	fs.BoolVar(&f.json, "json", false, "print the result as one JSON object")
	fs.BoolVar(&f.strict, "strict", false, "exit 1 also on a reply Vapi can use that has a warning (⚠)")
	f.auth.register(cmd)
	return cmd
}

// oneFixtureArg accepts exactly one argument, and says what is missing in plain words.
func oneFixtureArg(missing string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) == 0:
			return errors.New(missing)
		case len(args) > 1:
			return fmt.Errorf("%s takes one fixture name or file, got %d: %s", cmd.Name(), len(args), sanitize.Line(strings.Join(args, " "), 0))
		}
		return nil
	}
}

func runSend(cmd *cobra.Command, f *sendFlags, arg string) error {
	auth, err := f.auth.config()
	if err != nil {
		return err
	}
	failed, err := report.Send(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), report.SendOptions{
		Arg: arg, To: f.to, Auth: auth, Sets: f.sets, CallID: f.callID, Keep: f.keep,
		Timeout: f.timeout, JSON: f.json, Strict: f.strict, UserAgent: userAgent(),
	})
	if err == nil && failed {
		err = exitError{code: 1}
	}
	return err
}

func userAgent() string { return "vapimon/" + versionString() }
