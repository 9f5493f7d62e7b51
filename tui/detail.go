package tui

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/vapimon/vapimon/tui/sanitize"
	"github.com/vapimon/vapimon/webhook"
)

// maxDetailLines bounds the lines built for one detail view.
const maxDetailLines = 20000

// detailView is the full-screen view of one request: a summary line, headers (already
// redacted by the handler), the request and reply JSON, pretty-printed, coloured and
// wrapped to the width. Lines are built when it opens and again when the width changes.
type detailView struct {
	title  string
	lines  []string
	top    int
	w, h   int
	callID string // raw call id for the copy key
	// row is the request a request detail shows, for the resend, edit and copy keys; nil
	// in other views.
	row *eventRow
	// copy returns what the copy key puts on the clipboard when section sec is shown (the
	// raw bytes: the request, your server's reply, the reply sent) and what it is; nil
	// when the view has nothing to copy.
	copy func(sec section) (what, text string)

	// marks are the first lines of the sections the jump keys go to.
	marks map[section]int
	// build, when set, fills lines and marks for a width; builtW is the width they are for.
	build  func(d *detailView, w int)
	builtW int
	// maxTop lets a jump put a short last section at the top (blank lines below it).
	maxTop int
}

// section is a part of the request detail a key jumps to.
type section int

const (
	secHeaders section = iota
	secRequest
	secServer
	secReply
)

// SetSize sets the inner size of the view, rebuilding its lines for a new width.
func (d *detailView) SetSize(w, h int) {
	d.w, d.h = w, h
	if d.build != nil && w != d.builtW && w > 0 {
		d.lines, d.maxTop = d.lines[:0], 0
		if d.marks != nil { // a view with sections (the request detail) finds them again
			d.marks = map[section]int{}
		}
		d.build(d, w)
		d.builtW = w
	}
}

func (d *detailView) scroll(n int) { d.top = d.clamp(d.top + n) }

// clamp keeps a first line within the text (or up to maxTop, after a jump).
func (d *detailView) clamp(top int) int {
	return min(max(top, 0), max(len(d.lines)-d.h, d.maxTop, 0))
}

// jump scrolls so that a section starts at the top; false when the view has none.
func (d *detailView) jump(s section) bool {
	at, ok := d.marks[s]
	if !ok {
		return false
	}
	d.top = at
	d.maxTop = max(d.maxTop, min(at, len(d.lines)-1))
	d.scroll(0)
	return true
}

// shown is the section the view shows: the one at its top line, or at the end of the text
// the last one whose heading is on screen (G goes there; a short reply never reaches the
// top). Before the first section (the summary) it is the request.
func (d *detailView) shown() section {
	top := d.clamp(d.top)
	atEnd := top > 0 && top >= len(d.lines)-d.h
	sec, at := secRequest, -1
	for s, line := range d.marks {
		if (line <= top || atEnd && line < top+d.h) && line > at {
			sec, at = s, line
		}
	}
	if sec == secHeaders {
		sec = secRequest
	}
	return sec
}

// detailCopy is what the copy key takes from request r's detail when section sec is
// shown: the reply sent, your server's reply, or else the request, as raw bytes.
func detailCopy(r *eventRow, sec section) (what, text string) {
	switch {
	case sec == secReply && r.out != nil && len(r.out.Reply.Body) > 0 && r.out.Reply.Source != sourceNoReply:
		return "the reply", string(r.out.Reply.Body)
	case sec == secServer && r.fwd != nil && len(r.fwd.Body) > 0:
		return "your server's reply", string(r.fwd.Body)
	case r.ev != nil:
		return "the request", string(r.ev.Body)
	}
	return "", ""
}

// View renders the visible lines.
func (d *detailView) View() []string {
	top := d.clamp(d.top)
	return d.lines[top:min(top+d.h, len(d.lines))]
}

// answeredBy says who produced a reply, for the detail view.
func answeredBy(src string) string {
	switch src {
	case webhook.SourceAck:
		return "acknowledged"
	case webhook.SourceReject:
		return "rejected"
	case webhook.SourceFallback:
		return "fallback sent"
	case webhook.SourceOperator:
		return "answered by you (typed)"
	}
	return "answered by " + sourceLabel(src)
}

