package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/vapimon/vapimon/tui/sanitize"
	"github.com/vapimon/vapimon/webhook"
)

// Memory limits of the event log.
const (
	defaultKeepEvents = 10000
	// bodyBudget bounds the request bodies kept for the detail view; older rows keep
	// their one-line summary only (the tape has the rest).
	bodyBudget = 64 << 20
	// compactAge is how many newer rows a row may have before it is compacted: it keeps
	// its request (body, headers, what was checked) but not the parsed message, which is
	// parsed again from the body when the row is drawn, filtered, opened or resent. A
	// parsed message is a kilobyte and more for every kept event, and the pointers the
	// garbage collector follows in each collection.
	compactAge = 500
)

// eventRow is one request as listed in the events pane. Its display text (sanitised) is
// made when the row is first drawn, filtered or shown in detail (see text), not as the
// event arrives: under load almost every row scrolls past unseen, and building its text
// was most of the monitor's cost per event.
type eventRow struct {
	seq      uint64
	at       time.Time
	callID   string // raw, for lookups
	status   int
	awaits   bool           // a reply is expected (the handler set a deadline)
	deadline time.Time      // when the handler replies at the latest
	ev       *webhook.Event // nil once dropped to stay within bodyBudget (text is made first)
	out      *webhook.Outcome
	fwd      *webhook.ForwardHealth // the exchange with the developer's server, when forwarded
	offline  bool                   // replayed from a tape: the outcome comes when the replay reaches it
	size     int
	// isRejected says the row shows as rejected: text().rejected says why.
	isRejected bool
	// msgType and kind are the message's type as sent and its normalised kind (raw), for
	// the type filter (--hide, --only, H).
	msgType, kind string
	txt           *eventText // nil until text is first asked for
	// compact says ev is the row's own copy of the event without its parsed message
	// (see compactAge and message).
	compact bool
	// resignAsked is when R was first pressed on this request that failed verification:
	// a second R soon after confirms its resend (resend.go).
	resignAsked time.Time
}

// message returns the row's parsed message: the event's, or, for a compacted row, its body
// parsed again. nil when the row has no event or its body is not a message.
func (r *eventRow) message() *webhook.Message {
	if r.ev == nil {
		return nil
	}
	if !r.compact {
		return r.ev.Msg
	}
	msg, err := webhook.Parse(r.ev.Body)
	if err != nil {
		return nil
	}
	return msg
}

// event returns the row's event whole: for a compacted row, a copy with its message parsed
// again.
func (r *eventRow) event() *webhook.Event {
	if r.ev == nil || !r.compact {
		return r.ev
	}
	ev := *r.ev // the row's own copy: nothing else writes to it
	ev.Msg = r.message()
	return &ev
}

// compactEvent makes the row keep its own copy of the event, without the parsed message
// (nor the headers as sent, which the handler drops): every field is copied one by one,
// as the handler may still be writing WireHeader. A row still waiting for its reply keeps
// its event as it is.
func (r *eventRow) compactEvent() {
	ev := r.ev
	if ev == nil || r.compact || ev.Msg == nil || (r.awaits && r.out == nil) {
		return
	}
	r.ev = &webhook.Event{
		Seq: ev.Seq, Received: ev.Received, Method: ev.Method, Path: ev.Path, Header: ev.Header, Body: ev.Body,
		RemoteAddr: ev.RemoteAddr, Host: ev.Host, Proto: ev.Proto, Verified: ev.Verified, AuthMode: ev.AuthMode,
		Rejected: ev.Rejected, Status: ev.Status, Deadline: ev.Deadline, VapiDeadline: ev.VapiDeadline, BudgetSource: ev.BudgetSource,
	}
	r.compact = true
}

// eventText is the sanitised text of an event row.
type eventText struct {
	typ      string
	short    string
	summary  string
	rejected string
	search   string // lower-case text the filter looks in, made the first time a filter asks
}

// text returns the row's display text, made from its event the first time it is asked for.
func (r *eventRow) text() *eventText {
	if r.txt == nil {
		r.txt = newEventText(r)
	}
	return r.txt
}

