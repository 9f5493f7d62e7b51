package webhook

import (
	"encoding/json"
	"strings"
	"testing"
)

var validSeeds = []string{
	``, ` `, `{}`, `[]`, `{"a":1}`, `{"a":}`, `{"a" 1}`, `{,}`, `[1,]`, `[,1]`, `{"a":1,}`, `"x`, `"\u00e9"`, `"\u00g9"`,
	`"\x"`, "\"\x01\"", "\"\xff\"", `-`, `-0`, `01`, `1.`, `1.5e`, `1.5e+3`, `1E-2`, `-.5`, `tru`, `true `, `nul`,
	`null null`, `[[[]]]`, `{"a":[{"b":null}]}`, ` {"a" : "b" } `, `[1 2]`, `{"a":1 "b":2}`, "\t[\n]\r",
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000), strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	toolCallsBody,
}

func TestValidJSONMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range append(validSeeds, func() []string {
		var out []string
		for _, b := range fixtureBodies(t) {
			out = append(out, string(b))
		}
		return out
	}()...) {
		if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("validJSON(%.60q) = %v, json.Valid says %v", s, got, want)
		}
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, s := range validSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}
