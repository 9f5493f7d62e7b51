package tui

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/vapimon/vapimon/tui/sanitize"
	"github.com/vapimon/vapimon/webhook"
)

// defaultGrace is how long a prompt that opened by itself ignores keys, so that keystrokes
// already in flight (the operator was typing a filter, or scrolling) do not answer it.
const defaultGrace = 300 * time.Millisecond

// Assistant is one choice offered for an assistant-request.
type Assistant struct {
	ID   string
	Name string
}

// prompt is the open answer overlay.
type prompt struct {
	p          *pendingReq
	cur        int // tool call being answered
	ed         editor
	opened     time.Time
	sugg       []suggestion
	suggIdx    int
	assistants []Assistant
	pick       int
	hint       string
	// byHand is set when the operator opened the prompt (enter on a pending call); a
	// prompt that opened by itself is not. In both, q is a letter of the answer: an
	// answer may well start with q ("quarterly"), and quitting sends the fallback to
	// every waiting call. ctrl+c asks to quit; the grace period keeps keys meant for the
	// panes out of a prompt that has just opened.
	byHand bool
	// quitKeysAsked is set when enter was pressed once on an answer made only of the
	// quit keys (quitKeysOnly); the next enter sends it.
	quitKeysAsked bool
}

// quitKeysOnly reports whether an answer is nothing but the quit keys (q, y), as typed
// by habit by someone who meant to quit when a prompt popped up: "qy" once reached a
// caller as its tool result that way.
func quitKeysOnly(text string) bool {
	t := strings.ToLower(strings.TrimSpace(text))
	return t != "" && len(t) <= 3 && strings.Trim(t, "qy") == ""
}

func (pr *prompt) isAssistant() bool { return pr.p.kind == webhook.TypeAssistantRequest }

// activeEditor is the text the operator is typing into, or nil while reviewing a reply.
func (pr *prompt) activeEditor() *editor {
	switch {
	case pr.p.jsonAnswer():
		return pr.p.edit
	case pr.p.server == nil || pr.p.mode == modeAnswer:
		return &pr.ed
	case pr.p.mode == modeEdit:
		return pr.p.edit
	}
	return nil
}

// closedFlash says why the open prompt closed when the outcome of its request arrived
// before the operator answered.
func (m *Model) closedFlash(o *webhook.Outcome) string {
	p := m.prompt.p
	late := !m.now().Before(p.deadline().Add(-time.Second))
	switch {
	case o.WriteErr != "":
		return "the request ended before an answer: " + sanitize.Line(o.WriteErr, 200)
	case late && (o.Reply.Source == webhook.SourceFallback || (p.server != nil && o.Reply.Source == webhook.SourceForward)):
		return m.expiredFlash()
	case o.Reply.Source == webhook.SourceFallback:
		return "the request ended before an answer: the fallback reply was sent"
	}
	return answeredBy(o.Reply.Source) + " while the prompt was open"
}

// expiredFlash says what was sent when the deadline closed the open prompt.
func (m *Model) expiredFlash() string {
	pr := m.prompt
	p := pr.p
	if p.server != nil {
		flash := "deadline passed: your server's reply was sent unchanged"
		switch {
		case p.edited():
			flash += " (your edits were not sent)"
		case p.mode == modeAnswer && strings.TrimSpace(pr.ed.Value()) != "":
			flash += " (not sent: " + sanitize.Line(pr.ed.Value(), 0) + ")"
		}
		return flash
	}
	flash := "deadline passed: the fallback reply was sent"
	if p.jsonAnswer() {
		if p.edited() {
			flash += " (the reply you were writing was not sent)"
		}
		return flash
	}
	if typed := sanitize.Line(pr.ed.Value(), 0); typed != "" {
		flash += " (not sent: " + typed + ")"
	}
	return flash
}

