package main

import (
	"regexp"
	"testing"
)

// TestFixturesListLabels: `vapimon fixtures` says which tool-calls fixture is Vapi's real
// shape, which is the spec's exact one, and which is only a robustness case.
func TestFixturesListLabels(t *testing.T) {
	t.Parallel()
	r := runVapimon(t, "fixtures")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, re := range []string{
		`(?m)^  tool-calls-flat → tool-calls\s+Robustness case, not what Vapi`,
		`(?m)^  tool-calls-spec → tool-calls\s+The same tool calls in exactly the shape of`,
		`(?m)^  tool-calls\s+The model calls get_weather and lookup_order`,
	} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("vapimon fixtures does not match %s:\n%s", re, r.stdout)
		}
	}
}
