package tui

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/tui/sanitize"
	"github.com/vapimon/vapimon/webhook"
)

// A resend (R, ctrl+r, or E then save) posts a request again through vapimon's own
// handler, signed for the listener's verification and marked with
// fixtures.HeaderResentFrom: the monitor shows it as a new event "resent from #N", your
// server gets it when forwarding, the tape records it (an edited body as edited), and
// Vapi-waiting types are answered by the chain as usual (answers file, you, fallback).
// When the reply comes, a view shows it beside the original reply, with their
// differences. Fresh ids and times are made unless ctrl+r asks for the request as
// recorded: the original reply is freshened the same way, so the comparison is of like
// with like.

// resendDoneMsg is the reply to a resend.
type resendDoneMsg struct {
	from   uint64
	typ    string
	url    string
	fresh  bool
	edited bool
	// rejected is the HTTP status the original was rejected with; 0 when it was accepted.
	rejected int
	res      fixtures.Result
	original *fixtures.RecordedReply // the reply to #from, freshened like the resend
}

// resendRecord is row r as a record, freshened unless keep.
func (m *Model) resendRecord(r *eventRow, keep bool) (fixtures.Record, bool) {
	if r == nil || r.ev == nil || len(r.ev.Body) == 0 {
		return fixtures.Record{}, false
	}
	rec := fixtures.RecordFromEvent(r.event(), r.out)
	if r.out != nil && r.out.Reply.Source == sourceNoReply {
		rec.Reply = nil
	}
	if !keep {
		rec = fixtures.NewFreshener(m.inspect().Now()).Record(rec)
	}
	return rec, true
}

// resend starts resending row r (body replaces the request's when set: an edit).
func (m *Model) resend(r *eventRow, keep bool, body []byte, rec *fixtures.Record) tea.Cmd {
	if m.opts.Inspect == nil {
		m.setFlash("resend needs a listening vapimon (offline replay only shows the tape: vapimon replay TAPE --to URL sends it)")
		return nil
	}
	if rec == nil {
		rr, ok := m.resendRecord(r, keep)
		if !ok {
			m.setFlash("this request's body is not in memory any more: the tape has it (vapimon replay)")
			return nil
		}
		rec = &rr
	}
	edited := body != nil
	if !edited {
		body = rec.Body
	}
	in := m.inspect()
	url := in.targetURL(r.ev.Path)
	s := fixtures.Sender{To: url, Auth: in.Auth, UserAgent: in.UserAgent,
		Header: http.Header{fixtures.HeaderResentFrom: {strconv.FormatUint(r.seq, 10)}}}
	send := fixtures.Record{Method: r.ev.Method, Body: body}
	done := resendDoneMsg{from: r.seq, typ: resendType(r, body), url: url, fresh: !keep, edited: edited, original: rec.Reply}
	if r.ev.Rejected != "" {
		done.rejected = r.ev.Status
	}
	how := map[bool]string{true: "as recorded", false: "with fresh ids and times"}[keep]
	if edited {
		how = "as edited"
	}
	m.setFlash(fmt.Sprintf("resending #%d %s through vapimon…", r.seq, how))
	return func() tea.Msg {
		done.res, _ = s.Send(context.Background(), send)
		return done
	}
}

// resignWindow is how long a second R has to confirm the resend of a request that failed
// verification.
const resignWindow = 10 * time.Second

// unverified says row r's request was checked against the listener's auth and failed (or
// was refused before it could be): a resend signs it with the real secret, making a forged
// or broken request look genuine to the handler and to your server.
func unverified(r *eventRow) bool {
	ev := r.ev
	return ev != nil && ev.AuthMode != "" && ev.AuthMode != webhook.AuthNone && !ev.Verified
}

// resignConfirmed reports whether row r may be resent now. A request that failed
// verification is resent only on a second press within resignWindow: the first says what
// the resend would do (sign it with your secret, forward it to your server when forwarding).
func (m *Model) resignConfirmed(r *eventRow) bool {
	if !unverified(r) {
		return true
	}
	now := m.now()
	if !r.resignAsked.IsZero() && now.Sub(r.resignAsked) < resignWindow {
		r.resignAsked = time.Time{}
		return true
	}
	r.resignAsked = now
	why := "not verified"
	if t := r.text(); t.rejected != "" {
		why = ansi.Truncate(t.rejected, 80, "…")
	}
	fwd := ""
	if m.status.Forward != "" {
		fwd = ", forwarded to your server"
	}
	// The instruction first: the footer cuts a long flash at the screen's edge.
	m.setFlash(fmt.Sprintf("⚠ #%d failed verification: press again to sign it with your secret and resend it as genuine%s · %s", r.seq, fwd, why))
	return false
}

// resendType is the message type of what a resend sends: the row's, else (a rejected
// request is not parsed) the body's when it parses, else "".
func resendType(r *eventRow, body []byte) string {
	if msg := r.message(); msg != nil {
		return sanitize.Line(msg.Type, 60)
	}
	if msg, err := webhook.Parse(body); err == nil && msg != nil {
		return sanitize.Line(msg.Type, 60)
	}
	return ""
}

// resendFrom is the request a row was resent from (its HeaderResentFrom), 0 for none.
func resendFrom(r *eventRow) uint64 {
	if r.ev == nil {
		return 0
	}
	h := r.ev.Header.Get(fixtures.HeaderResentFrom)
	if h == "" {
		return 0 // most requests (ParseUint would make an error to say so)
	}
	n, _ := strconv.ParseUint(h, 10, 64)
	return n
}

