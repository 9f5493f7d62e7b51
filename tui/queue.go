package tui

import (
	"time"

	"github.com/vapimon/vapimon/webhook"
)

// pendingReq is an operator request the model holds until it is answered, expires, or an
// outcome for it arrives.
type pendingReq struct {
	req      *opRequest
	seq      uint64
	kind     string
	rows     []*toolRow           // one per tool call (or one for assistant-request)
	results  []webhook.ToolResult // answers typed so far, by tool call
	answered []bool
	deferred bool
	done     bool
	// draft is what the operator had typed when they deferred the prompt (esc), for the
	// tool call draftCur: reopening it brings the text back.
	draft    *editor
	draftCur int

	// ahead is set for a type-ahead request: your server is being asked, and req is the
	// monitor's own until the operator's request arrives (typeahead.go). aheadReply is the
	// answer typed ahead in full, sent when it does.
	ahead      bool
	aheadReply *webhook.Reply

	// Set for a reply from the developer's server held for review (--intercept).
	server   *webhook.Reply
	mode     promptMode
	pretty   []string // the server's reply, coloured, built once
	edit     *editor  // the JSON being edited, kept when going back to the review
	editFrom string   // the text the editor was filled with
	problems []string // what the last enter found wrong with the edited JSON
	checked  string   // the edited text those problems are about (enter again sends it)
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
	if m.takeAhead(r) {
		return // the type-ahead request of this event became it
	}
	p := &pendingReq{req: r, seq: ev.Seq, kind: ev.Msg.Kind, rows: rows, server: r.server}
	switch {
	case p.server != nil && len(rows) == 0:
		r.answer(withNote(*p.server, "not reviewed: the monitor could not show it; your server's reply was sent as is"))
		return
	case p.server != nil:
		p.mode = modeReview
		for _, row := range rows {
			row.held = true
		}
	}
	if len(ev.Msg.ToolCalls) > 0 && (p.kind == webhook.TypeToolCalls || p.kind == webhook.TypeFunctionCall) {
		p.results = make([]webhook.ToolResult, len(ev.Msg.ToolCalls))
		p.answered = make([]bool, len(ev.Msg.ToolCalls))
		if len(rows) != len(ev.Msg.ToolCalls) {
			if p.server != nil {
				r.answer(withNote(*p.server, "not reviewed: the monitor could not show it; your server's reply was sent as is"))
			}
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

// dropDone removes finished requests from the queue.
func (m *Model) dropDone() {
	q := m.queue[:0]
	for _, p := range m.queue {
		if !p.done {
			q = append(q, p)
		} else if p.ahead {
			m.op.dropAhead(p.seq, p.req)
		}
	}
	for i := len(q); i < len(m.queue); i++ {
		m.queue[i] = nil
	}
	m.queue = q
}

// queuedCount is how many operator requests wait (including the open one).
func (m *Model) queuedCount() int {
	n := 0
	for _, p := range m.queue {
		if !p.ahead { // a type-ahead request waits for your server, not for the operator
			n++
		}
	}
	return n
}

// pendingCount is how many tool calls (and other reply-expecting requests) wait for a
// reply that is still due and have no answer yet: a tool call answered in the prompt while
// the other calls of its message are not is not pending (see waitTally).
func (m *Model) pendingCount() int {
	var answered map[*toolRow]bool
	for _, p := range m.queue {
		if p.done || len(p.answered) != len(p.rows) {
			continue
		}
		for i, r := range p.rows {
			if p.answered[i] {
				if answered == nil {
					answered = make(map[*toolRow]bool)
				}
				answered[r] = true
			}
		}
	}
	n := 0
	now := m.now()
	for _, rows := range m.toolsBySeq {
		for _, r := range rows {
			if r.waiting(now) && !answered[r] {
				n++
			}
		}
	}
	return n
}

func (p *pendingReq) deadline() time.Time { return p.req.ev.Deadline }

// next returns the index of the first unanswered tool call, or -1.
func (p *pendingReq) next() int {
	for i, a := range p.answered {
		if !a {
			return i
		}
	}
	return -1
}
