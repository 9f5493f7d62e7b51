// Package vapischema validates JSON documents against the component schemas of Vapi's
// OpenAPI specification (components.schemas ServerMessage*, ServerMessageResponse*, ...).
//
// The full specification is not shipped with vapimon: it is a 3 MB file that lives beside
// the repository in development (../shared/vapi/openapi.json). Tests that need it use
// SkipIfMissing, so a user's clone without the file still passes, with those checks
// reported as skipped. What vapimon needs at run time, the reply schemas, is embedded:
// Trim cuts them out of the specification (go generate runs ./gen) and Embedded loads them.
//
// OpenAPI 3.0 schemas are not quite JSON Schema. Before compiling, this package rewrites the
// constructs that change meaning (see normalise): most importantly `nullable: true` becomes
// "this schema, or null", and oneOf is read as anyOf. The schemas are then compiled as JSON
// Schema draft 7, whose `$ref` (which overrides its siblings) matches OpenAPI 3.0, with the
// date-time, uuid and uri formats asserted. OpenAPI's `discriminator` is an annotation here.
package vapischema

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// EnvPath names the environment variable that, when set, gives the specification's path.
const EnvPath = "VAPIMON_OPENAPI"

// RelPath is where the specification is looked for, relative to the working directory and
// to each of its parents.
const RelPath = "shared/vapi/openapi.json"

// ErrNotFound is returned by Load when the specification is not on disk.
var ErrNotFound = errors.New("vapi OpenAPI spec not found (../shared/vapi/openapi.json; set " + EnvPath + " to its path)")

// resourceBase is the base URL each component schema is registered under, as its own
// resource (resourceBase + name). It is never fetched: the compiler has no loader for
// remote URLs.
//
// One resource per schema, not the whole document as one: the compiler clones a
// resource's bookkeeping for every subschema a $ref reaches inside it, which made
// compiling the assistant-request closure (330 schemas) quadratic.
const resourceBase = "https://vapimon.invalid/schemas/"

// Schemas is a loaded specification. Schemas are compiled on first use and cached; Validate
// is safe for concurrent use.
type Schemas struct {
	path  string
	names map[string]bool
	// types maps a message type ("tool-calls") to its schema name, from the spec's enums.
	types map[string]string

	// refs lists, per schema, the component schemas it refers to directly.
	refs map[string][]string

	// compileMu serialises compiling (the compiler is not safe for concurrent use);
	// compiled is read without it, so that validating against a schema compiled earlier
	// never waits for another schema's (possibly long) compile.
	compileMu sync.Mutex
	compiler  *jsonschema.Compiler
	compiled  sync.Map // name -> *jsonschema.Schema
}

// Find returns the path of the specification: $VAPIMON_OPENAPI when set, else the first
// RelPath found in the working directory or one of its parents. It returns an error
// wrapping ErrNotFound when there is none.
func Find() (string, error) {
	if p := os.Getenv(EnvPath); p != "" {
		if _, err := os.Stat(p); err != nil {
			// An explicit setting that is wrong is an error, not a reason to skip.
			return "", fmt.Errorf("%s=%s: %w", EnvPath, p, err)
		}
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find Vapi OpenAPI spec: %w", err)
	}
	for {
		p := filepath.Join(dir, filepath.FromSlash(RelPath))
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNotFound
		}
		dir = parent
	}
}

// Load finds the specification (see Find) and loads it.
func Load() (*Schemas, error) {
	p, err := Find()
	if err != nil {
		return nil, err
	}
	return LoadFile(p)
}

// LoadFile loads the specification at path.
func LoadFile(path string) (*Schemas, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load Vapi OpenAPI spec: %w", err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, fmt.Errorf("load Vapi OpenAPI spec %s: %w", path, err)
	}
	return fromDoc(doc, path)
}

// LoadBytes loads a specification held in memory (the embedded reply schemas, or a file
// read by the caller); name says where it came from, in errors and Path.
func LoadBytes(name string, data []byte) (*Schemas, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("load Vapi OpenAPI spec %s: %w", name, err)
	}
	return fromDoc(doc, name)
}

