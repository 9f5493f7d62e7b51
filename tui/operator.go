package tui

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/vapimon/vapimon/webhook"
)

// ErrOperatorGone is returned (wrapping context.Canceled) by Operator.Respond once the
// monitor has quit: nobody is left to type an answer, so the handler sends its fallback,
// saying vapimon was closed (it is webhook.ErrMonitorClosed).
var ErrOperatorGone = webhook.ErrMonitorClosed

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

	// released counts the requests still waiting for an answer when the monitor quit
	// (their fallback went out instead); releasedHeld those whose server's reply was held
	// for review (it went out as is).
	released, releasedHeld atomic.Int64

	// ahead holds the type-ahead requests (typeahead.go) by event seq, under mu: once the
	// monitor has quit, an answer typed ahead is still what goes when your server fails.
	ahead map[uint64]*opRequest
}

// holdAhead keeps r, the type-ahead request for event seq, for whenGone.
func (o *Operator) holdAhead(seq uint64, r *opRequest) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ahead == nil {
		o.ahead = make(map[uint64]*opRequest)
	}
	o.ahead[seq] = r
}

// dropAhead forgets the type-ahead request r for event seq (answered by your server, or
// handed to the operator's own request).
func (o *Operator) dropAhead(seq uint64, r *opRequest) {
	if o == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ahead[seq] == r {
		delete(o.ahead, seq)
	}
}

// Kept implements webhook.Keeper: the answer typed ahead for ev (typeahead.go), whole or
// the tool calls typed so far, when the request's time is cut before the operator is
// asked (a shutdown while your server was asked); webhook.ErrPass when none was typed.
func (o *Operator) Kept(ev *webhook.Event) (webhook.Reply, error) {
	if ev == nil {
		return webhook.Reply{}, webhook.ErrPass
	}
	o.mu.Lock()
	r := o.ahead[ev.Seq]
	o.mu.Unlock()
	if r == nil {
		return webhook.Reply{}, webhook.ErrPass
	}
	return r.keptReply(webhook.ErrPass)
}

// keptReply is r's whole answer typed ahead, else r.late(none).
func (r *opRequest) keptReply(none error) (webhook.Reply, error) {
	r.mu.Lock()
	typed := r.typed
	r.mu.Unlock()
	if typed != nil {
		rep := *typed
		rep.Source = webhook.SourceOperator
		return rep, nil
	}
	return webhook.Reply{}, r.late(none)
}

// typedAhead counts the type-ahead requests with something typed (whole or in part), for
// the exit message: they go if your server fails.
func (o *Operator) typedAhead() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, r := range o.ahead {
		r.mu.Lock()
		if r.typed != nil || len(r.partial) > 0 {
			n++
		}
		r.mu.Unlock()
	}
	return n
}

// whenGone is what Respond returns for ev once the monitor has quit: the answer typed
// ahead for it (whole, or the tool calls typed so far for the fallback to keep), else
// ErrOperatorGone.
func (o *Operator) whenGone(ev *webhook.Event) (webhook.Reply, error) {
	o.mu.Lock()
	r := o.ahead[ev.Seq]
	o.mu.Unlock()
	if r == nil {
		return webhook.Reply{}, ErrOperatorGone
	}
	return r.keptReply(ErrOperatorGone)
}

// Released returns how many requests were waiting for the operator's answer when the
// monitor quit (they got the fallback reply, keeping any answer typed in time), for the
// exit message.
func (o *Operator) Released() int {
	if o == nil {
		return 0
	}
	return int(o.released.Load())
}

// ReleasedHeld returns how many replies of your server were held for review (--intercept)
// when the monitor quit: they went out as your server sent them.
func (o *Operator) ReleasedHeld() int {
	if o == nil {
		return 0
	}
	return int(o.releasedHeld.Load())
}

// opRequest is one event waiting for an operator's answer.
type opRequest struct {
	ev    *webhook.Event
	ctx   context.Context
	reply chan webhook.Reply // buffered 1: the model never blocks answering
	// server is the developer's server's reply held for the operator's review
	// (--intercept); nil for a request nobody has answered yet.
	server *webhook.Reply

	// partial holds the tool results typed so far (set from the UI loop, read by Respond
	// when the deadline passes), so an answer given in time is never lost.
	mu      sync.Mutex
	partial []webhook.ToolResult
	// typed is the whole answer typed ahead, for a type-ahead request (typeahead.go).
	typed *webhook.Reply
}