// openPrompt shows the next pending request that is neither deferred nor done.
func (m *Model) openPrompt(p *pendingReq) {
	m.showCall(p.req.ev.CallID())
	if p.aheadReply != nil {
		// Reopened to change the answer typed ahead: ask it again.
		p.aheadReply = nil
		p.req.setTyped(nil)
		for i := range p.answered {
			p.answered[i] = false
		}
		for _, r := range p.rows {
			r.typed = ""
		}
	}
	pr := &prompt{p: p, ed: newEditor(true), opened: m.now(), cur: max(p.next(), 0)}
	if p.jsonAnswer() {
		startJSONAnswer(p) // the reply is written as JSON, in the editor of --intercept
	}
	if (p.server != nil && p.mode != modeAnswer) || p.jsonAnswer() {
		m.prompt = pr // reviewing or editing a reply as JSON: no answer to type
		return
	}
	if pr.isAssistant() {
		pr.ed = newEditor(false)
		if m.opts.Assistants != nil {
			for _, a := range m.opts.Assistants() {
				pr.assistants = append(pr.assistants, Assistant{ID: a.ID, Name: a.Name})
			}
		}
	} else {
		tc := p.req.ev.Msg.ToolCalls[pr.cur]
		pr.sugg = m.suggestions(tc.Name, tc.Arguments)
	}
	if p.draft != nil && p.draftCur == pr.cur {
		pr.ed, p.draft = *p.draft, nil
	}
	m.prompt = pr
}

// closePrompt closes the overlay and opens the next queued request, if any.
func (m *Model) closePrompt() {
	m.prompt = nil
	for _, p := range m.queue {
		if !p.done && !p.deferred {
			m.openPrompt(p)
			return
		}
	}
}

// promptTakesKeys reports whether the open prompt accepts keys now: not within the grace
// period after it appeared (it opened by itself, or a dialog above it closed), so that keys
// already on their way, meant for what was there before, never answer a caller; and not
// while the terminal is too small to show it.
func (m *Model) promptTakesKeys() bool {
	if m.width < minWidth || m.height < minHeight {
		return false
	}
	return m.now().Sub(m.prompt.opened) >= m.grace
}

// promptKey handles a key while the prompt is open.
func (m *Model) promptKey(k tea.KeyPressMsg) tea.Cmd {
	pr := m.prompt
	if !m.promptTakesKeys() {
		return nil
	}
	keys := &m.keys
	if pr.p.server != nil || pr.p.jsonAnswer() {
		if done, cmd := m.interceptKey(k); done {
			return cmd
		}
	}
	switch {
	case key.Matches(k, keys.Defer):
		m.deferPrompt()
		return nil
	case key.Matches(k, keys.SendError):
		m.submit(true)
		return nil
	case key.Matches(k, keys.Newline):
		pr.ed.Newline()
		return nil
	case key.Matches(k, keys.Send):
		m.submit(false)
		return nil
	case pr.isAssistant() && (k.String() == "up" || k.String() == "down"):
		if n := len(pr.assistants); n > 0 {
			d := 1
			if k.String() == "up" {
				d = -1
			}
			pr.pick = (pr.pick + d + n) % n
		}
		return nil
	case key.Matches(k, keys.Suggest) && len(pr.sugg) > 0:
		pr.ed.SetValue(pr.sugg[pr.suggIdx%len(pr.sugg)].text)
		pr.suggIdx++
		return nil
	case k.String() == "shift+tab" && len(pr.sugg) > 0:
		pr.suggIdx = (pr.suggIdx - 2 + 2*len(pr.sugg)) % len(pr.sugg)
		pr.ed.SetValue(pr.sugg[pr.suggIdx].text)
		pr.suggIdx++
		return nil
	}
	pr.ed.Update(k)
	pr.hint = ""
	pr.quitKeysAsked = false
	if k.String() == "q" && pr.ed.Value() == "q" {
		// The panes' quit key, pressed in a prompt: say where it went.
		pr.hint = "q is typed into the answer: ctrl+c quits, esc answers later"
	}
	return nil
}

// deferPrompt closes the open prompt, leaving its request pending in the tool calls pane
// (enter there reopens it), and goes back to the panes: the next waiting request does not
// open in its place, so keys meant for the panes (q, the arrows) cannot answer it. A
// request that arrives later opens its prompt as usual.
func (m *Model) deferPrompt() {
	p := m.prompt.p
	p.deferred = true
	if ed := m.prompt.ed; p.server == nil && ed.Value() != "" {
		p.draft, p.draftCur = &ed, m.prompt.cur
	}
	for _, r := range p.rows {
		r.deferred = true
	}
	m.prompt = nil
	m.focus = paneTools
	if n := m.queuedCount(); n > 1 {
		m.setFlash(fmt.Sprintf("%d requests wait for you: enter on one in the tool calls pane answers it", n))
	}
}