// fromDoc normalises the component schemas of a decoded specification and registers them
// with a compiler; nothing is compiled yet.
func fromDoc(doc any, path string) (*Schemas, error) {
	root, _ := doc.(map[string]any)
	comps, _ := root["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	if len(schemas) == 0 {
		return nil, fmt.Errorf("load Vapi OpenAPI spec %s: no components.schemas", path)
	}
	for name, sch := range schemas {
		schemas[name] = normalise(sch)
	}
	s := &Schemas{
		path:  path,
		names: make(map[string]bool, len(schemas)),
		types: map[string]string{},
	}
	for name, sch := range schemas {
		s.names[name] = true
		if strings.HasPrefix(name, "ServerMessage") && !strings.HasPrefix(name, ResponsePrefix) {
			for _, t := range enumOf(sch, "type") {
				s.types[t] = name
			}
		}
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.AssertFormat()
	// Only the component schemas are registered, each as its own resource: paths and
	// examples are not schemas.
	s.refs = make(map[string][]string, len(schemas))
	for name, sch := range schemas {
		refs := map[string]bool{}
		if err := rewriteRefs(sch, refs); err != nil {
			return nil, fmt.Errorf("load Vapi OpenAPI spec %s: schema %s: %w", path, name, err)
		}
		if err := c.AddResource(resourceBase+name, sch); err != nil {
			return nil, fmt.Errorf("load Vapi OpenAPI spec %s: %w", path, err)
		}
		for r := range refs {
			s.refs[name] = append(s.refs[name], r)
		}
		sort.Strings(s.refs[name])
	}
	s.compiler = c
	return s, nil
}

// Path returns the file the specification was loaded from.
func (s *Schemas) Path() string { return s.path }

// Has reports whether the specification defines the component schema name.
func (s *Schemas) Has(name string) bool { return s.names[name] }

// MessageSchema returns the name of the schema for the message object of type msgType
// (e.g. "tool-calls" → "ServerMessageToolCalls"), read from the specification's type enums,
// or "" when the specification has none (function-call, assistant.started, ...).
func (s *Schemas) MessageSchema(msgType string) string { return s.types[msgType] }

// ResponseSchema returns the name of the schema for the reply to a message of type msgType
// (e.g. "tool-calls" → "ServerMessageResponseToolCalls"), or "" when there is none.
func (s *Schemas) ResponseSchema(msgType string) string {
	m := s.types[msgType]
	if m == "" {
		return ""
	}
	r := "ServerMessageResponse" + strings.TrimPrefix(m, "ServerMessage")
	if !s.names[r] {
		return ""
	}
	return r
}

// Names returns the names of the component schemas, sorted.
func (s *Schemas) Names() []string {
	out := make([]string, 0, len(s.names))
	for n := range s.names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Compile compiles the schema name now, if it is not compiled yet, so that a later Validate
// does not pay for it. It reports what is wrong with the schema.
func (s *Schemas) Compile(name string) error {
	_, err := s.schema(name)
	return err
}

// Validate checks doc against #/components/schemas/<schema>. Note that "ServerMessage" is
// the envelope {"message": {...}}, while ServerMessage<Type> schemas describe the inner
// message object. The error is a *ValidationError listing each failing path.
func (s *Schemas) Validate(schema string, doc []byte) error {
	sch, err := s.schema(schema)
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("validate against %s: document is not JSON: %w", schema, err)
	}
	return s.validate(sch, schema, v)
}

// ValidateValue is Validate for a document already decoded with jsonschema.UnmarshalJSON
// (numbers as json.Number), so that a caller who also reads the document decodes it once.
func (s *Schemas) ValidateValue(schema string, v any) error {
	sch, err := s.schema(schema)
	if err != nil {
		return err
	}
	return s.validate(sch, schema, v)
}

func (s *Schemas) validate(sch *jsonschema.Schema, schema string, v any) error {
	err := sch.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("validate against %s: %w", schema, err)
	}
	return &ValidationError{Schema: schema, Problems: problems(ve)}
}