// lostOutcome reports whether the outcome should have been seen by now (the bus dropped it).
func (r *eventRow) lostOutcome(now time.Time) bool {
	return r.out == nil && r.awaits && !r.offline && now.Sub(r.deadline) > outcomeGrace
}

// eventLog is a ring buffer of the last keep events.
type eventLog struct {
	rows   []*eventRow
	start  int
	n      int
	bySeq  seqIndex
	bytes  int // body bytes held
	oldest int // logical index of the oldest row that may still hold a body
	// compactNext is the logical index of the next row to compact (see compactAge).
	compactNext int
	version     uint64
	atFn        func(int) *eventRow // at, made once: visible returns it after every message
}

func newEventLog(keep int) *eventLog {
	l := &eventLog{rows: make([]*eventRow, keep), bySeq: newSeqIndex(keep)}
	l.atFn = l.at
	return l
}

func (l *eventLog) len() int { return l.n }

// at returns the i-th oldest row.
func (l *eventLog) at(i int) *eventRow { return l.rows[(l.start+i)%len(l.rows)] }

func (l *eventLog) has(seq uint64) bool { return l.bySeq.get(seq) != nil }

func (l *eventLog) push(r *eventRow) {
	l.version++
	if l.n == len(l.rows) {
		old := l.rows[l.start]
		if old.ev != nil {
			l.bytes -= old.size
		}
		l.bySeq.del(old.seq)
		l.rows[l.start] = r
		l.start = (l.start + 1) % len(l.rows)
		l.oldest = max(l.oldest-1, 0)
		l.compactNext = max(l.compactNext-1, 0)
	} else {
		l.rows[(l.start+l.n)%len(l.rows)] = r
		l.n++
	}
	l.bySeq.set(r)
	if r.ev != nil {
		l.bytes += r.size
	}
	for l.bytes > bodyBudget && l.oldest < l.n-1 {
		o := l.at(l.oldest)
		if o.ev != nil {
			l.bytes -= o.size
			o.text() // the row keeps its one-line text
			o.ev = nil
		}
		l.oldest++
	}
	for l.compactNext < l.n-compactAge {
		l.at(l.compactNext).compactEvent()
		l.compactNext++
	}
}

// seqIndex finds the rows of the event log by sequence number, as a map from r.seq to r
// would, at a fraction of a map's cost per event: a row sits in the slot its number picks
// in a table twice the log's size, so that the numbers of the rows kept (mostly
// consecutive) rarely share one; a row whose slot is taken goes to a map.
type seqIndex struct {
	slots []*eventRow
	mask  uint64
	more  map[uint64]*eventRow // rows whose slot held another number
}

func newSeqIndex(keep int) seqIndex {
	n := 1
	for n < 2*keep {
		n <<= 1
	}
	return seqIndex{slots: make([]*eventRow, n), mask: uint64(n - 1)}
}

// get returns the row of number seq, or nil.
func (x *seqIndex) get(seq uint64) *eventRow {
	if r := x.slots[seq&x.mask]; r != nil && r.seq == seq {
		return r
	}
	return x.more[seq] // nil map: nil
}

// set makes r the row of number r.seq.
func (x *seqIndex) set(r *eventRow) {
	s := &x.slots[r.seq&x.mask]
	switch {
	case *s != nil && (*s).seq == r.seq:
		*s = r
	case x.more[r.seq] != nil:
		x.more[r.seq] = r
	case *s == nil:
		*s = r
	default:
		if x.more == nil {
			x.more = map[uint64]*eventRow{}
		}
		x.more[r.seq] = r
	}
}

// del forgets the row of number seq.
func (x *seqIndex) del(seq uint64) {
	if s := &x.slots[seq&x.mask]; *s != nil && (*s).seq == seq {
		*s = nil
		return
	}
	delete(x.more, seq)
}

// newEventRow takes an event for the list; its text is made later (text).
func newEventRow(ev *webhook.Event) *eventRow {
	r := &eventRow{seq: ev.Seq, at: ev.Received, status: ev.Status, ev: ev, awaits: !ev.Deadline.IsZero(), deadline: ev.Deadline}
	r.size = len(ev.Body)*2 + 512 // body plus its parsed message and headers (about)
	if ev.Msg != nil {
		r.msgType, r.kind = ev.Msg.Type, ev.Msg.Kind
		r.callID = ev.Msg.Call.ID
	}
	if ev.Rejected != "" { // rare: made now, as whether the row shows as rejected depends on it
		r.isRejected = r.text().rejected != ""
	}
	return r
}

