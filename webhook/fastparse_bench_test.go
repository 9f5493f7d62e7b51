package webhook

import "testing"

// benchToolCallsBody is webhook_test's benchBody, the handler benchmark's tool-calls body.
const benchToolCallsBody = `{"message":{"type":"tool-calls","timestamp":1760000006200,"call":{"id":"7420f27a-30fd-4f49-a995-5549ae7cc00d","orgId":"0b1c9e2a-1111-4000-8000-000000000000","type":"inboundPhoneCall","customer":{"number":"+14155550123"}},"toolCallList":[{"id":"call_VaJOd8ZeZgWCEHDYomyCPfwN","type":"function","function":{"name":"get_weather","arguments":{"location":"Paris"}}}],"toolWithToolCallList":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}},"server":{"url":"https://abc.ngrok.app/vapi"},"messages":[],"async":false,"toolCall":{"id":"call_VaJOd8ZeZgWCEHDYomyCPfwN","type":"function","function":{"name":"get_weather","arguments":{"location":"Paris"}}}}]}}`

// BenchmarkFastDecode is Parse's decoding step alone (BenchmarkParse is the whole of it).
func BenchmarkFastDecode(b *testing.B) {
	body := []byte(benchToolCallsBody)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var w wireMessage
		sc := scratchPool.Get().(*wireScratch)
		if !fastDecodeInto(body, &w, sc) {
			b.Fatal("the fast path gave up")
		}
		putScratch(sc)
	}
}

// BenchmarkValidJSON is the validity check alone, for comparison with BenchmarkFastDecode,
// which does it along the way.
func BenchmarkValidJSON(b *testing.B) {
	body := []byte(benchToolCallsBody)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if !validJSON(body) {
			b.Fatal("not valid")
		}
	}
}
