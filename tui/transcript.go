package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/vapimon/vapimon/tui/sanitize"
)

// maxTranscriptLines caps the lines kept per call; older lines are dropped in chunks (the
// tape keeps everything).
const maxTranscriptLines = 2000

// maxLineBytes caps one transcript line before sanitising.
const maxLineBytes = 4000

type lineKind uint8

const (
	lineAssistant lineKind = iota
	lineUser
	lineNote
	lineWarn
	lineTool
	lineOperator       // a live-call control the operator sent, accepted
	lineOperatorFailed // one that failed
)

// tline is one transcript line: a final turn or a one-line note. Text is sanitised.
type tline struct {
	kind lineKind
	at   time.Time
	text string
}

// transcript is a call's conversation as shown on screen.
type transcript struct {
	lines   []tline
	dropped int // lines dropped from the front

	partial  [2]string // live partial text, by role (0 assistant, 1 user)
	speaking [2]bool

	sawTranscript bool // transcript events arrive: conversation-update is not needed
	convSeen      int  // conversation-update messages already turned into lines

	// wrapped caches the wrapped rows of lines[:wrappedN] at wrapWidth; rowsOf[i] is how
	// many of them lines[i] made, so that dropping lines from the front drops their rows
	// without wrapping the rest again. A row is styled only when it is first drawn: under a
	// stream of events most rows scroll past unseen, and styling was most of the cost.
	wrapped   []trow
	rowsOf    []int
	wrappedN  int
	wrapWidth int
}

// trow is one wrapped row of a transcript line: its text, and its styled form once drawn.
type trow struct {
	seg     string
	styled  string
	kind    lineKind
	first   bool // the line's first row, which carries the label
	noLabel bool // the pane is too narrow for labels
}

func roleIndex(role string) (int, bool) {
	switch role {
	case "assistant", "bot":
		return 0, true
	case "user":
		return 1, true
	}
	return 0, false
}

func (t *transcript) add(kind lineKind, at time.Time, text string) {
	t.lines = append(t.lines, tline{kind: kind, at: at, text: text})
	if len(t.lines) > maxTranscriptLines {
		drop := maxTranscriptLines / 4
		t.lines = dropFront(t.lines, drop)
		t.dropped += drop
		t.dropWrapped(drop)
	}
}

// dropWrapped keeps the wrap cache in step with dropping the first n lines.
func (t *transcript) dropWrapped(n int) {
	if n > t.wrappedN {
		t.wrapped, t.rowsOf, t.wrappedN = t.wrapped[:0], t.rowsOf[:0], 0
		return
	}
	rows := 0
	for _, r := range t.rowsOf[:n] {
		rows += r
	}
	t.wrapped = dropFront(t.wrapped, rows)
	t.rowsOf = dropFront(t.rowsOf, n)
	t.wrappedN -= n
}

// dropFront removes the first n elements of s in place, clearing the freed tail so that
// it holds no text: a call at its line cap then drops lines without allocating (nothing
// keeps a transcript's slices from one message to the next).
func dropFront[T any](s []T, n int) []T {
	k := copy(s, s[n:])
	clear(s[k:])
	return s[:k]
}

// turn adds a final utterance and clears that role's partial.
func (t *transcript) turn(role string, at time.Time, raw string) {
	i, ok := roleIndex(role)
	if !ok {
		return
	}
	text := sanitize.Text(raw, maxLineBytes)
	if strings.TrimSpace(text) == "" {
		return
	}
	t.partial[i] = ""
	t.add(lineKind(i), at, text)
}

// setPartial replaces the role's in-progress text.
func (t *transcript) setPartial(role, raw string) {
	if i, ok := roleIndex(role); ok {
		t.partial[i] = sanitize.Line(raw, maxLineBytes)
	}
}

// note adds a one-line remark (status change, hang, tool call...).
func (t *transcript) note(kind lineKind, at time.Time, text string) {
	t.add(kind, at, text)
}

// rows returns the styled rows of all final lines at width w (see layout).
func (t *transcript) rows(st *Styles, w int) []string {
	rs := t.layout(w)
	out := make([]string, len(rs))
	for i := range rs {
		out[i] = rs[i].render(st)
	}
	return out
}

// layout returns the wrapped rows of all final lines at width w, extending the cache with
// lines added since the last call. Rows are styled by trow.render, when drawn.
func (t *transcript) layout(w int) []trow {
	if w != t.wrapWidth || t.wrappedN > len(t.lines) {
		t.wrapped, t.rowsOf, t.wrappedN = t.wrapped[:0], t.rowsOf[:0], 0
		t.wrapWidth = w
	}
	for ; t.wrappedN < len(t.lines); t.wrappedN++ {
		before := len(t.wrapped)
		t.wrapped = appendWrapped(t.wrapped, t.lines[t.wrappedN], w)
		t.rowsOf = append(t.rowsOf, len(t.wrapped)-before)
	}
	return t.wrapped
}

// label and style for each kind of line.
func lineLabel(st *Styles, k lineKind) (string, *Style) {
	switch k {
	case lineAssistant:
		return "asst ", &st.Assistant
	case lineUser:
		return "user ", &st.User
	case lineWarn:
		return "  ! ", &st.Warn
	case lineTool:
		return "  ⚙ ", &st.Note
	case lineOperator:
		return "op ▸ ", &st.Notice
	case lineOperatorFailed:
		return "op ✗ ", &st.Err
	}
	return "  · ", &st.Note
}

