// Package tui is vapimon's terminal monitor: a bubbletea program showing calls,
// transcripts, tool calls and raw requests live, and letting a person type tool results
// before Vapi's deadline (see Operator).
//
// One root Model owns layout, focus and all state; panes are plain structs with SetSize and
// a View that draws only the visible rows. Everything from a webhook payload is sanitised
// once, when it enters the model (Sanitize).
package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/vapimon/vapimon/webhook"
)

// Options configure the monitor.
type Options struct {
	// Bus is subscribed to by Run: *webhook.Event, *webhook.Outcome, webhook.Notice,
	// webhook.Status and webhook.ForwardHealth values are shown as they arrive.
	Bus *webhook.Bus
	// Status is the initial status (listen URL, tunnel, auth, tape...).
	Status webhook.Status
	// Suggest returns the answers file's suggestions for a tool name; may be nil. It is
	// called from the UI loop when a prompt opens and must return at once.
	Suggest func(tool string) []string
	// Assistants returns the assistants offered for an assistant-request; may be nil. Same
	// rule as Suggest.
	Assistants func() []Assistant
	// KeepCalls is how many calls stay in memory (default 500); older ones are only on
	// the tape.
	KeepCalls int
	// Now is the clock (default time.Now); tests fix it.
	Now func() time.Time
	// PromptGrace is how long a prompt that opens by itself ignores keys (default 300ms;
	// negative for none).
	PromptGrace time.Duration
	// Replay is set in offline replay mode: the play/pause, step and speed keys drive it.
	Replay *ReplayControl
}

// ReplayControl lets the monitor's keys drive an offline replay. Its functions are called
// from the UI loop and must return at once; any of them may be nil.
type ReplayControl struct {
	// Source names what is replayed (the tape path), for the status bar.
	Source string
	// TogglePause pauses or resumes playback and returns whether it is now paused.
	TogglePause func() (paused bool)
	// Step sends the next record while paused.
	Step func()
	// Speed multiplies the playback speed by factor and returns the new speed.
	Speed func(factor float64) float64
	// Progress reports records sent, records in total, whether paused, and the speed.
	Progress func() (done, total int, paused bool, speed float64)
	// Start, when set, is run by Run in its own goroutine once it has subscribed to the
	// bus (so nothing published is missed), with a context that ends when Run returns.
	Start func(ctx context.Context)
}

// pane identifies one of the four panes, in focus order.
type pane int

const (
	paneCalls pane = iota
	paneTranscript
	paneTools
	paneEvents
	numPanes
)

var paneNames = [numPanes]string{"Calls", "Transcript", "Tool calls", "Events"}

// Messages the program receives.
type (
	// batchMsg carries bus values and operator requests coalesced by Run's forwarder,
	// with the bus's count of dropped updates.
	batchMsg struct {
		items   []any
		dropped uint64
	}
	tickMsg time.Time
)

// tickEvery is how often countdowns and durations are redrawn.
const tickEvery = 250 * time.Millisecond

