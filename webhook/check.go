package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// CheckReply lists the problems with a reply to msg as Vapi would see them, in plain words
// ("results[0].toolCallId is missing", "HTTP 500: Vapi ignores non-200 tool replies"). It
// returns nil when the reply is fine. Messages that expect no reply only need a 2xx status;
// for the others the body is checked against the shape Vapi reads (vapi-protocol.md §2 and
// the ServerMessageResponse* schemas). A nil msg is treated as an informational message.
//
// Text quoted from the reply or from msg is escaped with %q, so problems are safe to print.
func CheckReply(msg *Message, status int, header http.Header, body []byte) []string {
	kind := ""
	if msg != nil {
		kind = msg.Kind
	}
	if !ExpectsReply(kind) || (kind == TypeToolCalls && allAsync(msg.ToolCalls)) {
		if status < 200 || status > 299 {
			what := "this message"
			if kind != "" {
				what = safe(kind)
			}
			return []string{fmt.Sprintf("HTTP %d: Vapi expects a 2xx reply to %s", status, what)}
		}
		return nil
	}
	if status != http.StatusOK {
		if kind == TypeToolCalls || kind == TypeFunctionCall {
			return []string{fmt.Sprintf("HTTP %d: Vapi ignores non-200 tool replies (\"no result returned\")", status)}
		}
		return []string{fmt.Sprintf("HTTP %d: Vapi ignores non-200 replies to %s", status, kind)}
	}
	if kind == TypeVoiceRequest {
		return checkVoice(header, body)
	}
	var c checker
	obj, ok := c.object(body)
	if !ok {
		return c.problems
	}
	switch kind {
	case TypeToolCalls:
		c.toolCalls(msg, obj)
	case TypeFunctionCall:
		c.resultString("result", obj, true)
	case TypeAssistantRequest:
		c.oneOf(obj, "assistantId", "assistant", "squadId", "squad", "workflowId", "workflow", "destination", "error")
		c.types(obj, map[string]jsonKind{
			"assistantId": kindString, "assistant": kindObject, "squadId": kindString,
			"squad": kindObject, "workflowId": kindString, "workflow": kindObject,
			"destination": kindObject, "error": kindString, "assistantOverrides": kindObject,
		})
	case TypeTransferDestinationRequest:
		c.oneOf(obj, "destination", "error")
		c.types(obj, map[string]jsonKind{"destination": kindObject, "error": kindString})
	case TypeHandoffDestinationRequest:
		if !present(obj, "destination") {
			c.add("destination is missing")
		}
		c.types(obj, map[string]jsonKind{"destination": kindObject, "error": kindString})
	case TypeKnowledgeBaseRequest:
		c.knowledgeBase(obj)
	case TypeCallEndpointingRequest:
		c.endpointing(obj)
	case TypeCampaignPredial:
		if !present(obj, "eligible") {
			c.add("eligible is missing")
		} else {
			c.types(obj, map[string]jsonKind{"eligible": kindBool})
		}
	}
	return c.problems
}

// Verdict is what Vapi would make of a reply: Problems make it unusable (Vapi ignores it,
// the call breaks); Warnings do not stop Vapi from using it but are worth saying (a status
// other than 200, line breaks in a result, every tool result an error...). Text is escaped,
// safe to print.
type Verdict struct {
	Problems []string
	Warnings []string
}

// OK reports whether Vapi can use the reply.
func (v Verdict) OK() bool { return len(v.Problems) == 0 }

// JudgeReply is CheckReply with the problems that do not stop Vapi from using the reply
// moved to Warnings.
func JudgeReply(msg *Message, status int, header http.Header, body []byte) Verdict {
	var v Verdict
	for _, p := range CheckReply(msg, status, header, body) {
		if strings.Contains(p, "line breaks") {
			v.Warnings = append(v.Warnings, p)
		} else {
			v.Problems = append(v.Problems, p)
		}
	}
	return v
}