const labelWidth = 5

func appendWrapped(dst []trow, l tline, w int) []trow {
	tw := w - labelWidth
	noLabel := false
	if tw < 8 {
		tw = max(w, 1)
		noLabel = true
	}
	if len(l.text) <= tw && strings.IndexByte(l.text, '\n') < 0 {
		// Fits as it is (a cell is at least a byte); ansi.Wrap would return it unchanged.
		return append(dst, trow{seg: l.text, kind: l.kind, first: true, noLabel: noLabel})
	}
	wrapped := strings.Split(ansi.Wrap(l.text, tw, " -"), "\n")
	for i, seg := range wrapped {
		dst = append(dst, trow{seg: seg, kind: l.kind, first: i == 0, noLabel: noLabel})
	}
	return dst
}

// render styles the row once and keeps the result.
func (r *trow) render(st *Styles) string {
	if r.styled != "" {
		return r.styled
	}
	label, style := lineLabel(st, r.kind)
	prefix := ""
	if !r.noLabel {
		prefix = label
		if !r.first {
			prefix = blanks(min(labelWidth, len(label)))
		}
	}
	if prefix == "" {
		r.styled = style.Render(r.seg)
		return r.styled
	}
	prefix = fit(prefix, labelWidth)
	if pre, post, ok := style.around(prefix); ok {
		if _, _, ok := style.around(r.seg); ok { // both drawn plainly: one allocation
			r.styled = pre + prefix + post + pre + r.seg + post
			return r.styled
		}
	}
	r.styled = style.Render(prefix) + style.Render(r.seg)
	return r.styled
}

// transcriptPane shows one call's transcript, following new lines unless scrolled up.
type transcriptPane struct {
	follow bool
	top    int // first visible row when not following
	w, h   int
	total  int // rows at last render, for scrolling
}

// SetSize sets the inner size of the pane.
func (p *transcriptPane) SetSize(w, h int) { p.w, p.h = w, h }

func (p *transcriptPane) scroll(d int) {
	if p.follow {
		p.top = max(p.total-p.h, 0)
	}
	p.top = max(p.top+d, 0)
	p.follow = p.top >= p.total-p.h
}

// content returns c's rows: the wrapped final lines (from the per-call cache, styled when
// drawn), then the live partials and, for an ended call, the report.
func (p *transcriptPane) content(st *Styles, c *call) (base []trow, tail []string) {
	t := &c.transcript
	base = t.layout(p.w)
	for i := 0; i < 2; i++ {
		if t.partial[i] != "" {
			label := "asst "
			if i == 1 {
				label = "user "
			}
			tail = append(tail, st.Partial.Render(fit(label, labelWidth)+ansi.Truncate(t.partial[i], max(p.w-labelWidth, 1), "…")))
		}
	}
	if c.report != nil {
		tail = append(tail, c.report.lines(st, c, p.w, true)...)
	}
	return base, tail
}

// settle records how many rows c has (for scrolling) and keeps a paused view within them.
// It counts rows without styling them: it runs after every message.
func (p *transcriptPane) settle(st *Styles, c *call) {
	p.total = 0
	if c != nil && p.w > 0 && p.h > 0 {
		t := &c.transcript
		p.total = len(t.layout(p.w))
		for i := 0; i < 2; i++ {
			if t.partial[i] != "" {
				p.total++
			}
		}
		if c.report != nil {
			p.total += len(c.report.lines(st, c, p.w, true))
		}
	}
	if last := max(p.total-p.h, 0); !p.follow && p.top > last {
		p.top = last
	}
}

// View renders the visible rows of c's transcript, its live partials and, for an ended
// call, the report. Only the rows on screen are styled.
func (p *transcriptPane) View(st *Styles, c *call, now time.Time) []string {
	if p.h <= 0 || p.w <= 0 || c == nil {
		return nil
	}
	base, tail := p.content(st, c)
	total := len(base) + len(tail)
	start := max(total-p.h, 0)
	if !p.follow {
		start = min(max(p.top, 0), start)
	}
	out := make([]string, 0, p.h)
	for i := start; i < total && len(out) < p.h; i++ {
		if i < len(base) {
			out = append(out, base[i].render(st))
		} else {
			out = append(out, tail[i-len(base)])
		}
	}
	if c.transcript.dropped > 0 && start == 0 && len(out) > 0 {
		out[0] = st.Dim.Render(fit("… older lines dropped from memory (the tape has them)", p.w))
	}
	return out
}

// speakingLabel describes who is speaking, for the pane title.
func speakingLabel(t *transcript) string {
	switch {
	case t.speaking[0] && t.speaking[1]:
		return "● both speaking"
	case t.speaking[0]:
		return "● assistant speaking"
	case t.speaking[1]:
		return "● user speaking"
	}
	return ""
}

func (m *Model) transcriptTitle(c *call) string {
	t := "2 Transcript"
	if c == nil {
		return t
	}
	t += " · " + c.short
	if others := m.calls.liveCount(); others > 0 {
		if c.live() {
			others--
		}
		switch {
		case others == 1:
			t += " · 1 other call live"
		case others > 1:
			t += fmt.Sprintf(" · %d other calls live", others)
		}
	}
	if sp := speakingLabel(&c.transcript); sp != "" {
		t += " · " + sp
	}
	if !m.transP.follow {
		t += " · paused (f follows)"
	}
	return t
}
