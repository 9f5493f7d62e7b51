package tui

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vapimon/vapimon/tui/sanitize"
	"github.com/vapimon/vapimon/webhook"
)

// call is everything the monitor knows about one Vapi call. All strings are sanitised.
type call struct {
	id       string // raw id, the map key (never drawn: use short or idText)
	idText   string // sanitised full id
	short    string // first 8 characters of idText
	customer string // number or name; "" when Vapi sent none (see who)
	kind     string // inbound, outbound, web, ws
	status   string
	reason   string // ended reason
	cost     float64

	order          uint64    // creation order
	first, last    time.Time // first and last event received
	started, ended time.Time
	isEnded        bool
	bySend         bool // every request so far came from vapimon (send, replay): see noteSender

	// controlURL is call.monitor.controlUrl as the latest message carried it (raw: it is
	// only POSTed to, and shown by host, sanitised); muted* follow the operator's controls.
	controlURL                    string
	mutedAssistant, mutedCustomer bool

	transcript transcript
	tools      []*toolRow
	report     *report
	events     int
	// audio is what vapimon recorded of the call's audio (relay/listen): the WAV file and
	// the turn gaps measured, for the end-of-call view; empty when it was not listened.
	audio audioSummary
}

// audioSummary is a listened call's recording, for the report.
type audioSummary struct {
	file      string // sanitised path
	recordErr string
	turns     int
	avgGap    time.Duration
	overlap   time.Duration
}

// who names the caller: the customer's number or name, "web" for a web call without one,
// "unknown" otherwise.
func (c *call) who() string {
	switch {
	case c.customer != "":
		return c.customer
	case c.kind == "web":
		return "web"
	}
	return "unknown"
}

// idleAfter is how long a live call may go without events before it is shown as idle (a
// call whose end-of-call report never came).
const idleAfter = 2 * time.Minute

// idle reports whether a live call has had no events for idleAfter.
func (c *call) idle(now time.Time) bool { return c.live() && now.Sub(c.last) >= idleAfter }

// live reports whether the call is still going on.
func (c *call) live() bool { return !c.isEnded }

// duration is how long the call has lasted: its age while it is live (new, in progress or
// idle alike: the state is shown beside it), its length once ended. The clock used to stop
// at the last event while idle, so a call showed 0:40 while new, "idle 0:00" next and
// "ended 2:13" last.
func (c *call) duration(now time.Time) time.Duration {
	start := c.started
	if start.IsZero() {
		start = c.first
	}
	end := now
	if c.isEnded {
		end = c.ended
		if end.IsZero() {
			end = c.last
		}
	}
	if end.Before(start) {
		return 0
	}
	return end.Sub(start)
}

// matches reports whether the call matches a lower-case filter.
func (c *call) matches(f string) bool {
	if f == "" {
		return true
	}
	for _, s := range []string{c.idText, c.who(), c.kind, c.status, c.reason} {
		if strings.Contains(strings.ToLower(s), f) {
			return true
		}
	}
	return false
}

// callStore keeps at most keep calls, evicting the oldest ended call first.
type callStore struct {
	byID    map[string]*call
	sorted  []*call // display order: live first, newest first; rebuilt when dirty
	dirty   bool
	keep    int
	next    uint64
	evicted int
}

func newCallStore(keep int) *callStore {
	return &callStore{byID: make(map[string]*call), keep: keep}
}

// get returns the call with id, creating it (and evicting if over the limit) when absent.
// The second result is the evicted call, if any.
func (s *callStore) get(id string, at time.Time) (*call, *call) {
	if c, ok := s.byID[id]; ok {
		return c, nil
	}
	s.next++
	idText := sanitize.Line(id, 200)
	c := &call{id: id, idText: idText, short: shortID(idText), order: s.next, first: at, last: at}
	s.byID[id] = c
	s.dirty = true
	var gone *call
	if len(s.byID) > s.keep {
		gone = s.evictOne(c)
	}
	return c, gone
}