func (s *Schemas) schema(name string) (*jsonschema.Schema, error) {
	if !s.names[name] {
		return nil, fmt.Errorf("vapi OpenAPI spec %s has no schema %q", s.path, name)
	}
	if sch, ok := s.compiled.Load(name); ok {
		return sch.(*jsonschema.Schema), nil
	}
	s.compileMu.Lock()
	defer s.compileMu.Unlock()
	if sch, ok := s.compiled.Load(name); ok {
		return sch.(*jsonschema.Schema), nil
	}
	// Compile what name refers to first, leaves first: the compiler looks each new
	// subschema up in a list of the ones it is compiling, so one Compile of a large
	// closure costs the square of its size, while one per schema, its references already
	// compiled, costs about its own size (the assistant-request closure: about 2.5x less
	// CPU, together with one resource per schema).
	var sch *jsonschema.Schema
	for _, n := range s.postOrder(name) {
		if _, ok := s.compiled.Load(n); ok {
			continue
		}
		c, err := s.compiler.Compile(resourceBase + n)
		if err != nil {
			if n != name {
				return nil, fmt.Errorf("compile schema %s: it refers to %s: %w", name, n, err)
			}
			return nil, fmt.Errorf("compile schema %s: %w", name, err)
		}
		s.compiled.Store(n, c)
		sch = c
	}
	return sch, nil
}

// postOrder returns name and the schemas it refers to, transitively, each after the ones
// it refers to (in a cycle, in the order met).
func (s *Schemas) postOrder(name string) []string {
	var out []string
	seen := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		seen[n] = true
		for _, r := range s.refs[n] {
			if !seen[r] {
				visit(r)
			}
		}
		out = append(out, n)
	}
	visit(name)
	return out
}

// ValidationError lists why a document does not match a schema.
type ValidationError struct {
	Schema   string
	Problems []Problem
}

// Problem is one failing location: Path is a JSON pointer into the document ("" for the
// document itself) and Message says what is wrong there, e.g. "got object, want string".
// Location (Path's tokens) and Kind (the validator's own account: *kind.Required,
// *kind.Type...) let a caller say the same in its own words.
type Problem struct {
	Path     string
	Message  string
	Location []string
	Kind     jsonschema.ErrorKind
}

// String formats the problem as "/message/toolCallList/0/function/arguments: got object,
// want string".
func (p Problem) String() string {
	path := p.Path
	if path == "" {
		path = "(document)"
	}
	return path + ": " + p.Message
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "does not match Vapi schema %s:", e.Schema)
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Has reports whether some problem is at path and its message contains substr.
func (e *ValidationError) Has(path, substr string) bool {
	for _, p := range e.Problems {
		if p.Path == path && strings.Contains(p.Message, substr) {
			return true
		}
	}
	return false
}

var printer = message.NewPrinter(language.English)

// problems flattens the error tree into its leaves. A oneOf/anyOf that matched nothing
// reports only the alternatives that were plausibly meant (those not rejected by their
// discriminating property — type, provider or role — or by the value's JSON type); when
// every alternative was rejected that way, it reports one merged line instead of one line
// per alternative.
func problems(ve *jsonschema.ValidationError) []Problem {
	var out []Problem
	for _, l := range leaves(ve) {
		out = append(out, Problem{Path: pointer(l.InstanceLocation), Message: l.ErrorKind.LocalizedString(printer),
			Location: l.InstanceLocation, Kind: l.ErrorKind})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	// Distinct alternatives may fail in the same way: report each problem once.
	dedup := out[:0]
	type key struct{ path, msg string }
	seen := map[key]bool{}
	for _, p := range out {
		k := key{p.Path, p.Message}
		if !seen[k] {
			seen[k] = true
			dedup = append(dedup, p)
		}
	}
	return dedup
}

func leaves(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return []*jsonschema.ValidationError{e}
	}
	var branches bool
	switch k := e.ErrorKind.(type) {
	case *kind.OneOf:
		branches = len(k.Subschemas) == 0
	case *kind.AnyOf:
		branches = true
	}
	if !branches {
		var out []*jsonschema.ValidationError
		for _, c := range e.Causes {
			out = append(out, leaves(c)...)
		}
		return out
	}
	var kept, missed []*jsonschema.ValidationError
	for _, c := range e.Causes {
		ls := leaves(c)
		if miss := discriminatorMiss(ls, e.InstanceLocation); miss != nil {
			missed = append(missed, miss)
			continue
		}
		kept = append(kept, ls...)
	}
	if len(kept) > 0 {
		return kept
	}
	return []*jsonschema.ValidationError{mergeMisses(e, missed)}
}

var discriminators = map[string]bool{"type": true, "provider": true, "role": true}