// allAsync reports whether Vapi waits for none of the calls (every tool is async:true).
func allAsync(calls []ToolCall) bool {
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

// checkVoice checks a voice-request reply: 1-channel 16-bit raw PCM, not JSON.
func checkVoice(header http.Header, body []byte) []string {
	if len(body) == 0 {
		return []string{"body is empty: voice-request wants raw 16-bit PCM audio"}
	}
	var p []string
	if t := bytes.TrimSpace(body); len(t) > 0 && (t[0] == '{' || t[0] == '[') && json.Valid(t) {
		p = append(p, "body is JSON: voice-request wants raw 16-bit PCM audio, not JSON")
	} else if len(body)%2 == 1 {
		p = append(p, fmt.Sprintf("body has an odd number of bytes (%d): 16-bit PCM comes in 2-byte samples", len(body)))
	}
	return p
}

// jsonKind is the kind of a JSON value, read from its first byte.
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

func kindOf(raw json.RawMessage) jsonKind {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return kindInvalid
	}
	switch c := raw[0]; {
	case c == '"':
		return kindString
	case c == '{':
		return kindObject
	case c == '[':
		return kindArray
	case c == 't' || c == 'f':
		return kindBool
	case c == 'n':
		return kindNull
	case c == '-' || ('0' <= c && c <= '9'):
		return kindNumber
	}
	return kindInvalid
}

// present reports whether obj has key with a non-null value.
func present(obj map[string]json.RawMessage, key string) bool {
	v, ok := obj[key]
	return ok && kindOf(v) != kindNull
}

// checker accumulates problems.
type checker struct{ problems []string }

