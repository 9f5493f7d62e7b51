package relay

import (
	"errors"
	"fmt"
	"strings"

	"github.com/vapimon/vapimon/webhook"
)

// Route sends messages of one type, or of every type ("*"), to a URL.
type Route struct {
	// Type is a message type (e.g. "tool-calls") or "*" for every type without a route
	// of its own. "transcript" also matches `transcript[transcriptType="final"]`.
	Type string
	// URL is the developer's endpoint. When it has no path, the path Vapi posted to is
	// appended.
	URL string
}

// ParseRoutes reads --forward-to values: "URL" (every type) or "TYPE=URL". A URL without
// a scheme gets http://. Unknown types, two routes for one type and bad URLs are errors
// that name the flag value.
func ParseRoutes(specs []string) ([]Route, error) {
	var out []Route
	seen := map[string]string{}
	for _, spec := range specs {
		typ, raw := splitRoute(strings.TrimSpace(spec))
		if typ != "*" && !webhook.IsKnownType(typ) {
			msg := fmt.Sprintf("--forward-to %q: unknown message type %q", spec, typ)
			if s := suggestType(typ); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			return nil, errors.New(msg)
		}
		u, err := normalizeURL(raw)
		if err != nil {
			return nil, fmt.Errorf("--forward-to %q: %v", spec, err)
		}
		if prev, dup := seen[typ]; dup {
			what := "message type " + typ
			if typ == "*" {
				what = "every other message type (*)"
			}
			return nil, fmt.Errorf("--forward-to %q: %s already goes to %s", spec, what, prev)
		}
		seen[typ] = u
		out = append(out, Route{Type: typ, URL: u})
	}
	return out, nil
}

// splitRoute separates "TYPE=URL" into its parts; anything else is a URL for every type.
// A URL may contain '=' (in its query), so the part before '=' must look like a type name.
func splitRoute(spec string) (typ, rawURL string) {
	if rest, ok := strings.CutPrefix(spec, webhook.TypeTranscriptFinal+"="); ok {
		return webhook.TypeTranscriptFinal, rest
	}
	if i := strings.IndexByte(spec, '='); i > 0 && isTypeName(spec[:i]) {
		return spec[:i], spec[i+1:]
	}
	return "*", spec
}

func isTypeName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_' || r == '*') {
			return false
		}
	}
	return true
}

// normalizeURL checks a forward target (webhook.ParseServerURL) and returns it in
// canonical form: the scheme in lower case, no fragment.
func normalizeURL(raw string) (string, error) {
	_, u, err := webhook.ParseServerURL(raw)
	if err != nil {
		return "", err
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Fragment = ""
	return u.String(), nil
}

// suggestType returns the known type closest to a mistyped one, or "".
func suggestType(typ string) string {
	best, bestD := "", 4
	for _, k := range webhook.KnownTypes {
		if d := webhook.EditDistance(typ, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}
