package main

import (
	"strings"
	"testing"

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
