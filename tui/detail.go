package tui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/vapimon/vapimon/webhook"
)

// maxDetailLines bounds the lines built for one detail view.
const maxDetailLines = 20000

// detailView is the full-screen view of one request: headers (already redacted by the
// handler), the request and reply JSON, pretty-printed and coloured. Lines are built once
// when it opens.
type detailView struct {
	title  string
	lines  []string
	top    int
	w, h   int
	json   string // what the copy key puts on the clipboard (the raw request body)
	callID string // raw call id for the copy key
}

// SetSize sets the inner size of the view.
func (d *detailView) SetSize(w, h int) { d.w, d.h = w, h }

func (d *detailView) scroll(n int) {
	d.top = min(max(d.top+n, 0), max(len(d.lines)-d.h, 0))
}

// View renders the visible lines.
func (d *detailView) View() []string {
	d.scroll(0)
	end := min(d.top+d.h, len(d.lines))
	return d.lines[d.top:end]
}

func newDetail(st *Styles, r *eventRow, now time.Time) *detailView {
	d := &detailView{callID: r.callID}
	d.title = fmt.Sprintf("Request #%d · %s", r.seq, r.typ)
	if r.short != "" {
		d.title += " · call " + r.short
	}
	add := func(s string) { d.lines = append(d.lines, s) }
	head := func(s string) { add(st.TitleFocus.Render(s)) }
	add(st.Dim.Render("received ") + r.at.Format("2006-01-02 15:04:05.000"))
	ev := r.ev
	if ev == nil {
		add("")
		add(st.Warn.Render("This request's body was dropped from memory to stay within limits;"))
		add(st.Warn.Render("the tape has it (vapimon replay TAPE)."))
	} else {
		d.json = string(ev.Body)
		line := fmt.Sprintf("%s %s", SanitizeLine(clip(ev.Method, 20)), SanitizeLine(clip(ev.Path, 300)))
		if ev.RemoteAddr != "" {
			line += " from " + SanitizeLine(clip(ev.RemoteAddr, 100))
		}
		add(line)
		if ev.Rejected != "" {
			add(st.Err.Render(fmt.Sprintf("REJECTED with HTTP %d: %s", ev.Status, SanitizeLine(clip(ev.Rejected, 500)))))
		} else {
			add(verifiedText(st, ev))
		}
		if ev.Msg != nil && ev.Msg.Call.ID != "" {
			add(st.Dim.Render("call id ") + SanitizeLine(clip(ev.Msg.Call.ID, 200)))
		}
		add("")
		head("Headers (secrets removed)")
		d.lines = append(d.lines, headerLines(st, ev.Header)...)
		add("")
		head(fmt.Sprintf("Request body (%d bytes)", len(ev.Body)))
		for _, l := range prettyJSON(st, ev.Body, maxDetailLines/2) {
			add("  " + l)
		}
	}
	add("")
	if o := r.out; o != nil {
		who := "answered by " + sourceLabel(o.Reply.Source)
		switch o.Reply.Source {
		case webhook.SourceAck:
			who = "acknowledged"
		case webhook.SourceReject:
			who = "rejected"
		case webhook.SourceFallback:
			who = "fallback sent"
		}
		head(fmt.Sprintf("Reply: HTTP %d · %s · %s", o.Reply.Status, who, fmtLatency(o.Latency)))
		if o.Reply.Note != "" {
			add(st.Dim.Render("  " + SanitizeLine(clip(o.Reply.Note, 500))))
		}
		for _, a := range o.Attempts {
			add(st.Dim.Render("  tried " + SanitizeLine(clip(a, 300))))
		}
		if o.WriteErr != "" {
			add(st.Err.Render("  not delivered: " + SanitizeLine(clip(o.WriteErr, 300))))
		}
		for _, l := range prettyJSON(st, o.Reply.Body, maxDetailLines/2) {
			add("  " + l)
		}
	} else if r.awaits && now.Sub(r.deadline) > outcomeGrace {
		head("Reply: " + noOutcome)
	} else {
		head("Reply: not sent yet")
	}
	return d
}