// submit answers the current tool call (or the whole request) with the typed text.
func (m *Model) submit(asError bool) {
	pr := m.prompt
	p := pr.p
	text := strings.TrimRight(pr.ed.Value(), "\n")
	msg := p.req.ev.Msg
	if !pr.byHand && !pr.quitKeysAsked && quitKeysOnly(text) {
		pr.quitKeysAsked = true
		pr.hint = fmt.Sprintf("send %q as the answer? It looks like the quit keys: enter again sends it, ctrl+c quits, esc answers later", text)
		return
	}
	if s := pr.filled(); s != nil && s.isErr {
		asError = true // a suggestion that was an error goes as one, as it did before
	}
	switch p.kind {
	case webhook.TypeAssistantRequest:
		id := strings.TrimSpace(text)
		if asError {
			if id == "" {
				pr.hint = "type the message to speak to the caller"
				return
			}
			body, _ := json.Marshal(map[string]string{"error": webhook.SingleLine(text)})
			m.finish(p, webhook.JSONReply(body, webhook.SourceOperator))
			return
		}
		if id == "" && len(pr.assistants) > 0 {
			id = pr.assistants[pr.pick].ID
		}
		if id == "" {
			pr.hint = "type an assistant id"
			return
		}
		rep := webhook.JSONReply(webhook.AssistantRequestReply(id), webhook.SourceOperator)
		if !webhook.IsUUID(id) {
			rep.Note = "the assistant id sent is not a UUID, as Vapi's assistant ids are"
		}
		m.finish(p, rep)
	case webhook.TypeFunctionCall:
		if strings.TrimSpace(text) == "" {
			pr.hint = "type a result first (an empty answer is not sent)"
			return
		}
		m.remember(msg.ToolCalls[0].Name, text, asError)
		if asError {
			text = "Error: " + text
		}
		m.finish(p, webhook.JSONReply(webhook.FunctionCallReply(text), webhook.SourceOperator))
	default:
		if strings.TrimSpace(text) == "" {
			pr.hint = "type a result first (an empty answer is not sent)"
			return
		}
		tc := msg.ToolCalls[pr.cur]
		res := webhook.ToolResult{ToolCallID: tc.ID, Name: tc.Name}
		if asError {
			res.Error, res.IsError = text, true
		} else {
			res.Result = text
		}
		p.results[pr.cur] = res
		p.answered[pr.cur] = true
		p.req.addPartial(res)
		m.remember(tc.Name, text, asError)
		if pr.cur < len(p.rows) {
			p.rows[pr.cur].typed = sanitize.Line(text, 300)
		}
		if i := p.next(); i >= 0 {
			// More calls in this message: ask the next one, with a fresh grace period.
			m.openPrompt(p)
			return
		}
		m.finish(p, webhook.JSONReply(webhook.ToolCallsReply(p.results), webhook.SourceOperator))
	}
}

// filled is the Tab suggestion the editor holds unchanged, or nil (nothing filled, or the
// operator has changed it since: then it is the operator's own answer).
func (pr *prompt) filled() *suggestion {
	if i := pr.suggIdx - 1; i >= 0 && len(pr.sugg) > 0 {
		if s := &pr.sugg[i%len(pr.sugg)]; pr.ed.Value() == s.text {
			return s
		}
	}
	return nil
}

// finish delivers the reply to the waiting handler and closes the prompt. A type-ahead
// request keeps the reply until the operator is asked (typeahead.go).
func (m *Model) finish(p *pendingReq, rep webhook.Reply) {
	if p.ahead {
		p.aheadReply, p.deferred = &rep, true
		p.req.setTyped(&rep)
		for _, r := range p.rows {
			if r.typed == "" {
				r.typed = "typed ahead"
			}
		}
		if m.prompt != nil && m.prompt.p == p {
			m.closePrompt()
		}
		m.setFlash("your answer waits: sent if your server fails (enter on the row changes it)")
		return
	}
	p.req.answer(rep)
	p.done = true
	m.dropDone()
	if m.prompt != nil && m.prompt.p == p {
		m.closePrompt()
	}
}

