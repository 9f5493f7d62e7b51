package main

import (
	"fmt"
	"strings"
	"text/template"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/vapimon/vapimon/webhook"
)

// flagGroups orders the help's flag sections; a flag not listed goes under "Flags" (or
// "Other flags" after the sections). Every flag of listen (and of the bare vapimon) is in
// one of them (TestHelpGroupsEveryListenFlag); a command's own flags (send --to...) go
// under "Other flags".
var flagGroups = []struct {
	title string
	names []string
}{
	{"Listening", []string{"addr", "headless", "headless-payload", "headless-body", "hide", "only", "tool-timeout", "max-body", "max-inflight", "log-file"}},
	{"The monitor (TUI)", []string{"theme", "keep-calls", "call-idle"}},
	{"Answering and recording", []string{"answers", "record", "no-record", "record-only", "keep-tapes"}},
	{"Listening to calls' audio", []string{"listen", "play", "player"}},
	{"Tunnel and relay", []string{"forward-to", "forward-header", "forward-timeout", "forward-raw", "forward-insecure", "intercept", "no-tunnel", "public-url", "domain", "traffic-policy"}},
	{"Pointing Vapi at vapimon (needs VAPI_API_KEY)", []string{"assistant", "phone-number", "tool"}},
	{"Verification (listen) / signing (send, replay)", []string{"auth", "secret", "auth-header", "no-bearer-prefix", "hmac-preset", "hmac-algorithm", "hmac-signature-header", "hmac-timestamp-header", "hmac-prefix", "hmac-payload", "hmac-encoding", "hmac-no-timestamp", "hmac-secret-base64", "hmac-tolerance", "hmac-timestamp-unit"}},
}

// ownFlags are flags of a command that share a name with a flag in flagGroups but mean
// something of that command's own: they stay with its other flags (tapes --keep-tapes
// deletes, beside --yes; listen --keep-tapes only counts).
var ownFlags = map[string][]string{"tapes": {"keep-tapes"}}

// groupedFlagUsages renders cmd's local flags in titled sections.
func groupedFlagUsages(cmd *cobra.Command) string {
	group := map[string]int{}
	for i, g := range flagGroups {
		for _, n := range g.names {
			group[n] = i + 1
		}
	}
	for _, n := range ownFlags[cmd.Name()] {
		delete(group, n)
	}
	sets := make([]*pflag.FlagSet, len(flagGroups)+1)
	for i := range sets {
		sets[i] = pflag.NewFlagSet("", pflag.ContinueOnError)
	}
	cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			sets[group[f.Name]].AddFlag(f)
		}
	})
	var b strings.Builder
	write := func(title string, fs *pflag.FlagSet) {
		if !fs.HasAvailableFlags() {
			return
		}
		b.WriteString("\n\n" + title + ":\n")
		b.WriteString(strings.TrimRight(fs.FlagUsages(), " \n"))
	}
	for i, g := range flagGroups {
		write(g.title, sets[i+1])
	}
	title := "Flags"
	if b.Len() > 0 {
		title = "Other flags"
	}
	write(title, sets[0])
	return b.String()
}

// useGroupedHelp makes root and its subcommands print flags in sections.
func useGroupedHelp(root *cobra.Command) {
	cobra.AddTemplateFuncs(template.FuncMap{"groupedFlagUsages": groupedFlagUsages})
	tmpl := root.UsageTemplate()
	const plain = "{{if .HasAvailableLocalFlags}}\n\nFlags:\n{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}"
	root.SetFlagErrorFunc(flagError)
	if strings.Contains(tmpl, plain) {
		root.SetUsageTemplate(strings.Replace(tmpl, plain, "{{if .HasAvailableLocalFlags}}{{groupedFlagUsages .}}{{end}}", 1))
	}
}

// flagError adds the likely fix to pflag's errors: a unit for a bare duration, the closest
// flag name for a typo.
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "missing unit in duration"):
		return fmt.Errorf("%s: durations need a unit, e.g. 20s, 1500ms or 2m", msg)
	case strings.HasPrefix(msg, "unknown flag: --"):
		name := strings.TrimPrefix(msg, "unknown flag: --")
		best, bestD := "", 3
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if d := webhook.EditDistance(name, f.Name); d < bestD {
				best, bestD = f.Name, d
			}
		})
		if best != "" {
			return fmt.Errorf("%s (did you mean --%s?)", msg, best)
		}
	}
	return err
}
