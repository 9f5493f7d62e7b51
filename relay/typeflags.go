package relay

import (
	"fmt"
	"strings"

	"github.com/vapimon/vapimon/webhook"
)

// ParseTypes reads the values of a flag naming message types (--hide, --only,
// --record-only): comma-separated, repeatable. An unknown type is an error that names the
// flag and the closest known type, so that a typo does not silently hide nothing.
func ParseTypes(flag string, values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t == "" {
				continue
			}
			if !webhook.IsKnownType(t) {
				msg := fmt.Sprintf("%s: unknown message type %q", flag, t)
				if s := suggestType(t); s != "" {
					msg += fmt.Sprintf(" (did you mean %s?)", s)
				}
				return nil, fmt.Errorf("%s; the types are listed by \"vapimon fixtures\"", msg)
			}
			out = append(out, t)
		}
	}
	return out, nil
}

// recordOnly passes to the tape only the requests of the types --record-only names (and
// every rejected request, which has no type).
type recordOnly struct {
	rec    webhook.Recorder
	filter webhook.TypeFilter
}

// Received implements webhook.Recorder.
func (r recordOnly) Received(ev *webhook.Event) error {
	if !r.filter.Passes(ev) {
		return nil
	}
	return r.rec.Received(ev)
}

// Replied implements webhook.Recorder.
func (r recordOnly) Replied(ev *webhook.Event, out *webhook.Outcome) error {
	if !r.filter.Passes(ev) {
		return nil
	}
	return r.rec.Replied(ev, out)
}
