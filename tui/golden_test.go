package tui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/vapimon/vapimon/webhook"
)

var sizes = []struct{ w, h int }{{80, 24}, {160, 48}}

func newTestModel(clk *clock, op *Operator) *Model {
	return NewModel(Options{
		Status: webhook.Status{ListenURL: "http://127.0.0.1:4242", Tunnel: "off", Auth: "x-vapi-secret",
			Tape: "vapimon-20251009.jsonl", ToolTimeout: 20 * time.Second},
		Now:        clk.Now,
		Suggest:    func(tool string, _ json.RawMessage) []webhook.Suggestion { return results("Paris: 18C, light rain") },
		Assistants: func() []Assistant { return []Assistant{{ID: "5a6b-support", Name: "Support"}} },
	}, op)
}

func TestGolden(t *testing.T) {
	scenarios := []struct {
		name  string
		build func(t *testing.T, m *Model, clk *clock)
	}{
		{"empty", func(t *testing.T, m *Model, clk *clock) {}},
		{"live_call", func(t *testing.T, m *Model, clk *clock) {
			bodies := callBodies(callID)
			feed(t, m, 1, base, bodies[:9])
			m.Update(outcome(1, webhook.SourceAnswers, `{"assistantId":"5a6b-support"}`, ms(3)))
			feed(t, m, 10, base, []struct {
				at   time.Duration
				body string
			}{{ms(9000), `{"message":{"type":"transcript","role":"assistant","transcriptType":"partial","transcript":"It is eighteen degrees","call":{"id":"` + callID + `"}}}`}})
			clk.Set(base.Add(12 * time.Second))
		}},
		{"prompt", func(t *testing.T, m *Model, clk *clock) {
			bodies := callBodies(callID)
			feed(t, m, 1, base, bodies[:9])
			m.Update(outcome(1, webhook.SourceAnswers, `{"assistantId":"5a6b-support"}`, ms(3)))
			ev := event(t, 10, base.Add(ms(6200)), bodies[9].body)
			m.Update(&opRequest{ev: ev, ctx: t.Context(), reply: make(chan webhook.Reply, 1)})
			clk.Set(base.Add(ms(6200 + 5000)))
		}},
		{"intercept", func(t *testing.T, m *Model, clk *clock) {
			bodies := callBodies(callID)
			feed(t, m, 1, base, bodies[:9])
			m.Update(outcome(1, webhook.SourceAnswers, `{"assistantId":"5a6b-support"}`, ms(3)))
			ev := event(t, 10, base.Add(ms(6200)), bodies[9].body)
			server := webhook.Reply{Status: 200, Header: http.Header{"Content-Type": {"application/json"}},
				Body: []byte(`{"results":[{"toolCallId":"call_VaJOd8ZeZgWCEHDYomyCPfwN","name":"get_weather","result":"Paris: 18C, light rain"}]}`), Source: webhook.SourceForward}
			m.Update(&opRequest{ev: ev, ctx: t.Context(), reply: make(chan webhook.Reply, 1), server: &server})
			clk.Set(base.Add(ms(6200 + 5000)))
		}},
		{"report", func(t *testing.T, m *Model, clk *clock) {
			bodies := callBodies(callID)
			feed(t, m, 1, base, bodies)
			m.Update(outcome(1, webhook.SourceAnswers, `{"assistantId":"5a6b-support"}`, ms(3)))
			m.Update(outcome(10, webhook.SourceOperator, `{"results":[{"toolCallId":"call_VaJOd8ZeZgWCEHDYomyCPfwN","name":"get_weather","result":"Paris: 18C, light rain"}]}`, ms(4200)))
			feed(t, m, 11, base, endBodies(callID))
			clk.Set(base.Add(40 * time.Second))
			m.Update(tea.KeyPressMsg{Code: 'j', Text: "j"}) // select the call
			m.Update(tea.KeyPressMsg{Code: tea.KeyEnter})   // open its report
		}},
		{"rejected", func(t *testing.T, m *Model, clk *clock) {
			m.Update(rejected(1, base, "x-vapi-secret does not match the configured secret", 401))
			m.Update(outcome(1, webhook.SourceReject, `{"error":"unauthorized"}`, ms(1)))
			clk.Set(base.Add(time.Second))
		}},
		{"help", func(t *testing.T, m *Model, clk *clock) {
			m.Update(tea.KeyPressMsg{Code: '?', Text: "?"})
		}},
	}
	for _, sc := range scenarios {
		for _, sz := range sizes {
			name := fmt.Sprintf("%s_%dx%d", sc.name, sz.w, sz.h)
			t.Run(name, func(t *testing.T) {
				// The same scene in each theme: the stripped screen is the same, and each
				// keeps its colours in a golden of its own (the styles are those of a
				// 24-bit terminal, whatever runs the test: bubbletea downsamples them).
				var plain string
				for _, th := range []Theme{ThemeDark, ThemeLight} {
					clk := newClock(base)
					m := newTestModel(clk, nil)
					m.opts.Theme = th
					m.restyle(initialLook(th))
					m.Update(tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
					sc.build(t, m, clk)
					got := screen(m)
					checkScreen(t, got, sz.w, sz.h)
					switch {
					case plain == "":
						plain = got
						golden.RequireEqual(t, got)
					case got != plain:
						t.Errorf("the %s theme draws another screen than the dark one:\n%s", th, got)
					}
					t.Run(string(th), func(t *testing.T) { golden.RequireEqual(t, m.View().Content) })
				}
			})
		}
	}
}
