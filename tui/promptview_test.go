package tui

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/vapimon/vapimon/webhook"
	"github.com/vapimon/vapimon/webhook/webhooktest"
)

// TestPromptNewlineNote checks that the prompt says new lines are sent as spaces once the
// answer has one, and not before.
func TestPromptNewlineNote(t *testing.T) {
	t.Parallel()
	const note = "new lines are sent as spaces (Vapi wants one line)"
	m, _, _ := openPrompt(t, 100, 40, weatherBody)
	typeText(m, "line one")
	if s := screen(m); strings.Contains(s, note) {
		t.Errorf("note shown for a one-line answer:\n%s", s)
	}
	m.Update(press("alt+enter"))
	typeText(m, "line two")
	if s := screen(m); !strings.Contains(s, note) {
		t.Errorf("note missing for a two-line answer:\n%s", s)
	}
}

// TestPromptSaysWhyYourServerFailed checks that a prompt opened after the developer's
// server failed says what it did.
func TestPromptSaysWhyYourServerFailed(t *testing.T) {
	t.Parallel()
	m, _, ev := sizedWithWeather(t, 120, 40)
	m.Update(webhook.ForwardHealth{Seq: 1, Target: "http://127.0.0.1:5001/hook", Status: 200, Failure: webhook.ForwardUnusable, Err: "unusable reply: results[0].toolCallId is missing", At: base})
	ask(t, m, ev)
	if s := screen(m); !strings.Contains(s, "your server: HTTP 200 ✗ unusable reply: results[0].toolCallId is missing") {
		t.Errorf("prompt does not say why your server's reply was not used:\n%s", s)
	}
}

// TestPromptWrapsLongArguments checks that a long argument value is wrapped in the answer
// prompt rather than cut, and that the "need more time?" line gives way on a short screen.
func TestPromptWrapsLongArguments(t *testing.T) {
	t.Parallel()
	note := "customer says the parcel was left at the wrong door and was taken in by a neighbour, please call before 9"
	m, _, _ := openPrompt(t, 80, 24, toolCallsBody(callID, "call_1", "lookup_order", `{"orderId":"A123","note":"`+note+`"}`))
	s := screen(m)
	flat := strings.Join(strings.Fields(strings.NewReplacer("│", " ", "┃", " ").Replace(s)), " ")
	if !strings.Contains(flat, `"`+note+`"`) {
		t.Errorf("the long argument is not shown whole:\n%s", s)
	}
	if strings.Contains(s, "need more time?") {
		t.Errorf("the 'need more time?' line is shown at 80x24:\n%s", s)
	}
	checkScreen(t, s, 80, 24)
}

// TestBatchRowsSayWhatTheyWaitFor checks the tool calls pane during and after a message with
// two tool calls: the answered one says so and names the other instead of counting down;
// a fallback that kept the answers file's answer says "answers file (kept)".
func TestBatchRowsSayWhatTheyWaitFor(t *testing.T) {
	t.Parallel()
	m, clk := sized(t, 160, 48)
	m.opts.Suggest = func(tool string, _ json.RawMessage) []webhook.Suggestion { // the answers file
		if tool == "get_weather" {
			return results("Paris: 18C")
		}
		return nil
	}
	ask(t, m, event(t, 1, base, twoToolCalls))
	clk.Advance(time.Second)
	submit(m, "18C")
	clk.Advance(time.Second)
	m.Update(press("esc")) // answer get_time later
	s := screen(m)
	if !strings.Contains(s, "✓ 7420f27a get_weather answered · waiting for get_time") {
		t.Errorf("the answered call does not say what it waits for:\n%s", s)
	}
	m.Update(&webhook.Outcome{Seq: 1, Latency: 18 * time.Second, Reply: webhook.Reply{Status: 200, Source: webhook.SourceFallback,
		Note: "nobody answered within 18s",
		Body: []byte(`{"results":[{"toolCallId":"call_a","result":"Paris: 18C"},{"toolCallId":"call_b","error":"nobody answered within 18s"}]}`)}})
	s = screen(m)
	webhooktest.Holds(t, "screen", s, "✓ 7420f27a get_weather → Paris: 18C · answers file (kept)", "✗ 7420f27a get_time → fallback sent: nobody answered")
}

