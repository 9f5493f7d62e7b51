package tui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/vapimon/vapimon/tui/sanitize"
	"github.com/vapimon/vapimon/webhook"
)

// toolRow is one tool call (or legacy function call, or assistant-request) and what became
// of it. Strings are sanitised.
type toolRow struct {
	// sentDespite is set when the operator sent a reply despite the problems Vapi would
	// have with it: the row is marked ⚠, not ✓.
	sentDespite bool
	seq         uint64
	callID      string // raw call id, for lookups only
	callText    string // short sanitised call id
	id          string // sanitised toolCallId
	name        string
	args        string // compact, one line: made by argsText when first drawn
	argsMade    bool
	tool        string          // raw tool name, to ask the answers file (Options.Suggest)
	rawArgs     json.RawMessage // for the pretty view on selection
	pretty      []string        // built lazily
	// promptArgs are the arguments as the answer prompt shows them, wrapped to promptW.
	promptArgs []string
	promptW    int
	received   time.Time
	deadline   time.Time
	// budget is how long Vapi waits for the reply and budgetSrc where that number came
	// from ("tool get_weather: server.timeoutSeconds 4"), sanitised.
	budget    time.Duration
	budgetSrc string

	// Set while the operator is answering the message this call belongs to.
	typed    string
	deferred bool
	held     bool // the developer's server answered; its reply waits for review (--intercept)
	// asking is until when your server (--forward-to) is given to answer, while it is
	// asked and the operator may only type ahead; zero otherwise (typeahead.go).
	asking time.Time

	// batch is every row of the same message when it has several tool calls (Vapi gets
	// one reply for all of them).
	batch []*toolRow

	done    bool
	kept    bool   // the fallback reply kept this call's answer from the answers file
	keptYou bool   // the fallback reply kept the answer the operator typed in time
	expired bool   // the deadline passed before any outcome was seen
	lost    bool   // no outcome came well after the deadline: the bus dropped it
	source  string // webhook.Source*
	result  string
	isErr   bool
	latency time.Duration
	note    string

	// search is the lower-case text the filter looks in: name, ids, arguments, result.
	search string

	// exp is expandLen's last answer, for the width and the state it was counted for.
	exp expCount
}

// expCount is a count of a row's detail lines and what it depends on that can change.
type expCount struct {
	w, n         int
	done         bool
	result, note string
	ok           bool
}

// searchText is the lower-case text the filter looks in for r.
func (r *toolRow) searchText() string {
	return strings.ToLower(strings.Join([]string{r.name, r.id, r.callText, sanitize.Line(r.callID, 200), r.argsText(), r.result}, " "))
}

// argsText is the arguments on one sanitised line, made the first time they are shown or
// filtered: most rows of a stream never are.
func (r *toolRow) argsText() string {
	if !r.argsMade {
		r.args, r.argsMade = compactJSON(r.rawArgs, 300), true
	}
	return r.args
}

// matches says the filter (lower case) is in r's text. The text is made the first time a
// filter asks, not for every row as it arrives (most sessions never filter), and made
// again after the row changes (which clears it).
func (r *toolRow) matches(filter string) bool {
	if r.search == "" {
		r.search = r.searchText()
	}
	return strings.Contains(r.search, filter)
}

func (r *toolRow) pending() bool { return !r.done }

// waiting reports whether the row still waits for a reply that is due: not answered, and
// its deadline (when the handler sends the fallback) not yet passed.
func (r *toolRow) waiting(now time.Time) bool {
	return !r.done && !r.expired && (r.deadline.IsZero() || now.Before(r.deadline))
}

// sourceLabel names who answered, in the operator's words.
func sourceLabel(s string) string {
	switch s {
	case webhook.SourceOperator:
		return "typed"
	case webhook.SourceAnswers:
		return "answers file"
	case webhook.SourceForward:
		return "your server"
	case webhook.SourceFallback:
		return "fallback"
	case webhook.SourceAck:
		return "ack"
	case webhook.SourceReject:
		return "rejected"
	case sourceNoReply:
		return noReplyRecorded
	}
	return sanitize.Line(s, 20)
}