// detailSummary is the request detail's first line: status · source · latency · results.
func detailSummary(st *Styles, r *eventRow, now time.Time) string {
	sep := st.Dim.Render(" · ")
	switch {
	case r.isRejected:
		// The reason is said here only: the lines below add what was checked, not it again.
		why := r.text().rejected
		if r.ev != nil {
			why = sanitize.Line(r.ev.Rejected, 500)
		}
		return st.Err.Render(fmt.Sprintf("%d · rejected · %s", r.status, why))
	case r.lostOutcome(now):
		return st.Warn.Render(noOutcome)
	case r.out == nil:
		return st.Warn.Render("no reply yet")
	case r.out.Reply.Source == sourceNoReply:
		return st.Warn.Render(noReplyRecorded)
	}
	o := r.out
	ss := st.OK
	if o.Reply.Status >= 400 || o.Reply.Source == webhook.SourceFallback || o.WriteErr != "" {
		ss = st.Err
	}
	parts := []string{ss.Render(fmt.Sprint(o.Reply.Status)), answeredBy(o.Reply.Source), fmtLatency(o.Latency)}
	if r.ev != nil && (r.kind == webhook.TypeToolCalls || r.kind == webhook.TypeFunctionCall) {
		res := parseResults(o.Reply.Body)
		n, errs := len(res), 0
		for _, x := range res {
			if x.Error != nil {
				errs++
			}
		}
		t := fmt.Sprintf("%d result", n)
		if n != 1 {
			t += "s"
		}
		if errs > 0 {
			t += st.Err.Render(fmt.Sprintf(" (%d error%s)", errs, map[bool]string{true: "", false: "s"}[errs == 1]))
		}
		parts = append(parts, t)
	}
	if tag := rowFwdTag(st, r); tag != "" && o.Reply.Source != webhook.SourceForward {
		parts = append(parts, tag)
	}
	if o.WriteErr != "" {
		parts = append(parts, st.Err.Render("not delivered"))
	}
	return strings.Join(parts, sep)
}

// newDetail builds the request detail of row r for an inner width w (rebuilt by SetSize
// when the width changes).
func newDetail(st *Styles, r *eventRow, now time.Time, w int) *detailView {
	d := &detailView{callID: r.callID, marks: map[section]int{}, row: r}
	t := r.text()
	d.title = fmt.Sprintf("Request #%d · %s", r.seq, t.typ)
	if t.short != "" {
		d.title += " · call " + t.short
	}
	d.copy = func(sec section) (string, string) { return detailCopy(r, sec) }
	d.build = func(d *detailView, w int) { buildDetail(d, st, r, now, w) }
	w = max(w, 20)
	d.build(d, w)
	d.builtW = w
	return d
}

// buildDetail fills a request detail's lines for width w.
func buildDetail(d *detailView, st *Styles, r *eventRow, now time.Time, w int) {
	add := func(s string) { d.lines = append(d.lines, s) }
	// addW adds a line wrapped to the width; continuation lines are indented under it.
	addW := func(s string) { d.lines = append(d.lines, wrapIndented(s, w)...) }
	head := func(sec section, s string) {
		d.marks[sec] = len(d.lines)
		add(st.TitleFocus.Render(s))
	}
	srv := serverLines(st, r)
	jumps := "  ·  jump: h headers · r request · a reply"
	if len(srv) > 0 {
		jumps = "  ·  jump: h headers · r request · s your server · a reply"
	}
	addW(detailSummary(st, r, now))
	add(st.Dim.Render("received ") + r.at.Format("2006-01-02 15:04:05.000") + st.Dim.Render(jumps))
	ev := r.ev
	if n := resendFrom(r); n > 0 {
		add(st.Dim.Render(fmt.Sprintf("resent from #%d by vapimon", n)))
	}
	if ev == nil {
		add("")
		add(st.Warn.Render("This request's body was dropped from memory to stay within limits;"))
		add(st.Warn.Render("the tape has it (vapimon replay TAPE)."))
	} else {
		line := fmt.Sprintf("%s %s", sanitize.Line(ev.Method, 20), sanitize.Line(ev.Path, 300))
		if ev.RemoteAddr != "" {
			line += " from " + sanitize.Line(ev.RemoteAddr, 100)
		}
		addW(line)
		if ev.Rejected == "" || ev.Verified {
			// A rejected request's reason is the summary line; a verified one was
			// refused after its check passed (broken JSON...), which is worth saying.
			add(verifiedText(st, ev))
		}
		if r.callID != "" {
			addW(st.Dim.Render("call id ") + sanitize.Line(r.callID, 200))
		}
		add("")
		head(secHeaders, "Headers (secrets removed)")
		for _, l := range headerLines(st, ev.Header) {
			addW(l)
		}
		add("")
		head(secRequest, fmt.Sprintf("Request body (%d bytes)", len(ev.Body)))
		for _, l := range prettyJSON(st, ev.Body, maxDetailLines/2) {
			addW("  " + l)
		}
	}
	if len(srv) > 0 {
		add("")
		head(secServer, "Your server")
		for _, l := range srv {
			addW(l)
		}
	}
	add("")
	if o := r.out; o != nil && o.Reply.Source == sourceNoReply {
		head(secReply, "Reply: "+noReplyRecorded)
		addW(st.Dim.Render("  " + o.Reply.Note))
	} else if o != nil {
		head(secReply, fmt.Sprintf("Reply: HTTP %d · %s · %s", o.Reply.Status, answeredBy(o.Reply.Source), fmtLatency(o.Latency)))
		if o.Reply.Note != "" {
			addW(st.Dim.Render("  " + sanitize.Line(o.Reply.Note, 500)))
		}
		for _, a := range o.Attempts {
			addW(st.Dim.Render("  tried " + sanitize.Line(a, 1000)))
		}
		if o.WriteErr != "" {
			addW(st.Err.Render("  not delivered: " + sanitize.Line(o.WriteErr, 300)))
		}
		for _, l := range prettyJSON(st, o.Reply.Body, maxDetailLines/2) {
			addW("  " + l)
		}
	} else if r.lostOutcome(now) {
		head(secReply, "Reply: "+noOutcome)
	} else {
		head(secReply, "Reply: not sent yet")
	}
}

