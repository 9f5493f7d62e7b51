package webhook

import "testing"

// BenchmarkParseFixtures parses every built-in fixture body once per op: the message types
// besides tool-calls, from small status updates to end-of-call reports.
func BenchmarkParseFixtures(b *testing.B) {
	bodies := fixtureBodies(b)
	n := 0
	for _, body := range bodies {
		n += len(body)
	}
	b.ReportAllocs()
	b.SetBytes(int64(n))
	for b.Loop() {
		for _, body := range bodies {
			if _, err := Parse(body); err != nil {
				b.Fatal(err)
			}
		}
	}
}