// setTyped records (or, with nil, forgets) the whole answer typed ahead; forgetting it
// forgets the tool results typed so far too (the operator asks them again).
func (r *opRequest) setTyped(rep *webhook.Reply) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.typed = rep
	if rep == nil {
		r.partial = nil
	}
}

// addPartial records one typed tool result.
func (r *opRequest) addPartial(res webhook.ToolResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.partial {
		if r.partial[i].ToolCallID == res.ToolCallID {
			r.partial[i] = res
			return
		}
	}
	r.partial = append(r.partial, res)
}

// late returns the error for a request whose time ran out: the typed results so far, if
// any, for the handler to keep; else err.
func (r *opRequest) late(err error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.partial) > 0 {
		return &webhook.PartialAnswer{Results: append([]webhook.ToolResult(nil), r.partial...), Err: err}
	}
	return err
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
// one reply), the legacy function-call, assistant-request, and, with a reply the operator
// writes as JSON, transfer-destination-request, handoff-destination-request,
// knowledge-base-request and campaign.predial (see jsonAnswered); it returns webhook.ErrPass
// for every other type (call.endpointing.request and voice-request among them). It returns ctx.Err() when the deadline passes first, and ErrOperatorGone
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
		if !jsonAnswered(ev.Msg.Kind) {
			return webhook.Reply{}, webhook.ErrPass
		}
	}
	select {
	case <-o.gone:
		return o.whenGone(ev)
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
		// An answer given at the last moment wins over the deadline.
		select {
		case rep := <-req.reply:
			rep.Source = webhook.SourceOperator
			return rep, nil
		default:
		}
		return webhook.Reply{}, req.late(ctx.Err())
	case <-o.gone:
		o.released.Add(1)
		if err := req.late(ErrOperatorGone); err != ErrOperatorGone {
			return webhook.Reply{}, err
		}
		return o.whenGone(ev)
	}
}

// Intercept shows the developer's server's reply to a message that expects one to the
// operator (--intercept), who sends it as is, edits it, or replaces it with a typed answer;
// it returns the reply to send. It matches relay.InterceptFunc: give it to
// (*relay.Forwarder).SetIntercept.
//
// It never fails, because the server did answer: when the deadline (ctx's) passes before the
// operator decides, when the monitor has quit or has too many requests waiting, and for
// replies a person cannot review in time or at all (voice-request audio, tool calls Vapi
// does not wait for), it returns the server's reply unchanged, with a Note saying why. A
// reply the operator edited or typed has Source webhook.SourceOperator; one sent as is
// keeps the server's.
func (o *Operator) Intercept(ctx context.Context, ev *webhook.Event, rep webhook.Reply) (webhook.Reply, error) {
	if ev == nil || ev.Msg == nil || !interceptable(ev.Msg) {
		return rep, nil
	}
	select {
	case <-o.gone:
		return withNote(rep, "not reviewed: the monitor has closed; your server's reply was sent as is"), nil
	default:
	}
	held := rep
	held.Header = rep.Header.Clone()
	held.Body = append([]byte(nil), rep.Body...)
	req := &opRequest{ev: ev, ctx: ctx, reply: make(chan webhook.Reply, 1), server: &held}
	select {
	case o.reqs <- req:
	default:
		return withNote(rep, "not reviewed: too many requests wait for the operator; your server's reply was sent as is"), nil
	}
	select {
	case out := <-req.reply:
		return out, nil
	case <-ctx.Done():
		// An answer given at the last moment wins over the deadline.
		select {
		case out := <-req.reply:
			return out, nil
		default:
		}
		return withNote(rep, "deadline passed before the operator chose: your server's reply sent unchanged"), nil
	case <-o.gone:
		o.releasedHeld.Add(1)
		return withNote(rep, "not reviewed: the monitor has closed; your server's reply was sent as is"), nil
	}
}

// interceptable reports whether a reply to msg is worth holding for review: not raw audio
// (voice-request), and not tool calls that are all async (Vapi does not wait for them).
func interceptable(msg *webhook.Message) bool {
	switch msg.Kind {
	case webhook.TypeVoiceRequest:
		return false
	case webhook.TypeToolCalls:
		return !webhook.AllAsync(msg.ToolCalls)
	}
	return webhook.ExpectsReply(msg.Kind)
}

// withNote adds an operator-facing remark to a reply's Note.
func withNote(rep webhook.Reply, note string) webhook.Reply {
	if rep.Note == "" {
		rep.Note = note
	} else {
		rep.Note += "; " + note
	}
	return rep
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