func (s *callStore) evictOne(keep *call) *call {
	var victim *call
	for _, c := range s.byID {
		if c == keep {
			continue
		}
		if victim == nil || older(c, victim) {
			victim = c
		}
	}
	if victim != nil {
		delete(s.byID, victim.id)
		s.evicted++
		s.dirty = true
	}
	return victim
}

// older orders eviction candidates: ended calls before live ones, then least recently
// active first.
func older(a, b *call) bool {
	if a.isEnded != b.isEnded {
		return a.isEnded
	}
	return a.last.Before(b.last) || (a.last.Equal(b.last) && a.order < b.order)
}

// list returns calls in display order.
func (s *callStore) list() []*call {
	if s.dirty || len(s.sorted) != len(s.byID) {
		s.sorted = s.sorted[:0]
		for _, c := range s.byID {
			s.sorted = append(s.sorted, c)
		}
		sort.Slice(s.sorted, func(i, j int) bool {
			a, b := s.sorted[i], s.sorted[j]
			if a.live() != b.live() {
				return a.live()
			}
			return a.order > b.order
		})
		s.dirty = false
	}
	return s.sorted
}

func (s *callStore) liveCount() int {
	n := 0
	for _, c := range s.byID {
		if c.live() {
			n++
		}
	}
	return n
}

func shortID(id string) string {
	if utf8.ValidString(id) { // always, sanitised: the first 8 runes, without a copy
		n := 0
		for i := range id {
			if n == 8 {
				return id[:i]
			}
			n++
		}
		return id
	}
	r := []rune(id)
	if len(r) > 8 {
		return string(r[:8])
	}
	return id
}

// callKind names Vapi's call.type briefly.
func callKind(t string) string {
	switch t {
	case "inboundPhoneCall":
		return "inbound"
	case "outboundPhoneCall":
		return "outbound"
	case "webCall":
		return "web"
	case "vapi.websocketCall":
		return "websocket"
	case "":
		return ""
	}
	return sanitize.Line(t, 20)
}

// noteCallFields updates the call's header fields from any message about it.
func (c *call) noteCallFields(msg *webhook.Message, at time.Time) {
	c.last = at
	c.events++
	if k := callKind(msg.Call.Type); k != "" {
		c.kind = k
	}
	num := msg.Customer.Number
	if num == "" {
		num = msg.Call.Customer.Number
	}
	switch {
	case num != "":
		c.customer = sanitize.Line(num, 40)
	case msg.Customer.Name != "" && c.customer == "":
		c.customer = sanitize.Line(msg.Customer.Name, 40)
	}
	if msg.Call.Status != "" && !c.isEnded {
		c.status = sanitize.Line(msg.Call.Status, 30)
	}
	if u := msg.Call.Monitor.ControlURL; u != "" {
		c.controlURL = u
	}
	if msg.Call.Cost > 0 {
		c.cost = msg.Call.Cost
	}
	if msg.Cost > 0 {
		c.cost = msg.Cost
	}
}

// markEnded records the end of the call.
func (c *call) markEnded(at time.Time, reason string) {
	if !c.isEnded {
		c.isEnded = true
		c.ended = at
	}
	c.status = "ended"
	if reason != "" {
		c.reason = sanitize.Line(reason, 80)
	}
}

// callsPane draws the list of calls with an "all calls" row first.
type callsPane struct {
	sel  int // 0 is "all calls"; i>0 is rows[i-1]
	top  int
	w, h int
}

// SetSize sets the inner size of the pane.
func (p *callsPane) SetSize(w, h int) { p.w, p.h = w, h }

// layout returns the selected row and the first visible one for n rows ("all calls"
// included) and a selection sel: the selection stays within the rows and on screen.
func (p *callsPane) layout(sel, n int) (int, int) {
	sel = min(max(sel, 0), n-1)
	top := p.top
	if p.h <= 0 {
		return sel, top
	}
	if sel < top {
		top = sel
	}
	if sel >= top+p.h {
		top = sel - p.h + 1
	}
	return sel, min(max(top, 0), max(n-p.h, 0))
}

