package tui

import (
	"fmt"

	"github.com/vapimon/vapimon/webhook"
)

// waitTally counts what Vapi still waits on, in the two units a person meets: requests
// (one message, one HTTP reply Vapi waits for, however many tool calls it carries) and
// tool calls nobody has answered yet. A tool call answered in the prompt while the other
// calls of its message are not is not counted: its answer goes with the message's reply.
// The quit question, the status bar and the flash all count from here, so they agree.
type waitTally struct {
	requests  int // messages whose reply is still due
	toolCalls int // of their tool calls, those with no answer yet
	// forYou and forYouCalls are the part of the above that waits for the operator (the
	// prompt queue), without the replies from your server held for review.
	forYou, forYouCalls int
	held, heldCalls     int // replies from your server held for review (--intercept)
}

// waitTally counts the requests whose reply is still due (their deadline has not passed)
// and their unanswered tool calls.
func (m *Model) waitTally() waitTally {
	var t waitTally
	now := m.now()
	bySeq := make(map[uint64]*pendingReq, len(m.queue))
	for _, p := range m.queue {
		// A type-ahead request (typeahead.go) waits for your server's reply: counted
		// with the others, not as the operator's.
		if !p.done && !p.ahead {
			bySeq[p.seq] = p
		}
	}
	for seq, rows := range m.toolsBySeq {
		p := bySeq[seq]
		due, calls := false, 0
		for i, r := range rows {
			if !r.waiting(now) {
				continue
			}
			due = true
			if p != nil && i < len(p.answered) && p.answered[i] && len(p.answered) == len(rows) {
				continue // typed; goes out with the other calls' answers
			}
			if r.isToolCall() {
				calls++
			}
		}
		if !due {
			continue
		}
		t.requests++
		t.toolCalls += calls
		switch {
		case p != nil && p.server == nil:
			t.forYou++
			t.forYouCalls += calls
		case p != nil:
			t.held++
			t.heldCalls += calls
		}
	}
	return t
}

// others counts the requests (and their unanswered tool calls) that wait neither for the
// operator nor for a review: those waiting for your server's reply.
func (t waitTally) others() (requests, toolCalls int) {
	return t.requests - t.forYou - t.held, t.toolCalls - t.forYouCalls - t.heldCalls
}

// isToolCall tells a tool call's row (tool-calls, function-call) from the single row of
// another message that expects a reply (assistant-request...): newToolRows names a tool
// call with no name "(unnamed tool)", and every other tool call row keeps its raw name.
func (r *toolRow) isToolCall() bool { return r.tool != "" || r.name == "(unnamed tool)" }

// requestsText says n requests and, when there are any, how many tool calls of theirs have
// no answer yet: "3 requests (5 tool calls)", "1 request (1 tool call)", "1 request".
func requestsText(n, calls int) string {
	s := webhook.Count(uint64(n), "request")
	if calls > 0 {
		s += fmt.Sprintf(" (%s)", webhook.Count(uint64(calls), "tool call"))
	}
	return s
}