func tick() tea.Cmd {
	return tea.Tick(tickEvery, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// rect is a screen area.
type rect struct{ x, y, w, h int }

func (r rect) contains(x, y int) bool {
	return x >= r.x && x < r.x+r.w && y >= r.y && y < r.y+r.h
}

// statusHeight is the height of the status bar: three lines on a comfortable terminal (the
// third is the tool timeout reminder), two on a small one.
func (m *Model) statusHeight() int {
	if m.height >= 40 {
		return 3
	}
	return 2
}

// Model is the monitor's root model. Create it with NewModel; Run drives it.
type Model struct {
	opts   Options
	op     *Operator
	now    func() time.Time
	grace  time.Duration
	keys   KeyMap
	styles Styles
	help   help.Model

	width, height int
	panes         [numPanes]rect

	status  webhook.Status
	health  webhook.ForwardHealth
	notice  webhook.Notice
	flash   string
	flashAt time.Time
	dropped uint64

	calls      *callStore
	events     *eventLog
	toolsBySeq map[uint64][]*toolRow // rows still waiting for an outcome
	toolLog    []*toolRow            // every call's tool rows, for "all calls"
	eventCount uint64
	rejected   uint64

	queue   []*pendingReq // operator requests not yet done
	prompt  *prompt
	history map[string][]string

	focus       pane
	callsP      callsPane
	transP      transcriptPane
	toolsP      toolsPane
	eventsP     eventsPane
	selCall     string // raw id of the selected call, "" for all calls
	detail      *detailView
	showHelp    bool
	filter      string // lower case
	filtering   bool
	filterEd    editor
	confirmQuit bool
	quitting    bool
}

// Per-call and global caps on tool rows.
const (
	maxToolsPerCall = 200
	maxToolLog      = 1000
)

// NewModel returns the monitor's model. op may be nil (nothing is answered by hand).
func NewModel(opts Options, op *Operator) *Model {
	if opts.KeepCalls <= 0 {
		opts.KeepCalls = 500
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	grace := opts.PromptGrace
	switch {
	case grace == 0:
		grace = defaultGrace
	case grace < 0:
		grace = 0
	}
	m := &Model{
		opts:       opts,
		op:         op,
		now:        opts.Now,
		grace:      grace,
		keys:       DefaultKeyMap(),
		styles:     DefaultStyles(),
		help:       help.New(),
		status:     opts.Status,
		calls:      newCallStore(opts.KeepCalls),
		events:     newEventLog(defaultKeepEvents),
		toolsBySeq: make(map[uint64][]*toolRow),
		history:    make(map[string][]string),
		filterEd:   newEditor(false),
	}
	m.transP.follow = true
	m.toolsP.follow = true
	m.eventsP.follow = true
	return m
}

// Init implements tea.Model: it starts the clock that redraws countdowns.
func (m *Model) Init() tea.Cmd { return tick() }

// Update implements tea.Model. It does no I/O: answers go to waiting handlers through
// buffered channels that never block.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.resize(msg.Width, msg.Height)
	case batchMsg:
		for _, it := range msg.items {
			m.ingest(it)
		}
		m.dropped = msg.dropped
	case tickMsg:
		m.expire()
		return m, tick()
	case tea.KeyPressMsg:
		return m, m.key(msg)
	case tea.PasteMsg:
		switch {
		case m.prompt != nil && m.now().Sub(m.prompt.opened) >= m.grace:
			m.prompt.ed.Insert(msg.Content)
		case m.filtering:
			m.filterEd.Insert(msg.Content)
			m.filter = strings.ToLower(m.filterEd.Value())
		}
	case tea.MouseWheelMsg:
		m.wheel(tea.Mouse(msg))
	case tea.MouseClickMsg:
		m.click(tea.Mouse(msg))
	default:
		m.ingest(msg)
	}
	return m, nil
}

// ingest takes one value from the bus or the operator.
func (m *Model) ingest(v any) {
	switch v := v.(type) {
	case *webhook.Event:
		m.addEvent(v)
	case *webhook.Outcome:
		m.addOutcome(v)
	case webhook.Notice:
		v.Text = SanitizeLine(clip(v.Text, 500))
		v.Time = m.now() // shown for a while from when it arrived
		m.notice = v
	case *webhook.Notice:
		if v != nil {
			m.ingest(*v)
		}
	case webhook.Status:
		m.status = v
	case *webhook.Status:
		if v != nil {
			m.status = *v
		}
	case webhook.ForwardHealth:
		m.health = v
	case *webhook.ForwardHealth:
		if v != nil {
			m.health = *v
		}
	case *opRequest:
		m.addRequest(v)
	}
}

// addEvent records a request and updates its call.
func (m *Model) addEvent(ev *webhook.Event) {
	if ev == nil || (ev.Seq != 0 && m.events.has(ev.Seq)) {
		return
	}
	m.eventCount++
	if ev.Rejected != "" {
		m.rejected++
	}
	m.events.push(newEventRow(ev))
	msg := ev.Msg
	if msg == nil {
		return
	}
	at := ev.Received
	if at.IsZero() {
		at = m.now()
	}
	var c *call
	if id := msg.Call.ID; id != "" {
		var gone *call
		c, gone = m.calls.get(id, at)
		if gone != nil {
			m.forget(gone)
		}
		c.noteCallFields(msg, at)
	}
	if webhook.ExpectsReply(msg.Kind) {
		rows := newToolRows(ev, c)
		m.toolsBySeq[ev.Seq] = rows
		m.toolLog = append(m.toolLog, rows...)
		if len(m.toolLog) > maxToolLog {
			m.toolLog = append(m.toolLog[:0:0], m.toolLog[len(m.toolLog)-maxToolLog/2:]...)
		}
		if c != nil {
			c.tools = append(c.tools, rows...)
			if len(c.tools) > maxToolsPerCall {
				c.tools = append(c.tools[:0:0], c.tools[len(c.tools)-maxToolsPerCall/2:]...)
			}
		}
	}
	if c != nil {
		wasEnded := c.isEnded
		applyToCall(c, msg, at)
		if c.isEnded != wasEnded {
			m.calls.dirty = true // live calls sort first
		}
	}
}

// applyToCall updates the call's state and transcript from one message.
func applyToCall(c *call, msg *webhook.Message, at time.Time) {
	t := &c.transcript
	s := func(v string, n int) string { return SanitizeLine(clip(v, n)) }
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
			t.note(lineTool, at, "tool call "+s(tc.Name, 80)+" "+compactJSON(tc.Arguments, 200))
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

// forget drops references to an evicted call.
func (m *Model) forget(c *call) {
	if m.selCall == c.id {
		m.selCall = ""
	}
}

// addOutcome records the reply to a request.
func (m *Model) addOutcome(o *webhook.Outcome) {
	if o == nil {
		return
	}
	if row := m.events.bySeq[o.Seq]; row != nil {
		row.out = o
	}
	if rows, ok := m.toolsBySeq[o.Seq]; ok {
		applyOutcome(rows, o)
		delete(m.toolsBySeq, o.Seq)
		m.noteAnswers(rows)
	}
	for _, p := range m.queue {
		if p.seq == o.Seq && !p.done {
			p.done = true
			if m.prompt != nil && m.prompt.p == p {
				m.closePrompt()
			}
		}
	}
	m.dropDone()
}

// noteAnswers adds a transcript note for each answered tool call of a live call.
func (m *Model) noteAnswers(rows []*toolRow) {
	for _, r := range rows {
		c := m.calls.byID[r.callID]
		if c == nil || r.id == "" {
			continue
		}
		what := "→ " + r.result
		switch {
		case r.source == webhook.SourceFallback:
			what = "→ fallback sent: " + r.result
		case r.isErr:
			what = "→ error: " + r.result
		}
		c.transcript.note(lineTool, r.received.Add(r.latency), fmt.Sprintf("%s %s (%s %s)", r.name, what, sourceLabel(r.source), fmtLatency(r.latency)))
	}
}

// addRequest queues an operator request and opens its prompt if none is open.
func (m *Model) addRequest(r *opRequest) {
	if r == nil || r.ctx.Err() != nil || r.ev == nil || r.ev.Msg == nil {
		return
	}
	ev := r.ev
	if !m.events.has(ev.Seq) {
		m.addEvent(ev)
	}
	rows := m.toolsBySeq[ev.Seq]
	if rows == nil {
		return // the outcome is already in: nothing left to answer
	}
	p := &pendingReq{req: r, seq: ev.Seq, kind: ev.Msg.Kind, rows: rows}
	if p.kind != webhook.TypeAssistantRequest {
		p.results = make([]webhook.ToolResult, len(ev.Msg.ToolCalls))
		p.answered = make([]bool, len(ev.Msg.ToolCalls))
		if len(rows) != len(ev.Msg.ToolCalls) {
			return
		}
	} else {
		p.answered = []bool{false}
	}
	m.queue = append(m.queue, p)
	if m.prompt == nil {
		m.openPrompt(p)
	}
}

// expire closes requests whose deadline passed (the handler sends the fallback) and marks
// rows whose outcome never came.
func (m *Model) expire() {
	now := m.now()
	for _, p := range m.queue {
		if p.done {
			continue
		}
		dl := p.deadline()
		if p.req.ctx.Err() != nil || (!dl.IsZero() && !now.Before(dl)) {
			p.done = true
			for _, r := range p.rows {
				if !r.done {
					r.expired = true
				}
			}
			if m.prompt != nil && m.prompt.p == p {
				flash := "deadline passed: the fallback reply was sent"
				if typed := SanitizeLine(m.prompt.ed.Value()); typed != "" {
					flash += " (not sent: " + typed + ")"
				}
				m.setFlash(flash)
				m.closePrompt()
			}
		}
	}
	m.dropDone()
	for seq, rows := range m.toolsBySeq {
		if len(rows) == 0 {
			delete(m.toolsBySeq, seq)
			continue
		}
		dl := rows[0].deadline
		if dl.IsZero() {
			continue
		}
		if !now.Before(dl) {
			for _, r := range rows {
				r.expired = true
			}
		}
		if now.Sub(dl) > time.Minute {
			// No outcome a minute after the deadline: the update was dropped. Stop
			// counting it as pending; the tape has the reply.
			for _, r := range rows {
				r.done, r.source, r.result = true, "", "no reply seen (screen update dropped; see the tape)"
			}
			delete(m.toolsBySeq, seq)
		}
	}
}

// dropDone removes finished requests from the queue.
func (m *Model) dropDone() {
	q := m.queue[:0]
	for _, p := range m.queue {
		if !p.done {
			q = append(q, p)
		}
	}
	for i := len(q); i < len(m.queue); i++ {
		m.queue[i] = nil
	}
	m.queue = q
}

// queuedCount is how many operator requests wait (including the open one).
func (m *Model) queuedCount() int { return len(m.queue) }

// pendingCount is how many tool calls (and other reply-expecting requests) wait for a
// reply that is still due.
func (m *Model) pendingCount() int {
	n := 0
	now := m.now()
	for _, rows := range m.toolsBySeq {
		for _, r := range rows {
			if r.waiting(now) {
				n++
			}
		}
	}
	return n
}

// selectedCall returns the call whose transcript is shown: the selected one or, when "all
// calls" is selected, the newest live call (else the newest call). It does not jump between
// calls as their events interleave.
func (m *Model) selectedCall() *call {
	if m.selCall != "" {
		if c := m.calls.byID[m.selCall]; c != nil {
			return c
		}
		m.selCall = ""
	}
	if l := m.calls.list(); len(l) > 0 {
		return l[0]
	}
	return nil
}

// visibleCalls returns the calls shown in the calls pane (filtered).
func (m *Model) visibleCalls() []*call {
	all := m.calls.list()
	if m.filter == "" {
		return all
	}
	out := make([]*call, 0, len(all))
	for _, c := range all {
		if c.matches(m.filter) {
			out = append(out, c)
		}
	}
	return out
}

// toolRows returns the rows for the tools pane.
func (m *Model) toolRows() ([]*toolRow, bool) {
	if m.selCall != "" {
		if c := m.calls.byID[m.selCall]; c != nil {
			return c.tools, false
		}
	}
	return m.toolLog, true
}

// resize lays out the panes for a w×h terminal.
func (m *Model) resize(w, h int) {
	m.width, m.height = w, h
	m.help.SetWidth(max(w, 0))
	bh := h - m.statusHeight() - 1
	if w < minWidth || h < minHeight {
		return
	}
	lw := max(w*2/5, 30)
	rw := w - lw
	top := m.statusHeight()
	ch := bh / 2
	th := bh * 3 / 5
	m.panes[paneCalls] = rect{0, top, lw, ch}
	m.panes[paneTools] = rect{0, top + ch, lw, bh - ch}
	m.panes[paneTranscript] = rect{lw, top, rw, th}
	m.panes[paneEvents] = rect{lw, top + th, rw, bh - th}
	m.callsP.SetSize(lw-2, ch-2)
	m.toolsP.SetSize(lw-2, bh-ch-2)
	m.transP.SetSize(rw-2, th-2)
	m.eventsP.SetSize(rw-2, bh-th-2)
	if m.detail != nil {
		m.detail.SetSize(w-2, bh-2)
	}
}

const (
	minWidth  = 40
	minHeight = 12
)

// View implements tea.Model.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "vapimon"
	if n := m.queuedCount(); n > 0 {
		v.WindowTitle = "vapimon · answer needed"
	}
	return v
}

func (m *Model) render() string {
	w, h := m.width, m.height
	if w <= 0 || h <= 0 {
		return ""
	}
	if w < minWidth || h < minHeight {
		return fit("vapimon needs at least 40x12", w)
	}
	st := &m.styles
	lines := make([]string, 0, h)
	lines = append(lines, m.statusLines(w)...)
	bh := h - m.statusHeight() - 1
	switch {
	case m.showHelp:
		lines = append(lines, box(st, "Help", m.helpLines(w-2), w, bh, true)...)
	case m.detail != nil:
		d := m.detail
		d.SetSize(w-2, bh-2)
		body := d.View()
		title := d.title
		if len(d.lines) > d.h {
			title += " · " + scrollPos(d.top, d.h, len(d.lines))
		}
		lines = append(lines, box(st, title, body, w, bh, true)...)
	default:
		lines = append(lines, m.renderPanes()...)
	}
	lines = append(lines, m.footer(w))

	var ov []string
	switch {
	case m.confirmQuit:
		ov = m.confirmView(min(w-4, 64))
	case m.prompt != nil:
		ov = m.promptView(min(max(w-4, 40), 100), bh)
	}
	if ov != nil {
		ow := ansi.StringWidth(ov[0])
		x := max((w-ow)/2, 0)
		y := m.statusHeight() + max((bh-len(ov))/2, 0)
		overlay(lines, ov, x, y, w)
	}
	return strings.Join(lines, "\n")
}

// overlay draws the box ov over lines at column x, row y, in place. It splices each row
// rather than using lipgloss's compositor: the compositor re-parses the whole screen into
// cells on every frame (about 5 ms at 200x60, more than the frame budget), while splicing
// touches only the rows under the box.
func overlay(lines, ov []string, x, y, w int) {
	for i, o := range ov {
		row := y + i
		if row < 0 || row >= len(lines) {
			continue
		}
		base := lines[row]
		left := ansi.Truncate(base, x, "")
		if lw := ansi.StringWidth(left); lw < x {
			left += strings.Repeat(" ", x-lw)
		}
		ow := ansi.StringWidth(o)
		right := ansi.TruncateLeft(base, x+ow, "")
		lines[row] = fit(left+"\x1b[m"+o+"\x1b[m"+right, w)
	}
}

func (m *Model) renderPanes() []string {
	st := &m.styles
	now := m.now()
	calls := m.visibleCalls()
	// Keep the calls-pane selection on the selected call as rows reorder.
	if m.selCall == "" {
		m.callsP.sel = 0
	} else {
		for i, c := range calls {
			if c.id == m.selCall {
				m.callsP.sel = i + 1
				break
			}
		}
	}
	left := box(st, m.callsTitle(calls), m.callsP.View(st, calls, now, m.focus == paneCalls),
		m.panes[paneCalls].w, m.panes[paneCalls].h, m.focus == paneCalls)
	rows, all := m.toolRows()
	left = append(left, box(st, m.toolsTitle(rows, all), m.toolsP.View(st, rows, all, now, m.focus == paneTools),
		m.panes[paneTools].w, m.panes[paneTools].h, m.focus == paneTools)...)
	c := m.selectedCall()
	right := box(st, m.transcriptTitle(c), m.transP.View(st, c, now),
		m.panes[paneTranscript].w, m.panes[paneTranscript].h, m.focus == paneTranscript)
	right = append(right, box(st, m.eventsTitle(), m.eventsP.View(st, m.events, m.filter, m.focus == paneEvents),
		m.panes[paneEvents].w, m.panes[paneEvents].h, m.focus == paneEvents)...)
	out := make([]string, len(left))
	for i := range left {
		r := ""
		if i < len(right) {
			r = right[i]
		}
		out[i] = left[i] + r
	}
	return out
}

func scrollPos(top, h, total int) string {
	if total <= h {
		return ""
	}
	return fmt.Sprintf("%d%%", 100*(top+h)/total)
}
