package tui

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/vapimon/vapimon/webhook"
)

// ErrOperatorGone is returned (wrapping context.Canceled) by Operator.Respond once the
// monitor has quit: nobody is left to type an answer, so the handler sends its fallback.
var ErrOperatorGone = fmt.Errorf("operator: monitor closed: %w", context.Canceled)

// errQueueFull is returned when more requests wait than the monitor can show.
var errQueueFull = errors.New("operator: too many requests waiting for an answer")

// operatorQueue is how many requests may wait to be handed to the screen. The handler never
// waits for room: past this, Respond declines at once.
const operatorQueue = 256

// Operator is the webhook.Responder that asks the human at the keyboard. Respond hands the
// request to the monitor through a buffered channel (drained by Run's single forwarder
// goroutine) and waits for the typed answer, the deadline, or the monitor quitting. It never
// waits on the screen itself.
type Operator struct {
	reqs chan *opRequest

	mu   sync.Mutex
	gone chan struct{} // closed when the monitor quits
	shut bool
}

// opRequest is one event waiting for an operator's answer.
type opRequest struct {
	ev    *webhook.Event
	ctx   context.Context
	reply chan webhook.Reply // buffered 1: the model never blocks answering
}

// answer delivers the reply to the waiting Respond. It never blocks; a second answer to the
// same request is dropped.
func (r *opRequest) answer(rep webhook.Reply) {
	select {
	case r.reply <- rep:
	default:
	}
}

// NewOperator returns an Operator ready to be put in the handler's responder chain and
// passed to Run.
func NewOperator() *Operator {
	return &Operator{reqs: make(chan *opRequest, operatorQueue), gone: make(chan struct{})}
}

// Name implements webhook.Responder.
func (o *Operator) Name() string { return "operator" }

// Respond implements webhook.Responder. It answers tool-calls (all calls of one message in
// one reply), the legacy function-call, and assistant-request; it returns webhook.ErrPass for
// every other type. It returns ctx.Err() when the deadline passes first, and ErrOperatorGone
// once the monitor has quit, so that the handler sends its fallback.
func (o *Operator) Respond(ctx context.Context, ev *webhook.Event) (webhook.Reply, error) {
	if ev == nil || ev.Msg == nil {
		return webhook.Reply{}, webhook.ErrPass
	}
	switch ev.Msg.Kind {
	case webhook.TypeToolCalls, webhook.TypeFunctionCall:
		if len(ev.Msg.ToolCalls) == 0 {
			return webhook.Reply{}, webhook.ErrPass
		}
	case webhook.TypeAssistantRequest:
	default:
		return webhook.Reply{}, webhook.ErrPass
	}
	select {
	case <-o.gone:
		return webhook.Reply{}, ErrOperatorGone
	default:
	}
	req := &opRequest{ev: ev, ctx: ctx, reply: make(chan webhook.Reply, 1)}
	select {
	case o.reqs <- req:
	default:
		return webhook.Reply{}, errQueueFull
	}
	select {
	case rep := <-req.reply:
		rep.Source = webhook.SourceOperator
		return rep, nil
	case <-ctx.Done():
		return webhook.Reply{}, ctx.Err()
	case <-o.gone:
		return webhook.Reply{}, ErrOperatorGone
	}
}

// close releases every waiting and future Respond with ErrOperatorGone. Run calls it when
// the monitor exits.
func (o *Operator) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.shut {
		o.shut = true
		close(o.gone)
	}
}

// requests is the channel Run's forwarder drains; nil for a nil Operator.
func (o *Operator) requests() <-chan *opRequest {
	if o == nil {
		return nil
	}
	return o.reqs
}