// newEventText summarises r's event for the list. It is called while r still holds its
// event (push makes the text before dropping a body).
func newEventText(r *eventRow) *eventText {
	t := &eventText{}
	ev := r.ev
	if ev == nil { // not reached: push makes the text before dropping the event
		return t
	}
	if ev.Rejected != "" {
		t.typ = "REJECTED"
		t.rejected = sanitize.Line(ev.Rejected, 300)
		t.summary = fmt.Sprintf("%d %s", ev.Status, t.rejected)
	}
	if msg := r.message(); msg != nil {
		t.typ = sanitize.Line(msg.Type, 60)
		t.short = shortID(sanitize.Line(r.callID, 200))
		if ev.Rejected == "" {
			t.summary = summarize(msg)
		}
		if n := resendFrom(r); n > 0 {
			t.summary = fmt.Sprintf("↻ resent from #%d · %s", n, t.summary)
		}
	}
	return t
}

// matches says the filter (lower case) is in r's text, made the first time a filter asks.
func (r *eventRow) matches(filter string) bool {
	t := r.text()
	if t.search == "" {
		t.search = strings.ToLower(t.typ + " " + sanitize.Line(r.callID, 200) + " " + t.summary)
	}
	return strings.Contains(t.search, filter)
}

// summarize describes a message on one sanitised line.
func summarize(m *webhook.Message) string {
	s := func(v string) string { return sanitize.Line(v, 200) }
	switch m.Kind {
	case webhook.TypeTranscript:
		return fmt.Sprintf("%s %s: %s", s(m.Role), s(m.TranscriptType), s(m.Transcript))
	case webhook.TypeStatusUpdate:
		if m.EndedReason != "" {
			return s(m.Status) + " (" + s(m.EndedReason) + ")"
		}
		return s(m.Status)
	case webhook.TypeSpeechUpdate:
		return fmt.Sprintf("%s %s (turn %d)", s(m.Role), s(m.Status), m.Turn)
	case webhook.TypeToolCalls, webhook.TypeFunctionCall:
		parts := make([]string, 0, len(m.ToolCalls))
		for _, tc := range m.ToolCalls {
			parts = append(parts, s(tc.Name)+" "+compactJSON(tc.Arguments, 120))
		}
		return strings.Join(parts, ", ")
	case webhook.TypeEndOfCallReport:
		return fmt.Sprintf("%s $%.4f", s(m.EndedReason), m.Cost)
	case webhook.TypeConversationUpdate:
		return fmt.Sprintf("%d messages", len(m.Messages))
	case webhook.TypeAssistantRequest:
		who := m.Customer.Number
		if who == "" {
			who = m.Call.Customer.Number
		}
		out := "caller " + s(who)
		if m.PhoneNumber.Number != "" {
			out += " on " + s(m.PhoneNumber.Number)
		}
		return out
	case webhook.TypeUserInterrupted, webhook.TypeModelOutput:
		return s(m.TurnID)
	case webhook.TypeTransferUpdate, webhook.TypePhoneCallControl, webhook.TypeTransferDestinationRequest:
		return strings.TrimSpace(s(m.Request) + " " + compactJSON(m.Destination, 120))
	case webhook.TypeHandoffDestinationRequest:
		return "parameters " + compactJSON(m.Parameters, 160)
	case webhook.TypeKnowledgeBaseRequest:
		for i := len(m.Messages) - 1; i >= 0; i-- {
			if m.Messages[i].Role == "user" {
				return "the caller said: " + s(m.Messages[i].Message)
			}
		}
		return fmt.Sprintf("%d messages", len(m.Messages))
	case webhook.TypeCampaignPredial:
		who := strings.TrimSpace(s(m.Customer.Name) + " " + s(m.Customer.Number))
		if who == "" {
			return ""
		}
		return "contact " + who
	case webhook.TypeLanguageChangeDetected:
		return s(m.Language)
	case webhook.TypeVoiceInput, webhook.TypeAssistantSpeechStarted, webhook.TypeVoiceRequest:
		return s(m.Text)
	}
	if !m.Known {
		return "unknown type"
	}
	return ""
}