// discriminatorMiss returns the leaf showing that an alternative was not meant for this
// value: a wrong JSON type at the value itself, or a wrong enum/const in a discriminating
// property of it. It returns nil when the alternative looks meant but is broken.
func discriminatorMiss(ls []*jsonschema.ValidationError, base []string) *jsonschema.ValidationError {
	for _, l := range ls {
		loc := l.InstanceLocation
		switch l.ErrorKind.(type) {
		case *kind.Type:
			if len(loc) == len(base) {
				return l
			}
		case *kind.Enum, *kind.Const:
			if len(loc) == len(base)+1 && discriminators[loc[len(loc)-1]] {
				return l
			}
		}
	}
	return nil
}

// mergeMisses folds the rejections of every alternative into one error at the location
// most of them point at, listing every acceptable value.
func mergeMisses(parent *jsonschema.ValidationError, missed []*jsonschema.ValidationError) *jsonschema.ValidationError {
	byLoc := map[string][]*jsonschema.ValidationError{}
	best := ""
	for _, m := range missed {
		p := pointer(m.InstanceLocation)
		byLoc[p] = append(byLoc[p], m)
		if len(byLoc[p]) > len(byLoc[best]) {
			best = p
		}
	}
	group := byLoc[best]
	if len(group) == 0 {
		return parent
	}
	var wantValues []any
	var wantTypes []string
	seen := map[string]bool{}
	for _, m := range group {
		switch k := m.ErrorKind.(type) {
		case *kind.Enum:
			for _, w := range k.Want {
				key := fmt.Sprint(w)
				if !seen[key] {
					seen[key] = true
					wantValues = append(wantValues, w)
				}
			}
		case *kind.Const:
			key := fmt.Sprint(k.Want)
			if !seen[key] {
				seen[key] = true
				wantValues = append(wantValues, k.Want)
			}
		case *kind.Type:
			for _, w := range k.Want {
				if !seen[w] {
					seen[w] = true
					wantTypes = append(wantTypes, w)
				}
			}
		}
	}
	first := group[0]
	merged := &jsonschema.ValidationError{SchemaURL: first.SchemaURL, InstanceLocation: first.InstanceLocation}
	switch k := first.ErrorKind.(type) {
	case *kind.Type:
		merged.ErrorKind = &kind.Type{Got: k.Got, Want: wantTypes}
	case *kind.Enum:
		merged.ErrorKind = &kind.Enum{Got: k.Got, Want: wantValues}
	case *kind.Const:
		merged.ErrorKind = &kind.Enum{Got: k.Got, Want: wantValues}
	default:
		return first
	}
	return merged
}

func pointer(loc []string) string {
	var b strings.Builder
	for _, tok := range loc {
		b.WriteByte('/')
		tok = strings.ReplaceAll(tok, "~", "~0")
		b.WriteString(strings.ReplaceAll(tok, "/", "~1"))
	}
	return b.String()
}

