package webhook

import "slices"

// NoisyTypes are the message types that arrive many times a turn and bury the rest of the
// events pane: what the monitor's hide key (H) hides when --hide names nothing.
var NoisyTypes = []string{TypeSpeechUpdate, TypeConversationUpdate, TypeModelOutput, "assistant.speechStarted"}

// TypeFilter chooses which requests are shown (--hide, --only) or recorded
// (--record-only) by message type. A type matches a message by its type as sent or its
// normalised Kind (transcript covers transcript[transcriptType="final"]). A request that
// has no type (rejected before it was parsed, a body that is not a Vapi message) always
// passes: it is what a person most needs to see.
type TypeFilter struct {
	// Only, when set, lets only these types pass.
	Only []string
	// Hide stops these types.
	Hide []string
}

// Active reports whether the filter stops anything.
func (f TypeFilter) Active() bool { return len(f.Only) > 0 || len(f.Hide) > 0 }

// Passes reports whether a request passes the filter.
func (f TypeFilter) Passes(ev *Event) bool {
	if ev == nil || ev.Msg == nil || ev.Rejected != "" {
		return true
	}
	return f.PassesType(ev.Msg.Type, ev.Msg.Kind)
}

// PassesType reports whether a message of this type (and normalised kind) passes.
func (f TypeFilter) PassesType(typ, kind string) bool {
	in := func(list []string) bool {
		return slices.Contains(list, typ) || (kind != "" && slices.Contains(list, kind))
	}
	if len(f.Only) > 0 && !in(f.Only) {
		return false
	}
	return !in(f.Hide)
}
