package webhook

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestFastDecodeNestingLimit: the fast decoder checks validity as it goes, so it must apply
// encoding/json's nesting limit (10000) to the whole body, counting the containers it has
// entered itself: it answers exactly when the body is valid.
func TestFastDecodeNestingLimit(t *testing.T) {
	t.Parallel()
	for _, n := range []int{9997, 9998, 9999} { // plus the body's object and the message's
		for _, place := range []string{`"x":%s`, `"toolCallList":%s`, `"toolCallList":[{"function":{"arguments":%s}}]`} {
			nested := strings.Repeat("[", n) + strings.Repeat("]", n)
			body := []byte(`{"message":{"type":"tool-calls",` + strings.Replace(place, "%s", nested, 1) + `}}`)
			_, ok := fastDecode(body)
			if valid := json.Valid(body); ok && !valid {
				t.Errorf("depth %d in %s: the fast path answered for a body json.Valid rejects", n, place)
			} else if valid && !ok && place == `"x":%s` {
				t.Errorf("depth %d in %s: the fast path gave up on a valid body", n, place)
			}
		}
	}
}
