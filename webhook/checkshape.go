package webhook

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"unicode/utf8"
)

// checkShape is the hand-written shape check, used for a message type whose embedded
// schema failed to load or compile. It covers the fields Vapi acts on, in the same words
// as the schema check (so that tolerances apply alike), but not every corner of the spec:
// a transient assistant's inside is not checked, for one. It must never refuse a reply
// the schema accepts (TestReplyCorpus runs the corpus through it too).
func checkShape(msgKind string, doc map[string]any) []issue {
	var c shape
	switch msgKind {
	case TypeToolCalls:
		c.toolResults(doc)
	case TypeAssistantRequest:
		c.types(nil, doc, map[string]jsonKind{
			"assistantId": kindString, "assistant": kindObject, "squadId": kindString,
			"squad": kindObject, "workflowId": kindString, "workflow": kindObject,
			"destination": kindObject, "error": kindString, "assistantOverrides": kindObject,
			"squadOverrides": kindObject, "workflowOverrides": kindObject,
		})
		c.destination([]string{"destination"}, doc["destination"], "number", "sip")
	case TypeTransferDestinationRequest:
		c.types(nil, doc, map[string]jsonKind{"destination": kindObject, "message": kindObject, "error": kindString})
		c.destination([]string{"destination"}, doc["destination"], "assistant", "number", "sip")
		c.typed([]string{"message"}, doc["message"], "request-start", "request-complete", "request-failed", "request-response-delayed")
	case TypeHandoffDestinationRequest:
		c.required(nil, doc, "destination")
		c.types(nil, doc, map[string]jsonKind{"destination": kindObject, "result": kindString, "error": kindString})
	case TypeKnowledgeBaseRequest:
		c.types(nil, doc, map[string]jsonKind{"documents": kindArray, "message": kindObject})
		if docs, ok := doc["documents"].([]any); ok {
			for i, d := range docs {
				loc := []string{"documents", strconv.Itoa(i)}
				obj, ok := d.(map[string]any)
				if !ok {
					c.add(issue{loc: loc, kind: issueType, got: kindOf(d), want: "an object"})
					continue
				}
				c.required(loc, obj, "content", "similarity")
				c.types(loc, obj, map[string]jsonKind{"content": kindString, "similarity": kindNumber, "uuid": kindString})
			}
		}
		c.typed([]string{"message"}, doc["message"], "custom-message")
	case TypeCallEndpointingRequest:
		c.required(nil, doc, "timeoutSeconds")
		c.types(nil, doc, map[string]jsonKind{"timeoutSeconds": kindNumber})
		if n, ok := doc["timeoutSeconds"].(json.Number); ok {
			if f, err := n.Float64(); err == nil {
				switch {
				case f < 0:
					c.add(issue{text: fmt.Sprintf("timeoutSeconds is %s, below the minimum of 0", n)})
				case f > 15:
					c.add(issue{text: fmt.Sprintf("timeoutSeconds is %s, above the maximum of 15", n)})
				}
			}
		}
	case TypeCampaignPredial:
		c.required(nil, doc, "eligible")
		c.types(nil, doc, map[string]jsonKind{"eligible": kindBool})
	}
	return c.issues
}

// shape accumulates issues.
type shape struct{ issues []issue }

func (c *shape) add(is issue) { c.issues = append(c.issues, is) }

func (c *shape) required(loc []string, obj map[string]any, props ...string) {
	for _, p := range props {
		if _, ok := obj[p]; !ok {
			c.add(issue{loc: loc, kind: issueMissing, prop: p, text: typoHint(obj, nil, p)})
		}
	}
}

// types checks the kind of each present key, in a stable order. null is a wrong type, as
// in the schema (where a null is allowed, the schema says nullable).
func (c *shape) types(loc []string, obj map[string]any, want map[string]jsonKind) {
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, ok := obj[k]
		if !ok {
			continue
		}
		if got := kindOf(v); got != want[k] {
			c.add(issue{loc: append(loc[:len(loc):len(loc)], k), kind: issueType, got: got, want: want[k].String()})
		}
	}
}

func (c *shape) enum(loc []string, v any, allowed ...string) {
	s, ok := v.(string)
	if !ok {
		if v != nil {
			c.add(issue{loc: loc, kind: issueType, got: kindOf(v), want: "a string"})
		}
		return
	}
	for _, a := range allowed {
		if s == a {
			return
		}
	}
	want := make([]any, len(allowed))
	for i, a := range allowed {
		want[i] = a
	}
	c.add(issue{loc: loc, text: fmt.Sprintf("%s is %s, not %s", dotted(loc), quote(s), oneOfWords(want))})
}

// typed checks a message object ({"type": ..., "content": ...}) of one of the allowed
// types (any type when none is given).
func (c *shape) typed(loc []string, v any, allowed ...string) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	c.required(loc, m, "type")
	if len(allowed) > 0 {
		c.enum(append(loc[:len(loc):len(loc)], "type"), m["type"], allowed...)
	}
	c.types(loc, m, map[string]jsonKind{"content": kindString})
	if s, ok := m["content"].(string); ok {
		if l := utf8.RuneCountInString(s); l > 1000 {
			c.add(issue{text: fmt.Sprintf("%s.content is too long: %s, at most 1000", dotted(loc), Plural(l, "character", "characters"))})
		}
	}
}