// callCounts are the counts the "all calls" row states: every call kept, and the live
// ones, as the pane's title counts them; filtered says rows are only those matching the
// filter.
type callCounts struct {
	total, live int
	filtered    bool
}

// View returns the visible rows, sel being the selected one (0 for "all calls").
func (p *callsPane) View(st *Styles, rows []*call, counts callCounts, sel int, now time.Time, focused bool) []string {
	n := len(rows) + 1
	if p.h <= 0 {
		return nil
	}
	sel, top := p.layout(sel, n)
	out := make([]string, 0, p.h)
	for i := top; i < n && len(out) < p.h; i++ {
		var line string
		if i == 0 {
			// The same counts as the title; under a filter, how many of them match.
			line = fmt.Sprintf("  all calls (%d, %d live)", counts.total, counts.live)
			if counts.filtered {
				line = fmt.Sprintf("  all calls (%d, %d live; %d match the filter)", counts.total, counts.live, len(rows))
			}
		} else {
			line = p.row(st, rows[i-1], now)
		}
		if i == sel {
			line = "▸" + line[min(len(line), 1):]
			if focused {
				line = selectedRow(st, line, p.w)
			}
		}
		out = append(out, line)
	}
	return out
}

func (p *callsPane) row(st *Styles, c *call, now time.Time) string {
	state := c.status
	if state == "" {
		state = "new"
	}
	ss := st.Dim
	switch {
	case c.idle(now):
		state = "idle"
	case c.live() && state == "in-progress":
		state, ss = "live", st.Live
	case c.live():
		ss = st.Warn
	default:
		state = "ended"
	}
	dur := fmtClock(c.duration(now))
	var b strings.Builder
	if p.w < 44 {
		// Narrow: the state is a coloured dot.
		dot := "○"
		if c.live() {
			dot = "●"
		}
		b.WriteString(" ")
		b.WriteString(ss.Render(dot))
		b.WriteString(" ")
		b.WriteString(padRight(c.short, 8))
		b.WriteString(" ")
		b.WriteString(padRight(c.who(), max(p.w-3-9-6, 4)))
		b.WriteString(" ")
		b.WriteString(padLeft(dur, 5))
		return b.String()
	}
	b.WriteString("  ")
	b.WriteString(padRight(c.short, 8))
	b.WriteString(" ")
	b.WriteString(padRight(c.who(), 13))
	if p.w >= 60 {
		b.WriteString(" ")
		b.WriteString(padRight(c.kind, 8))
	}
	b.WriteString(" ")
	b.WriteString(ss.Render(padRight(state, 10)))
	b.WriteString(" ")
	b.WriteString(padLeft(dur, 5))
	if p.w >= 52 {
		cost := ""
		if c.cost > 0 {
			cost = fmt.Sprintf("$%.4f", c.cost)
		}
		b.WriteString(" ")
		b.WriteString(padLeft(cost, 7))
	}
	if c.reason != "" {
		b.WriteString(" ")
		b.WriteString(st.Dim.Render(c.reason))
	}
	return b.String()
}