func (c *checker) add(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// object decodes body as a JSON object.
func (c *checker) object(body []byte) (map[string]json.RawMessage, bool) {
	t := bytes.TrimSpace(body)
	if len(t) == 0 {
		c.add("body is empty: Vapi needs a JSON object")
		return nil, false
	}
	if !json.Valid(t) {
		c.add("body is not JSON")
		return nil, false
	}
	if t[0] != '{' {
		c.add("body is %s, not a JSON object", kindOf(t))
		return nil, false
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(t, &obj); err != nil {
		c.add("body is not JSON")
		return nil, false
	}
	return obj, true
}

// oneOf requires at least one of keys to be present.
func (c *checker) oneOf(obj map[string]json.RawMessage, keys ...string) {
	for _, k := range keys {
		if present(obj, k) {
			return
		}
	}
	if len(keys) == 2 {
		c.add("reply has neither %s nor %s", keys[0], keys[1])
		return
	}
	c.add("reply has none of %s or %s", strings.Join(keys[:len(keys)-1], ", "), keys[len(keys)-1])
}

// types checks the kind of each present key, in a stable order.
func (c *checker) types(obj map[string]json.RawMessage, want map[string]jsonKind) {
	for _, k := range sortedKeys(want) {
		v, ok := obj[k]
		if !ok || kindOf(v) == kindNull {
			continue
		}
		if got := kindOf(v); got != want[k] {
			c.add("%s is %s, not %s", k, got, want[k])
			continue
		}
		if want[k] == kindString && (k == "assistantId" || k == "squadId" || k == "workflowId") {
			if s, _ := unquote(v); strings.TrimSpace(s) == "" {
				c.add("%s is empty", k)
			}
		}
	}
}

func sortedKeys(m map[string]jsonKind) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ { // tiny maps: insertion sort keeps this dependency-free
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// unquote decodes a JSON string; null and other kinds are not strings.
func unquote(raw json.RawMessage) (string, bool) {
	var s string
	if kindOf(raw) != kindString || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// resultString checks that obj[key] is a single-line string; path names it in problems.
func (c *checker) resultString(path string, obj map[string]json.RawMessage, required bool) {
	key := path[strings.LastIndexByte(path, '.')+1:]
	v, ok := obj[key]
	if !ok {
		if required {
			c.add("%s is missing", path)
		}
		return
	}
	c.singleLine(path, v)
}

func (c *checker) singleLine(path string, v json.RawMessage) {
	s, ok := unquote(v)
	if !ok {
		c.add("%s is not a string (it is %s)", path, kindOf(v))
		return
	}
	if strings.ContainsAny(s, "\r\n") {
		c.add("%s has line breaks: Vapi wants single-line strings", path)
	}
}

// toolCalls checks {"results":[{"toolCallId","result"|"error"}...]} against msg's calls.
func (c *checker) toolCalls(msg *Message, obj map[string]json.RawMessage) {
	raw, ok := obj["results"]
	if !ok || kindOf(raw) == kindNull {
		if present(obj, "error") { // ServerMessageResponseToolCalls allows a top-level error
			c.types(obj, map[string]jsonKind{"error": kindString})
			return
		}
		switch {
		case present(obj, "result"):
			c.add(`results is missing (found "result": Vapi wants {"results":[{"toolCallId":…,"result":…}]})`)
		default:
			c.add("results is missing")
		}
		return
	}
	if k := kindOf(raw); k != kindArray {
		c.add("results is %s, not a list", k)
		return
	}
	var entries []json.RawMessage
	if json.Unmarshal(raw, &entries) != nil {
		c.add("results is not a list")
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
		c.add("results has %s for %s", plural(len(entries), "entry", "entries"), plural(len(calls), "tool call", "tool calls"))
	}
	answered := make(map[string]int, len(entries)) // call id -> first results index
	for i, e := range entries {
		p := fmt.Sprintf("results[%d]", i)
		if kindOf(e) != kindObject {
			c.add("%s is %s, not an object", p, kindOf(e))
			continue
		}
		var ent map[string]json.RawMessage
		if json.Unmarshal(e, &ent) != nil {
			c.add("%s is not an object", p)
			continue
		}
		c.toolCallID(p, ent, calls, answered, i)
		hasResult, hasError := present(ent, "result"), present(ent, "error")
		_, resultKey := ent["result"]
		_, errorKey := ent["error"]
		switch {
		case hasResult || hasError:
			if hasResult {
				c.singleLine(p+".result", ent["result"])
			}
			if hasError {
				c.singleLine(p+".error", ent["error"])
			}
		case resultKey: // "result": null
			c.singleLine(p+".result", ent["result"])
		case errorKey:
			c.singleLine(p+".error", ent["error"])
		default:
			c.add("%s has neither result nor error", p)
		}
	}
	for _, tc := range calls {
		if tc.ID == "" || tc.Async {
			continue
		}
		if _, ok := answered[tc.ID]; !ok {
			c.add("no result for tool call %s", describeCall(tc))
		}
	}
}

// toolCallID checks one entry's toolCallId against the calls.
func (c *checker) toolCallID(p string, ent map[string]json.RawMessage, calls []ToolCall, answered map[string]int, i int) {
	v, ok := ent["toolCallId"]
	if !ok || kindOf(v) == kindNull {
		c.add("%s.toolCallId is missing", p)
		return
	}
	id, isString := unquote(v)
	if !isString {
		c.add("%s.toolCallId is %s, not a string", p, kindOf(v))
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
		c.add("%s.toolCallId %s does not match any tool call (expected %s)", p, quote(id), expectedIDs(calls, answered))
		return
	}
	if first, dup := answered[id]; dup {
		c.add("%s.toolCallId %s repeats results[%d]", p, quote(id), first)
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

// knowledgeBase checks {"documents":[{"content","similarity"}...]} or {"message":...}.
func (c *checker) knowledgeBase(obj map[string]json.RawMessage) {
	if !present(obj, "documents") {
		if !present(obj, "message") {
			c.add("reply has neither documents nor message")
		}
		return
	}
	raw := obj["documents"]
	if k := kindOf(raw); k != kindArray {
		c.add("documents is %s, not a list", k)
		return
	}
	var docs []json.RawMessage
	if json.Unmarshal(raw, &docs) != nil {
		c.add("documents is not a list")
		return
	}
	for i, d := range docs {
		p := fmt.Sprintf("documents[%d]", i)
		var doc map[string]json.RawMessage
		if kindOf(d) != kindObject || json.Unmarshal(d, &doc) != nil {
			c.add("%s is %s, not an object", p, kindOf(d))
			continue
		}
		if !present(doc, "content") {
			c.add("%s.content is missing", p)
		} else if k := kindOf(doc["content"]); k != kindString {
			c.add("%s.content is %s, not a string", p, k)
		}
		if !present(doc, "similarity") {
			c.add("%s.similarity is missing", p)
		} else if k := kindOf(doc["similarity"]); k != kindNumber {
			c.add("%s.similarity is %s, not a number", p, k)
		}
	}
}

// endpointing checks {"timeoutSeconds": <number >= 0>}.
func (c *checker) endpointing(obj map[string]json.RawMessage) {
	if !present(obj, "timeoutSeconds") {
		c.add("timeoutSeconds is missing")
		return
	}
	raw := obj["timeoutSeconds"]
	if k := kindOf(raw); k != kindNumber {
		c.add("timeoutSeconds is %s, not a number", k)
		return
	}
	f, err := strconv.ParseFloat(string(bytes.TrimSpace(raw)), 64)
	if err == nil && f < 0 {
		c.add("timeoutSeconds is negative")
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

const maxQuoted = 64

// quote returns s in Go quotes, shortened, with every control and bidi character escaped.
func quote(s string) string {
	if len(s) > maxQuoted {
		cut := maxQuoted
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}

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