// wrapIndented wraps a (styled) line to width w; continuation lines are indented two
// columns deeper than the line's own indentation.
func wrapIndented(s string, w int) []string {
	if w < 20 || ansi.StringWidth(s) <= w {
		return []string{s}
	}
	plain := ansi.Strip(s)
	lead := len(plain) - len(strings.TrimLeft(plain, " "))
	ind := strings.Repeat(" ", min(lead+2, w/3))
	segs := strings.Split(ansi.Wrap(s, w, " ,"), "\n")
	out := []string{segs[0]}
	if len(segs) == 1 {
		return out
	}
	// The rest is wrapped again, narrower, to make room for the indent.
	rest := strings.TrimLeft(strings.Join(segs[1:], " "), " ")
	for _, sub := range strings.Split(ansi.Wrap(rest, w-len(ind), " ,"), "\n") {
		out = append(out, ind+sub)
	}
	return out
}

// serverLines describes the exchange with the developer's server: target, status, latency
// and error, from the relay's forward report and the reply chain's attempts.
func serverLines(st *Styles, r *eventRow) []string {
	var out []string
	if h := r.fwd; h != nil {
		out = append(out, "  "+st.Dim.Render("target ")+h.Target)
		status := "no reply"
		if h.Status != 0 {
			status = fmt.Sprintf("HTTP %d", h.Status)
		}
		line := "  " + status + st.Dim.Render(" in ") + fmtLatency(h.Latency)
		if fwdOK(h) {
			line = "  " + st.OK.Render("✓ "+status) + st.Dim.Render(" in ") + fmtLatency(h.Latency)
		}
		out = append(out, line)
		if h.Err != "" {
			out = append(out, "  "+st.Err.Render("✗ "+sanitize.Line(h.Err, 1000)))
		}
		// What the server replied, when that is not the reply shown below.
		if len(h.Body) > 0 && (r.out == nil || r.out.Reply.Source != webhook.SourceForward) {
			if ct := h.Header.Get("Content-Type"); ct != "" {
				out = append(out, "  "+st.Dim.Render("content-type ")+sanitize.Line(ct, 200))
			}
			out = append(out, "  "+st.Dim.Render("its reply:"))
			for _, l := range prettyJSON(st, h.Body, maxDetailLines/4) {
				out = append(out, "    "+l)
			}
		}
	}
	if o := r.out; o != nil {
		for _, a := range o.Attempts {
			if strings.HasPrefix(a, "forward") && (r.fwd == nil || !strings.Contains(a, r.fwd.Err)) {
				out = append(out, "  "+st.Err.Render("✗ "+sanitize.Line(a, 1000)))
			}
		}
		if len(out) > 0 || o.Reply.Source == webhook.SourceForward {
			switch o.Reply.Source {
			case webhook.SourceForward:
				out = append(out, st.Dim.Render("  its reply was sent to Vapi: see Reply below"))
			case webhook.SourceAck:
				out = append(out, st.Dim.Render("  Vapi awaits no reply to this message: vapimon acknowledged it"))
			default:
				out = append(out, st.Dim.Render("  its reply was not used: see Reply below for what was sent"))
			}
		}
	}
	return out
}