// TestTypedAnswerKeptByFallback checks that an answer typed in time, kept by the fallback
// when the message's other call was not answered, is labelled as the operator's.
func TestTypedAnswerKeptByFallback(t *testing.T) {
	t.Parallel()
	m, clk, _ := openPrompt(t, 160, 48, twoToolCalls)
	submit(m, "Sunny, 22C")
	clk.Advance(time.Second)
	m.Update(press("esc"))
	m.Update(&webhook.Outcome{Seq: 1, Latency: 18 * time.Second, Reply: webhook.Reply{Status: 200, Source: webhook.SourceFallback,
		Note: "nobody answered within 18s (kept 1 answer(s) given in time)",
		Body: []byte(`{"results":[{"toolCallId":"call_a","result":"Sunny, 22C"},{"toolCallId":"call_b","error":"nobody answered within 18s (kept 1 answer(s) given in time)"}]}`)}})
	s := screen(m)
	if !strings.Contains(s, "✓ 7420f27a get_weather → Sunny, 22C · you (typ") || strings.Contains(s, "fallback sent: Sunny") {
		t.Errorf("the typed answer is not labelled as yours:\n%s", s)
	}
}

// TestKeptOnlyFromTheAnswersFile: a fallback reply's answer is labelled "answers file
// (kept)" only when the answers file has that answer for the tool; the fallback's own
// errors (a legacy function-call's "Error: ..." result, a batch's error after answers kept
// from the operator) say "fallback sent", also when no answers file is loaded.
func TestKeptOnlyFromTheAnswersFile(t *testing.T) {
	t.Parallel()
	t.Run("function-call, no answers file", func(t *testing.T) {
		t.Parallel()
		m, _ := sized(t, 160, 48)
		m.opts.Suggest = nil
		m.Update(event(t, 1, base, `{"message":{"type":"function-call","functionCall":{"name":"get_weather","parameters":{"city":"Paris"}},"call":{"id":"`+callID+`"}}}`))
		m.Update(outcome(1, webhook.SourceFallback, `{"result":"Error: vapimon: no answer configured for function-call"}`, ms(7000)))
		s := screen(m)
		if strings.Contains(s, "answers file (kept)") || !strings.Contains(s, "get_weather → fallback sent: Error: vapimon") {
			t.Errorf("a fallback with no answers file is labelled as the file's:\n%s", s)
		}
	})
	t.Run("batch, one answer typed in time", func(t *testing.T) {
		t.Parallel()
		m, _, _ := openPrompt(t, 160, 48, twoToolCalls)
		submit(m, "18C")
		m.Update(&webhook.Outcome{Seq: 1, Latency: 18 * time.Second, Reply: webhook.Reply{Status: 200, Source: webhook.SourceFallback,
			Note: "vapimon: no answer configured for this tool (kept 1 answer(s) given in time)",
			Body: []byte(`{"results":[{"toolCallId":"call_a","result":"18C"},{"toolCallId":"call_b","error":"vapimon: no answer configured for this tool"}]}`)}})
		s := screen(m)
		webhooktest.Holds(t, "screen", s, "get_weather → 18C · you (typed in time, kept)", "get_time → fallback sent: vapimon: no answer configured for this tool")
		if strings.Contains(s, "answers file (kept)") {
			t.Errorf("the fallback's own error is labelled as the answers file's:\n%s", s)
		}
	})
}

// TestDeferKeepsTheDraft: esc (answer later) keeps what was typed; enter on the call in the
// tool calls pane brings it back to finish. It used to reopen empty.
func TestDeferKeepsTheDraft(t *testing.T) {
	t.Parallel()
	m, clk, req := openPrompt(t, 160, 48, weatherBody)
	typeText(m, "Sun")
	m.Update(press("esc"))
	if m.prompt != nil || m.focus != paneTools {
		t.Fatal("esc did not defer the prompt to the tool calls pane")
	}
	m.Update(press("enter"))
	if m.prompt == nil {
		t.Fatal("enter in the tool calls pane did not reopen the prompt")
	}
	if got := m.prompt.ed.Value(); got != "Sun" {
		t.Errorf("the reopened prompt holds %q, want the draft \"Sun\"", got)
	}
	clk.Advance(time.Second)
	submit(m, "ny")
	if body := string(reply(t, req).Body); !strings.Contains(body, `"result":"Sunny"`) {
		t.Errorf("reply %s, want the draft finished: Sunny", body)
	}
}