// verifiedText says whether an accepted request was authenticated: "not verified (auth
// none)" in the warning colour when nothing was checked, "verified (<mode>)" when it passed.
func verifiedText(st *Styles, ev *webhook.Event) string {
	mode := SanitizeLine(clip(string(ev.AuthMode), 40))
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
			out = append(out, "  "+st.JSONKey.Render(SanitizeLine(clip(k, 100))+":")+" "+SanitizeLine(clip(v, 500)))
		}
	}
	if len(out) == 0 {
		out = append(out, st.Dim.Render("  (none)"))
	}
	return out
}

// prettyJSON indents raw JSON and colours it, one styled line per output line, at most
// maxLines lines. Text that is not JSON is shown sanitised as is.
func prettyJSON(st *Styles, raw []byte, maxLines int) []string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return []string{st.Dim.Render("(empty)")}
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		lines := strings.Split(Sanitize(clip(string(raw), 1<<20)), "\n")
		if len(lines) > maxLines {
			lines = append(lines[:maxLines], st.Dim.Render("… (truncated)"))
		}
		return lines
	}
	text := Sanitize(buf.String())
	var out []string
	for len(text) > 0 && len(out) < maxLines {
		i := strings.IndexByte(text, '\n')
		var line string
		if i < 0 {
			line, text = text, ""
		} else {
			line, text = text[:i], text[i+1:]
		}
		out = append(out, colourJSONLine(st, line))
	}
	if len(text) > 0 {
		out = append(out, st.Dim.Render("… (truncated)"))
	}
	return out
}

// colourJSONLine colours one line of indented JSON: keys, strings, numbers, literals.
func colourJSONLine(st *Styles, line string) string {
	var b strings.Builder
	i := 0
	for i < len(line) {
		c := line[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(line) && line[j] != '"' {
				if line[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(line))
			tok := line[i:j]
			rest := strings.TrimLeft(line[j:], " ")
			if strings.HasPrefix(rest, ":") {
				b.WriteString(st.JSONKey.Render(tok))
			} else {
				b.WriteString(st.JSONString.Render(tok))
			}
			i = j
		case c == '-' || (c >= '0' && c <= '9'):
			j := i
			for j < len(line) && strings.IndexByte("-+.eE0123456789", line[j]) >= 0 {
				j++
			}
			b.WriteString(st.JSONNumber.Render(line[i:j]))
			i = j
		case c == 't' || c == 'f' || c == 'n':
			j := i
			for j < len(line) && line[j] >= 'a' && line[j] <= 'z' {
				j++
			}
			b.WriteString(st.JSONLiteral.Render(line[i:j]))
			i = max(j, i+1)
		case c == ' ':
			j := i
			for j < len(line) && line[j] == ' ' {
				j++
			}
			b.WriteString(line[i:j])
			i = j
		default:
			b.WriteString(st.JSONPunct.Render(line[i : i+1]))
			i++
		}
	}
	return b.String()
}

// reportDetail is the full-screen end-of-call view of a call.
func reportDetail(st *Styles, c *call, w int) *detailView {
	d := &detailView{callID: c.id, title: "End of call · " + c.short}
	d.lines = append(d.lines, st.Dim.Render("call ")+c.idText+st.Dim.Render(" · "+c.customer+" · "+c.kind))
	if c.report != nil {
		d.lines = append(d.lines, c.report.lines(st, c, w, false)...)
		if len(c.report.callLog) > 0 {
			d.lines = append(d.lines, "", st.TitleFocus.Render("Call log (artifact.transcript)"))
			for _, l := range c.report.callLog {
				for _, seg := range strings.Split(ansi.Wrap(l, max(w-2, 8), " "), "\n") {
					d.lines = append(d.lines, "  "+seg)
				}
			}
		}
	} else {
		d.lines = append(d.lines, st.Dim.Render("No end-of-call-report received for this call (yet)."))
	}
	return d
}