// verifiedText says whether an accepted request was authenticated: "not verified (auth
// none)" in the warning colour when nothing was checked, "verified (<mode>)" when it passed.
func verifiedText(st *Styles, ev *webhook.Event) string {
	mode := sanitize.Line(string(ev.AuthMode), 40)
	switch {
	case mode == "" || ev.AuthMode == webhook.AuthNone:
		return st.Warn.Render("not verified (auth none)")
	case ev.Verified:
		return st.OK.Render("verified") + st.Dim.Render(" ("+mode+")")
	}
	return st.Warn.Render("not verified (auth " + mode + ")")
}

// headerLines lists headers sorted by name, sanitised.
func headerLines(st *Styles, h http.Header) []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		for _, v := range h[k] {
			out = append(out, "  "+st.JSONKey.Render(sanitize.Line(k, 100)+":")+" "+sanitize.Line(v, 500))
		}
	}
	if len(out) == 0 {
		out = append(out, st.Dim.Render("  (none)"))
	}
	return out
}

// reportDetail is the full-screen end-of-call view of a call (rebuilt by SetSize when the
// width or the styles change).
func reportDetail(st *Styles, c *call, w int) *detailView {
	d := &detailView{callID: c.id, title: "End of call · " + c.short}
	d.build = func(d *detailView, w int) { buildReport(d, st, c, w) }
	w = max(w, 20)
	d.build(d, w)
	d.builtW = w
	return d
}

// buildReport fills an end-of-call view's lines for width w.
func buildReport(d *detailView, st *Styles, c *call, w int) {
	d.lines = append(d.lines, st.Dim.Render("call ")+c.idText+st.Dim.Render(" · "+c.who()+" · "+c.kind))
	if c.report == nil {
		d.lines = append(d.lines, st.Dim.Render("No end-of-call-report received for this call (yet)."))
		return
	}
	d.lines = append(d.lines, c.report.lines(st, c, w, false)...)
	if len(c.report.callLog) > 0 {
		d.lines = append(d.lines, "", st.TitleFocus.Render("Call log (artifact.transcript)"))
		for _, l := range c.report.callLog {
			for _, seg := range strings.Split(ansi.Wrap(l, max(w-2, 8), " "), "\n") {
				d.lines = append(d.lines, "  "+seg)
			}
		}
	}
}

func (m *Model) detailKey(k tea.KeyPressMsg) tea.Cmd {
	if m.editing != nil {
		return m.editKey(k)
	}
	d := m.detail
	keys := &m.keys
	if d.row != nil {
		if cmd, ok := m.inspectKey(k, d.row); ok {
			return cmd
		}
	}
	switch {
	case key.Matches(k, keys.Close):
		m.detail = nil
	case key.Matches(k, keys.Up):
		d.scroll(-1)
	case key.Matches(k, keys.Down):
		d.scroll(1)
	case key.Matches(k, keys.PageUp):
		d.scroll(-max(d.h-1, 1))
	case key.Matches(k, keys.PageDown):
		d.scroll(max(d.h-1, 1))
	case key.Matches(k, keys.Top):
		d.scroll(-1 << 30)
	case key.Matches(k, keys.Bottom):
		d.scroll(1 << 30)
	case key.Matches(k, keys.JumpHeaders), key.Matches(k, keys.JumpRequest), key.Matches(k, keys.JumpServer), key.Matches(k, keys.JumpReply):
		if d.marks == nil {
			return nil
		}
		sec := secHeaders
		switch {
		case key.Matches(k, keys.JumpRequest):
			sec = secRequest
		case key.Matches(k, keys.JumpServer):
			sec = secServer
		case key.Matches(k, keys.JumpReply):
			sec = secReply
		}
		if !d.jump(sec) {
			m.setFlash("this request has no " + map[section]string{secHeaders: "headers", secRequest: "body", secServer: "exchange with your server", secReply: "reply"}[sec] + " section")
		}
	case key.Matches(k, keys.CopyJSON):
		what, text := "", ""
		if d.copy != nil {
			what, text = d.copy(d.shown())
		}
		if text == "" {
			m.setFlash("nothing to copy")
			return nil
		}
		return m.copyText(what, text)
	case key.Matches(k, keys.CopyCallID):
		if d.callID == "" {
			m.setFlash("no call id")
			return nil
		}
		m.setFlash("copied the call id (OSC 52)")
		return tea.SetClipboard(d.callID)
	case key.Matches(k, keys.Quit):
		return m.askQuit()
	}
	return nil
}
