package tui

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vapimon/vapimon/webhook"
)

// TestSuggestionSources checks that earlier answers and answers-file suggestions are
// labelled and counted apart, and that templates are filled from the call's arguments.
func TestSuggestionSources(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		history   []string
		file      []string
		wantTexts []string
		wantLabel []string
		wantCount string
	}{
		{
			name:      "only earlier answers",
			history:   []string{"A123 shipped"},
			wantTexts: []string{"A123 shipped"},
			wantLabel: []string{"earlier answer 1"},
			wantCount: "1 earlier answer",
		},
		{
			name:      "only the answers file, template filled",
			file:      []string{"I could not find order {{orderId}}.", "{{ orderId }} x{{qty}}"},
			wantTexts: []string{"I could not find order A123.", "A123 x2"},
			wantLabel: []string{"answers file: case 1", "answers file: case 2"},
			wantCount: "2 from the answers file",
		},
		{
			name:      "both, duplicates once",
			history:   []string{"I could not find order A123.", "other"},
			file:      []string{"I could not find order {{orderId}}.", "unknown {{missing}}"},
			wantTexts: []string{"I could not find order A123.", "other", "unknown {{missing}}"},
			wantLabel: []string{"earlier answer 1", "earlier answer 2", "answers file: case 2"},
			wantCount: "2 earlier answers, 1 from the answers file",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var gotArgs json.RawMessage
			m := NewModel(Options{Suggest: func(tool string, args json.RawMessage) []webhook.Suggestion {
				gotArgs = args
				return results(tt.file...)
			}}, nil)
			for _, h := range tt.history {
				m.history["lookup_order"] = append(m.history["lookup_order"], pastAnswer{text: h})
			}
			args := json.RawMessage(`{"orderId":"A123","qty":2}`)
			got := m.suggestions("lookup_order", args)
			if string(gotArgs) != string(args) {
				t.Errorf("Suggest got args %s, want %s", gotArgs, args)
			}
			if len(got) != len(tt.wantTexts) {
				t.Fatalf("got %d suggestions %+v, want %d", len(got), got, len(tt.wantTexts))
			}
			for i, s := range got {
				if s.text != tt.wantTexts[i] || s.label() != tt.wantLabel[i] {
					t.Errorf("suggestion %d = %q [%s], want %q [%s]", i, s.text, s.label(), tt.wantTexts[i], tt.wantLabel[i])
				}
			}
			if c := suggCounts(got); c != tt.wantCount {
				t.Errorf("counts = %q, want %q", c, tt.wantCount)
			}
		})
	}
}

// TestSuggestedErrorSentAsError: an earlier answer sent as an error ("Warm", ctrl+e) comes
// back on Tab marked as an error, and enter sends it as an error, not as a result; so does
// an answers file's error case. It used to be offered unmarked and sent as a result. An
// error suggestion the operator edits is the operator's own text, sent as a result.
func TestSuggestedErrorSentAsError(t *testing.T) {
	t.Parallel()
	m, clk, req := openPrompt(t, 120, 40, weatherBody)
	typeText(m, "Warm")
	m.Update(press("ctrl+e"))
	if rep := reply(t, req); !strings.Contains(string(rep.Body), `"error":"Warm"`) {
		t.Fatalf("first reply = %s", rep.Body)
	}

	req = ask(t, m, event(t, 2, clk.Now(), toolCallsBody(callID, "call_2", "get_weather", `{"location":"Paris"}`)))
	clk.Advance(time.Second)
	m.Update(press("tab"))
	if m.prompt.ed.Value() != "Warm" {
		t.Fatalf("tab filled %q, want the earlier answer Warm", m.prompt.ed.Value())
	}
	if s := screen(m); !strings.Contains(s, "earlier answer 1 · an error") {
		t.Errorf("the error suggestion is not marked:\n%s", s)
	}
	m.Update(press("enter"))
	rep := reply(t, req)
	if !strings.Contains(string(rep.Body), `"error":"Warm"`) || strings.Contains(string(rep.Body), `"result"`) {
		t.Errorf("reply to the suggested error = %s, want it sent as an error", rep.Body)
	}

	// The answers file's error case (Answers.Suggest writes it "error: ...").
	req = ask(t, m, event(t, 3, clk.Now(), toolCallsBody(callID, "call_3", "book_table", `{"people":4}`)))
	m.opts.Suggest = func(string, json.RawMessage) []webhook.Suggestion {
		return []webhook.Suggestion{{Text: "fully booked", IsError: true}}
	}
	m.openPrompt(m.queue[0])
	clk.Advance(time.Second)
	m.Update(press("tab"))
	if m.prompt.ed.Value() != "fully booked" {
		t.Fatalf("tab filled %q", m.prompt.ed.Value())
	}
	m.Update(press("enter"))
	if rep := reply(t, req); !strings.Contains(string(rep.Body), `"error":"fully booked"`) {
		t.Errorf("reply to the answers file's error = %s", rep.Body)
	}

	// Edited after tab: the operator's own text, a result.
	req = ask(t, m, event(t, 4, clk.Now(), toolCallsBody(callID, "call_4", "get_weather", `{"location":"Paris"}`)))
	clk.Advance(time.Second)
	m.Update(press("tab"))
	typeText(m, " and dry")
	m.Update(press("enter"))
	if rep := reply(t, req); !strings.Contains(string(rep.Body), `"result":"Warm and dry"`) {
		t.Errorf("reply to the edited suggestion = %s", rep.Body)
	}
}

// TestAnswersFileResultLikeAnError: an answers file's result whose text starts with
// "error: " is a result: suggested and sent as one (found in review: the file's errors
// were told apart by that prefix).
func TestAnswersFileResultLikeAnError(t *testing.T) {
	t.Parallel()
	a := webhook.NewAnswers(&webhook.AnswerSet{Tools: map[string][]webhook.ToolCase{
		"lookup": {{Result: "error: no booking under that name, ask again"}, {Error: "service down", IsError: true}},
	}})
	m := NewModel(Options{Suggest: a.Suggest}, nil)
	got := m.suggestions("lookup", nil)
	if len(got) != 2 || got[0].text != "error: no booking under that name, ask again" || got[0].isErr || got[1].text != "service down" || !got[1].isErr {
		t.Errorf("suggestions = %+v: want the result as a result (its text whole), the error as an error", got)
	}
}
