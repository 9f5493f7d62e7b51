package vapischema

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTrim checks on a small spec what the embedded file keeps: the reply schemas and what
// they reference, transitively, with structure only.
func TestTrim(t *testing.T) {
	t.Parallel()
	spec := `{"openapi":"3.0.0","info":{"version":"9.9"},"paths":{"/x":{}},"components":{"schemas":{
	  "ServerMessageResponseFoo":{"type":"object","description":"prose","title":"Foo","example":{"a":1},
	    "properties":{
	      "description":{"type":"string","description":"a property named description stays"},
	      "dest":{"description":"d","oneOf":[{"$ref":"#/components/schemas/Dest","title":"D"}]},
	      "n":{"type":"number","minimum":0,"maximum":15,"default":3,"deprecated":true},
	      "list":{"type":"array","items":{"$ref":"#/components/schemas/Item"},"maxItems":2},
	      "pat":{"type":"string","pattern":"^a$","format":"uri","x-internal":true,"nullable":true}
	    },"required":["dest"]},
	  "Dest":{"type":"object","properties":{"type":{"type":"string","enum":["number"]},"inner":{"allOf":[{"$ref":"#/components/schemas/Deep"}]}},"required":["type"]},
	  "Deep":{"type":"object","properties":{"k":{"type":"string","minLength":1}}},
	  "Item":{"type":"string","enum":["a","b"],"examples":["a"]},
	  "Unrelated":{"type":"object","properties":{"z":{"type":"string"}}}
	}}}`
	out, err := Trim([]byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Meta       map[string]any `json:"x-vapimon"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	var names []string
	for n := range doc.Components.Schemas {
		names = append(names, n)
	}
	if got := strings.Join(sortedStrings(names), ","); got != "Deep,Dest,Item,ServerMessageResponseFoo" {
		t.Errorf("kept schemas %s, want the reply schema and its transitive references only", got)
	}
	foo := string(doc.Components.Schemas["ServerMessageResponseFoo"])
	want := `{"properties":{"description":{"type":"string"},"dest":{"oneOf":[{"$ref":"#/components/schemas/Dest"}]},` +
		`"list":{"items":{"$ref":"#/components/schemas/Item"},"maxItems":2,"type":"array"},` +
		`"n":{"maximum":15,"minimum":0,"type":"number"},` +
		`"pat":{"format":"uri","nullable":true,"pattern":"^a$","type":"string"}},"required":["dest"],"type":"object"}`
	if foo != want {
		t.Errorf("trimmed schema\n got %s\nwant %s", foo, want)
	}
	if item := string(doc.Components.Schemas["Item"]); item != `{"enum":["a","b"],"type":"string"}` {
		t.Errorf("Item: %s", item)
	}
	if doc.Meta["sourceVersion"] != "9.9" || doc.Meta["schemas"] != float64(4) {
		t.Errorf("x-vapimon: %v", doc.Meta)
	}
	// One schema per line, so that a regenerated file diffs well.
	if lines := bytes.Count(out, []byte("\n")); lines != 4+4 {
		t.Errorf("%d lines, want one per schema plus 4:\n%s", lines, out)
	}
	s, err := LoadBytes("trimmed", out)
	if err != nil {
		t.Fatal(err)
	}
	checkProblems(t, s.Validate("ServerMessageResponseFoo", []byte(`{"dest":{"type":"number","inner":{"k":""}},"n":16}`)),
		[]string{"/dest/inner/k: minLength", "/n: maximum"})
	checkProblems(t, s.Validate("ServerMessageResponseFoo", []byte(`{"dest":{"type":"number"},"pat":null}`)), nil)

	for _, bad := range []struct{ name, spec, want string }{
		{"not JSON", `{`, "read Vapi OpenAPI spec"},
		{"no schemas", `{"components":{}}`, "no components.schemas"},
		{"no reply schemas", `{"components":{"schemas":{"A":{}}}}`, "no ServerMessageResponse* schemas"},
		{"dangling ref", `{"components":{"schemas":{"ServerMessageResponseA":{"$ref":"#/components/schemas/Gone"}}}}`, "Gone, which does not exist"},
		{"outside ref", `{"components":{"schemas":{"ServerMessageResponseA":{"$ref":"other.json#/X"}}}}`, "does not point into"},
	} {
		if _, err := Trim([]byte(bad.spec)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: got %v, want an error with %q", bad.name, err, bad.want)
		}
	}
}

func sortedStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}

// TestEmbeddedCompiles compiles every embedded schema: a bad generated file fails the
// build's tests, never a user's session.
func TestEmbeddedCompiles(t *testing.T) {
	t.Parallel()
	s, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	replies := 0
	for _, n := range s.Names() {
		if err := s.Compile(n); err != nil {
			t.Errorf("embedded schema %s: %v", n, err)
		}
		if strings.HasPrefix(n, ResponsePrefix) {
			replies++
		}
	}
	if replies < 9 {
		t.Errorf("%d reply schemas embedded, want the 8 of Vapi's union plus the union itself", replies)
	}
	if err := s.Validate("ServerMessageResponseCallEndpointingRequest", []byte(`{"timeoutSeconds":16}`)); err == nil {
		t.Error("embedded schemas accept an endpointing timeout above 15 s")
	}
}

// TestEmbeddedUpToDate regenerates the embedded file from Vapi's specification and compares:
// a stale file means `go generate ./webhook/vapischema` was not run after the spec changed,
// or the generator changed without regenerating.
func TestEmbeddedUpToDate(t *testing.T) {
	t.Parallel()
	path, err := Find()
	if err != nil {
		t.Skipf("Vapi OpenAPI spec not found (%v): cannot check that responses.json is up to date", err)
	}
	spec, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := Trim(spec)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(t.TempDir(), "responses.json")
	if err := os.WriteFile(tmp, fresh, 0o600); err != nil {
		t.Fatal(err)
	}
	again, err := os.ReadFile(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, responsesJSON) {
		t.Fatalf("webhook/vapischema/responses.json is stale (%d bytes; %s gives %d): run go generate ./webhook/vapischema",
			len(responsesJSON), path, len(again))
	}
}