// newToolRows makes one row per tool call of a tool-calls or function-call event, or a
// single row for another message that expects a reply (assistant-request...).
func newToolRows(ev *webhook.Event, c *call) []*toolRow {
	msg := ev.Msg
	fill := func(r *toolRow) {
		*r = toolRow{seq: ev.Seq, received: ev.Received, deadline: ev.Deadline, budgetSrc: sanitize.Line(ev.BudgetSource, 200)}
		if !ev.VapiDeadline.IsZero() {
			r.budget = ev.VapiDeadline.Sub(ev.Received)
		}
		if c != nil {
			r.callID, r.callText = c.id, c.short
		}
	}
	var rows []*toolRow
	switch len(msg.ToolCalls) {
	case 0, 1: // the common case: the row and its slice in one allocation
		one := &struct {
			row  toolRow
			rows [1]*toolRow
		}{}
		one.rows[0] = &one.row
		rows = one.rows[:]
	default:
		rows = make([]*toolRow, len(msg.ToolCalls))
		for i := range rows {
			rows[i] = new(toolRow)
		}
	}
	if len(msg.ToolCalls) == 0 {
		r := rows[0]
		fill(r)
		r.name = sanitize.Line(msg.Type, 60)
		return rows
	}
	for i, tc := range msg.ToolCalls {
		r := rows[i]
		fill(r)
		r.id = sanitize.Line(tc.ID, 80)
		r.tool = tc.Name
		r.name = sanitize.Line(tc.Name, 80)
		if r.name == "" {
			r.name = "(unnamed tool)"
		}
		r.rawArgs = bytes.Clone(tc.Arguments) // the row outlives the message these bytes are part of
	}
	if len(rows) > 1 {
		for _, r := range rows {
			r.batch = rows
		}
		otherToolsSource(rows, msg.ToolCalls)
	}
	return rows
}

// otherToolsSource makes the deadline source of each row of a message with several tools
// true for that row: the message's one deadline is its earliest tool's, so a row whose
// own tool did not set it says which did ("set by tool get_weather: ...") instead of
// seeming to name its own tool's timeout.
func otherToolsSource(rows []*toolRow, calls []webhook.ToolCall) {
	src := rows[0].budgetSrc
	if !strings.HasPrefix(src, "tool ") {
		return // message-wide (assistant, phone number, --tool-timeout): true of every row
	}
	for i, r := range rows {
		if i < len(calls) && strings.HasPrefix(src, "tool "+sanitize.Line(calls[i].Name, 200)+":") {
			continue
		}
		r.budgetSrc = "set by " + src + "; one reply answers every tool of this message"
	}
}

// waitingFor names the other calls of the row's message that have no answer yet.
func (r *toolRow) waitingFor() string {
	var names []string
	for _, o := range r.batch {
		if o != r && !o.done && o.typed == "" {
			names = append(names, o.name)
		}
	}
	return strings.Join(names, ", ")
}

// answerLabel names who answered the row, in the operator's words.
func (r *toolRow) answerLabel() string {
	if r.keptYou {
		return "you (typed in time, kept)"
	}
	if r.kept {
		return "answers file (kept)"
	}
	return sourceLabel(r.source)
}

