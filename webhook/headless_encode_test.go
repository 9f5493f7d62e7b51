package webhook

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestAppendHeadlessLineMatchesEncodingJSON holds the hand-written headless encoder to
// encoding/json's bytes (an Encoder not escaping HTML) on random lines: every field set or
// not, strings with quotes, control characters, HTML, U+2028, invalid UTF-8, times in other
// zones, latencies of every magnitude, bodies as headlessBody makes them. Lines it declines
// (a year past 9999, a NaN latency, a body with white space) must be only those.
func TestAppendHeadlessLineMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"", "a", "tool-calls", `q"uote`, `back\slash`, "nl\nx", "tab\t", "\x00\x1f", "<b>&amp;</b>", "\u2028\u2029", "é✓🙂", "\xff\xfe bad", "call_VaJOd8Ze", " "}
	str := func() string {
		if r.IntN(3) == 0 {
			return ""
		}
		var b []byte
		for range 1 + r.IntN(3) {
			b = append(b, pieces[r.IntN(len(pieces))]...)
		}
		return string(b)
	}
	strs := func() []string {
		if r.IntN(2) == 0 {
			return nil
		}
		out := make([]string, r.IntN(3))
		for i := range out {
			out[i] = str()
		}
		return out
	}
	boolp := func() *bool {
		if r.IntN(3) == 0 {
			return nil
		}
		b := r.IntN(2) == 0
		return &b
	}
	zones := []*time.Location{time.UTC, time.FixedZone("x", 5*3600+1800), time.FixedZone("y", -7*3600)}
	floats := []float64{0, math.Copysign(0, -1), 0.001, 1.5, 12.345678, 1e-7, 3e-9, 1e21, 1e22, 123456789.125, -4.25, math.NaN(), math.Inf(1)}
	bodies := [][]byte{nil, []byte(`{"results":[{"toolCallId":"a","result":"x <y> & \u2028"}]}`), []byte("not json \x01 \xff"), []byte(" { \"a\" : [1, 2] } "), []byte(`"just a string"`), []byte("{}")}
	var enc bytes.Buffer
	je := json.NewEncoder(&enc)
	je.SetEscapeHTML(false)
	matched, declined := 0, 0
	for i := range 20000 {
		l := HeadlessLine{Kind: str(), Seq: uint64(r.IntN(3)) * r.Uint64N(1<<40),
			Type: str(), CallID: str(), Path: str(), Verified: boolp(), AuthMode: str(), Known: boolp(),
			Status: []int{0, 200, 401, -1}[r.IntN(4)], Source: str(), Attempts: strs(), Note: str(), Reason: str(),
			Substituted: r.IntN(2) == 0, ForwardFailed: str(), Listen: str(), PublicURL: str(), Tunnel: str(), TunnelNote: str(),
			Auth: str(), Tape: str(), Forward: str(), ToolTimeout: str(), Mode: str(), Warnings: strs(), TapeError: str(),
			Level: str(), Text: str(), Target: str(), Error: str()}
		l.Time = time.Unix(r.Int64N(4e9), int64(r.IntN(3))*r.Int64N(1e9)).In(zones[r.IntN(len(zones))])
		if i%500 == 0 {
			l.Time = time.Date(10000+r.IntN(5), 1, 1, 0, 0, 0, 0, time.UTC)
		}
		if r.IntN(2) == 0 {
			f := floats[r.IntN(len(floats))] * []float64{1, 1, -1, 7.77}[r.IntN(4)]
			l.LatencyMs = &f
		}
		if r.IntN(2) == 0 {
			n := r.Uint64N(1 << 20)
			l.TapeFailed = &n
		}
		switch b := bodies[r.IntN(len(bodies))]; r.IntN(3) {
		case 0:
			l.Body = headlessBody(b)
		case 1:
			l.Body = b // possibly not compact, or not JSON: declined, never wrong
		}
		if r.IntN(4) == 0 {
			c := 0.25
			l.Payload = &HeadlessPayload{Tools: []HeadlessTool{{ID: str(), Name: str(), Arguments: headlessBody([]byte(`{"city":"Paris <&>"}`))}}, Role: str(), Transcript: str(), Cost: &c}
		}
		if len(l.Body) > 0 && !json.Valid(l.Body) {
			l.Body = nil // encoding/json itself fails on those; the caller never has them
		}
		enc.Reset()
		if err := je.Encode(l); err != nil {
			got, ok := appendHeadlessLine(nil, &l)
			if ok {
				t.Fatalf("line %d: encoding/json fails (%v), the fast encoder wrote %s", i, err, got)
			}
			declined++
			continue
		}
		want := bytes.TrimSuffix(enc.Bytes(), []byte("\n"))
		got, ok := appendHeadlessLine([]byte("prefix"), &l)
		if !ok {
			if string(got) != "prefix" {
				t.Fatalf("line %d: declined but appended %q", i, got)
			}
			if y := l.Time.Year(); y <= 9999 && (l.Body == nil || isCompactJSON(l.Body)) {
				t.Fatalf("line %d: declined a line it should write: %s", i, want)
			}
			declined++
			continue
		}
		if !bytes.Equal(got[len("prefix"):], want) {
			t.Fatalf("line %d:\n got %s\nwant %s", i, got[len("prefix"):], want)
		}
		matched++
	}
	if matched < 15000 {
		t.Fatalf("only %d of 20000 lines went through the fast encoder (%d declined)", matched, declined)
	}
	t.Logf("%d lines byte-identical to encoding/json, %d declined", matched, declined)
}

func BenchmarkHeadlessLine(b *testing.B) {
	ms := 0.183
	v, k := true, true
	l := HeadlessLine{Kind: "reply", Time: time.Now(), Seq: 12345, Status: 200, Source: "answers", LatencyMs: &ms,
		Body: headlessBody([]byte(`{"results":[{"toolCallId":"call_load_1","result":"Paris: 18C, light rain"}]}`))}
	ev := HeadlessLine{Kind: "event", Time: time.Now(), Seq: 12345, Type: "tool-calls", CallID: "9f6c0b8e-load-4e1a-9d55-000000000001", Path: "/vapi", Verified: &v, AuthMode: "secret", Known: &k}
	b.Run("encoding/json", func(b *testing.B) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			_ = enc.Encode(l)
			_ = enc.Encode(ev)
		}
	})
	b.Run("append", func(b *testing.B) {
		var dst []byte
		b.ReportAllocs()
		for b.Loop() {
			dst, _ = appendHeadlessLine(dst[:0], &l)
			dst, _ = appendHeadlessLine(append(dst, '\n'), &ev)
		}
	})
}
