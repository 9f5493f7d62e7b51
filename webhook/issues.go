package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"github.com/vapimon/vapimon/webhook/vapischema"
)

// ---- issues: what a schema (or the hand-written shape check) finds -------------------

// issueKind says what an issue is about, so that tolerances can recognise it whichever
// checker found it.
type issueKind int

const (
	issueOther   issueKind = iota
	issueMissing           // a required property is absent: prop
	issueType              // a value has the wrong JSON type: got, want
)

// issue is one thing wrong with a reply's shape, at loc (JSON pointer tokens).
type issue struct {
	loc  []string
	kind issueKind
	prop string
	got  jsonKind
	want string
	// text is the whole sentence for issueOther, and a hint appended to the others.
	text string
}

func (is issue) String() string {
	switch is.kind {
	case issueMissing:
		return dotted(append(is.loc[:len(is.loc):len(is.loc)], is.prop)) + " is missing" + is.text
	case issueType:
		return dotted(is.loc) + " is " + is.got.String() + ", not " + is.want + is.text
	}
	return is.text
}

// dotted writes a location as a person reads it: results[0].toolCallId. Keys that are
// not plain identifiers (they come from the reply) are quoted.
func dotted(loc []string) string {
	if len(loc) == 0 {
		return "the reply"
	}
	var b strings.Builder
	for i, tok := range loc {
		if isIndex(tok) {
			b.WriteString("[" + tok + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(safe(tok))
	}
	return b.String()
}

func isIndex(tok string) bool {
	if tok == "" || len(tok) > 9 {
		return false
	}
	for _, c := range tok {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// at returns the value at loc in doc, and whether it is there.
func at(doc any, loc []string) (any, bool) {
	v := doc
	for _, tok := range loc {
		switch x := v.(type) {
		case map[string]any:
			c, ok := x[tok]
			if !ok {
				return nil, false
			}
			v = c
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// schemaIssues validates doc against the named reply schema and turns each problem into
// an issue.
func schemaIssues(s *vapischema.Schemas, name string, doc map[string]any) []issue {
	err := s.ValidateValue(name, doc)
	if err == nil {
		return nil
	}
	var ve *vapischema.ValidationError
	if !errors.As(err, &ve) {
		return []issue{{text: "reply could not be checked against Vapi's schema: " + quote(err.Error())}}
	}
	var out []issue
	for _, p := range ve.Problems {
		out = append(out, fromSchema(p, doc)...)
	}
	return out
}

const maxListed = 6

// fromSchema says one schema problem in vapimon's words.
func fromSchema(p vapischema.Problem, doc any) []issue {
	loc := p.Location
	where := dotted(loc)
	switch k := p.Kind.(type) {
	case *kind.Required:
		var out []issue
		for _, m := range k.Missing {
			out = append(out, issue{loc: loc, kind: issueMissing, prop: m, text: typoHint(doc, loc, m)})
		}
		return out
	case *kind.Type:
		v, _ := at(doc, loc)
		return []issue{{loc: loc, kind: issueType, got: kindOf(v), want: typeWords(k.Want)}}
	case *kind.Enum:
		return []issue{{loc: loc, text: fmt.Sprintf("%s is %s, not %s", where, valueWords(k.Got), oneOfWords(k.Want))}}
	case *kind.Const:
		return []issue{{loc: loc, text: fmt.Sprintf("%s is %s, not %s", where, valueWords(k.Got), valueWords(k.Want))}}
	case *kind.Minimum:
		return []issue{{loc: loc, text: fmt.Sprintf("%s is %s, below the minimum of %s", where, ratWords(k.Got), ratWords(k.Want))}}
	case *kind.Maximum:
		return []issue{{loc: loc, text: fmt.Sprintf("%s is %s, above the maximum of %s", where, ratWords(k.Got), ratWords(k.Want))}}
	case *kind.ExclusiveMinimum:
		return []issue{{loc: loc, text: fmt.Sprintf("%s is %s: it must be above %s", where, ratWords(k.Got), ratWords(k.Want))}}
	case *kind.ExclusiveMaximum:
		return []issue{{loc: loc, text: fmt.Sprintf("%s is %s: it must be below %s", where, ratWords(k.Got), ratWords(k.Want))}}
	case *kind.MinLength:
		return []issue{{loc: loc, text: fmt.Sprintf("%s is too short: %s, at least %d", where, Plural(k.Got, "character", "characters"), k.Want)}}
	case *kind.MaxLength:
		return []issue{{loc: loc, text: fmt.Sprintf("%s is too long: %s, at most %d", where, Plural(k.Got, "character", "characters"), k.Want)}}
	case *kind.MinItems:
		return []issue{{loc: loc, text: fmt.Sprintf("%s has %s, at least %d", where, Plural(k.Got, "entry", "entries"), k.Want)}}
	case *kind.MaxItems:
		return []issue{{loc: loc, text: fmt.Sprintf("%s has %s, at most %d", where, Plural(k.Got, "entry", "entries"), k.Want)}}
	case *kind.Pattern:
		return []issue{{loc: loc, text: fmt.Sprintf("%s is %s, which does not match the pattern %s", where, quote(k.Got), quote(k.Want))}}
	case *kind.Format:
		return []issue{{loc: loc, text: fmt.Sprintf("%s is %s, not a valid %s", where, valueWords(k.Got), safe(k.Want))}}
	case *kind.AdditionalProperties:
		names := make([]string, len(k.Properties))
		for i, n := range k.Properties {
			names[i] = safe(n)
		}
		return []issue{{loc: loc, text: fmt.Sprintf("%s has properties Vapi's schema does not allow: %s", where, strings.Join(names, ", "))}}
	case *kind.FalseSchema, *kind.Not:
		return []issue{{loc: loc, text: where + " is not allowed here by Vapi's schema"}}
	}
	return []issue{{loc: loc, text: where + ": " + quote(p.Message)}}
}

// aliases are names people write for a required property (older docs, other APIs).
var aliases = map[string][]string{
	"number":         {"phoneNumber", "phone", "phone_number", "to"},
	"sipUri":         {"sipURI", "sip_uri", "uri", "sip"},
	"toolCallId":     {"id", "tool_call_id", "toolCallID", "toolCall"},
	"assistantName":  {"assistantId", "name", "assistant"},
	"timeoutSeconds": {"timeout", "timeout_seconds", "seconds"},
	"similarity":     {"score"},
	"content":        {"text", "message"},
	"eligible":       {"isEligible", "eligibility"},
	"destination":    {"transferDestination", "to"},
}

// typoHint names a sibling key that looks like the missing property.
func typoHint(doc any, loc []string, prop string) string {
	v, _ := at(doc, loc)
	obj, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	fold := strings.ToLower(strings.ReplaceAll(prop, "_", ""))
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k != prop && strings.ToLower(strings.ReplaceAll(k, "_", "")) == fold {
			return fmt.Sprintf(" (found %s: Vapi reads %s)", quote(k), prop)
		}
	}
	for _, a := range aliases[prop] {
		if _, ok := obj[a]; ok {
			return fmt.Sprintf(" (found %s: Vapi reads %s)", quote(a), prop)
		}
	}
	return ""
}

func typeWords(want []string) string {
	seen := map[string]bool{}
	var words []string
	for _, w := range want {
		var s string
		switch w {
		case "string":
			s = "a string"
		case "number", "integer":
			s = "a number"
		case "boolean":
			s = "true or false"
		case "object":
			s = "an object"
		case "array":
			s = "a list"
		case "null":
			s = "null"
		default:
			s = safe(w)
		}
		if !seen[s] {
			seen[s] = true
			words = append(words, s)
		}
	}
	return strings.Join(words, " or ")
}

func valueWords(v any) string {
	switch x := v.(type) {
	case string:
		return quote(x)
	case nil:
		return "null"
	case bool, json.Number, float64, int, int64:
		return fmt.Sprint(x)
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return quote(fmt.Sprint(v))
}

func oneOfWords(want []any) string {
	words := make([]string, 0, maxListed)
	for i, w := range want {
		if i == maxListed {
			return fmt.Sprintf("one of the %d values Vapi's schema allows (%s, …)", len(want), strings.Join(words, ", "))
		}
		words = append(words, valueWords(w))
	}
	if len(words) == 1 {
		return words[0]
	}
	return "one of " + strings.Join(words, ", ")
}

func ratWords(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// ---- tolerances: where Vapi reads more than its schema allows -------------------------

// tolerated returns the warning to give instead of failing the issue, or "" when the issue
// is a problem. Each tolerance is listed with its source in the README ("Reply checks and
// tolerances").
func tolerated(msgKind string, is issue, doc map[string]any) string {
	loc := is.loc
	switch msgKind {
	case TypeToolCalls:
		// results[i].result as an object, number, list or boolean.
		if is.kind == issueType && len(loc) == 3 && loc[0] == "results" && loc[2] == "result" {
			switch is.got {
			case kindObject, kindNumber, kindArray, kindBool:
				return fmt.Sprintf("%s is %s, not a string: Vapi's custom-tools guide and its own example server accept that, but its schema and troubleshooting guide want a string", dotted(loc), is.got)
			case kindNull:
				if entry, ok := at(doc, loc[:2]); ok && isString(field(entry, "error")) {
					return fmt.Sprintf("%s is null beside an error: Vapi's schema wants a string or no result at all; the error is what counts", dotted(loc))
				}
			}
		}
		if is.kind == issueType && len(loc) == 3 && loc[0] == "results" && loc[2] == "error" && is.got == kindNull {
			if entry, ok := at(doc, loc[:2]); ok {
				if field(entry, "result") != nil {
					return fmt.Sprintf("%s is null beside a result: Vapi's schema wants a string or no error at all; the result is what counts", dotted(loc))
				}
			}
		}
		// results[i].name missing.
		if is.kind == issueMissing && is.prop == "name" && len(loc) == 2 && loc[0] == "results" {
			return fmt.Sprintf("%s.name is missing: Vapi's schema requires it, but its docs' examples leave it out", dotted(loc))
		}
	case TypeHandoffDestinationRequest:
		// {"error": ...} alone refuses the handoff.
		if is.kind == issueMissing && is.prop == "destination" && len(loc) == 0 && isString(doc["error"]) {
			return `destination is missing: Vapi's schema requires it, but its handoff guide refuses a handoff with {"error": ...} alone`
		}
	case TypeKnowledgeBaseRequest:
		// message {"role":"assistant","content":...} without type "custom-message".
		if is.kind == issueMissing && is.prop == "type" && len(loc) == 1 && loc[0] == "message" {
			if m, ok := doc["message"].(map[string]any); ok && isString(m["content"]) {
				return `message.type is missing: Vapi's schema wants "custom-message", but the spec's own example (CustomKnowledgeBase.server) and Vapi's example server send {"role": "assistant", "content": ...}`
			}
		}
	}
	return ""
}

// field returns obj[key] when obj is an object, else nil.
func field(obj any, key string) any {
	m, _ := obj.(map[string]any)
	return m[key]
}

func isString(v any) bool {
	_, ok := v.(string)
	return ok
}

// ---- vapimon's own judgement, on top of the schema -------------------------------------