// applyOutcome fills the rows of one event from its outcome. fromFile says whether an
// answer is the answers file's for a row (nil: no answers file); a fallback reply keeps
// such answers, and the answers the operator typed in time, and the row says so.
// buf, when not nil, holds the parsed results between calls (see resultsBuf).
func applyOutcome(rows []*toolRow, out *webhook.Outcome, fromFile func(r *toolRow, answer string) bool, buf *resultsBuf) {
	if out.Reply.Source == sourceNoReply { // an offline replay of a request without reply
		for _, r := range rows {
			r.done, r.lost, r.source, r.result = true, true, "", noReplyRecorded
		}
		return
	}
	fallback := out.Reply.Source == webhook.SourceFallback
	results := parseResultsBuf(out.Reply.Body, buf)
	for i, r := range rows {
		r.done, r.lost = true, false
		r.source = out.Reply.Source
		r.latency = out.Latency
		r.note = sanitize.Line(out.Reply.Note, 300)
		if out.WriteErr != "" {
			r.note = "reply not delivered: " + sanitize.Line(out.WriteErr, 200)
		}
		var res *toolResultJSON
		for j := range results {
			if results[j].ToolCallID != "" && sanitize.Line(results[j].ToolCallID, 80) == r.id {
				res = &results[j]
				break
			}
		}
		if res == nil && i < len(results) {
			res = &results[i]
		}
		answer := "" // as the answers file writes it (Answers.Suggest)
		switch {
		case res != nil && res.Error != nil:
			r.isErr = true
			r.result = strings.Clone(sanitize.Line(*res.Error, 500)) // not a part of the reply's text kept whole
			answer = "error: " + *res.Error
		case res != nil && res.Result != nil:
			r.result = strings.Clone(sanitize.Line(*res.Result, 500))
			answer = *res.Result
		default:
			r.result = sanitize.Line(string(out.Reply.Body), 500)
			r.isErr = out.Reply.Source == webhook.SourceReject || fallback
		}
		r.kept, r.keptYou = false, false
		switch {
		case !fallback || res == nil:
		case r.typed != "" && r.typed == r.result:
			r.keptYou = true
		case fromFile != nil:
			r.kept = fromFile(r, answer)
		}
		r.search = "" // changed: matches makes it again
	}
}

// answersFileError is how a kept answer writes an error ("error: " and its text), as
// fromAnswersFile compares it.
const answersFileError = "error: "

// fromAnswersFile reports whether answer (a result, or "error: " and an error) is one the
// answers file has for row r's tool and arguments (Options.Suggest): only then is a
// fallback's answer the file's, kept. Without an answers file nothing is.
func (m *Model) fromAnswersFile(r *toolRow, answer string) bool {
	if m.opts.Suggest == nil || answer == "" {
		return false
	}
	var args map[string]any
	for _, sg := range m.opts.Suggest(r.tool, r.rawArgs) {
		s := sg.Text
		if sg.IsError {
			s = answersFileError + s
		}
		if strings.Contains(s, "{{") {
			if args == nil {
				_ = json.Unmarshal(r.rawArgs, &args)
			}
			s = webhook.FillTemplate(s, args)
		}
		if s == answer {
			return true
		}
	}
	return false
}

type toolResultJSON struct {
	ToolCallID string  `json:"toolCallId"`
	Result     *string `json:"result"`
	Error      *string `json:"error"`
}

// parseResults reads {"results":[...]} (tool-calls) or {"result": "..."} (function-call).
func parseResults(body []byte) []toolResultJSON { return parseResultsBuf(body, nil) }

// resultsBuf is memory parseResultsBuf reuses from one reply to the next, as the model
// reads one per answered tool call. What it returns from buf is valid until its next call
// with buf (the strings stay valid).
type resultsBuf struct {
	out  []toolResultJSON
	vals []string
}

// parseResultsBuf is parseResults reusing buf (nil: none).
func parseResultsBuf(body []byte, buf *resultsBuf) []toolResultJSON {
	if out, ok := plainResultsBuf(body, buf); ok {
		return out
	}
	return decodeResults(body)
}