// applyToCall updates the call's state and transcript from one message.
func applyToCall(c *call, msg *webhook.Message, at time.Time) {
	t := &c.transcript
	s := func(v string, n int) string { return sanitize.Line(v, n) }
	switch msg.Kind {
	case webhook.TypeStatusUpdate:
		st := s(msg.Status, 40)
		if st == "" {
			return
		}
		switch st {
		case "in-progress":
			if c.started.IsZero() {
				c.started = at
			}
		case "ended":
			c.markEnded(at, msg.EndedReason)
			t.speaking = [2]bool{}
			t.partial = [2]string{}
			note := "call ended"
			if c.reason != "" {
				note += ": " + c.reason
			}
			t.note(lineNote, at, note)
			return
		case "forwarding":
			t.note(lineNote, at, "forwarding the call "+compactJSON(msg.Destination, 200))
		}
		if !c.isEnded {
			c.status = st
		}
		t.note(lineNote, at, "status "+st)
	case webhook.TypeTranscript:
		t.sawTranscript = true
		if msg.TranscriptType == "partial" {
			t.setPartial(msg.Role, msg.Transcript)
		} else {
			t.turn(msg.Role, at, msg.Transcript)
		}
	case webhook.TypeSpeechUpdate:
		if i, ok := roleIndex(msg.Role); ok {
			t.speaking[i] = msg.Status == "started"
		}
	case webhook.TypeConversationUpdate:
		if t.sawTranscript {
			return
		}
		if len(msg.Messages) < t.convSeen {
			t.convSeen = len(msg.Messages)
		}
		for _, lm := range msg.Messages[t.convSeen:] {
			t.turn(lm.Role, at, lm.Message)
		}
		t.convSeen = len(msg.Messages)
	case webhook.TypeHang:
		t.note(lineWarn, at, "hang: the assistant has gone quiet (slow model or voice, or waiting on a tool)")
	case webhook.TypeUserInterrupted:
		t.note(lineNote, at, "user interrupted the assistant")
	case webhook.TypeTransferUpdate:
		t.note(lineNote, at, "transfer "+compactJSON(msg.Destination, 200))
	case webhook.TypePhoneCallControl:
		t.note(lineNote, at, "phone-call-control "+s(msg.Request, 40)+" "+compactJSON(msg.Destination, 200))
	case webhook.TypeTransferDestinationRequest:
		t.note(lineNote, at, "transfer-destination-request: asking for a destination")
	case webhook.TypeHandoffDestinationRequest:
		t.note(lineNote, at, "handoff-destination-request "+compactJSON(msg.Parameters, 200))
	case webhook.TypeToolCalls, webhook.TypeFunctionCall:
		for _, tc := range msg.ToolCalls {
			t.note(lineTool, at, toolCallNote(s(tc.Name, 80), tc.Arguments))
		}
	case webhook.TypeAssistantRequest:
		t.note(lineNote, at, "assistant-request: choosing the assistant")
	case webhook.TypeLanguageChangeDetected:
		t.note(lineNote, at, "language changed to "+s(msg.Language, 40))
	case webhook.TypeEndOfCallReport:
		c.report = newReport(msg)
		if msg.EndedAt != "" {
			if e, err := time.Parse(time.RFC3339Nano, msg.EndedAt); err == nil && !c.isEnded {
				at = e
			}
		}
		if msg.StartedAt != "" && c.started.IsZero() {
			if b, err := time.Parse(time.RFC3339Nano, msg.StartedAt); err == nil {
				c.started = b
			}
		}
		c.markEnded(at, msg.EndedReason)
		t.speaking = [2]bool{}
		t.partial = [2]string{}
	}
}

func (m *Model) callsTitle(calls []*call) string {
	t := "1 Calls"
	if live := m.calls.liveCount(); live > 0 {
		t += fmt.Sprintf(" · %d live", live)
	}
	if m.filter != "" {
		t += " · filter " + m.filterEd.Value()
	}
	return t
}

// toolCallNote is the transcript's line for a tool call: "tool call get_weather
// {"city":"Paris"}". Arguments sent compact, in plain ASCII and short enough, as they are
// under load, are used as they are (compactJSON would return them unchanged), which saves a
// copy per call.
func toolCallNote(name string, args json.RawMessage) string {
	if len(args) <= 200 && !hasJSONSpace(args) && sanitize.PlainASCII(string(args)) {
		return "tool call " + name + " " + string(args)
	}
	return "tool call " + name + " " + compactJSON(args, 200)
}