// resendDetail is the view of a resend's reply beside the original one.
func resendDetail(st *Styles, d resendDoneMsg, w int) *detailView {
	title := fmt.Sprintf("Resent #%d", d.from)
	if d.typ != "" {
		title += " · " + d.typ
	}
	if d.rejected != 0 {
		// The resend's own outcome is the line below: the title says what the original was.
		title += fmt.Sprintf(" · the original was rejected (HTTP %d)", d.rejected)
	}
	v := &detailView{title: title}
	v.copy = func(section) (string, string) {
		if len(d.res.Body) == 0 {
			return "", ""
		}
		return "the resend's reply", string(d.res.Body)
	}
	v.build = func(v *detailView, w int) { buildResend(v, st, d, w) }
	w = max(w, 20)
	v.build(v, w)
	v.builtW = w
	return v
}

func buildResend(v *detailView, st *Styles, d resendDoneMsg, w int) {
	add := func(s string) { v.lines = append(v.lines, s) }
	how := "with fresh ids and times"
	switch {
	case d.edited:
		how = "as edited"
	case !d.fresh:
		how = "as recorded"
	}
	add(st.Dim.Render(fmt.Sprintf("resent #%d %s to %s: the events pane shows it as a new event (resent from #%d)", d.from, how, sanitize.Line(d.url, 200), d.from)))
	res := d.res
	if res.Err != nil {
		add(st.Err.Render("✗ no reply: " + sanitize.Line(res.Err.Error(), 500)))
		return
	}
	now := fmt.Sprintf("now: HTTP %d in %s", res.Status, fmtLatency(res.Latency))
	if res.OK() {
		add(st.OK.Render("✓ " + now))
	} else {
		add(st.Err.Render("✗ " + now))
	}
	for _, p := range res.Problems {
		add(st.Err.Render("  ✗ " + sanitize.Line(p, 300)))
	}
	for _, p := range res.Warnings {
		add(st.Warn.Render("  ⚠ " + sanitize.Line(p, 300)))
	}
	if d.original == nil {
		add(st.Dim.Render("the original had no reply recorded: nothing to compare"))
	} else {
		add(st.Dim.Render(fmt.Sprintf("original: HTTP %d · %s", d.original.Status, answeredBy(d.original.Source))))
		diff := fixtures.CompareReply(d.original, res)
		add("")
		if len(diff) == 0 {
			add(st.OK.Render("Same reply as the original" + map[bool]string{true: " (its ids and times mapped to the resend's)", false: ""}[d.fresh]))
		} else {
			add(st.TitleFocus.Render(fmt.Sprintf("Differences from the original reply (%d)", len(diff))))
			for _, l := range diff {
				v.lines = append(v.lines, wrapIndented("  "+st.Warn.Render(sanitize.Line(l, 1000)), w)...)
			}
		}
	}
	add("")
	nowLines := prettyJSON(st, res.Body, maxDetailLines/2)
	if d.original == nil || w < 80 {
		add(st.TitleFocus.Render("Reply now"))
		for _, l := range nowLines {
			v.lines = append(v.lines, wrapIndented("  "+l, w)...)
		}
		if d.original != nil {
			add("")
			add(st.TitleFocus.Render("Original reply"))
			for _, l := range prettyJSON(st, d.original.Body, maxDetailLines/2) {
				v.lines = append(v.lines, wrapIndented("  "+l, w)...)
			}
		}
		return
	}
	// Side by side: the reply now on the left, the original on the right.
	col := (w - 3) / 2
	orig := prettyJSON(st, d.original.Body, maxDetailLines/2)
	pad := func(s string) string {
		s = ansi.Truncate(s, col, "…")
		return s + strings.Repeat(" ", max(col-ansi.StringWidth(s), 0))
	}
	add(pad(st.TitleFocus.Render("Reply now")) + st.Dim.Render(" │ ") + st.TitleFocus.Render("Original reply"))
	for i := 0; i < max(len(nowLines), len(orig)); i++ {
		l, r := "", ""
		if i < len(nowLines) {
			l = nowLines[i]
		}
		if i < len(orig) {
			r = orig[i]
		}
		add(pad(l) + st.Dim.Render(" │ ") + ansi.Truncate(r, col, "…"))
	}
}

// resendFlash says in one line how a resend went.
func resendFlash(d resendDoneMsg) string {
	if d.res.Err != nil {
		return fmt.Sprintf("resend of #%d failed: %s", d.from, sanitize.Line(d.res.Err.Error(), 200))
	}
	s := fmt.Sprintf("resent #%d: HTTP %d", d.from, d.res.Status)
	if d.original != nil {
		if n := len(fixtures.CompareReply(d.original, d.res)); n == 0 {
			s += ", same reply as the original"
		} else {
			s += fmt.Sprintf(", %d difference%s from the original reply", n, map[bool]string{true: "", false: "s"}[n == 1])
		}
	}
	return s
}

// inspectKey handles the resend, edit and copy keys on row r (the events pane's selected
// request, or the one a detail view shows); false when k is none of them.
func (m *Model) inspectKey(k tea.KeyPressMsg, r *eventRow) (tea.Cmd, bool) {
	keys := &m.keys
	switch {
	case key.Matches(k, keys.Resend), key.Matches(k, keys.ResendKeep):
		if r == nil {
			m.setFlash("no request selected")
			return nil, true
		}
		if !m.resignConfirmed(r) {
			return nil, true
		}
		return m.resend(r, key.Matches(k, keys.ResendKeep), nil, nil), true
	case key.Matches(k, keys.EditSend):
		if r == nil {
			m.setFlash("no request selected")
			return nil, true
		}
		return m.editRequest(r), true
	case key.Matches(k, keys.CopyCurl):
		return m.copyRequest(r, "curl"), true
	case key.Matches(k, keys.CopySend):
		return m.copyRequest(r, "send"), true
	}
	return nil, false
}
