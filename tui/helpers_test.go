package tui

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/vapimon/vapimon/webhook"
	"github.com/vapimon/vapimon/webhook/vapischema"
)

// base is the fixed start time of every scenario, in local time so that clock times print
// the same in every time zone.
var base = time.Date(2025, 10, 9, 10, 0, 0, 0, time.Local)

// clock is a settable clock for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const callID = "7420f27a-30fd-4f49-a995-5549ae7cc00d"

// receive returns the next value from ch; none within 5s fails the test with failure.
func receive[T any](t testing.TB, ch <-chan T, failure string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal(failure)
		var zero T
		return zero
	}
}

// event builds an accepted event from a webhook body, as the handler would publish it.
func event(t testing.TB, seq uint64, at time.Time, body string) *webhook.Event {
	t.Helper()
	msg, err := webhook.Parse([]byte(body))
	if err != nil {
		t.Fatalf("parse fixture %d: %v\n%s", seq, err, body)
	}
	ev := &webhook.Event{
		Seq: seq, Received: at, Method: http.MethodPost, Path: "/vapi",
		Header:     http.Header{"Content-Type": {"application/json"}, "X-Vapi-Secret": {"[redacted]"}},
		Body:       []byte(body),
		RemoteAddr: "127.0.0.1:53211",
		Verified:   true,
		Msg:        msg,
	}
	if b := webhook.Budget(msg.Kind, 20*time.Second); b > 0 {
		ev.VapiDeadline = at.Add(b)
		ev.Deadline = ev.VapiDeadline.Add(-webhook.SafetyMargin(b))
	}
	return ev
}