// Widths of the events pane's type column: wide enough for conversation-update, or for
// status-update on a narrow pane; longer names are abbreviated (abbrevType).
const (
	typeWidth       = 19
	typeWidthNarrow = 13
)

// typeAbbrev are deliberate short names for message types too long for the column.
var typeAbbrev = map[string][2]string{ // type: {wide, narrow}
	"transfer-destination-request": {"transfer-dest-req", "transfer-dest"},
	"handoff-destination-request":  {"handoff-dest-req", "handoff-dest"},
	"language-change-detected":     {"language-detected", "lang-detected"},
	"call.endpointing.request":     {"endpointing-req", "endpointing"},
	"assistant.speechStarted":      {"asst.speechStarted", "asst.speech"},
	"knowledge-base-request":       {"knowledge-base-req", "kb-request"},
	"call.artifact.upload":         {"artifact.upload", "artifact"},
	"conversation-update":          {"conversation-update", "conv-update"},
	"phone-call-control":           {"phone-call-control", "call-control"},
	"end-of-call-report":           {"end-of-call-report", "end-of-call"},
	"call.delete.failed":           {"call.delete.failed", "delete.failed"},
	"assistant.started":            {"assistant.started", "asst.started"},
	"assistant-request":            {"assistant-request", "asst-request"},
	"user-interrupted":             {"user-interrupted", "interrupted"},
	"language-changed":             {"language-changed", "lang-changed"},
	"campaign.predial":             {"campaign.predial", "predial"},
	"transfer-update":              {"transfer-update", "transfer"},
	"session.updated":              {"session.updated", "sess.updated"},
	"session.deleted":              {"session.deleted", "sess.deleted"},
	"session.created":              {"session.created", "sess.created"},
}

// abbrevType returns the type's name for a column of width w: whole when it fits, else its
// deliberate short form (the cell is cut only for types vapimon does not know).
func abbrevType(typ string, w int) string {
	if len(typ) <= w {
		return typ
	}
	if a, ok := typeAbbrev[typ]; ok {
		if w >= typeWidth {
			return a[0]
		}
		return a[1]
	}
	return typ
}

// eventsPane lists requests, newest at the bottom, following new ones unless the user moved
// the selection up.
type eventsPane struct {
	sel    int
	top    int
	follow bool
	w, h   int

	// filtered view cache
	fFilter  string
	fVersion uint64
	fRows    []*eventRow
	fAt      func(int) *eventRow // the accessor of fRows, made once
	// types is the type filter (hide.go); typesGen counts its changes, fTypes is the
	// count fRows was built for.
	types            webhook.TypeFilter
	typesGen, fTypes uint64
	// hidden is how many rows the type filter leaves out (without a text filter; settle
	// counts it, the title shows it).
	hidden int
}

// SetSize sets the inner size of the pane.
func (p *eventsPane) SetSize(w, h int) { p.w, p.h = w, h }

// visible returns the rows matching filter (all rows when it is empty) as an accessor, so
// the unfiltered case allocates nothing.
func (p *eventsPane) visible(l *eventLog, filter string) (int, func(int) *eventRow) {
	if filter == "" && !p.types.Active() {
		return l.len(), l.atFn
	}
	if p.fFilter != filter || p.fVersion != l.version || p.fTypes != p.typesGen {
		p.fRows = p.fRows[:0]
		for i := 0; i < l.len(); i++ {
			if r := l.at(i); r.matches(filter) && p.showsRow(r) {
				p.fRows = append(p.fRows, r)
			}
		}
		p.fFilter, p.fVersion, p.fTypes = filter, l.version, p.typesGen
	}
	if p.fAt == nil {
		p.fAt = func(i int) *eventRow { return p.fRows[i] }
	}
	return len(p.fRows), p.fAt
}