// TestAssistantIDNotUUIDWarns: an assistant id typed into the assistant-request prompt that
// is not a UUID (Vapi's assistant ids are) is warned about, and enter still sends it; a
// UUID is not warned about. The prompt used to take "not-a-uuid" silently.
func TestAssistantIDNotUUIDWarns(t *testing.T) {
	t.Parallel()
	m, _, req := openPrompt(t, 120, 40, assistantRequest)
	typeText(m, "not-a-uuid")
	if s := screen(m); !strings.Contains(s, "not a UUID") {
		t.Errorf("no warning for a typed id that is not a UUID:\n%s", s)
	}
	m.Update(press("enter"))
	rep := reply(t, req)
	if !strings.Contains(string(rep.Body), `"assistantId":"not-a-uuid"`) {
		t.Errorf("reply = %s: the warning must not block the send", rep.Body)
	}
	if !strings.Contains(rep.Note, "not a UUID") {
		t.Errorf("reply note = %q: want it to say the id is not a UUID", rep.Note)
	}

	m, _, _ = openPrompt(t, 120, 40, assistantRequest)
	typeText(m, "5A6B2C1D-0e9f-4a3b-8c7d-6e5f4a3b2c1d")
	if s := screen(m); strings.Contains(s, "not a UUID") {
		t.Errorf("a UUID is warned about:\n%s", s)
	}
	for _, bad := range []string{"5a6b2c1d0e9f4a3b8c7d6e5f4a3b2c1d", "5a6b2c1d-0e9f-4a3b-8c7d-6e5f4a3b2c1g", "5a6b2c1d-0e9f-4a3b-8c7d_6e5f4a3b2c1d"} {
		if webhook.IsUUID(bad) {
			t.Errorf("IsUUID(%q) = true", bad)
		}
	}
}

// TestPromptSaysWhatIsDueFirst: an assistant-request (7.5 s) arrives while a tool call's
// prompt (20 s) is open: the prompt says it is due first and how to reach it (found by a
// new user: it expired unseen behind the prompt, which only said "1 more waiting").
func TestPromptSaysWhatIsDueFirst(t *testing.T) {
	t.Parallel()
	m, clk, _ := openPrompt(t, 160, 48, weatherBody)
	if s := screen(m); strings.Contains(s, "due first") {
		t.Fatalf("due first shown with nothing else waiting:\n%s", s)
	}
	ask(t, m, event(t, 2, clk.Now(), `{"message":{"type":"assistant-request","call":{"id":"`+callID+`"}}}`))
	if s := screen(m); !strings.Contains(s, "assistant-request is due first: 6.8s left") {
		t.Errorf("the prompt does not say the assistant-request is due first:\n%s", s)
	}
}

// TestAssistantPromptOffersPickOnlyWithAList: ↑/↓ pick an assistant only when there is a
// list (an answers file's assistants); the footer does not offer keys that do nothing.
func TestAssistantPromptOffersPickOnlyWithAList(t *testing.T) {
	t.Parallel()
	m, _, _ := openPrompt(t, 160, 48, `{"message":{"type":"assistant-request","call":{"id":"`+callID+`"}}}`)
	m.prompt.assistants = nil
	if f := ansi.Strip(m.footer(160)); strings.Contains(f, "pick assistant") {
		t.Errorf("footer %q offers ↑/↓ with no assistants to pick", f)
	}
	m.prompt.assistants = []Assistant{{ID: "5a6b2c1d-0000-4000-8000-000000000001", Name: "Riley"}}
	if f := ansi.Strip(m.footer(160)); !strings.Contains(f, "pick assistant") {
		t.Errorf("footer %q does not offer ↑/↓ with assistants to pick", f)
	}
}

// TestFwdFailLineSaysTheStatusOnce: a status failure's text names its status already
// (found by a new user: "your server: HTTP 500 ✗ HTTP 500 from …").
func TestFwdFailLineSaysTheStatusOnce(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		h    webhook.ForwardHealth
		want string
	}{
		{webhook.ForwardHealth{Status: 500, Failure: webhook.ForwardStatus, Err: "HTTP 500 from http://x/hook"}, "your server ✗ HTTP 500 from http://x/hook"},
		{webhook.ForwardHealth{Status: 200, Failure: webhook.ForwardUnusable, Err: "unusable reply: no results"}, "your server: HTTP 200 ✗ unusable reply: no results"},
		{webhook.ForwardHealth{Failure: webhook.ForwardTimeout, Err: "no reply from http://x/hook within 9.3s"}, "your server: no reply ✗ no reply from http://x/hook within 9.3s"},
	} {
		if got := fwdFailLine(&tt.h); got != tt.want {
			t.Errorf("fwdFailLine(%+v) = %q, want %q", tt.h, got, tt.want)
		}
	}
}