// rejected builds a rejected event.
func rejected(seq uint64, at time.Time, reason string, status int) *webhook.Event {
	return &webhook.Event{
		Seq: seq, Received: at, Method: http.MethodPost, Path: "/vapi",
		Header:   http.Header{"Content-Type": {"application/json"}, "X-Vapi-Secret": {"[redacted]"}},
		Body:     []byte(`{"message":{"type":"status-update","status":"in-progress"}}`),
		Rejected: reason, Status: status,
	}
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// Bodies of one inbound call (vapi-protocol.md §8).
func callBodies(id string) []struct {
	at   time.Duration
	body string
} {
	c := `"call":{"id":"` + id + `"}`
	return []struct {
		at   time.Duration
		body string
	}{
		{0, `{"message":{"type":"assistant-request","timestamp":1760000000000,"call":{"id":"` + id + `","orgId":"0b1c","type":"inboundPhoneCall","phoneCallProvider":"twilio","customer":{"number":"+14155550123"}},"phoneNumber":{"provider":"twilio","number":"+14155550100","name":"Support line"},"customer":{"number":"+14155550123"}}}`},
		{ms(1200), `{"message":{"type":"status-update","status":"in-progress","timestamp":1760000001200,` + c + `}}`},
		{ms(1500), `{"message":{"type":"speech-update","status":"started","role":"assistant","turn":0,"timestamp":1760000001500,` + c + `}}`},
		{ms(3000), `{"message":{"type":"transcript","role":"assistant","transcriptType":"final","transcript":"Hi Ada, how can I help?","timestamp":1760000003000,` + c + `}}`},
		{ms(3100), `{"message":{"type":"speech-update","status":"stopped","role":"assistant","turn":0,"timestamp":1760000003100,` + c + `}}`},
		{ms(4000), `{"message":{"type":"speech-update","status":"started","role":"user","turn":1,"timestamp":1760000004000,` + c + `}}`},
		{ms(5000), `{"message":{"type":"transcript","role":"user","transcriptType":"partial","transcript":"What's the weather","timestamp":1760000005000,` + c + `}}`},
		{ms(5600), `{"message":{"type":"transcript","role":"user","transcriptType":"final","transcript":"What's the weather in Paris?","timestamp":1760000005600,` + c + `}}`},
		{ms(5650), `{"message":{"type":"speech-update","status":"stopped","role":"user","turn":1,"timestamp":1760000005650,` + c + `}}`},
		{ms(6200), toolCallsBody(id, "call_VaJOd8ZeZgWCEHDYomyCPfwN", "get_weather", `{"location":"Paris"}`)},
	}
}

func toolCallsBody(id, tcID, name, args string) string {
	return `{"message":{"type":"tool-calls","timestamp":1760000006200,"call":{"id":"` + id + `"},` +
		`"toolCallList":[{"id":"` + tcID + `","type":"function","function":{"name":"` + name + `","arguments":` + args + `}}],` +
		`"toolWithToolCallList":[{"type":"function","function":{"name":"` + name + `"},"async":false,` +
		`"toolCall":{"id":"` + tcID + `","type":"function","function":{"name":"` + name + `","arguments":` + args + `}}}]}}`
}

// weatherBody is the tool call most tests answer: get_weather for Paris, tool call id call_1.
var weatherBody = toolCallsBody(callID, "call_1", "get_weather", `{"location":"Paris"}`)

func endBodies(id string) []struct {
	at   time.Duration
	body string
} {
	return []struct {
		at   time.Duration
		body string
	}{
		{30 * time.Second, `{"message":{"type":"status-update","status":"ended","endedReason":"customer-ended-call","timestamp":1760000030000,"call":{"id":"` + id + `"}}}`},
		{34 * time.Second, `{"message":{"type":"end-of-call-report","timestamp":1760000034000,"endedReason":"customer-ended-call",` +
			`"startedAt":"2025-10-09T10:00:01.200Z","endedAt":"2025-10-09T10:00:30.000Z","cost":0.0734,` +
			`"costs":[{"type":"transport","provider":"twilio","minutes":0.48,"cost":0.0041}],` +
			`"analysis":{"summary":"Caller asked for the weather in Paris; assistant looked it up.","successEvaluation":"true"},` +
			`"artifact":{"transcript":"AI: Hi Ada, how can I help?\nUser: What's the weather in Paris?","recordingUrl":"https://storage.vapi.ai/7420f27a-mono.wav","stereoRecordingUrl":"https://storage.vapi.ai/7420f27a-stereo.wav"},` +
			`"call":{"id":"` + id + `","status":"ended","endedReason":"customer-ended-call","cost":0.0734,` +
			`"costBreakdown":{"transport":0.0041,"stt":0.0051,"llm":0.0112,"tts":0.029,"vapi":0.024,"total":0.0734,"llmPromptTokens":1204,"llmCompletionTokens":61,"ttsCharacters":142}}}}`},
	}
}

// feed sends the bodies to the model as events numbered from seq, timed from start.
func feed(t testing.TB, m *Model, seq uint64, start time.Time, bodies []struct {
	at   time.Duration
	body string
}) uint64 {
	t.Helper()
	for _, b := range bodies {
		m.Update(event(t, seq, start.Add(b.at), b.body))
		seq++
	}
	return seq
}

// outcome builds the outcome of a request.
func outcome(seq uint64, source string, body string, latency time.Duration) *webhook.Outcome {
	return &webhook.Outcome{Seq: seq, Latency: latency, Reply: webhook.Reply{Status: 200, Body: []byte(body), Source: source,
		Header: http.Header{"Content-Type": {"application/json"}}}}
}

// screen returns what the terminal shows, without colours.
func screen(m *Model) string {
	return ansi.Strip(m.View().Content)
}

// checkScreen asserts the screen's shape: exactly h lines of exactly w cells.
func checkScreen(t *testing.T, s string, w, h int) {
	t.Helper()
	lines := strings.Split(s, "\n")
	if len(lines) != h {
		t.Errorf("screen has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if lw := ansi.StringWidth(l); lw != w {
			t.Errorf("line %d is %d cells wide, want %d: %q", i, lw, w, l)
		}
	}
}

// replied checks what every answered prompt must hold: the prompt closed, and the reply
// matching Vapi's schema for it (when schema is not "" and the spec is there).
func replied(t *testing.T, m *Model, rep webhook.Reply, schema string) {
	t.Helper()
	if m.prompt != nil {
		t.Error("prompt still open after the reply")
	}
	if schema != "" {
		s := vapischema.SkipIfMissing(t)
		if err := s.Validate(schema, rep.Body); err != nil {
			t.Errorf("reply does not match %s: %v", schema, err)
		}
	}
}

// namedKeys are the keys press knows by name.
var namedKeys = map[string]tea.KeyPressMsg{
	"enter":     {Code: tea.KeyEnter},
	"alt+enter": {Code: tea.KeyEnter, Mod: tea.ModAlt},
	"tab":       {Code: tea.KeyTab},
	"esc":       {Code: tea.KeyEscape},
	"up":        {Code: tea.KeyUp},
	"down":      {Code: tea.KeyDown},
	"left":      {Code: tea.KeyLeft},
	"right":     {Code: tea.KeyRight},
	"home":      {Code: tea.KeyHome},
	"end":       {Code: tea.KeyEnd},
	"backspace": {Code: tea.KeyBackspace},
	"delete":    {Code: tea.KeyDelete},
	"space":     {Code: tea.KeySpace, Text: " "},
}

// press is the key a person presses: a name ("enter", "left", "ctrl+u"), else k typed
// (its first rune as the code).
func press(k string) tea.KeyPressMsg {
	if msg, ok := namedKeys[k]; ok {
		return msg
	}
	if c, ok := strings.CutPrefix(k, "ctrl+"); ok && len(c) == 1 {
		return tea.KeyPressMsg{Code: rune(c[0]), Mod: tea.ModCtrl}
	}
	return tea.KeyPressMsg{Code: []rune(k)[0], Text: k}
}

// clipboardOf runs a copy command (the clipboard write batched with the copied.txt
// fallback, which is not run) and returns the text it puts on the clipboard.
func clipboardOf(t testing.TB, cmd tea.Cmd) string {
	t.Helper()
	msg := cmd()
	if b, ok := msg.(tea.BatchMsg); ok {
		return fmt.Sprint(b[0]())
	}
	return fmt.Sprint(msg)
}

// results is an answers file's suggestions that are all results (Options.Suggest).
func results(texts ...string) []webhook.Suggestion {
	out := make([]webhook.Suggestion, len(texts))
	for i, s := range texts {
		out[i] = webhook.Suggestion{Text: s}
	}
	return out
}
