package tui

import (
	"context"
	"time"

	"github.com/vapimon/vapimon/webhook"
)

// While your server (--forward-to) is asked, the operator is not asked yet: the handler
// tries it first, for its share of the deadline (half the time left). So that Enter on
// such a row does something, the monitor queues a type-ahead request for it, closed (not
// opened by itself: most of the time your server answers) and marked ahead. The operator
// may open it and type the answer; it waits in the monitor and is sent at once if the
// operator is asked after all (your server failed and the answers file had nothing). When
// your server answers, the outcome closes it like any request.

// askable reports whether the operator would be asked msg if nobody before them answered.
func askable(msg *webhook.Message) bool {
	switch msg.Kind {
	case webhook.TypeToolCalls:
		return len(msg.ToolCalls) > 0 && !webhook.AllAsync(msg.ToolCalls)
	case webhook.TypeFunctionCall:
		return len(msg.ToolCalls) > 0
	case webhook.TypeAssistantRequest:
		return true
	}
	return jsonAnswered(msg.Kind)
}

// forwardShare is how long your server is given for a message Vapi waits on, received at
// received with the handler's deadline dl, as the forwarder gives it: --forward-timeout
// (timeout) within the deadline, else half the time left.
func forwardShare(received, dl time.Time, timeout time.Duration) time.Duration {
	if timeout > 0 {
		return min(timeout, dl.Sub(received))
	}
	return dl.Sub(received) / 2
}

// noteAsking queues the type-ahead request for an event your server is being asked about,
// and marks its rows so that they say so.
func (m *Model) noteAsking(ev *webhook.Event, rows []*toolRow) {
	if m.op == nil || m.status.Forward == "" || m.opts.Replay != nil || m.intercept ||
		ev.Deadline.IsZero() || ev.Msg == nil || !askable(ev.Msg) || len(rows) == 0 {
		return
	}
	if len(ev.Msg.ToolCalls) > 0 && (ev.Msg.Kind == webhook.TypeToolCalls || ev.Msg.Kind == webhook.TypeFunctionCall) && len(rows) != len(ev.Msg.ToolCalls) {
		return
	}
	until := ev.Received.Add(forwardShare(ev.Received, ev.Deadline, m.status.ForwardTimeout))
	req := &opRequest{ev: ev, ctx: context.Background(), reply: make(chan webhook.Reply, 1)}
	p := &pendingReq{req: req, seq: ev.Seq, kind: ev.Msg.Kind, rows: rows, ahead: true, deferred: true}
	if p.kind == webhook.TypeToolCalls || p.kind == webhook.TypeFunctionCall {
		p.results = make([]webhook.ToolResult, len(ev.Msg.ToolCalls))
		p.answered = make([]bool, len(ev.Msg.ToolCalls))
	} else {
		p.answered = []bool{false}
	}
	for _, r := range rows {
		r.asking = until
		r.deferred = true
	}
	m.queue = append(m.queue, p)
	m.op.holdAhead(ev.Seq, req)
}

// takeAhead gives the operator's request r the type-ahead request queued for its event, if
// any, and reports whether it did: an answer typed in full is sent at once; one typed in
// part (some of a message's tool calls) is kept, and the prompt asks the rest.
func (m *Model) takeAhead(r *opRequest) bool {
	var p *pendingReq
	for _, q := range m.queue {
		if q.ahead && !q.done && q.seq == r.ev.Seq {
			p = q
		}
	}
	if p == nil {
		return false
	}
	for _, row := range p.rows {
		row.asking = time.Time{}
	}
	if r.server != nil {
		// Your server answered and its reply is held for review (--intercept turned on
		// meanwhile): the review replaces the type-ahead.
		p.done = true
		if m.prompt != nil && m.prompt.p == p {
			m.prompt = nil
		}
		m.dropDone()
		m.setFlash("your server answered: review its reply (what you typed ahead was not sent)")
		return false
	}
	old := p.req
	m.op.dropAhead(p.seq, old)
	p.req, p.ahead = r, false
	old.mu.Lock()
	for _, res := range old.partial {
		r.addPartial(res)
	}
	old.mu.Unlock()
	if rep := p.aheadReply; rep != nil {
		m.finish(p, *rep)
		m.setFlash("your server gave no usable answer: the answer you typed ahead was sent")
		return true
	}
	// Now it is a request like any other: it opens when no prompt is open, else next.
	p.deferred = false
	for _, row := range p.rows {
		row.deferred = false
	}
	if m.prompt == nil {
		m.openPrompt(p)
	} else if m.prompt.p == p {
		m.prompt.hint = "your server gave no usable answer: what you type now is sent"
	}
	return true
}

// askingText is a type-ahead prompt's line about your server: "your server is asked first
// (7s of its 9.3s left): your answer is sent if it fails".
func (m *Model) askingText(p *pendingReq) string {
	s := "your server is asked first"
	if len(p.rows) > 0 && !p.rows[0].asking.IsZero() {
		if left := p.rows[0].asking.Sub(m.now()); left > 0 {
			s += " (" + fmtSeconds(left) + " of its " + fmtSeconds(p.rows[0].asking.Sub(p.rows[0].received).Round(100*time.Millisecond)) + " left)"
		}
	}
	return s + ": your answer is sent if it fails"
}
