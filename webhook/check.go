package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Verdict is what Vapi would make of a reply: Problems make it unusable (Vapi ignores it,
// the call breaks); Warnings do not stop Vapi from using it but are worth saying (a 2xx
// other than 200, line breaks in a result, every tool result an error, a shape Vapi reads
// although its schema says otherwise...). Text is escaped, safe to print.
type Verdict struct {
	Problems []string
	Warnings []string
}

// OK reports whether Vapi can use the reply.
func (v Verdict) OK() bool { return len(v.Problems) == 0 }

// CheckReply lists the problems with a reply to msg as Vapi would see them
// (JudgeReply's Problems), or nil when Vapi can use the reply.
func CheckReply(msg *Message, status int, header http.Header, body []byte) []string {
	return JudgeReply(msg, status, header, body).Problems
}

// JudgeReply says what Vapi would make of a reply to msg. Messages that expect no reply
// only need a 2xx status. For the others:
//
//   - 4xx/5xx (and 1xx/3xx) are problems: Vapi ignores the body ("no result returned");
//     a 2xx other than 200 is a warning (Vapi's docs ask for 200, its own examples answer
//     201, and its retries treat every 2xx as success); a 2xx without the body the message
//     needs (204, or an empty body, to tool-calls) is a problem;
//   - the body is validated against Vapi's response schema for the message type
//     (ServerMessageResponse*, embedded, compiled once in the background: see
//     WarmReplyChecks), each schema problem said in plain words with a plain path
//     ("destination.number is missing"). Where Vapi is known to read more than its schema
//     allows (a tool result that is an object, a handoff refused with {"error": ...}
//     alone...), the problem becomes a warning naming both sides (README, "Reply checks
//     and tolerances");
//   - vapimon's own judgement comes on top: every tool call answered once, by its id
//     (problems); line breaks, every tool result an error, an assistant-request, transfer
//     or handoff answered with an error (warnings).
//
// When a schema could not be compiled, that message type is checked by hand-written rules
// instead (the same messages, less complete). A nil msg is treated as an informational
// message. Text quoted from the reply or from msg is escaped, so the verdict is safe to
// print.
func JudgeReply(msg *Message, status int, header http.Header, body []byte) Verdict {
	return replyChecks.judge(msg, status, header, body)
}

func (r *replySchemas) judge(msg *Message, status int, header http.Header, body []byte) Verdict {
	var j judgement
	kind := ""
	if msg != nil {
		kind = msg.Kind
	}
	if !ExpectsReply(kind) || (kind == TypeToolCalls && AllAsync(msg.ToolCalls)) {
		if status < 200 || status > 299 {
			what := "this message"
			if kind != "" {
				what = safe(kind)
			}
			j.problem("HTTP %d: Vapi expects a 2xx reply to %s", status, what)
		}
		return j.verdict()
	}
	tool := kind == TypeToolCalls || kind == TypeFunctionCall
	if status < 200 || status > 299 {
		if tool {
			j.problem("HTTP %d: Vapi ignores non-2xx tool replies (\"no result returned\")", status)
		} else {
			j.problem("HTTP %d: Vapi ignores non-2xx replies to %s", status, kind)
		}
		return j.verdict()
	}
	empty := len(bytes.TrimSpace(body)) == 0
	if empty && tool {
		if status == http.StatusOK {
			j.problem("body is empty: Vapi needs a JSON object (\"no result returned\")")
		} else {
			j.problem("HTTP %d with an empty body: Vapi gets no tool result (\"no result returned\")", status)
		}
		return j.verdict()
	}
	if status != http.StatusOK && !empty {
		j.warn("HTTP %d: Vapi's docs ask for 200; Vapi's own examples answer 201", status)
	}
	if kind == TypeVoiceRequest {
		j.voice(header, body)
		return j.verdict()
	}
	doc, ok := j.object(body)
	if !ok {
		return j.verdict()
	}
	var issues []issue
	if s, name, ok := r.schemaFor(kind); ok {
		// The common tool-calls shape is judged without the validator: the same issues,
		// in a fraction of the time, on the path of every forwarded tool reply. Its only
		// issue, a missing name, is always tolerated: its warnings are made once.
		fast := false
		if kind == TypeToolCalls {
			var unnamed uint16
			if unnamed, fast = toolCallsFastShape(doc); fast {
				for i := 0; unnamed != 0; i, unnamed = i+1, unnamed>>1 {
					if unnamed&1 != 0 {
						j.warnings = append(j.warnings, unnamedWarnings[i])
					}
				}
			}
		}
		if !fast {
			issues = schemaIssues(s, name, doc)
		}
	} else {
		issues = checkShape(kind, doc)
	}
	for _, is := range issues {
		if w := tolerated(kind, is, doc); w != "" {
			j.warnings = append(j.warnings, w)
		} else {
			j.problems = append(j.problems, is.String())
		}
	}
	j.own(msg, doc)
	return j.verdict()
}

// judgement accumulates a verdict.
type judgement struct{ problems, warnings []string }

func (j *judgement) problem(format string, args ...any) {
	j.problems = append(j.problems, fmt.Sprintf(format, args...))
}

func (j *judgement) warn(format string, args ...any) {
	j.warnings = append(j.warnings, fmt.Sprintf(format, args...))
}

// verdict returns the result with repeats dropped: the schema and vapimon's own checks may
// say the same thing ("results[0].toolCallId is missing").
func (j *judgement) verdict() Verdict {
	return Verdict{Problems: dedupe(j.problems), Warnings: dedupe(j.warnings)}
}

func dedupe(list []string) []string {
	if len(list) < 2 {
		return list
	}
	seen := make(map[string]bool, len(list))
	out := list[:0]
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// object decodes body as a JSON object, numbers as json.Number (as the schema validator
// wants them).
func (j *judgement) object(body []byte) (map[string]any, bool) {
	t := bytes.TrimSpace(body)
	if len(t) == 0 {
		j.problem("body is empty: Vapi needs a JSON object")
		return nil, false
	}
	v, ok := decodeReply(t)
	var err error
	if !ok {
		v, err = jsonschema.UnmarshalJSON(bytes.NewReader(t))
	}
	if err != nil {
		j.problem("body is not JSON")
		return nil, false
	}
	obj, ok := v.(map[string]any)
	if !ok {
		j.problem("body is %s, not a JSON object", kindOf(v))
		return nil, false
	}
	return obj, true
}

// voice checks a voice-request reply: 1-channel 16-bit raw PCM, not JSON.
func (j *judgement) voice(header http.Header, body []byte) {
	if len(body) == 0 {
		j.problem("body is empty: voice-request wants raw 16-bit PCM audio")
		return
	}
	if t := bytes.TrimSpace(body); len(t) > 0 && (t[0] == '{' || t[0] == '[') && json.Valid(t) {
		j.problem("body is JSON: voice-request wants raw 16-bit PCM audio, not JSON")
	} else if len(body)%2 == 1 {
		j.problem("body has an odd number of bytes (%d): 16-bit PCM comes in 2-byte samples", len(body))
	}
}

// AllAsync reports whether Vapi waits for none of the calls (every tool is async:true):
// Vapi does not wait for their reply, so there is nothing to check or to hold for review.
func AllAsync(calls []ToolCall) bool {
	if len(calls) == 0 {
		return false
	}
	for _, tc := range calls {
		if !tc.Async {
			return false
		}
	}
	return true
}

// own adds what the schema cannot know: the tool calls answered by id, empty ids, line
// breaks, and replies of the right shape that will still break the call.
func (j *judgement) own(msg *Message, doc map[string]any) {
	errText, hasError := doc["error"].(string)
	switch msg.Kind {
	case TypeToolCalls:
		j.toolCalls(msg, doc)
	case TypeFunctionCall:
		j.functionCall(doc)
	case TypeAssistantRequest:
		if !anyPresent(doc, "assistantId", "assistant", "squadId", "squad", "workflowId", "workflow", "destination", "error") {
			j.problem("reply has none of assistantId, assistant, squadId, squad, workflowId, workflow, destination or error")
		}
		for _, k := range []string{"assistantId", "squadId", "workflowId"} {
			switch s, ok := doc[k].(string); {
			case ok && strings.TrimSpace(s) == "":
				j.problem("%s is empty", k)
			case ok && !IsUUID(s):
				j.warn("%s %s is not a UUID, as Vapi's ids are: Vapi finds no %s by it", k, quote(s), strings.TrimSuffix(k, "Id"))
			}
		}
		if hasError {
			j.warn("assistant-request answered with error (%s): Vapi ends the call", quote(errText))
		}
	case TypeTransferDestinationRequest:
		if !anyPresent(doc, "destination", "error") {
			j.problem("reply has neither destination nor error")
		}
		if hasError {
			j.warn("transfer answered with error (%s): the caller is not transferred", quote(errText))
		}
	case TypeHandoffDestinationRequest:
		if hasError {
			j.warn("handoff answered with error (%s): the call stays with this assistant", quote(errText))
		}
		if s, ok := doc["result"].(string); ok {
			j.lineBreaks("result", s)
		}
	case TypeKnowledgeBaseRequest:
		if !anyPresent(doc, "documents", "message") {
			j.problem("reply has neither documents nor message")
		}
	}
}

// anyPresent reports whether doc has one of keys with a non-null value.
func anyPresent(doc map[string]any, keys ...string) bool {
	for _, k := range keys {
		if v, ok := doc[k]; ok && v != nil {
			return true
		}
	}
	return false
}

// entryPath is "results[i]", made once for the first entries.
func entryPath(i int) string {
	if i < len(entryPaths) {
		return entryPaths[i]
	}
	return "results[" + strconv.Itoa(i) + "]"
}

var entryPaths = func() (p [16]string) {
	for i := range p {
		p[i] = "results[" + strconv.Itoa(i) + "]"
	}
	return p
}()

func hasLineBreak(s string) bool { return strings.ContainsAny(s, "\r\n") }

func (j *judgement) lineBreaks(path, s string) {
	if hasLineBreak(s) {
		j.warn("%s has line breaks: Vapi wants single-line strings", path)
	}
}

// functionCall checks the legacy {"result": "<string>"}, which has no schema.
func (j *judgement) functionCall(doc map[string]any) {
	v, ok := doc["result"]
	if !ok {
		j.problem("result is missing")
		return
	}
	s, ok := v.(string)
	if !ok {
		j.problem("result is not a string (it is %s)", kindOf(v))
		return
	}
	j.lineBreaks("result", s)
}

// toolCalls checks {"results":[{"toolCallId","result"|"error"}...]} against msg's calls:
// one entry per call Vapi waits for, each id known and answered once.
func (j *judgement) toolCalls(msg *Message, doc map[string]any) {
	raw, ok := doc["results"]
	if !ok || raw == nil {
		if e, ok := doc["error"].(string); ok { // ServerMessageResponseToolCalls allows a top-level error
			j.warn("the reply is an error (%s): the model gets no tool result", quote(e))
			return
		}
		if _, ok := doc["result"]; ok {
			j.problem(`results is missing (found "result": Vapi wants {"results":[{"toolCallId":…,"result":…}]})`)
		} else {
			j.problem("results is missing")
		}
		return
	}
	entries, ok := raw.([]any)
	if !ok {
		j.problem("results is %s, not a list", kindOf(raw))
		return
	}
	calls := msg.ToolCalls
	waited := 0
	for _, tc := range calls {
		if !tc.Async {
			waited++
		}
	}
	if len(calls) > 0 && (len(entries) < waited || len(entries) > len(calls)) {
		j.problem("results has %s for %s", Plural(len(entries), "entry", "entries"), Plural(len(calls), "tool call", "tool calls"))
	}
	answered := make(map[string]int, len(entries)) // call id -> first results index
	allErrors, firstError := len(entries) > 0, ""
	for i, e := range entries {
		p := entryPath(i)
		ent, ok := e.(map[string]any)
		if !ok {
			j.problem("%s is %s, not an object", p, kindOf(e))
			allErrors = false
			continue
		}
		j.toolCallID(p, ent, calls, answered, i)
		res, hasResult := ent["result"]
		errv, hasErr := ent["error"]
		if !hasResult && !hasErr {
			j.problem("%s has neither result nor error", p)
		} // a null result or error is the shape check's to report
		if s, ok := res.(string); ok && hasLineBreak(s) {
			j.lineBreaks(p+".result", s)
		}
		es, isErr := errv.(string)
		if isErr && hasLineBreak(es) {
			j.lineBreaks(p+".error", es)
		}
		if !isErr || (hasResult && res != nil) {
			allErrors = false
		} else if i == 0 {
			firstError = es
		}
	}
	for _, tc := range calls {
		if tc.ID == "" || tc.Async {
			continue
		}
		if _, ok := answered[tc.ID]; !ok {
			j.problem("no result for tool call %s", describeCall(tc))
		}
	}
	if allErrors {
		what := "every tool result is an error"
		if len(entries) == 1 {
			what = "the tool result is an error"
		}
		j.warn("%s (%s): the model reads out an error instead of an answer", what, quote(firstError))
	}
}

// toolCallID checks one entry's toolCallId against the calls.
func (j *judgement) toolCallID(p string, ent map[string]any, calls []ToolCall, answered map[string]int, i int) {
	v, ok := ent["toolCallId"]
	if !ok || v == nil {
		j.problem("%s.toolCallId is missing%s", p, typoHint(ent, nil, "toolCallId"))
		return
	}
	id, isString := v.(string)
	if !isString {
		j.problem("%s.toolCallId is %s, not a string", p, kindOf(v))
		return
	}
	if len(calls) == 0 {
		return
	}
	known := false
	for _, tc := range calls {
		if tc.ID == id {
			known = true
			break
		}
	}
	if !known {
		j.problem("%s.toolCallId %s does not match any tool call (expected %s)", p, quote(id), expectedIDs(calls, answered))
		return
	}
	if first, dup := answered[id]; dup {
		j.problem("%s.toolCallId %s repeats results[%d]", p, quote(id), first)
		return
	}
	answered[id] = i
}

// expectedIDs lists the ids not answered yet (all of them when every call has an answer).
func expectedIDs(calls []ToolCall, answered map[string]int) string {
	var ids []string
	for _, tc := range calls {
		if _, ok := answered[tc.ID]; !ok && tc.ID != "" {
			ids = append(ids, safe(tc.ID))
		}
	}
	if len(ids) == 0 {
		for _, tc := range calls {
			if tc.ID != "" {
				ids = append(ids, safe(tc.ID))
			}
		}
	}
	if len(ids) == 0 {
		return "no id"
	}
	return strings.Join(ids, " or ")
}

func describeCall(tc ToolCall) string {
	if tc.Name == "" {
		return safe(tc.ID)
	}
	return safe(tc.ID) + " (" + safe(tc.Name) + ")"
}

// ---- small helpers -------------------------------------------------------------------

// jsonKind is the kind of a decoded JSON value.
type jsonKind int

const (
	kindNull jsonKind = iota
	kindString
	kindNumber
	kindBool
	kindObject
	kindArray
	kindInvalid
)

func (k jsonKind) String() string {
	return [...]string{"null", "a string", "a number", "true or false", "an object", "a list", "invalid"}[k]
}

// kindOf returns the kind of a value decoded by jsonschema.UnmarshalJSON (or
// encoding/json).
func kindOf(v any) jsonKind {
	switch v.(type) {
	case nil:
		return kindNull
	case string:
		return kindString
	case json.Number, float64:
		return kindNumber
	case bool:
		return kindBool
	case map[string]any:
		return kindObject
	case []any:
		return kindArray
	}
	return kindInvalid
}

const maxQuoted = 64

// quote is Quote at the length a reply check names a value with.
func quote(s string) string { return Quote(s, maxQuoted) }

// safe returns s unchanged when it is a plain identifier (letters, digits, - _ . :), else
// quoted.
func safe(s string) string {
	if s == "" || len(s) > maxQuoted {
		return quote(s)
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("-_.:", r):
		default:
			return quote(s)
		}
	}
	return s
}

// decodeReply decodes a reply body as jsonschema.UnmarshalJSON does (numbers as
// json.Number, the last of repeated keys kept), without encoding/json's reflection, for
// the plain JSON servers send: strings without escapes, at most 64 levels deep. ok is
// false for anything else, invalid JSON included, and the caller then uses
// jsonschema.UnmarshalJSON. FuzzDecodeReply holds the two equal wherever this answers.
func decodeReply(b []byte) (v any, ok bool) {
	d := replyDecoder{b: b}
	v, ok = d.value(0)
	if !ok {
		return nil, false
	}
	d.ws()
	return v, d.i == len(b)
}

type replyDecoder struct {
	b []byte
	i int
}

func (d *replyDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *replyDecoder) value(depth int) (any, bool) {
	if depth > 64 {
		return nil, false
	}
	d.ws()
	if d.i >= len(d.b) {
		return nil, false
	}
	switch c := d.b[d.i]; {
	case c == '{':
		d.i++
		m := make(map[string]any)
		d.ws()
		if d.i < len(d.b) && d.b[d.i] == '}' {
			d.i++
			return m, true
		}
		for {
			d.ws()
			k, ok := d.str()
			if !ok {
				return nil, false
			}
			d.ws()
			if d.i >= len(d.b) || d.b[d.i] != ':' {
				return nil, false
			}
			d.i++
			v, ok := d.value(depth + 1)
			if !ok {
				return nil, false
			}
			m[k] = v
			if end, ok := d.sep('}'); !ok {
				return nil, false
			} else if end {
				return m, true
			}
		}
	case c == '[':
		d.i++
		a := make([]any, 0)
		d.ws()
		if d.i < len(d.b) && d.b[d.i] == ']' {
			d.i++
			return a, true
		}
		for {
			v, ok := d.value(depth + 1)
			if !ok {
				return nil, false
			}
			a = append(a, v)
			if end, ok := d.sep(']'); !ok {
				return nil, false
			} else if end {
				return a, true
			}
		}
	case c == '"':
		return d.str()
	case c == 't':
		return true, d.word("true")
	case c == 'f':
		return false, d.word("false")
	case c == 'n':
		return nil, d.word("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	}
	return nil, false
}

// sep reads what follows an element of an object or array: ',' (more to come) or close
// (end reports the end); anything else is not JSON (ok false).
func (d *replyDecoder) sep(close byte) (end, ok bool) {
	d.ws()
	if d.i >= len(d.b) {
		return false, false
	}
	switch d.b[d.i] {
	case ',':
		d.i++
		return false, true
	case close:
		d.i++
		return true, true
	}
	return false, false
}

func (d *replyDecoder) word(w string) bool {
	if !bytes.HasPrefix(d.b[d.i:], []byte(w)) {
		return false
	}
	d.i += len(w)
	return true
}

// str reads a string without escapes or control characters, in valid UTF-8.
func (d *replyDecoder) str() (string, bool) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return "", false
	}
	start := d.i + 1
	for j := start; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			s := d.b[start:j]
			d.i = j + 1
			// The names a tool reply is made of, without a copy each.
			switch string(s) {
			case "results":
				return "results", true
			case "toolCallId":
				return "toolCallId", true
			case "result":
				return "result", true
			case "name":
				return "name", true
			case "error":
				return "error", true
			}
			if !utf8.Valid(s) {
				d.i = start - 1
				return "", false
			}
			return string(s), true
		case c == '\\' || c < 0x20:
			return "", false
		}
	}
	return "", false
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? as a json.Number.
func (d *replyDecoder) number() (any, bool) {
	b, i := d.b, d.i
	digits := func() bool {
		n := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return nil, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return nil, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return nil, false
		}
	}
	if i < len(b) && !isDelim(b[i]) {
		return nil, false
	}
	n := json.Number(b[d.i:i])
	d.i = i
	return n, true
}
