package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// AnswerSet is the parsed content of an answers file (YAML or JSON):
//
//	tools:
//	  get_weather: "Paris: 18C, light rain"     # a result
//	  book_table: {error: "fully booked"}       # an error
//	  lookup_order:                             # cases, first match wins
//	    - when: {orderId: "A123"}
//	      result: "Order A123 shipped yesterday"
//	    - result: "No order {{orderId}}"        # {{name}} is replaced by that argument
//	replies:
//	  assistant-request: {assistantId: "5a6b2c1d-0000-4000-8000-000000000001"}
//	assistants:                                 # choices offered by the operator's picker
//	  - {id: "5a6b2c1d-0000-4000-8000-000000000001", name: "Support"}
type AnswerSet struct {
	Tools      map[string][]ToolCase
	Replies    map[string]json.RawMessage
	Assistants []AssistantChoice
}

// ToolCase is one canned answer for a tool: When (a subset of the arguments that must match,
// or nil for any) and either Result or Error.
type ToolCase struct {
	When    map[string]any
	Result  string
	Error   string
	IsError bool
}

// AssistantChoice is an assistant the operator may pick for an assistant-request.
type AssistantChoice struct {
	ID   string `json:"id" yaml:"id"`
	Name string `json:"name" yaml:"name"`
}

// ParseAnswers parses an answers file's content.
func ParseAnswers(data []byte) (*AnswerSet, error) {
	var raw struct {
		Tools      map[string]yaml.Node `yaml:"tools"`
		Replies    map[string]any       `yaml:"replies"`
		Assistants []AssistantChoice    `yaml:"assistants"`
	}
	var top yaml.Node
	if err := yaml.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("answers: %w", err)
	}
	if len(top.Content) == 1 && top.Content[0].Kind == yaml.MappingNode {
		m := top.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			switch k := m.Content[i]; k.Value {
			case "tools", "replies", "assistants":
			default:
				return nil, fmt.Errorf("answers: line %d: unknown key %q (want tools, replies or assistants)", k.Line, k.Value)
			}
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("answers: %w", err)
	}
	set := &AnswerSet{Tools: map[string][]ToolCase{}, Replies: map[string]json.RawMessage{}, Assistants: raw.Assistants}
	for name, node := range raw.Tools {
		cases, err := parseToolCases(&node)
		if err != nil {
			return nil, fmt.Errorf("answers: tools.%s (line %d): %w", name, node.Line, err)
		}
		set.Tools[name] = cases
	}
	for typ, v := range raw.Replies {
		if !ExpectsReply(typ) {
			return nil, fmt.Errorf("answers: replies.%s: Vapi does not wait for a reply to %q (types that take one: %s)", typ, typ, strings.Join(replyTypes(), ", "))
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("answers: replies.%s: %w", typ, err)
		}
		set.Replies[typ] = b
	}
	for i, a := range set.Assistants {
		if a.ID == "" {
			return nil, fmt.Errorf("answers: assistants[%d] has no id", i)
		}
	}
	return set, nil
}

func replyTypes() []string {
	var out []string
	for _, t := range KnownTypes {
		if ExpectsReply(t) {
			out = append(out, t)
		}
	}
	return out
}

type caseYAML struct {
	When   map[string]any `yaml:"when"`
	Result *string        `yaml:"result"`
	Error  *string        `yaml:"error"`
}

func parseToolCases(n *yaml.Node) ([]ToolCase, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		var s string
		if err := n.Decode(&s); err != nil {
			return nil, err
		}
		return []ToolCase{{Result: s}}, nil
	case yaml.MappingNode:
		c, err := decodeCase(n)
		if err != nil {
			return nil, err
		}
		return []ToolCase{c}, nil
	case yaml.SequenceNode:
		var out []ToolCase
		for _, item := range n.Content {
			c, err := decodeCase(item)
			if err != nil {
				return nil, fmt.Errorf("case %d: %w", len(out)+1, err)
			}
			out = append(out, c)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("empty list of cases")
		}
		return out, nil
	}
	return nil, fmt.Errorf("want a string, {result|error: ...} or a list of cases")
}

