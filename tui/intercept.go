package tui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/vapimon/vapimon/tui/sanitize"
	"github.com/vapimon/vapimon/webhook"
)

// promptMode is what the prompt asks of the operator.
type promptMode int

const (
	// modeAnswer: type the answer (an ordinary request, or replacing the server's reply).
	modeAnswer promptMode = iota
	// modeReview: the server's reply is shown; send it as is, edit it, or replace it.
	modeReview
	// modeEdit: the server's reply is in the editor as pretty JSON.
	modeEdit
)

// editLimit bounds the reply text the editor takes (runes). A larger reply can still be
// sent as is or replaced.
const editLimit = 256 << 10

// canType reports whether a typed answer can replace the reply (tool results, a legacy
// function result, an assistant id); other types can only be edited as JSON.
func (p *pendingReq) canType() bool {
	switch p.kind {
	case webhook.TypeToolCalls, webhook.TypeFunctionCall:
		return len(p.results) > 0
	case webhook.TypeAssistantRequest:
		return true
	}
	return false
}

// edited reports whether the operator changed the server's reply in the editor.
func (p *pendingReq) edited() bool { return p.edit != nil && p.edit.Value() != p.editFrom }

// interceptKey handles a key for a held server reply. It reports whether the key was
// handled; keys it leaves go to the ordinary answer prompt (replace mode).
func (m *Model) interceptKey(k tea.KeyPressMsg) (bool, tea.Cmd) {
	pr := m.prompt
	p := pr.p
	keys := &m.keys
	switch p.mode {
	case modeReview:
		switch {
		case key.Matches(k, keys.SendAsIs):
			m.finish(p, withNote(*p.server, "reviewed by the operator and sent as is"))
		case key.Matches(k, keys.Edit):
			m.startEdit()
		case key.Matches(k, keys.Replace) && p.canType():
			m.switchMode(modeAnswer)
		case key.Matches(k, keys.Defer):
			m.deferPrompt()
		}
		return true, nil
	case modeEdit:
		switch {
		case key.Matches(k, keys.Back) && p.jsonAnswer():
			m.deferPrompt() // no server reply to go back to: answer later
		case key.Matches(k, keys.Back):
			m.switchMode(modeReview)
		case key.Matches(k, keys.Newline):
			p.edit.Newline()
		case key.Matches(k, keys.Send):
			m.submitEdit()
		default:
			p.edit.Update(k)
		}
		return true, nil
	}
	if key.Matches(k, keys.Back) {
		m.switchMode(modeReview)
		return true, nil
	}
	return false, nil
}

// switchMode changes what the open prompt asks, without a new grace period: the operator
// is already looking at it.
func (m *Model) switchMode(mode promptMode) {
	opened := m.prompt.opened
	p := m.prompt.p
	p.mode = mode
	m.openPrompt(p)
	m.prompt.opened = opened
}

// startEdit opens the editor on the server's reply, pretty-printed, with characters a
// terminal cannot show written as JSON escapes (so that sending it unedited sends the same
// value back).
func (m *Model) startEdit() {
	p := m.prompt.p
	if p.edit == nil {
		text, err := editableJSON(p.server.Body)
		if err != nil {
			m.prompt.hint = err.Error()
			return
		}
		ed := newEditor(true)
		ed.limit = editLimit + 1
		ed.SetValue(text)
		ed.Home()
		p.edit, p.editFrom = &ed, ed.Value()
	}
	p.problems, p.checked = nil, ""
	m.switchMode(modeEdit)
}

// editableJSON is body indented by two spaces, with every rune a terminal would not show
// as is (controls, bidi overrides, invalid UTF-8) written as a \u escape. Outside strings,
// indented JSON holds only spaces and newlines, so every escape lands inside a string and
// the value is unchanged.
func editableJSON(body []byte) (string, error) {
	var buf bytes.Buffer
	if err := json.Indent(&buf, bytes.TrimSpace(body), "", "  "); err != nil {
		return "", errors.New("your server's reply is not JSON: it can be sent as is or replaced, not edited")
	}
	if utf8.RuneCount(buf.Bytes()) > editLimit {
		return "", fmt.Errorf("your server's reply is too large to edit here (%d bytes): send it as is or replace it", len(body))
	}
	return sanitize.Escaped(buf.String()), nil
}