// decodeResults is parseResults by encoding/json, for any reply.
func decodeResults(body []byte) []toolResultJSON {
	type result struct {
		ToolCallID string          `json:"toolCallId"`
		Result     json.RawMessage `json:"result"`
		Error      json.RawMessage `json:"error"`
	}
	var v struct {
		Results []json.RawMessage `json:"results"`
		Result  json.RawMessage   `json:"result"`
		Error   *string           `json:"error"`
	}
	// One pass decodes a well-formed reply, the common case; any error falls back to
	// decoding each result on its own, skipping those that do not fit.
	var typed []result
	var fast struct {
		Results []result        `json:"results"`
		Result  json.RawMessage `json:"result"`
		Error   *string         `json:"error"`
	}
	if json.Unmarshal(body, &fast) == nil {
		typed, v.Result, v.Error = fast.Results, fast.Result, fast.Error
		v.Results = make([]json.RawMessage, len(typed)) // only its length is read below
	} else if json.Unmarshal(body, &v) != nil {
		return nil
	}
	var out []toolResultJSON
	for i, raw := range v.Results {
		var r result
		if typed != nil {
			r = typed[i]
		} else if json.Unmarshal(raw, &r) != nil {
			continue
		}
		tr := toolResultJSON{ToolCallID: r.ToolCallID}
		if len(r.Error) > 0 && string(r.Error) != "null" {
			s := jsonText(r.Error)
			tr.Error = &s
		} else if len(r.Result) > 0 {
			s := jsonText(r.Result)
			tr.Result = &s
		}
		out = append(out, tr)
	}
	if len(v.Results) == 0 && len(v.Result) > 0 {
		s := jsonText(v.Result)
		out = append(out, toolResultJSON{Result: &s})
	}
	if len(out) == 0 && v.Error != nil {
		out = append(out, toolResultJSON{Error: v.Error})
	}
	return out
}

// plainResults reads the tool-calls reply in the exact form vapimon writes it
// (webhook.ToolCallsReply) and most servers do: {"results":[{"toolCallId":"…","name":"…",
// "result":"…"},…]}, no white space, each key once, every value a string without escapes.
// It gives what parseResults' decoding gives, without encoding/json (a tenth of the
// monitor's work per tool call); ok is false for anything else, which is then decoded.
func plainResults(body []byte) (out []toolResultJSON, ok bool) { return plainResultsBuf(body, nil) }

// plainResultsBuf is plainResults reusing buf (nil: none).
func plainResultsBuf(body []byte, buf *resultsBuf) (out []toolResultJSON, ok bool) {
	const head, tail = `{"results":[`, `]}`
	if len(body) < len(head)+len(tail) || string(body[:len(head)]) != head || string(body[len(body)-len(tail):]) != tail {
		return nil, false
	}
	// One string holds the text of every value (they are substrings of it), and one slice
	// the values the results point to: a few allocations per reply, not a few per value.
	text := string(body[len(head) : len(body)-len(tail)])
	need := strings.Count(text, ":") // one value per key at most: vals never grows
	var vals []string
	if buf != nil {
		if cap(buf.vals) < need {
			buf.vals = make([]string, 0, need)
		}
		vals, out = buf.vals[:0], buf.out[:0]
	} else {
		vals = make([]string, 0, need)
	}
	// str takes a plain JSON string at the start of b: its text and the rest.
	str := func(b string) (string, string, bool) {
		if len(b) < 2 || b[0] != '"' {
			return "", "", false
		}
		end := strings.IndexByte(b[1:], '"')
		if end < 0 || !plainJSONText(b[:end+2]) {
			return "", "", false
		}
		return b[1 : end+1], b[end+2:], true
	}
	b := text
	for len(b) > 0 {
		if b[0] != '{' {
			return nil, false
		}
		b = b[1:]
		var tr toolResultJSON
		var seen [4]bool // toolCallId, name, result, error
		for {
			key, rest, ok := str(b)
			if !ok || len(rest) == 0 || rest[0] != ':' {
				return nil, false
			}
			val, rest, ok := str(rest[1:])
			if !ok || len(rest) == 0 {
				return nil, false
			}
			i := -1
			switch key {
			case "toolCallId":
				i = 0
			case "name":
				i = 1
			case "result":
				i = 2
			case "error":
				i = 3
			}
			if i < 0 || seen[i] {
				return nil, false // another key, or one given twice: encoding/json's rules apply
			}
			seen[i] = true
			switch i {
			case 0:
				tr.ToolCallID = val
			case 2, 3:
				vals = append(vals, val)
				if i == 2 {
					tr.Result = &vals[len(vals)-1]
				} else {
					tr.Error = &vals[len(vals)-1]
				}
			}
			b = rest[1:]
			if rest[0] == '}' {
				break
			}
			if rest[0] != ',' {
				return nil, false
			}
		}
		if tr.Error != nil {
			tr.Result = nil // an error wins over a result, as in parseResults
		}
		out = append(out, tr)
		if len(b) == 0 {
			break
		}
		if b[0] != ',' || len(b) == 1 {
			return nil, false
		}
		b = b[1:]
	}
	if buf != nil {
		buf.out = out
	}
	return out, true
}