func decodeCase(n *yaml.Node) (ToolCase, error) {
	var c caseYAML
	if n.Kind != yaml.MappingNode {
		return ToolCase{}, fmt.Errorf("want {result: ...} or {error: ...}")
	}
	if err := n.Decode(&c); err != nil {
		return ToolCase{}, err
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch k := n.Content[i].Value; k {
		case "when", "result", "error":
		default:
			return ToolCase{}, fmt.Errorf("unknown key %q (want when, result or error)", k)
		}
	}
	switch {
	case c.Result != nil && c.Error != nil:
		return ToolCase{}, fmt.Errorf("has both result and error")
	case c.Result != nil:
		return ToolCase{When: c.When, Result: *c.Result}, nil
	case c.Error != nil:
		return ToolCase{When: c.When, Error: *c.Error, IsError: true}, nil
	}
	return ToolCase{}, fmt.Errorf("needs result or error")
}

// Lookup returns the canned answer for one tool call, if any case matches its arguments.
func (s *AnswerSet) Lookup(tc ToolCall) (ToolResult, bool) {
	cases, ok := s.Tools[tc.Name]
	if !ok {
		return ToolResult{}, false
	}
	var args map[string]any
	for _, c := range cases {
		if args == nil && (c.When != nil || strings.Contains(c.Result, "{{") || strings.Contains(c.Error, "{{")) {
			_ = json.Unmarshal(tc.Arguments, &args) // not an object: matches no `when`
			if args == nil {
				args = map[string]any{}
			}
		}
		if !matches(c.When, args) {
			continue
		}
		r := ToolResult{ToolCallID: tc.ID, Name: tc.Name}
		if c.IsError {
			r.Error, r.IsError = FillTemplate(c.Error, args), true
		} else {
			r.Result = FillTemplate(c.Result, args)
		}
		return r, true
	}
	return ToolResult{}, false
}

func matches(when, args map[string]any) bool {
	for k, want := range when {
		got, ok := args[k]
		if !ok || fmt.Sprint(got) != fmt.Sprint(want) {
			return false
		}
	}
	return true
}

// FillTemplate replaces {{name}} (or {{ name }}) in s with the tool-call argument of that
// name: a string as it is, any other value as JSON. The answers file fills its results
// with it, and the monitor its suggestions, so that both read a template alike.
func FillTemplate(s string, args map[string]any) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	for k, v := range args {
		var val string
		switch x := v.(type) {
		case string:
			val = x
		default:
			b, _ := json.Marshal(x)
			val = string(b)
		}
		s = strings.ReplaceAll(s, "{{"+k+"}}", val)
		s = strings.ReplaceAll(s, "{{ "+k+" }}", val)
	}
	return s
}

// Answers is the canned-answers responder: it answers from an answers file and re-reads the
// file when it changes. A broken file is reported and the last good content stays in use.
type Answers struct {
	path string
	mu   sync.RWMutex
	set  *AnswerSet
	mod  time.Time
	size int64
}

// LoadAnswers reads path. An error here is fatal (the user asked for this file).
func LoadAnswers(path string) (*Answers, error) {
	a := &Answers{path: path}
	if err := a.reload(); err != nil {
		return nil, err
	}
	return a, nil
}

// NewAnswers wraps an already parsed set (no file behind it).
func NewAnswers(set *AnswerSet) *Answers { return &Answers{set: set} }

// Path returns the file the answers come from ("" when none).
func (a *Answers) Path() string { return a.path }

func (a *Answers) reload() error { return a.load(false) }