// submitEdit sends the edited JSON: it must be JSON; problems webhook.JudgeReply finds
// are shown first, and a second enter on the same text sends it anyway.
func (m *Model) submitEdit() {
	p := m.prompt.p
	text := p.edit.Value()
	var body bytes.Buffer
	if err := json.Compact(&body, []byte(text)); err != nil {
		// json.Compact's syntax errors have no offset: json.Unmarshal's say where.
		var v any
		if uerr := json.Unmarshal([]byte(text), &v); uerr != nil {
			err = uerr
		}
		p.problems, p.checked = []string{"not valid JSON: " + jsonErrorAt(text, err) + " (fix it, or esc to go back)"}, ""
		return
	}
	hdr := http.Header{"Content-Type": {"application/json"}}
	probs := webhook.JudgeReply(p.req.ev.Msg, http.StatusOK, hdr, body.Bytes()).Problems
	if p.jsonAnswer() && !p.edited() {
		// The template's example values (a made-up number, a placeholder name) would go
		// to a live call: say so first.
		probs = append([]string{"this is vapimon's example reply, unchanged: its values are placeholders (Vapi would act on them)"}, probs...)
	}
	if len(probs) > 0 && p.checked != text {
		p.problems = make([]string, len(probs))
		for i, pb := range probs {
			p.problems[i] = sanitize.Line(pb, 300)
		}
		p.checked = text
		return
	}
	rep := webhook.JSONReply(body.Bytes(), webhook.SourceOperator)
	rep.Note = "edited by the operator from your server's reply"
	if p.server == nil {
		rep.Note = "written by the operator"
	}
	if len(probs) > 0 {
		rep.Note += "; sent despite: " + strings.Join(probs, "; ")
		for _, r := range p.rows {
			r.sentDespite = true
		}
	}
	m.finish(p, rep)
}

// jsonErrorAt describes a JSON syntax error with its line and column in text.
func jsonErrorAt(text string, err error) string {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return err.Error()
	}
	off := min(int(se.Offset), len(text))
	before := text[:off]
	line := strings.Count(before, "\n") + 1
	col := utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:])
	return fmt.Sprintf("line %d, column %d: %s", line, max(col, 1), se.Error())
}

// interceptView draws the review or edit box for a held server reply.
func (m *Model) interceptView(w, maxH int) []string {
	st, pr := &m.styles, m.prompt
	p, ev, inner := pr.p, pr.p.req.ev, w-4
	var body []string
	add := func(s string) { body = append(body, s) }

	typ := sanitize.Line(ev.Msg.Type, 60)
	title := "Your server answered " + typ
	switch {
	case p.jsonAnswer() && p.ahead:
		title = "Type ahead · answer " + typ
	case p.jsonAnswer():
		title = "Answer " + typ
	case p.mode == modeEdit:
		title = "Edit your server's reply to " + typ
	}
	if c := m.calls.byID[ev.CallID()]; c != nil {
		title += " · call " + c.short
	}
	title += m.moreWaiting()
	if line := m.countdown(ev, inner, p.jsonAnswer()); line != "" {
		add(line)
	}
	if p.jsonAnswer() {
		m.jsonAnswerHead(add, inner)
	} else {
		m.serverReplyHead(add)
	}

	switch p.mode {
	case modeReview:
		if p.pretty == nil {
			p.pretty = prettyJSON(st, p.server.Body, maxDetailLines)
		}
		room := max(maxH-len(body)-6, 2)
		for i, l := range p.pretty {
			if i >= room-1 && len(p.pretty) > room {
				add(st.Dim.Render(fmt.Sprintf("  … %d more lines (e shows and edits them all)", len(p.pretty)-i)))
				break
			}
			add("  " + l)
		}
		if p.edited() {
			add(st.Warn.Render("you have unsent edits: e to go on editing"))
		}
	case modeEdit:
		probs := len(p.problems)
		if probs > 0 {
			probs = min(probs, 4) + 2
		}
		edH := min(max(maxH-len(body)-6-probs, 3), 30)
		for _, l := range p.edit.View(st, inner-2, edH, true) {
			add(st.Modal.Render("┃ ") + l)
		}
		if len(p.problems) > 0 {
			add(st.Err.Render("not sent yet: look at this first"))
			for i, pb := range p.problems {
				if i == 4 {
					add(st.Err.Render(fmt.Sprintf("  … and %d more", len(p.problems)-i)))
					break
				}
				add(st.Err.Render("  · " + pb))
			}
			if p.checked != "" {
				add(st.Warn.Render("enter again sends it anyway; or fix it"))
			}
		}
	}
	if pr.hint != "" {
		add(st.Warn.Render(pr.hint))
	} else if m.now().Sub(pr.opened) < m.grace {
		add(st.Dim.Render("(keys are ignored for a moment so typing in progress does not answer)"))
	}
	add("")
	add(m.shortHelpView(m.helpFor().ShortHelp()))
	return modalBox(st, title, body, w)
}