// toolsPane lists the tool calls of the selected call (or of all calls), pending first in
// arrival order with a countdown, then answered ones, newest last.
type toolsPane struct {
	sel    int
	top    int
	follow bool
	w, h   int
	// scratch is reused to count the lines of arguments (expandLen).
	scratch bytes.Buffer
	// pend remembers where the first pending row was in the rows last laid out.
	pend pendMemo
}

// pendMemo is the index of the first pending row of a slice of rows. The rows before it
// were done, and a row once done stays done; the rows of a call and of all calls only grow
// at the end, in the same array until it is replaced: so in the same array the next
// search can start there. (Holding rows keeps the array from being reused.)
type pendMemo struct {
	rows  []*toolRow
	first int
}

// firstPending returns the index of the first pending row, len(rows) when none is.
func (p *toolsPane) firstPending(rows []*toolRow) int {
	i := 0
	if m := &p.pend; len(m.rows) > 0 && len(rows) >= len(m.rows) && &rows[0] == &m.rows[0] {
		i = m.first
	}
	for i < len(rows) && !rows[i].pending() {
		i++
	}
	p.pend = pendMemo{rows: rows, first: i}
	return i
}

// SetSize sets the inner size of the pane.
func (p *toolsPane) SetSize(w, h int) { p.w, p.h = w, h }

// layout returns the selected row and the first visible one: while following, the first
// pending call (else the last one); the selected row and its details stay on screen.
func (p *toolsPane) layout(st *Styles, rows []*toolRow) (sel, top int) {
	if len(rows) == 0 {
		return p.sel, p.top
	}
	sel, top = p.sel, p.top
	if p.follow {
		sel = len(rows) - 1
		first := p.firstPending(rows)
		if first < len(rows) {
			sel = first
		}
	}
	sel = min(max(sel, 0), len(rows)-1)
	// Rows are one line each except the selected one, which is followed by its details;
	// top is a row index, so only the rows on screen are drawn.
	need := 1 + p.expandLen(rows[sel])
	if sel < top {
		top = sel
	}
	if sel-top+need > p.h {
		top = sel - max(p.h-need, 0)
	}
	return sel, min(max(top, 0), len(rows)-1)
}

// View renders rows; the selected row is expanded with its arguments and full result.
func (p *toolsPane) View(st *Styles, rows []*toolRow, showCall bool, now time.Time, focused bool) []string {
	if p.h <= 0 || p.w <= 0 {
		return nil
	}
	if len(rows) == 0 {
		return []string{st.Dim.Render("No tool calls yet.")}
	}
	sel, top := p.layout(st, rows)
	exp := p.expand(st, rows[sel])
	out := make([]string, 0, p.h+len(exp)+1)
	for i := top; i < len(rows) && len(out) < p.h; i++ {
		line := p.row(st, rows[i], showCall, now)
		if i == sel && focused {
			line = selectedRow(st, line, p.w)
		}
		out = append(out, line)
		if i == sel {
			out = append(out, exp...)
		}
	}
	return out[:min(len(out), p.h)]
}