// load reads the file and takes its answers. With changed (a reload while watching), an
// empty file is refused: it is what a file written in place looks like between its
// truncation and its new content, and taking it would drop every answer in the middle of
// a call.
func (a *Answers) load(changed bool) error {
	fi, err := os.Stat(a.path)
	if err != nil {
		return fmt.Errorf("answers file %s: %w", a.path, pathErr(err))
	}
	data, err := os.ReadFile(a.path)
	if err != nil {
		return fmt.Errorf("answers file %s: %w", a.path, pathErr(err))
	}
	if changed && len(bytes.TrimSpace(data)) == 0 {
		return fmt.Errorf("answers file %s is empty", a.path)
	}
	set, err := ParseAnswers(data)
	if err != nil {
		return fmt.Errorf("%s: %w", a.path, err)
	}
	a.mu.Lock()
	a.set, a.mod, a.size = set, fi.ModTime(), fi.Size()
	a.mu.Unlock()
	return nil
}

// Watch polls the file every interval until ctx ends, reloading it when it changes, and
// publishes what happened on bus (the new content is in use, or the file is broken and the
// previous content stays). A change is read once the file has stayed the same for one
// interval, so an editor still writing it in place is not caught half-way; a file that is
// empty then (truncated, its new content not yet written) is reported and not taken.
func (a *Answers) Watch(ctx context.Context, interval time.Duration, bus *Bus) {
	if a.path == "" {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var lastErr string
	var pendingMod time.Time
	pendingSize := int64(-1)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fi, err := os.Stat(a.path)
		a.mu.RLock()
		same := err == nil && fi.ModTime().Equal(a.mod) && fi.Size() == a.size
		a.mu.RUnlock()
		if same {
			pendingSize = -1
			continue
		}
		if err == nil && (!fi.ModTime().Equal(pendingMod) || fi.Size() != pendingSize) {
			pendingMod, pendingSize = fi.ModTime(), fi.Size() // changed: wait one more interval
			continue
		}
		pendingSize = -1
		if err := a.load(true); err != nil {
			if err.Error() != lastErr {
				bus.Publish(Notice{Time: time.Now(), Level: "error", Text: err.Error() + " (still using the previous answers)"})
				lastErr = err.Error()
			}
			continue
		}
		lastErr = ""
		bus.Publish(Notice{Time: time.Now(), Level: "info", Text: "answers reloaded from " + a.path})
	}
}

// pathErr drops the "stat PATH:" prefix the caller already says.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (a *Answers) current() *AnswerSet {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.set == nil {
		return &AnswerSet{}
	}
	return a.set
}

// Name returns "answers".
func (a *Answers) Name() string { return SourceAnswers }

// Instant reports that Respond never waits, so the handler need not arm a deadline for it.
func (a *Answers) Instant() bool { return true }

// Respond answers tool-calls when every call has an answer, function-call when the tool has
// one, and other reply-expecting messages from the replies section. It passes otherwise.
func (a *Answers) Respond(_ context.Context, ev *Event) (Reply, error) {
	if ev.Msg == nil {
		return Reply{}, ErrPass
	}
	set := a.current()
	switch ev.Msg.Kind {
	case TypeToolCalls:
		if len(ev.Msg.ToolCalls) == 0 {
			return Reply{}, ErrPass
		}
		res := make([]ToolResult, 0, len(ev.Msg.ToolCalls))
		for _, tc := range ev.Msg.ToolCalls {
			r, ok := set.Lookup(tc)
			if !ok {
				return Reply{}, ErrPass
			}
			res = append(res, r)
		}
		return JSONReply(ToolCallsReply(res), SourceAnswers), nil
	case TypeFunctionCall:
		if len(ev.Msg.ToolCalls) == 1 {
			if r, ok := set.Lookup(ev.Msg.ToolCalls[0]); ok {
				text := r.Result
				if r.IsError {
					text = "Error: " + r.Error
				}
				return JSONReply(FunctionCallReply(text), SourceAnswers), nil
			}
		}
	}
	if body, ok := set.Replies[ev.Msg.Type]; ok {
		return JSONReply(body, SourceAnswers), nil
	}
	if body, ok := set.Replies[ev.Msg.Kind]; ok {
		return JSONReply(body, SourceAnswers), nil
	}
	return Reply{}, ErrPass
}