// promptView draws the overlay box of width w (height follows content, at most maxH).
func (m *Model) promptView(w, maxH int) []string {
	if p := m.prompt.p; (p.server != nil && p.mode != modeAnswer) || p.jsonAnswer() {
		return m.interceptView(w, maxH)
	}
	st := &m.styles
	pr := m.prompt
	p := pr.p
	ev := p.req.ev
	inner := w - 4
	var body []string
	add := func(s string) { body = append(body, s) }

	callText := ""
	if c := m.calls.byID[ev.CallID()]; c != nil {
		callText = " · call " + c.short
	}
	var title string
	if pr.isAssistant() {
		title = "Answer assistant-request" + callText
		if p.server != nil {
			title = "Replace your server's reply to assistant-request" + callText
		}
	} else {
		r := p.rows[pr.cur]
		title = "Answer tool call " + r.name + callText
		if p.server != nil {
			title = "Replace your server's reply: tool call " + r.name + callText
		}
		if len(p.rows) > 1 {
			title += fmt.Sprintf(" · %d of %d", pr.cur+1, len(p.rows))
		}
	}
	title += m.moreWaiting()
	if p.ahead {
		title = "Type ahead · " + title
	}

	if line := m.countdown(ev, inner, true); line != "" {
		add(line)
	}
	if p.ahead {
		add(st.Warn.Render(ansi.Truncate(m.askingText(p), inner, "…")))
	}
	if row := m.events.bySeq.get(p.seq); row != nil && row.fwd != nil && !fwdOK(row.fwd) && p.server == nil {
		add(st.Err.Render(ansi.Truncate(fwdFailLine(row.fwd), inner, "…")))
	}
	switch {
	case p.server != nil:
		add(st.Dim.Render("then your server's reply is sent as is · esc goes back to it"))
		add(st.Dim.Render("your server said ") + m.serverSaid(p, pr.cur))
	case !pr.isAssistant() && maxH >= 30:
		add(st.Dim.Render("need more time? raise server.timeoutSeconds on the tool in Vapi (up to 300 s)"))
	}

	if pr.isAssistant() {
		c := m.calls.byID[ev.CallID()]
		who := ""
		if c != nil {
			who = c.who()
		}
		add(st.Dim.Render("caller ") + who + st.Dim.Render(" · Vapi waits 7.5 s at most, then the call fails"))
		if len(pr.assistants) > 0 {
			add(st.Dim.Render("assistants (↑/↓), or type an id:"))
			for i, a := range pr.assistants {
				if len(body) > maxH-8 {
					break
				}
				line := "  " + sanitize.Line(a.Name, 80) + st.Dim.Render(" "+sanitize.Line(a.ID, 80))
				if i == pr.pick {
					line = st.Selected.Render("▸ " + sanitize.Line(a.Name, 80) + " " + sanitize.Line(a.ID, 80))
				}
				add(line)
			}
		} else {
			add(st.Dim.Render("type the assistant id to use:"))
		}
	} else {
		r := p.rows[pr.cur]
		add(st.Dim.Render("arguments"))
		if r.promptW != inner-2 || r.promptArgs == nil {
			r.promptW = inner - 2
			r.promptArgs = r.promptArgs[:0]
			for _, l := range prettyJSON(st, r.rawArgs, 200) {
				r.promptArgs = append(r.promptArgs, wrapIndented(l, inner-2)...)
			}
		}
		args := r.promptArgs
		room := max(maxH-14, 2)
		for i, l := range args {
			if i >= room {
				add(st.Dim.Render(fmt.Sprintf("  … %s (tools pane shows all)", webhook.Count(uint64(len(args)-i), "more line"))))
				break
			}
			add("  " + l)
		}
		if c := m.calls.byID[ev.CallID()]; c != nil && len(c.transcript.lines) > 0 {
			add(st.Dim.Render("last words"))
			ls := c.transcript.lines
			for _, l := range ls[max(len(ls)-3, 0):] {
				label, style := lineLabel(st, l.kind)
				add(style.Render(label + ansi.Truncate(strings.ReplaceAll(l.text, "\n", " "), max(inner-labelWidth, 1), "…")))
			}
		}
	}
	add("")
	edH := 3
	if pr.isAssistant() {
		edH = 1
	}
	for _, l := range pr.ed.View(st, inner-2, edH, true) {
		add(st.Modal.Render("┃ ") + l)
	}
	for i := len(pr.ed.lines); i < edH; i++ {
		add(st.Modal.Render("┃"))
	}
	if strings.Contains(strings.TrimRight(pr.ed.Value(), "\n"), "\n") {
		add(st.Warn.Render("new lines are sent as spaces (Vapi wants one line)"))
	}
	if id := strings.TrimSpace(pr.ed.Value()); pr.isAssistant() && id != "" && !webhook.IsUUID(id) {
		add(st.Warn.Render(ansi.Truncate("not a UUID, as Vapi's assistant ids are (5a6b2c1d-0e9f-…): enter sends it anyway", inner, "…")))
	}
	if u := m.dueFirst(); u != "" {
		add(st.Warn.Render(ansi.Truncate(u, inner, "…")))
	}
	if pr.hint != "" {
		add(st.Warn.Render(pr.hint))
	} else if m.now().Sub(pr.opened) < m.grace {
		add(st.Dim.Render("(keys are ignored for a moment so typing in progress does not answer)"))
	} else if len(pr.sugg) > 0 {
		if s := pr.filled(); s != nil {
			line := fmt.Sprintf("[%s] · tab: next of %d (%s)", s.label(), len(pr.sugg), suggCounts(pr.sugg))
			if s.isErr {
				add(st.Warn.Render(line))
			} else {
				add(st.Dim.Render(line))
			}
		} else {
			add(st.Dim.Render("tab: " + suggCounts(pr.sugg)))
		}
	}
	add(m.shortHelpView(m.helpFor().ShortHelp()))
	return modalBox(st, title, body, w)
}

