package tui

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vapimon/vapimon/webhook"
)

// jsonAnswerBodies are requests of each type the operator answers as JSON.
var jsonAnswerBodies = map[string]string{
	webhook.TypeTransferDestinationRequest: transferRequest,
	webhook.TypeHandoffDestinationRequest:  `{"message":{"type":"handoff-destination-request","parameters":{"reason":"billing"},"call":{"id":"` + callID + `"}}}`,
	webhook.TypeKnowledgeBaseRequest:       `{"message":{"type":"knowledge-base-request","messages":[{"role":"user","message":"When do you open?"}],"messagesOpenAIFormatted":[{"role":"user","content":"When do you open?"}],"call":{"id":"` + callID + `"}}}`,
	webhook.TypeCampaignPredial:            `{"message":{"type":"campaign.predial","campaignId":"c1","contact":{"number":"+14155550123"},"call":{"id":"` + callID + `"}}}`,
}

// TestJSONAnswerTypes: the reply-expecting types without a one-line answer reach the
// operator (Respond hands them over instead of passing), open a prompt that holds Vapi's
// reply shape for the type as JSON, and the template has the shape webhook.JudgeReply
// checks. They used to get the fallback at once.
func TestJSONAnswerTypes(t *testing.T) {
	t.Parallel()
	for kind, body := range jsonAnswerBodies {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			op := NewOperator()
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
			defer cancel()
			// Nobody reads the queue: the request was handed over and waited for its deadline.
			if _, err := op.Respond(ctx, event(t, 1, base, body)); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Respond = %v, want DeadlineExceeded (handed to the operator)", err)
			}

			m, _, req := openPrompt(t, 120, 40, body)
			s := screen(m)
			for _, want := range []string{"Answer " + kind, "write the reply as JSON", "enter check and send", "esc answer later"} {
				if !strings.Contains(s, want) {
					t.Errorf("prompt does not show %q:\n%s", want, s)
				}
			}
			tmpl := replyTemplate(kind)
			if v := webhook.JudgeReply(req.ev.Msg, http.StatusOK, http.Header{"Content-Type": {"application/json"}}, []byte(tmpl)); !v.OK() {
				t.Errorf("template for %s has problems %v:\n%s", kind, v.Problems, tmpl)
			}
			// The template unchanged asks first (its values are placeholders); enter again sends it.
			sentOnSecondEnter(t, m, req, "the unchanged template", "example reply, unchanged")
			rep := reply(t, req)
			var got, want any
			if json.Unmarshal(rep.Body, &got) != nil || json.Unmarshal([]byte(tmpl), &want) != nil || !equalJSON(got, want) {
				t.Errorf("reply = %s, want the template %s", rep.Body, tmpl)
			}
			if rep.Source != webhook.SourceOperator {
				t.Errorf("source = %q", rep.Source)
			}
			if m.prompt != nil {
				t.Error("the prompt stayed open after sending")
			}
		})
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestJSONAnswerEdited: the operator edits the number of a transfer, and the edited reply
// is sent at the first enter; JSON that does not parse, or that Vapi would refuse, is
// shown with its problems first.
func TestJSONAnswerEdited(t *testing.T) {
	t.Parallel()
	m, _, req := openPrompt(t, 120, 40, transferRequest)
	// Line 4 of the template is the number.
	playKeys(m, nil, []string{"down", "down", "down", "ctrl+k", `text:    "number": "+14155550142"`})
	m.Update(press("enter"))
	rep := reply(t, req)
	if !strings.Contains(string(rep.Body), `"number":"+14155550142"`) || !strings.Contains(string(rep.Body), `"type":"request-start"`) {
		t.Errorf("reply = %s", rep.Body)
	}
	if rep.Note != "written by the operator" {
		t.Errorf("note = %q", rep.Note)
	}

	// Not JSON: nothing is sent, the problem is shown.
	m, _, req = openPrompt(t, 120, 40, transferRequest)
	playKeys(m, nil, []string{"down", "ctrl+k"})
	m.Update(press("enter"))
	if len(req.reply) != 0 {
		t.Fatal("invalid JSON was sent")
	}
	if s := screen(m); !strings.Contains(s, "not valid JSON") {
		t.Errorf("no JSON error shown:\n%s", s)
	}
	// A shape Vapi refuses: the destination's number removed.
	m, _, req = openPrompt(t, 120, 40, transferRequest)
	playKeys(m, nil, []string{"down", "down", "end", "backspace", "down", "home", "ctrl+k"})
	sentOnSecondEnter(t, m, req, "a reply with problems", "not sent yet")
	rep = reply(t, req)
	if !strings.Contains(rep.Note, "sent despite") {
		t.Errorf("note = %q", rep.Note)
	}
	m.Update(outcome(1, webhook.SourceOperator, string(rep.Body), ms(40)))
	// Its row is marked ⚠, not ✓ (found by a new user: a green tick on a reply Vapi
	// cannot use).
	m.focus = paneTools
	if s := screen(m); !strings.Contains(s, "⚠ ") || strings.Contains(s, "✓ ") {
		t.Errorf("the row of a reply sent despite problems is not marked ⚠:\n%s", s)
	}
}

