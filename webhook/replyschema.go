package webhook

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/vapimon/vapimon/webhook/vapischema"
)

// replySchemaNames maps a message type to the schema of its reply in Vapi's OpenAPI
// document. voice-request is answered with raw PCM (the spec's {data} object only
// documents that), and the legacy function-call has no schema: both are checked by hand.
var replySchemaNames = map[string]string{
	TypeToolCalls:                  "ServerMessageResponseToolCalls",
	TypeCallEndpointingRequest:     "ServerMessageResponseCallEndpointingRequest",
	TypeCampaignPredial:            "ServerMessageResponseCampaignPredial",
	TypeHandoffDestinationRequest:  "ServerMessageResponseHandoffDestinationRequest",
	TypeKnowledgeBaseRequest:       "ServerMessageResponseKnowledgeBaseRequest",
	TypeTransferDestinationRequest: "ServerMessageResponseTransferDestinationRequest",
	TypeAssistantRequest:           "ServerMessageResponseAssistantRequest",
}

// compileOrder is cheapest first: tool-calls is ready within a millisecond of the start,
// while assistant-request (a transient assistant is most of the spec) takes a few hundred.
var compileOrder = []string{
	TypeToolCalls, TypeCallEndpointingRequest, TypeCampaignPredial, TypeHandoffDestinationRequest,
	TypeKnowledgeBaseRequest, TypeTransferDestinationRequest, TypeAssistantRequest,
}

// replySchemas compiles the embedded reply schemas once, in the background, and hands each
// to the checks as soon as it is ready. A schema that fails to load or compile is reported
// once in the log and its messages are checked by hand (checkShape): a bad schema file
// costs precision, never a user's session.
type replySchemas struct {
	load func() (*vapischema.Schemas, error)

	start sync.Once
	// entries never changes after newReplySchemas; each entry's err, and set, are written
	// before the entry's ready channel is closed and read only after it.
	entries map[string]*schemaEntry
	set     *vapischema.Schemas

	logMu    sync.Mutex
	logger   *slog.Logger
	unlogged []error
}

// replyChecks is the process's set. The schemas are the same for everyone and immutable
// once compiled, like a compiled regexp; only when they are compiled is decided at run time.
var replyChecks = newReplySchemas(vapischema.Embedded)

// schemaEntry is the compile state of one message type's reply schema.
type schemaEntry struct {
	ready chan struct{}
	err   error
}

func newReplySchemas(load func() (*vapischema.Schemas, error)) *replySchemas {
	r := &replySchemas{load: load, entries: map[string]*schemaEntry{}}
	for _, kind := range compileOrder {
		r.entries[kind] = &schemaEntry{ready: make(chan struct{})}
	}
	return r
}

// WarmReplyChecks starts compiling the reply schemas in the background, if that has not
// started yet, and returns at once. Call it when the process starts (listen, send, replay):
// the reply check of the first message then waits for nothing, or for the rest of its own
// schema's compile. A schema that fails is logged on logger as a warning, and that
// message type is then checked by vapimon's hand-written checks; nil logs nowhere (the
// failures are kept until a later call brings a logger).
func WarmReplyChecks(logger *slog.Logger) {
	replyChecks.warm(logger)
}

func (r *replySchemas) warm(logger *slog.Logger) {
	if logger != nil {
		r.logMu.Lock()
		r.logger = logger
		pending := r.unlogged
		r.unlogged = nil
		r.logMu.Unlock()
		for _, err := range pending {
			r.report(err)
		}
	}
	r.start.Do(func() { go r.compileAll() })
}

// schemaFor returns the compiled schemas and the schema name for a reply to kind, waiting
// for its compile if it is under way; ok is false when kind has no schema or it failed.
func (r *replySchemas) schemaFor(kind string) (s *vapischema.Schemas, name string, ok bool) {
	e, has := r.entries[kind]
	if !has {
		return nil, "", false
	}
	r.start.Do(func() { go r.compileAll() })
	<-e.ready
	if e.err != nil || r.set == nil {
		return nil, "", false
	}
	return r.set, replySchemaNames[kind], true
}

// compileAll runs once, in its own goroutine: finite work that ends by itself, so no one
// needs to stop it. Every channel is closed whatever happens, a panic included.
func (r *replySchemas) compileAll() {
	next := 0
	defer func() {
		if p := recover(); p != nil {
			err := fmt.Errorf("compiling vapimon's reply schemas panicked: %v", p)
			for _, kind := range compileOrder[next:] {
				r.entries[kind].err = err
				close(r.entries[kind].ready)
			}
			r.report(fmt.Errorf("%w; replies are checked by hand instead", err))
		}
	}()
	set, err := r.load()
	if err != nil {
		for ; next < len(compileOrder); next++ {
			e := r.entries[compileOrder[next]]
			e.err = err
			close(e.ready)
		}
		r.report(fmt.Errorf("vapimon's reply schemas did not load (%w): replies are checked by hand instead", err))
		return
	}
	r.set = set
	for ; next < len(compileOrder); next++ {
		kind := compileOrder[next]
		e := r.entries[kind]
		if err := set.Compile(replySchemaNames[kind]); err != nil {
			e.err = err
			r.report(fmt.Errorf("vapimon's reply schema for %s did not compile (%w): its replies are checked by hand instead", kind, err))
		}
		close(e.ready)
	}
}

// report logs err as a warning, or keeps it until a logger is given.
func (r *replySchemas) report(err error) {
	r.logMu.Lock()
	l := r.logger
	if l == nil {
		r.unlogged = append(r.unlogged, err)
	}
	r.logMu.Unlock()
	if l != nil {
		l.Warn("reply check", "err", err)
	}
}
