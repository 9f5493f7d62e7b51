package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/vapimon/vapimon/webhook"
)

func TestFlagErrorsSuggestTheFix(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"listen", "--forwrd-to", "x"}, "did you mean --forward-to?"},
		{[]string{"listen", "--tool-timeout", "20"}, "durations need a unit, e.g. 20s"},
		{[]string{"send", "tool-calls", "--tto", "x"}, "did you mean --to?"},
	} {
		r := runVapimon(t, tt.args...)
		if r.code == 0 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("vapimon %s: exit %d, stderr %q, want %q", strings.Join(tt.args, " "), r.code, r.stderr, tt.want)
		}
	}
	if d := webhook.EditDistance("forwrd-to", "forward-to"); d != 1 {
		t.Errorf("webhook.EditDistance = %d", d)
	}
}

// TestHelpGroupsEveryListenFlag: every flag of listen and of the bare vapimon is shown in
// a named section of --help (help and version aside), in the section its name is listed
// under (--forward-raw and --forward-timeout under "Tunnel and relay", not "Other
// flags"); and every name the sections list is a flag of some command (no stale names).
func TestHelpGroupsEveryListenFlag(t *testing.T) {
	t.Parallel()
	root := newRootCmd()
	listen, _, err := root.Find([]string{"listen"})
	if err != nil {
		t.Fatal(err)
	}
	sectionOf := map[string]string{}
	for _, g := range flagGroups {
		for _, n := range g.names {
			if prev, ok := sectionOf[n]; ok {
				t.Errorf("--%s is listed under both %q and %q", n, prev, g.title)
			}
			sectionOf[n] = g.title
		}
	}
	for _, cmd := range []*cobra.Command{root, listen} {
		help := groupedFlagUsages(cmd)
		cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Hidden || f.Name == "help" || f.Name == "version" {
				return
			}
			want, ok := sectionOf[f.Name]
			if !ok {
				t.Errorf("%s --%s is in no named section of --help (it shows under \"Other flags\"): add it to flagGroups", cmd.Name(), f.Name)
				return
			}
			if got := sectionAround(help, "--"+f.Name); got != want {
				t.Errorf("%s --help shows --%s under %q, want %q", cmd.Name(), f.Name, got, want)
			}
		})
	}
	known := map[string]bool{}
	var visit func(c *cobra.Command)
	visit = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) { known[f.Name] = true })
		for _, sub := range c.Commands() {
			visit(sub)
		}
	}
	visit(root)
	for n := range sectionOf {
		if !known[n] {
			t.Errorf("flagGroups lists --%s, which no command has", n)
		}
	}
	if got := sectionAround(groupedFlagUsages(listen), "--forward-raw"); got != "Tunnel and relay" {
		t.Errorf("--forward-raw is under %q", got)
	}
	// A command's own flag of the same name stays with its other flags.
	tapes, _, err := root.Find([]string{"tapes"})
	if err != nil {
		t.Fatal(err)
	}
	if got := sectionAround(groupedFlagUsages(tapes), "--keep-tapes"); got != sectionAround(groupedFlagUsages(tapes), "--yes") {
		t.Errorf("tapes --help shows --keep-tapes under %q, apart from --yes", got)
	}
}

// sectionAround returns the title of the --help section whose flag column holds flag
// ("--name"; "" when none does).
func sectionAround(help, flag string) string {
	title := ""
	for _, l := range strings.Split(help, "\n") {
		if strings.HasSuffix(l, ":") && !strings.HasPrefix(l, " ") {
			title = strings.TrimSuffix(l, ":")
			continue
		}
		f := strings.Fields(l)
		if len(f) > 0 && (f[0] == flag || (len(f) > 1 && strings.HasSuffix(f[0], ",") && f[1] == flag)) {
			return title
		}
	}
	return ""
}
