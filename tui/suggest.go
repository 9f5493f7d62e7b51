package tui

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/vapimon/vapimon/tui/sanitize"
	"github.com/vapimon/vapimon/webhook"
)

// suggestion is one Tab suggestion and where it came from.
type suggestion struct {
	text     string
	isErr    bool // sent as an error (an earlier answer sent so, an answers file's error)
	fromFile bool // the answers file (else an earlier answer typed in this session)
	n        int  // 1-based position within its source
}

// pastAnswer is an answer the operator sent for a tool, and whether it went as an error.
type pastAnswer struct {
	text  string
	isErr bool
}

// label names the suggestion's source, e.g. "earlier answer 1" or "answers file: case 2",
// and says when it is an error.
func (s suggestion) label() string {
	l := fmt.Sprintf("earlier answer %d", s.n)
	if s.fromFile {
		l = fmt.Sprintf("answers file: case %d", s.n)
	}
	if s.isErr {
		l += " · an error: enter sends it as one"
	}
	return l
}

// suggestions lists earlier answers for a tool, most recent first, then the answers file's
// with {{name}} templates filled from the call's arguments.
func (m *Model) suggestions(tool string, args json.RawMessage) []suggestion {
	var out []suggestion
	seen := map[string]bool{}
	for i, a := range m.history[tool] {
		if a.text != "" && !seen[a.text] {
			seen[a.text] = true
			out = append(out, suggestion{text: a.text, isErr: a.isErr, n: i + 1})
		}
	}
	if m.opts.Suggest != nil {
		var argMap map[string]any
		for i, sg := range m.opts.Suggest(tool, args) {
			s := sg.Text
			if strings.Contains(s, "{{") {
				if argMap == nil {
					_ = json.Unmarshal(args, &argMap)
				}
				s = webhook.FillTemplate(s, argMap)
			}
			s = sanitize.Text(s, 4000)
			if s != "" && !seen[s] {
				seen[s] = true
				out = append(out, suggestion{text: s, isErr: sg.IsError, fromFile: true, n: i + 1})
			}
		}
	}
	return out
}

// suggCounts says how many suggestions come from each source, e.g. "1 earlier answer, 2
// from the answers file".
func suggCounts(ss []suggestion) string {
	var hist, file int
	for _, s := range ss {
		if s.fromFile {
			file++
		} else {
			hist++
		}
	}
	var parts []string
	switch {
	case hist == 1:
		parts = append(parts, "1 earlier answer")
	case hist > 1:
		parts = append(parts, fmt.Sprintf("%d earlier answers", hist))
	}
	if file > 0 {
		parts = append(parts, fmt.Sprintf("%d from the answers file", file))
	}
	return strings.Join(parts, ", ")
}

// remember records an answer for Tab suggestions, and whether it was sent as an error.
func (m *Model) remember(tool, answer string, isErr bool) {
	h := m.history[tool]
	for i, s := range h {
		if s.text == answer {
			h = append(h[:i], h[i+1:]...)
			break
		}
	}
	h = append([]pastAnswer{{text: answer, isErr: isErr}}, h...)
	if len(h) > 10 {
		h = h[:10]
	}
	m.history[tool] = h
}