// countdown is a prompt's countdown bar: the time left before vapimon replies by itself
// and, with source, where the length came from (the tool's own timeout, the assistant's,
// the phone number's, or --tool-timeout), so that the operator can trust it. "" when the
// request has no deadline.
func (m *Model) countdown(ev *webhook.Event, inner int, source bool) string {
	st := &m.styles
	left := ev.Deadline.Sub(m.now())
	total := ev.Deadline.Sub(ev.Received)
	if total <= 0 {
		return ""
	}
	secs := fmt.Sprintf(" %.1fs left", max(left.Seconds(), 0))
	src := ""
	if s := sanitize.Line(ev.BudgetSource, 200); s != "" && source {
		src = ansi.Truncate(" · "+s, max(inner-len(secs)-12, 0), "…")
	}
	line := bar(st, float64(left)/float64(total), max(inner-len(secs)-ansi.StringWidth(src), 1)) + st.Warn.Render(secs)
	if source {
		line += st.Dim.Render(src)
	}
	return line
}

// moreWaiting ends a prompt's title with how many other requests wait behind it.
func (m *Model) moreWaiting() string {
	if waiting := m.queuedCount() - 1; waiting > 0 {
		return fmt.Sprintf(" · %d more waiting", waiting)
	}
	return ""
}

// dueFirst says which other request waiting for the operator is due before the open
// prompt's (an assistant-request's 7.5 s behind a tool call's 20 s), and how long it has
// left: it would expire unseen behind the prompt otherwise. Empty when none is.
func (m *Model) dueFirst() string {
	if m.prompt == nil {
		return ""
	}
	open := m.prompt.p.req.ev.Deadline
	var urgent *pendingReq
	for _, p := range m.queue {
		if p.ahead || p.done || p == m.prompt.p {
			continue
		}
		if dl := p.req.ev.Deadline; !dl.IsZero() && (open.IsZero() || dl.Before(open)) && (urgent == nil || dl.Before(urgent.req.ev.Deadline)) {
			urgent = p
		}
	}
	if urgent == nil {
		return ""
	}
	left := urgent.req.ev.Deadline.Sub(m.now())
	if left <= 0 {
		return ""
	}
	return fmt.Sprintf("⚠ %s is due first: %s left (esc, then enter on it in the tool calls pane)", sanitize.Line(urgent.req.ev.Type(), 40), fmtSeconds(left))
}

// serverSaid is the server's answer to tool call i of a held reply (its result or error),
// or its whole reply on one line.
func (m *Model) serverSaid(p *pendingReq, i int) string {
	msg := p.req.ev.Msg
	if (p.kind == webhook.TypeToolCalls || p.kind == webhook.TypeFunctionCall) && i < len(msg.ToolCalls) {
		results := parseResults(p.server.Body)
		var res *toolResultJSON
		for j := range results {
			if results[j].ToolCallID != "" && results[j].ToolCallID == msg.ToolCalls[i].ID {
				res = &results[j]
			}
		}
		if res == nil && i < len(results) && results[i].ToolCallID == "" {
			res = &results[i]
		}
		switch {
		case res != nil && res.Error != nil:
			return m.styles.Err.Render("error: " + sanitize.Line(*res.Error, 300))
		case res != nil && res.Result != nil:
			return sanitize.Line(*res.Result, 300)
		}
	}
	return compactJSON(p.server.Body, 300)
}
