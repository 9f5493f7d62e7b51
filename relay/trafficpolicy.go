package relay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// trafficPolicyPhases are the top-level keys of an ngrok traffic policy.
var trafficPolicyPhases = []string{"on_http_request", "on_http_response", "on_tcp_connect"}

// ReadTrafficPolicy reads and checks an ngrok traffic policy file (--traffic-policy),
// YAML or JSON, at start: a file that does not parse, is not a mapping, or has a top-level
// key ngrok does not know is an error naming the line, instead of a tunnel that fails
// later with ngrok's less precise message. The text is returned as it is, for ngrok.
func ReadTrafficPolicy(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--traffic-policy: %w", err)
	}
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return "", fmt.Errorf("--traffic-policy %s: line %d: %v", path, 1+bytes.Count(b[:min(int(se.Offset), len(b))], []byte("\n")), err)
			}
			return "", fmt.Errorf("--traffic-policy %s: %w", path, err)
		}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return "", fmt.Errorf("--traffic-policy %s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return "", fmt.Errorf("--traffic-policy %s: the file is empty", path)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return "", fmt.Errorf("--traffic-policy %s: line %d: a traffic policy is a mapping with %s", path, root.Line, strings.Join(trafficPolicyPhases, ", "))
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		known := false
		for _, p := range trafficPolicyPhases {
			known = known || k.Value == p
		}
		if !known {
			return "", fmt.Errorf("--traffic-policy %s: line %d: unknown key %q: a traffic policy has %s", path, k.Line, k.Value, strings.Join(trafficPolicyPhases, ", "))
		}
		if v.Kind != yaml.SequenceNode && !(v.Kind == yaml.ScalarNode && v.Tag == "!!null") {
			return "", fmt.Errorf("--traffic-policy %s: line %d: %s is a list of rules", path, v.Line, k.Value)
		}
	}
	return string(b), nil
}