// serverReplyHead is the head of the review or edit box for a held server reply: what is
// sent when time runs out, the request, and what the server answered.
func (m *Model) serverReplyHead(add func(string)) {
	st, p := &m.styles, m.prompt.p
	then := "then your server's reply is sent as is"
	if p.edited() {
		then += " (not your edits)"
	}
	add(st.Dim.Render(then))
	add(st.Dim.Render("request ") + summarize(p.req.ev.Msg))
	srv := p.server
	info := fmt.Sprintf("HTTP %d", srv.Status)
	if ct := srv.Header.Get("Content-Type"); ct != "" {
		info += " · " + sanitize.Line(ct, 60)
	}
	info += fmt.Sprintf(" · %d bytes", len(srv.Body))
	add(st.Dim.Render("your server ") + st.OK.Render(info))
	if srv.Note != "" {
		add(st.Warn.Render(sanitize.Line(srv.Note, 400)))
	}
}

// jsonAnswerHead is the head of the box where the operator writes a reply as JSON: what is
// sent when time runs out, the request, and why the reply starts as it does.
func (m *Model) jsonAnswerHead(add func(string), inner int) {
	st, p := &m.styles, m.prompt.p
	if p.ahead {
		add(st.Warn.Render(ansi.Truncate(m.askingText(p), inner, "…")))
	}
	add(st.Dim.Render("then the fallback reply is sent"))
	if row := m.events.bySeq.get(p.seq); row != nil && row.fwd != nil && !fwdOK(row.fwd) {
		add(st.Err.Render(ansi.Truncate(fwdFailLine(row.fwd), inner, "…")))
	}
	if sum := summarize(p.req.ev.Msg); sum != "" {
		add(st.Dim.Render("request ") + sum)
	}
	add(st.Dim.Render("write the reply as JSON (Vapi's shape for this type, example values to replace):"))
}

// interceptHelp is the prompt's key help for a held server reply.
func (m *Model) interceptHelp(p *pendingReq) []key.Binding {
	k := &m.keys
	switch p.mode {
	case modeReview:
		out := []key.Binding{k.SendAsIs, k.Edit}
		if p.canType() {
			out = append(out, k.Replace)
		}
		later := k.Defer
		later.SetHelp("esc", "review later")
		return append(out, later)
	case modeEdit:
		send := k.Send
		send.SetHelp("enter", "send edited")
		if p.jsonAnswer() {
			send.SetHelp("enter", "check and send")
			return []key.Binding{send, k.Newline, k.Defer}
		}
		return []key.Binding{send, k.Newline, k.Back}
	}
	return nil
}

// toggleIntercept turns --intercept on or off. Turning it off sends the replies still held
// (deferred reviews) as they are, so that nothing waits for a review nobody asked for.
func (m *Model) toggleIntercept() {
	m.intercept = !m.intercept
	m.opts.SetIntercept(m.intercept)
	if m.intercept {
		m.setFlash("intercept on: your server's replies wait for you before going to Vapi")
		return
	}
	n := 0
	for _, p := range append([]*pendingReq(nil), m.queue...) {
		if p.server != nil && !p.done {
			m.finish(p, withNote(*p.server, "intercept turned off: your server's reply was sent as is"))
			n++
		}
	}
	msg := "intercept off: your server's replies go straight to Vapi"
	if n > 0 {
		msg += fmt.Sprintf(" (%d held repl%s sent as is)", n, map[bool]string{true: "y", false: "ies"}[n == 1])
	}
	m.setFlash(msg)
}

// heldCount is how many server replies wait for the operator's review.
func (m *Model) heldCount() int {
	n := 0
	for _, p := range m.queue {
		if p.server != nil && !p.done {
			n++
		}
	}
	return n
}