// selected returns the selected row, or nil.
func (p *eventsPane) selected(l *eventLog, filter string) *eventRow {
	n, at := p.visible(l, filter)
	if n == 0 {
		return nil
	}
	if p.follow {
		return at(n - 1)
	}
	return at(min(max(p.sel, 0), n-1))
}

// layout returns the selected row and the first visible one for n rows: the last row while
// following, else the selection kept within the rows and on screen.
func (p *eventsPane) layout(n int) (sel, top int) {
	if n == 0 {
		return p.sel, p.top
	}
	sel, top = p.sel, p.top
	if p.follow {
		sel = n - 1
	}
	sel = min(max(sel, 0), n-1)
	if p.follow || sel >= top+p.h {
		top = sel - p.h + 1
	}
	if sel < top {
		top = sel
	}
	return sel, min(max(top, 0), max(n-p.h, 0))
}

// View renders the visible rows.
func (p *eventsPane) View(st *Styles, l *eventLog, filter string, focused bool, now time.Time) []string {
	if p.h <= 0 || p.w <= 0 {
		return nil
	}
	n, at := p.visible(l, filter)
	if n == 0 {
		if filter != "" {
			return []string{st.Dim.Render("No event matches the filter.")}
		}
		return []string{st.Dim.Render("Waiting for the first request…")}
	}
	sel, top := p.layout(n)
	out := make([]string, 0, p.h)
	for i := top; i < n && len(out) < p.h; i++ {
		line := p.row(st, at(i), now)
		if i == sel && focused {
			line = selectedRow(st, line, p.w)
		}
		out = append(out, line)
	}
	return out
}

func (p *eventsPane) row(st *Styles, r *eventRow, now time.Time) string {
	var b strings.Builder
	b.Grow(2 * p.w) // the row's text and its colours, in one allocation
	ts := r.at.Format("15:04:05.000")
	if p.w < 70 {
		ts = r.at.Format("15:04:05")
	}
	b.WriteString(st.Dim.Render(ts))
	b.WriteString(" ")
	t := r.text()
	if r.isRejected {
		b.WriteString(st.Err.Render("REJECTED " + t.summary))
		return b.String()
	}
	tw := typeWidth
	if p.w < 70 {
		tw = typeWidthNarrow
	}
	b.WriteString(padRight(abbrevType(t.typ, tw), tw))
	b.WriteString(" ")
	if t.short != "" && p.w >= 60 {
		b.WriteString(st.Dim.Render(padRight(t.short, 8)))
		b.WriteString(" ")
	}
	if tag := rowFwdTag(st, r); tag != "" {
		b.WriteString(tag)
		b.WriteString(" ")
	}
	if r.out != nil && r.out.Reply.Source == sourceNoReply {
		b.WriteString(st.Warn.Render(noReplyRecorded + " "))
	} else if r.out != nil && r.out.Reply.Source != webhook.SourceAck && !(r.fwd != nil && r.out.Reply.Source == webhook.SourceForward) {
		src := sourceLabel(r.out.Reply.Source)
		ss := st.OK
		if r.out.Reply.Source == webhook.SourceFallback || r.out.Reply.Source == webhook.SourceReject || r.out.WriteErr != "" {
			ss = st.Err
		}
		b.WriteString(ss.Render("→ " + src + " " + fmtLatency(r.out.Latency)))
		b.WriteString(" ")
	} else if r.out == nil && r.awaits {
		if r.lostOutcome(now) {
			b.WriteString(st.Dim.Render(noOutcome + " "))
		} else {
			b.WriteString(st.Warn.Render("waiting "))
		}
	}
	b.WriteString(t.summary)
	return b.String()
}

func (m *Model) eventsTitle() string {
	t := fmt.Sprintf("4 Events · %d", m.eventCount)
	if m.rejected > 0 {
		t += fmt.Sprintf(" · %d rejected", m.rejected)
	}
	if m.filter != "" {
		t += " · filter " + m.filterEd.Value()
	}
	if m.eventsP.hidden > 0 {
		t += fmt.Sprintf(" · %d hidden (H)", m.eventsP.hidden)
	}
	if !m.eventsP.follow {
		t += " · paused (f follows)"
	}
	return t
}