// normalise rewrites, recursively, what OpenAPI 3.0 allows and JSON Schema does not:
//   - every `nullable: true` schema becomes {"anyOf": [<schema without nullable>,
//     {"type": "null"}]};
//   - an enum listing a value twice (Vapi's endedReason does) is deduplicated, and an empty
//     enum (NeuphonicVoice.voiceId) becomes `not: {}`, since draft 7 requires a non-empty
//     array of unique items; neither changes which values are valid; an enum on an array
//     schema (assistant.serverMessages) lists the allowed items, so it moves to items;
//   - every oneOf is checked as anyOf: Vapi's unions are not exclusive (a user turn in a
//     message log is a valid UserMessage, BotMessage and SystemMessage alike, since role has
//     no enum), and the SDKs generated from the spec read them as plain unions;
//   - a scalar enum on a schema typed "object" (BackoffPlan.type: ["fixed",
//     "exponential"]) loses the type, which would otherwise reject every listed value;
//   - a pattern written as a JavaScript regex literal ("/^[a-z]+$/u", as Vapi's
//     class-validator sources have it) loses its slashes and flags, and a pattern that is
//     a leaked constant name ("ORG_ROLE_OR_CUSTOM_ROLE_PATTERN") is dropped: taken
//     literally, both would reject every real value.
//
// Property maps are walked too; a property literally named "nullable" or "enum" holds a
// schema object, not a boolean or an array, so it is never mistaken for the keyword.
func normalise(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			x[k] = normalise(child)
		}
		if e, ok := x["enum"].([]any); ok && x["type"] == "array" {
			// An enum on an array schema lists the allowed items (a generator quirk):
			// it belongs to items, where Vapi's spec usually repeats it anyway.
			delete(x, "enum")
			if items, ok := x["items"].(map[string]any); ok {
				if _, has := items["enum"]; !has {
					items["enum"] = dedupe(e)
				}
			}
		} else if ok {
			if x["type"] == "object" && len(e) > 0 && !anyObject(e) {
				// A string enum typed "object" (BackoffPlan.type, TransferPlan.sipVerb: a
				// generator quirk for TypeScript enums) would admit nothing: the enum
				// says what is meant.
				delete(x, "type")
			}
			if len(e) == 0 {
				// An empty enum admits no value; draft 7 wants that said with `not: {}`.
				delete(x, "enum")
				x["not"] = map[string]any{}
			} else {
				x["enum"] = dedupe(e)
			}
		}
		if alts, ok := x["oneOf"].([]any); ok {
			delete(x, "oneOf")
			x["anyOf"] = alts
		}
		if p, ok := x["pattern"].(string); ok {
			if fixed, keep := fixPattern(p); keep {
				x["pattern"] = fixed
			} else {
				delete(x, "pattern")
			}
		}
		if n, ok := x["nullable"].(bool); ok {
			delete(x, "nullable")
			if n {
				return map[string]any{"anyOf": []any{x, map[string]any{"type": "null"}}}
			}
		}
		return x
	case []any:
		for i, child := range x {
			x[i] = normalise(child)
		}
		return x
	}
	return v
}

func anyObject(vals []any) bool {
	for _, v := range vals {
		if _, ok := v.(map[string]any); ok {
			return true
		}
	}
	return false
}

// rewriteRefs turns every "#/components/schemas/X" reference into "X", which resolves
// to resourceBase+X from any schema registered under resourceBase. Property maps are
// walked as maps of schemas, so a property named "$ref" is left alone; enum and const
// values are data and are not walked.
func rewriteRefs(v any, names map[string]bool) error {
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			switch k {
			case "$ref":
				ref, ok := child.(string)
				if !ok {
					return fmt.Errorf("$ref is %T, not a string", child)
				}
				name, found := strings.CutPrefix(ref, refPrefix)
				if !found || name == "" || strings.ContainsAny(name, "/#?%") {
					return fmt.Errorf("$ref %q does not name a component schema", ref)
				}
				x[k] = name
				names[name] = true
			case "enum", "const", "default", "example", "examples", "required":
			case "properties", "definitions", "patternProperties":
				if props, ok := child.(map[string]any); ok {
					for _, p := range props {
						if err := rewriteRefs(p, names); err != nil {
							return err
						}
					}
				}
			default:
				if err := rewriteRefs(child, names); err != nil {
					return err
				}
			}
		}
	case []any:
		for _, child := range x {
			if err := rewriteRefs(child, names); err != nil {
				return err
			}
		}
	}
	return nil
}

// enumOf returns the string enum of property prop of an object schema.
func enumOf(sch any, prop string) []string {
	m, _ := sch.(map[string]any)
	props, _ := m["properties"].(map[string]any)
	p, _ := props[prop].(map[string]any)
	vals, _ := p["enum"].([]any)
	var out []string
	for _, v := range vals {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// dedupe drops repeated primitive values from an enum, keeping the first of each.
func dedupe(vals []any) []any {
	seen := map[string]bool{}
	out := vals[:0]
	for _, v := range vals {
		switch v.(type) {
		case map[string]any, []any:
			out = append(out, v)
			continue
		}
		key := fmt.Sprintf("%T:%v", v, v)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, v)
	}
	return out
}

var jsFlags = regexp.MustCompile(`^/(.*)/[dgimsuvy]*$`)
var constantName = regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$`)

// fixPattern returns the pattern to use in place of p, and false when p must be dropped.
func fixPattern(p string) (string, bool) {
	if m := jsFlags.FindStringSubmatch(p); m != nil {
		return m[1], true
	}
	if constantName.MatchString(p) {
		return "", false
	}
	return p, true
}