func (p *toolsPane) row(st *Styles, r *toolRow, showCall bool, now time.Time) string {
	var b strings.Builder
	b.Grow(2 * p.w) // the row's text and its colours, in one allocation
	answered := r.pending() && r.typed != "" && r.waiting(now) && !r.held
	switch {
	case r.pending() && !r.waiting(now):
		b.WriteString(st.Err.Render("⌛ "))
	case answered:
		b.WriteString(st.OK.Render("✓ "))
	case r.pending():
		b.WriteString(st.Warn.Render("● "))
	case r.lost:
		b.WriteString(st.Dim.Render("? "))
	case r.isErr:
		b.WriteString(st.Err.Render("✗ "))
	case r.sentDespite:
		b.WriteString(st.Warn.Render("⚠ "))
	default:
		b.WriteString(st.OK.Render("✓ "))
	}
	if showCall && r.callText != "" && p.w >= 50 {
		b.WriteString(st.Dim.Render(r.callText + " "))
	}
	b.WriteString(r.name)
	used := cellWidth(b.String())
	switch {
	case r.pending() && !r.waiting(now) && r.held:
		b.WriteString(st.Warn.Render(" deadline passed: server's reply sent"))
	case r.pending() && !r.waiting(now):
		b.WriteString(st.Err.Render(" deadline passed: fallback sent"))
	case answered:
		status := " answered"
		if !r.asking.IsZero() {
			status = " typed ahead: sent if your server fails"
		}
		if others := r.waitingFor(); others != "" {
			status += " · waiting for " + others
		}
		b.WriteString(st.OK.Render(status))
	case r.pending():
		left := r.deadline.Sub(now)
		total := r.deadline.Sub(r.received)
		status := ""
		switch {
		case !r.asking.IsZero() && now.Before(r.asking):
			status = " asking your server (up to " + fmtSeconds(r.asking.Sub(r.received).Round(100*time.Millisecond)) + ") · enter types ahead"
		case !r.asking.IsZero():
			status = " your server is late: enter types ahead"
		case r.held && r.deferred:
			status = " your server answered: enter to review"
		case r.held:
			status = " your server answered: reviewing"
		case r.deferred:
			status = " deferred, enter to answer"
		case r.typed != "":
			status = " typed, waiting for the others"
		}
		if !r.deadline.IsZero() && total > 0 {
			secs := fmt.Sprintf(" %4.1fs", max(left.Seconds(), 0))
			bw := min(max(p.w-used-len(secs)-2-len(status), 0), 20)
			b.WriteString(" ")
			b.WriteString(bar(st, float64(left)/float64(total), bw))
			b.WriteString(secs)
		}
		b.WriteString(st.Warn.Render(status))
		if args := r.argsText(); args != "" {
			b.WriteString(" ")
			b.WriteString(st.Dim.Render(args))
		}
	case r.lost:
		b.WriteString(st.Dim.Render(" " + r.result))
	default:
		arrow := " → "
		res := r.result
		rs := st.StatusVal
		switch {
		case r.source == webhook.SourceFallback && !r.kept && !r.keptYou:
			res = "fallback sent: " + res
			rs = st.Err
		case r.isErr:
			res = "error: " + res
			rs = st.Err
		}
		b.WriteString(arrow)
		b.WriteString(rs.Render(res))
		b.WriteString(st.Dim.Render(fmt.Sprintf(" · %s %s", r.answerLabel(), fmtLatency(r.latency))))
	}
	return b.String()
}

// rowAt returns the index of the row drawn on line (counted from the pane's first inner
// line) by the last View: rows from top, the selected one followed by its details.
func (p *toolsPane) rowAt(st *Styles, rows []*toolRow, line int) (int, bool) {
	if len(rows) == 0 || line < 0 {
		return 0, false
	}
	sel := min(max(p.sel, 0), len(rows)-1)
	y := 0
	for i := max(p.top, 0); i < len(rows) && y < p.h; i++ {
		if line == y {
			return i, true
		}
		y++
		if i == sel {
			y += p.expandLen(rows[i])
			if line < y {
				return i, true // a detail line of the selected row
			}
		}
	}
	return 0, false
}

// expand returns the detail rows of the selected tool call.
func (p *toolsPane) expand(st *Styles, r *toolRow) []string {
	out, _ := p.expandRows(st, r, true)
	return out
}

