package tui

import (
	"time"

	"github.com/vapimon/vapimon/relay/listen"
	"github.com/vapimon/vapimon/tui/sanitize"
	"github.com/vapimon/vapimon/webhook"
)

// ingest takes one value from the bus or the operator.
func (m *Model) ingest(v any) {
	switch v := v.(type) {
	case *webhook.Event:
		m.addEvent(v)
	case *webhook.Outcome:
		m.addOutcome(v)
	case webhook.Notice:
		v.Text = sanitize.Line(v.Text, 500)
		v.Time = m.now() // shown for a while from when it arrived
		m.notice = v
	case webhook.Status:
		relayout := len(v.Warnings) > 0 != (len(m.status.Warnings) > 0)
		m.status = v
		if relayout { // the warnings line comes or goes
			m.resize(m.width, m.height)
		}
	case webhook.TapeHealth:
		m.noteTape(v)
	case webhook.ForwardHealth:
		m.noteHealth(v)
	case listen.Update:
		m.noteAudio(v)
	case *opRequest:
		m.addRequest(v)
	case controlDoneMsg:
		m.controlDone(v)
	}
}

// noteTape records the tape's health. Failed only grows: a report that arrives late (the
// forwarder coalesces) never lowers the count.
func (m *Model) noteTape(h webhook.TapeHealth) {
	if h.Failed >= m.tapeFailed {
		m.tapeFailed = h.Failed
		m.tapeErr = sanitize.Line(h.Err, 300)
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
	row := newEventRow(ev)
	if rc := m.opts.Replay; rc != nil {
		row.offline = true
		if rc.Recorded != nil {
			if t := rc.Recorded(ev.Seq); !t.IsZero() {
				row.at = t
			}
		}
	}
	m.events.push(row)
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
		isNew := c.events == 0
		c.noteSender(ev, isNew)
		c.noteCallFields(msg, at)
		if isNew {
			m.noteNewCall(id)
		}
	}
	if webhook.ExpectsReply(msg.Kind) {
		rows := newToolRows(ev, c)
		m.toolsBySeq[ev.Seq] = rows
		m.noteAsking(ev, rows)
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

// forget drops references to an evicted call.
func (m *Model) forget(c *call) {
	if m.selCall == c.id {
		m.selCall = ""
	}
	if m.shownCall == c.id {
		m.shownCall = ""
	}
}

// noteNewCall shows a call that has just started under "all calls": the transcript there
// shows the newest call. It switches only when a call starts, never because an older call's
// events arrived or the shown call ended (the transcript title counts the other live
// calls), and it stays put while the operator reads back (the transcript is paused) or
// something of the shown call waits for the operator's answer.
func (m *Model) noteNewCall(id string) {
	if m.calls.byID[m.shownCall] != nil && (!m.transP.follow || m.waitsForOperator(m.shownCall)) {
		return
	}
	m.shownCall = id
}

// waitsForOperator reports whether a request of call id waits for the operator.
func (m *Model) waitsForOperator(id string) bool {
	for _, p := range m.queue {
		if !p.done && p.req.ev.CallID() == id {
			return true
		}
	}
	return false
}

// addOutcome records the reply to a request.
func (m *Model) addOutcome(o *webhook.Outcome) {
	if o == nil {
		return
	}
	if row := m.events.bySeq.get(o.Seq); row != nil {
		row.out = o
	}
	if rows, ok := m.toolsBySeq[o.Seq]; ok {
		applyOutcome(rows, o, m.fromAnswersFile, &m.resultsBuf)
		delete(m.toolsBySeq, o.Seq)
		m.noteAnswers(rows)
	}
	for _, p := range m.queue {
		if p.seq == o.Seq && !p.done {
			p.done = true
			if p.ahead && (p.aheadReply != nil || p.req.late(nil) != nil) {
				// Answered before the operator was asked (your server, in time): what was
				// typed ahead did not go.
				m.setFlash(sanitize.Line(p.req.ev.Type(), 40) + " was answered before you were asked (your server, in time): what you typed ahead was not sent")
			}
			if m.prompt != nil && m.prompt.p == p {
				// The reply went out while the prompt was open: usually the deadline
				// (the handler's outcome often arrives before the next tick sees it).
				m.setFlash(m.closedFlash(o))
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
		if r.lost { // no reply on the tape (offline replay)
			c.transcript.note(lineTool, r.received, r.name+": "+r.result)
			continue
		}
		what := "→ "
		switch {
		case r.source == webhook.SourceFallback && !r.kept && !r.keptYou:
			what = "→ fallback sent: "
		case r.isErr:
			what = "→ error: "
		}
		// One concatenation (this runs for every answered tool call): "get_weather →
		// sunny (answers file 150µs)".
		c.transcript.note(lineTool, r.received.Add(r.latency), r.name+" "+what+r.result+" ("+r.answerLabel()+" "+fmtLatency(r.latency)+")")
	}
}

// expire closes requests whose deadline passed (the handler sends the fallback) and marks
// rows whose outcome never came.
func (m *Model) expire() {
	now := m.now()
	m.endIdleSent(now)
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
				m.setFlash(m.expiredFlash())
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
		if late := now.Sub(dl); late > outcomeGrace && !rows[0].done && m.opts.Replay == nil {
			// The handler replies at the deadline and publishes the outcome at once: none
			// seen a few seconds later means the bus dropped it. Say so rather than guess;
			// the tape has the reply.
			for _, r := range rows {
				r.done, r.lost, r.source, r.result = true, true, "", noOutcome
			}
		}
		if now.Sub(dl) > time.Minute {
			delete(m.toolsBySeq, seq) // an outcome this late is not coming
		}
	}
}

// outcomeGrace is how long after an event's deadline the monitor waits for its outcome
// before saying it will not see one (the bus dropped it).
const outcomeGrace = 5 * time.Second

// noOutcome is shown for a request whose outcome the monitor never received.
const noOutcome = "no outcome seen (screen update dropped; the tape has it)"