// destination checks a transfer destination of one of the allowed types.
func (c *shape) destination(loc []string, v any, allowed ...string) {
	d, ok := v.(map[string]any)
	if !ok {
		return
	}
	if _, ok := d["type"]; !ok {
		c.add(issue{loc: loc, kind: issueMissing, prop: "type"})
		return
	}
	typ, _ := d["type"].(string)
	c.enum(append(loc[:len(loc):len(loc)], "type"), d["type"], allowed...)
	switch typ {
	case "number":
		c.required(loc, d, "number")
		c.types(loc, d, map[string]jsonKind{"number": kindString, "extension": kindString, "callerId": kindString})
		if n, ok := d["number"].(string); ok {
			if l := utf8.RuneCountInString(n); l < 3 {
				c.add(issue{text: fmt.Sprintf("%s.number is too short: %s, at least 3", dotted(loc), Plural(l, "character", "characters"))})
			} else if l > 40 {
				c.add(issue{text: fmt.Sprintf("%s.number is too long: %s, at most 40", dotted(loc), Plural(l, "character", "characters"))})
			}
		}
	case "sip":
		c.required(loc, d, "sipUri")
		c.types(loc, d, map[string]jsonKind{"sipUri": kindString, "sipHeaders": kindObject})
	case "assistant":
		c.required(loc, d, "assistantName")
		c.types(loc, d, map[string]jsonKind{"assistantName": kindString})
	}
	if m, ok := d["message"]; ok {
		switch kindOf(m) {
		case kindString:
		case kindObject:
			c.typed(append(loc[:len(loc):len(loc)], "message"), m)
		default:
			c.add(issue{loc: append(loc[:len(loc):len(loc)], "message"), kind: issueType, got: kindOf(m), want: "a string or an object"})
		}
	}
}

// toolResults checks the entries of a tool-calls reply (the ids are vapimon's own
// judgement, made whichever checker runs).
func (c *shape) toolResults(doc map[string]any) {
	c.types(nil, doc, map[string]jsonKind{"results": kindArray, "error": kindString})
	results, _ := doc["results"].([]any)
	for i, e := range results {
		loc := []string{"results", strconv.Itoa(i)}
		ent, ok := e.(map[string]any)
		if !ok {
			c.add(issue{loc: loc, kind: issueType, got: kindOf(e), want: "an object"})
			continue
		}
		c.required(loc, ent, "name", "toolCallId")
		c.types(loc, ent, map[string]jsonKind{
			"name": kindString, "toolCallId": kindString, "result": kindString, "error": kindString,
			"message": kindObject, "metadata": kindObject,
		})
		c.typed(append(loc[:len(loc):len(loc)], "message"), ent["message"], "request-complete", "request-failed")
	}
}

// toolCallsFastIssues returns, without running the schema validator, the issues that
// ServerMessageResponseToolCalls finds in doc, for the shape almost every server answers:
// {"results":[{"toolCallId":"…","result":"…"}…]} (name, error and metadata allowed, a
// top-level error allowed). In that shape the only thing the schema can object to is a
// missing name, which it reports per entry in the order of its paths (index order for up
// to ten entries). ok is false for anything else (a message object, a null, a wrong type,
// an unknown key, more than ten entries...): the caller then runs the full check.
// TestToolCallsFastIssues and FuzzToolCallsFastIssues hold it equal to schemaIssues.
func toolCallsFastIssues(doc map[string]any) (issues []issue, ok bool) {
	unnamed, ok := toolCallsFastShape(doc)
	if !ok {
		return nil, false
	}
	for i := 0; unnamed != 0; i, unnamed = i+1, unnamed>>1 {
		if unnamed&1 != 0 {
			loc := []string{"results", strconv.Itoa(i)}
			issues = append(issues, issue{loc: loc, kind: issueMissing, prop: "name", text: typoHint(doc, loc, "name")})
		}
	}
	return issues, true
}

// toolCallsFastShape is toolCallsFastIssues without the issues: ok for the common shape,
// and unnamed has bit i set when results[i] has no name.
func toolCallsFastShape(doc map[string]any) (unnamed uint16, ok bool) {
	for k, v := range doc {
		switch k {
		case "error":
			if _, ok := v.(string); !ok {
				return 0, false
			}
		case "results":
		default:
			return 0, false
		}
	}
	raw, has := doc["results"]
	if !has {
		return 0, true
	}
	entries, isList := raw.([]any)
	if !isList || len(entries) > 10 {
		return 0, false
	}
	for i, e := range entries {
		ent, isObj := e.(map[string]any)
		if !isObj {
			return 0, false
		}
		if _, has := ent["toolCallId"]; !has {
			return 0, false
		}
		for k, v := range ent {
			switch k {
			case "toolCallId", "name", "result", "error":
				if _, ok := v.(string); !ok {
					return 0, false
				}
			case "metadata":
				if _, ok := v.(map[string]any); !ok {
					return 0, false
				}
			default:
				return 0, false
			}
		}
		if _, has := ent["name"]; !has {
			unnamed |= 1 << i
		}
	}
	return unnamed, true
}

// unnamedWarnings[i] is what tolerated makes of the missing name of results[i], for the
// entries toolCallsFastShape reads: the same words, made once.
var unnamedWarnings = func() (w [10]string) {
	for i := range w {
		w[i] = tolerated(TypeToolCalls, issue{loc: []string{"results", strconv.Itoa(i)}, kind: issueMissing, prop: "name"}, nil)
	}
	return w
}()
