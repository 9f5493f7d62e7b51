package webhook

import (
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/vapimon/vapimon/webhook/vapischema"
)

// benchToolCalls is a typical tool-calls exchange: two calls, answered in one reply.
func benchToolCalls(b *testing.B) (*Message, []byte) {
	b.Helper()
	msg, err := Parse([]byte(checkToolCalls2))
	if err != nil {
		b.Fatal(err)
	}
	return msg, []byte(`{"results":[{"toolCallId":"call_abc","name":"get_weather","result":"Paris: 18C, light rain"},{"toolCallId":"call_def","name":"get_time","result":"12:04 CET"}]}`)
}

// BenchmarkJudgeReply measures the reply check on the relay's path for a typical
// tool-calls reply: with the embedded schema (compiled before the timer starts), and with
// the hand-written checks that stand in when a schema cannot be compiled, the baseline of
// the same run. "paired" alternates the two in blocks and reports their ratio, which a
// busy machine moves much less than the absolute times:
//
//	go test ./webhook -run '^$' -bench JudgeReply -count 6
func BenchmarkJudgeReply(b *testing.B) {
	msg, body := benchToolCalls(b)
	schema := newReplySchemas(vapischema.Embedded)
	if _, _, ok := schema.schemaFor(TypeToolCalls); !ok {
		b.Fatal("the tool-calls schema did not compile")
	}
	hand := newReplySchemas(func() (*vapischema.Schemas, error) { return nil, errors.New("benchmark baseline") })
	b.Run("paired", func(b *testing.B) {
		b.ReportMetric(pairedRatio(b, func() { schema.judge(msg, 200, nil, body) }, func() { hand.judge(msg, 200, nil, body) }), "schema/hand")
	})
	for _, tc := range []struct {
		name string
		r    *replySchemas
	}{{"schema", schema}, {"hand-written", hand}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if v := tc.r.judge(msg, 200, nil, body); !v.OK() || len(v.Warnings) > 0 {
					b.Fatal(v)
				}
			}
		})
	}
}

// pairedRatio runs a and base alternately, in blocks, for b.N iterations each, and returns
// the ratio of their total times.
func pairedRatio(b *testing.B, a, base func()) float64 {
	const block = 100
	var ta, tb time.Duration
	for done := 0; done < b.N; done += block {
		n := min(block, b.N-done)
		start := time.Now()
		for range n {
			a()
		}
		mid := time.Now()
		for range n {
			base()
		}
		ta += mid.Sub(start)
		tb += time.Since(mid)
	}
	if tb == 0 {
		return 0
	}
	return float64(ta) / float64(tb)
}

// BenchmarkJudgeReplyDocsShape is the reply check for the shape of Vapi's docs' examples
// (and of the external load benchmark): one result without "name", which the schema
// requires, so the verdict carries a warning on every reply.
//
//	go test ./webhook -run '^$' -bench JudgeReplyDocsShape -benchmem
func BenchmarkJudgeReplyDocsShape(b *testing.B) {
	msg, err := Parse([]byte(checkToolCalls1))
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"results":[{"toolCallId":"` + msg.ToolCalls[0].ID + `","result":"Paris: 18C, light rain"}]}`)
	r := newReplySchemas(vapischema.Embedded)
	if _, _, ok := r.schemaFor(TypeToolCalls); !ok {
		b.Fatal("the tool-calls schema did not compile")
	}
	b.ReportAllocs()
	for b.Loop() {
		if v := r.judge(msg, 200, nil, body); !v.OK() || len(v.Warnings) != 1 {
			b.Fatal(v)
		}
	}
}

// TestJudgeFastShapeWarnsAsTheValidator holds the fast path's ready-made warnings for
// unnamed results to what the schema validator's issues become through tolerated.
func TestJudgeFastShapeWarnsAsTheValidator(t *testing.T) {
	t.Parallel()
	r := newReplySchemas(vapischema.Embedded)
	s, name, ok := r.schemaFor(TypeToolCalls)
	if !ok {
		t.Fatal("the tool-calls schema did not compile")
	}
	for n := 1; n <= 10; n++ {
		for _, unnamedEvery := range []int{1, 2, 3} {
			calls, results := "", ""
			for i := range n {
				if i > 0 {
					calls, results = calls+",", results+","
				}
				id := "call_" + strconv.Itoa(i)
				calls += `{"id":"` + id + `","type":"function","function":{"name":"f","arguments":{}}}`
				if i%unnamedEvery == 0 {
					results += `{"toolCallId":"` + id + `","result":"ok"}`
				} else {
					results += `{"toolCallId":"` + id + `","name":"f","result":"ok"}`
				}
			}
			msg, err := Parse([]byte(`{"message":{"type":"tool-calls","toolCallList":[` + calls + `]}}`))
			if err != nil {
				t.Fatal(err)
			}
			body := []byte(`{"results":[` + results + `]}`)
			doc, _ := decodeReply(body)
			var want []string
			for _, is := range schemaIssues(s, name, doc.(map[string]any)) {
				w := tolerated(TypeToolCalls, is, doc.(map[string]any))
				if w == "" {
					t.Fatalf("%s: issue %s is not tolerated", body, is)
				}
				want = append(want, w)
			}
			if got := r.judge(msg, 200, nil, body); !slices.Equal(got.Warnings, want) || !got.OK() {
				t.Errorf("%s:\n got %q (problems %q)\nwant %q", body, got.Warnings, got.Problems, want)
			}
		}
	}
}
