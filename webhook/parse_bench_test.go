package webhook_test

import (
	"testing"

	"github.com/vapimon/vapimon/webhook"
)

// BenchmarkParse decodes a realistic tool-calls body (the handler benchmark's).
func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBody)))
	for i := 0; i < b.N; i++ {
		if _, err := webhook.Parse([]byte(benchBody)); err != nil {
			b.Fatal(err)
		}
	}
}