// Fallback builds the last-resort reply, keeping what the answers file knows: for
// tool-calls, the calls it can answer get their answer and the rest an error saying why;
// for other types its reply when it has one (so a hung server still gets the file's
// assistant); else ErrorReply. A reply made only of the file's answers is marked as
// coming from the answers file.
func (a *Answers) Fallback(ev *Event, reason string) Reply {
	if ev.Msg == nil {
		return ErrorReply(ev.Msg, reason)
	}
	set := a.current()
	if ev.Msg.Kind != TypeToolCalls || len(ev.Msg.ToolCalls) == 0 {
		if ev.Msg.Kind == TypeFunctionCall || ev.Msg.Kind == TypeToolCalls {
			if rep, err := a.Respond(context.Background(), ev); err == nil {
				return rep
			}
		} else if body, ok := set.Replies[ev.Msg.Type]; ok {
			return JSONReply(body, SourceAnswers)
		} else if body, ok := set.Replies[ev.Msg.Kind]; ok {
			return JSONReply(body, SourceAnswers)
		}
		return ErrorReply(ev.Msg, reason)
	}
	res := make([]ToolResult, 0, len(ev.Msg.ToolCalls))
	all := true
	for _, tc := range ev.Msg.ToolCalls {
		if r, ok := set.Lookup(tc); ok {
			res = append(res, r)
			continue
		}
		all = false
		res = append(res, ToolResult{ToolCallID: tc.ID, Name: tc.Name, Error: SingleLine(reason), IsError: true})
	}
	if all {
		return JSONReply(ToolCallsReply(res), SourceAnswers)
	}
	rep := JSONReply(ToolCallsReply(res), SourceFallback)
	rep.Note = reason
	return rep
}

// Suggestion is one canned answer for the operator's prompt: a tool's result, or (IsError)
// the error to send.
type Suggestion struct {
	Text    string
	IsError bool
}

// Suggest returns the canned results and errors known for a tool, for the operator's
// prompt, with {{name}} templates filled from this call's arguments. The case that matches
// the arguments comes first.
func (a *Answers) Suggest(tool string, args json.RawMessage) []Suggestion {
	set := a.current()
	var m map[string]any
	_ = json.Unmarshal(args, &m)
	var out []Suggestion
	if r, ok := set.Lookup(ToolCall{Name: tool, Arguments: args}); ok {
		if r.IsError {
			out = append(out, Suggestion{Text: r.Error, IsError: true})
		} else {
			out = append(out, Suggestion{Text: r.Result})
		}
	}
	for _, c := range set.Tools[tool] {
		s := Suggestion{Text: FillTemplate(c.Error, m), IsError: true}
		if !c.IsError {
			s = Suggestion{Text: FillTemplate(c.Result, m)}
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Assistants returns the assistant choices from the file: the assistants section, plus the
// assistant-request reply's assistantId when it is not listed.
func (a *Answers) Assistants() []AssistantChoice {
	set := a.current()
	out := append([]AssistantChoice(nil), set.Assistants...)
	if body, ok := set.Replies[TypeAssistantRequest]; ok {
		var r struct {
			AssistantID string `json:"assistantId"`
		}
		if json.Unmarshal(body, &r) == nil && r.AssistantID != "" {
			found := false
			for _, c := range out {
				found = found || c.ID == r.AssistantID
			}
			if !found {
				out = append(out, AssistantChoice{ID: r.AssistantID, Name: "from replies.assistant-request"})
			}
		}
	}
	return out
}

// ToolNames lists the tools that have canned answers, sorted.
func (a *Answers) ToolNames() []string {
	set := a.current()
	out := make([]string, 0, len(set.Tools))
	for k := range set.Tools {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