// expandLen is len(p.expand(r)) without styling the lines: layout runs after every message,
// and under a stream of tool calls the selected row is a new one each time.
// The count is kept until the width or what the details show changes (the rest of a row
// is fixed when it is made).
func (p *toolsPane) expandLen(r *toolRow) int {
	e := &r.exp
	if e.ok && e.w == p.w && e.done == r.done && e.result == r.result && e.note == r.note {
		return e.n
	}
	_, n := p.expandRows(nil, r, false)
	*e = expCount{w: p.w, n: n, done: r.done, result: r.result, note: r.note, ok: true}
	return n
}

// expandRows builds the detail lines of r when draw is set, else only counts them.
func (p *toolsPane) expandRows(st *Styles, r *toolRow, draw bool) (out []string, n int) {
	ind := "    "
	add := func(dim bool, s string) {
		n++
		if !draw {
			return
		}
		if dim {
			s = st.Dim.Render(s)
		}
		out = append(out, s)
	}
	// wrapped adds s wrapped to the pane, counting without wrapping what fits on a line
	// (a cell is at least a byte).
	wrapped := func(dim bool, s string) {
		room := max(p.w-len(ind), 8)
		if !draw && len(s) <= room && strings.IndexByte(s, '\n') < 0 {
			n++
			return
		}
		for _, seg := range strings.Split(ansi.Wrap(s, room, " "), "\n") {
			add(dim, ind+seg)
		}
	}
	if r.id != "" {
		if draw {
			add(true, ind+"id "+r.id)
		} else {
			n++
		}
	}
	if parts := r.deadlineText(); len(parts) > 0 {
		room := max(p.w-len(ind), 8)
		lines := []string{strings.Join(parts, " · ")}
		if ansi.StringWidth(lines[0]) > room {
			lines = parts // one part a line when both do not fit
		}
		for _, l := range lines {
			for _, seg := range strings.Split(ansi.Wrap(l, room, " "), "\n") {
				add(true, ind+seg)
			}
		}
	}
	if len(r.rawArgs) > 0 {
		switch {
		case draw || r.pretty != nil:
			if r.pretty == nil {
				r.pretty = prettyJSON(st, r.rawArgs, 40)
			}
			for _, l := range r.pretty {
				add(false, ind+l)
			}
		default:
			n += prettyJSONLenBuf(&p.scratch, r.rawArgs, 40)
		}
	}
	if r.done && r.result != "" {
		wrapped(false, r.result)
	}
	if r.note != "" && r.note != r.result {
		wrapped(true, r.note)
	}
	return out, n
}

// deadlineText says how long Vapi waits for this call's reply and why, then when vapimon
// answers at the latest: "Vapi waits 4s (tool get_weather: server.timeoutSeconds 4)",
// "vapimon answers by 3.6s". Once answered, it says how long the answer took instead of
// the latest time ("answered in 3ms", not "vapimon answers by 18.5s" for a reply sent at
// once). Nil when nothing is awaited.
func (r *toolRow) deadlineText() []string {
	if r.deadline.IsZero() {
		return nil
	}
	s := "Vapi waits"
	if r.done {
		s = "Vapi would have waited"
	}
	if r.budget > 0 {
		s += " " + fmtSeconds(r.budget)
	}
	if r.budgetSrc != "" {
		s += " (" + r.budgetSrc + ")"
	}
	switch {
	case r.done && r.lost:
		return []string{s}
	case r.done && r.latency > 0:
		return []string{"answered in " + fmtLatency(r.latency), s}
	case r.done:
		return []string{s}
	}
	return []string{s, "vapimon answers by " + fmtSeconds(r.deadline.Sub(r.received))}
}

func (m *Model) toolsTitle(rows []*toolRow, all bool) string {
	t := "3 Tool calls"
	if all {
		t += " · all calls"
	}
	if n := m.pendingCount(); n > 0 {
		t += fmt.Sprintf(" · %d pending", n)
	}
	if m.filter != "" {
		t += " · filter " + m.filterEd.Value()
	}
	return t
}