// TestJSONAnswerDeferAndExpire: esc answers later, keeping the edits; the deadline closes
// the prompt and says the reply being written was not sent.
func TestJSONAnswerDeferAndExpire(t *testing.T) {
	t.Parallel()
	m, clk, req := openPrompt(t, 120, 40, transferRequest)
	playKeys(m, nil, []string{"down", "down", "down", "ctrl+k", `text:    "number": "+14155550142"`})
	m.Update(press("esc"))
	if m.prompt != nil {
		t.Fatal("esc did not close the prompt")
	}
	m.openPrompt(m.queue[0])
	clk.Advance(time.Second)
	if !strings.Contains(m.prompt.p.edit.Value(), "+14155550142") {
		t.Errorf("the edits were lost: %s", m.prompt.p.edit.Value())
	}
	if len(req.reply) != 0 {
		t.Fatal("esc sent a reply")
	}
	if got := m.expiredFlash(); !strings.Contains(got, "fallback") || !strings.Contains(got, "not sent") {
		t.Errorf("expired flash = %q", got)
	}
}

// TestJSONAnswerErrorSaysWhere: a syntax error in the JSON typed is placed at its line and
// column (found by a new user: every error said line 1, column 1, as json.Compact's
// errors carry no offset).
func TestJSONAnswerErrorSaysWhere(t *testing.T) {
	t.Parallel()
	m, _, req := openPrompt(t, 120, 40, transferRequest)
	m.prompt.p.edit.SetValue("{\n  \"destination\": {\n    \"type\": x\n  }\n}")
	m.Update(press("enter"))
	if len(req.reply) != 0 {
		t.Fatal("invalid JSON was sent")
	}
	if s := screen(m); !strings.Contains(s, "not valid JSON: line 3, column 13") {
		t.Errorf("the JSON error does not say where it is (line 3, column 13):\n%s", s)
	}
}

// TestJSONAnswerShowsTheRequest: the prompt of a handoff, knowledge-base or predial
// request shows what it asks (found by a new user: the parameters, the caller's question
// and the contact were not shown).
func TestJSONAnswerShowsTheRequest(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ body, want string }{
		{`{"message":{"type":"handoff-destination-request","call":{"id":"` + callID + `"},"parameters":{"destination":"billing","reason":"double charge"}}}`, `parameters {"destination":"billing","reason":"double charge"}`},
		{`{"message":{"type":"knowledge-base-request","call":{"id":"` + callID + `"},"messages":[{"role":"bot","message":"Hello"},{"role":"user","message":"Do you have vegan dishes?"},{"role":"bot","message":"Let me check."}]}}`, "the caller said: Do you have vegan dishes?"},
		{`{"message":{"type":"campaign.predial","customer":{"number":"+14155550177","name":"Jordan Lee"}}}`, "contact Jordan Lee +14155550177"},
	} {
		m, _, _ := openPrompt(t, 160, 48, tt.body)
		if s := screen(m); !strings.Contains(s, tt.want) {
			t.Errorf("the prompt does not show %q:\n%s", tt.want, s)
		}
	}
}

// sentOnSecondEnter presses enter on the JSON prompt: what (the reply typed) must not be
// sent, and the screen must show shown; then enter again, which sends it.
func sentOnSecondEnter(t *testing.T, m *Model, req *opRequest, what, shown string) {
	t.Helper()
	m.Update(press("enter"))
	if len(req.reply) != 0 {
		t.Fatalf("%s was sent at the first enter", what)
	}
	if s := screen(m); !strings.Contains(s, shown) {
		t.Errorf("%s: the screen does not show %q:\n%s", what, shown, s)
	}
	m.Update(press("enter"))
}
