package webhook

import "testing"

// mustParse parses body or fails the test (shared by the package's tests).
func mustParse(t *testing.T, body string) *Message {
	t.Helper()
	m, err := Parse([]byte(body))
	if err != nil {
		t.Fatalf("Parse(%s): %v", body, err)
	}
	return m
}
