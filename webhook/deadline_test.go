package webhook

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// timedMessage builds a tool-calls message whose tools have the given server.timeoutSeconds
// (raw JSON, "" for none), and the assistant's and phone number's.
func timedMessage(t *testing.T, assistant, phone string, tools ...string) *Message {
	t.Helper()
	var list, with []string
	for i, raw := range tools {
		id, name := fmt.Sprintf("call_%d", i), fmt.Sprintf("tool_%d", i)
		if i == 0 {
			name = "get_weather"
		}
		list = append(list, fmt.Sprintf(`{"id":%q,"type":"function","function":{"name":%q,"arguments":{}}}`, id, name))
		server := `{"url":"https://example.com/tools"}`
		if raw != "" {
			server = `{"url":"https://example.com/tools","timeoutSeconds":` + raw + `}`
		}
		with = append(with, fmt.Sprintf(`{"type":"function","function":{"name":%q},"server":%s,"toolCall":{"id":%q,"type":"function","function":{"name":%q,"arguments":{}}}}`, name, server, id, name))
	}
	server := func(raw string) string {
		if raw == "" {
			return `{"url":"https://example.com/vapi"}`
		}
		return `{"url":"https://example.com/vapi","timeoutSeconds":` + raw + `}`
	}
	body := `{"message":{"type":"tool-calls","call":{"id":"call-1"},"assistant":{"name":"Riley","server":` + server(assistant) +
		`},"phoneNumber":{"number":"+14155550100","server":` + server(phone) + `},"toolCallList":[` + strings.Join(list, ",") +
		`],"toolWithToolCallList":[` + strings.Join(with, ",") + `]}}`
	if !json.Valid([]byte(body)) {
		t.Fatalf("test body is not JSON: %s", body)
	}
	return mustParse(t, body)
}

func TestTimingSources(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 29, 14, 0, 0, 0, time.UTC)
	tests := []struct {
		name              string
		assistant, phone  string
		tools             []string
		toolTimeout       time.Duration
		wantBudget        time.Duration
		wantSource        string
		wantNotes         []string // substrings, one per note
		wantSendBeforeVap time.Duration
	}{
		{"tool", "30", "25", []string{"4"}, 20 * time.Second, 4 * time.Second, "tool get_weather: server.timeoutSeconds 4", nil, 400 * time.Millisecond},
		{"--tool-timeout is a default, not an override", "", "", []string{"4"}, 60 * time.Second, 4 * time.Second, "tool get_weather: server.timeoutSeconds 4", nil, 400 * time.Millisecond},
		{"earliest of several tools", "", "", []string{"10", "4", "8"}, 0, 4 * time.Second, "tool tool_1: server.timeoutSeconds 4", nil, 400 * time.Millisecond},
		{"a tool without its own uses the assistant's", "12", "", []string{"40", ""}, 0, 12 * time.Second, "assistant server.timeoutSeconds 12", nil, 1200 * time.Millisecond},
		{"assistant", "30", "25", []string{""}, 0, 30 * time.Second, "assistant server.timeoutSeconds 30", nil, 1500 * time.Millisecond},
		{"phone number", "", "25", []string{""}, 0, 25 * time.Second, "phone number server.timeoutSeconds 25", nil, 1500 * time.Millisecond},
		{"fractional", "", "", []string{"2.5"}, 0, 2500 * time.Millisecond, "tool get_weather: server.timeoutSeconds 2.5", nil, 250 * time.Millisecond},
		{"the maximum", "300", "", nil, 0, 300 * time.Second, "assistant server.timeoutSeconds 300", nil, 1500 * time.Millisecond},
		// Issue 8 point 2: a tool's own timeout wins even when it is longer than the
		// assistant's, the phone number's or --tool-timeout (which is a default, not an
		// override): the README tells users to raise the tool's server.timeoutSeconds when
		// they need more time to type.
		{"tool 60 over --tool-timeout 20", "", "", []string{"60"}, 20 * time.Second, 60 * time.Second, "tool get_weather: server.timeoutSeconds 60", nil, 1500 * time.Millisecond},
		{"tool 60 over the assistant's 30", "30", "", []string{"60"}, 0, 60 * time.Second, "tool get_weather: server.timeoutSeconds 60", nil, 1500 * time.Millisecond},
		{"tool 300 over the phone number's 25", "", "25", []string{"300"}, 0, 300 * time.Second, "tool get_weather: server.timeoutSeconds 300", nil, 1500 * time.Millisecond},
		{"two long tools: the earliest of them", "", "", []string{"90", "45"}, 0, 45 * time.Second, "tool tool_1: server.timeoutSeconds 45", nil, 1500 * time.Millisecond},
		{"nothing in the payload", "", "", []string{""}, 20 * time.Second, 20 * time.Second, "--tool-timeout 20s (default)",
			[]string{"no server.timeoutSeconds in the payload (tool, assistant or phone number): using --tool-timeout 20s"}, 1500 * time.Millisecond},
		{"null is absent", "null", "null", []string{"null"}, 0, 20 * time.Second, "--tool-timeout 20s (default)", []string{"no server.timeoutSeconds in the payload"}, 1500 * time.Millisecond},

		// Bad input: each falls back to the next source and says so.
		{"tool zero", "30", "", []string{"0"}, 0, 30 * time.Second, "assistant server.timeoutSeconds 30",
			[]string{"tool get_weather: server.timeoutSeconds 0 is zero: using the assistant's 30s"}, 1500 * time.Millisecond},
		{"tool negative", "", "25", []string{"-4"}, 0, 25 * time.Second, "phone number server.timeoutSeconds 25",
			[]string{"tool get_weather: server.timeoutSeconds -4 is negative: using the phone number's 25s"}, 1500 * time.Millisecond},
		{"tool string", "", "", []string{`"4"`}, 0, 20 * time.Second, "--tool-timeout 20s (default)",
			[]string{`tool get_weather: server.timeoutSeconds "4" is a string, not a number: using --tool-timeout 20s`}, 1500 * time.Millisecond},
		{"tool not a number", "30", "", []string{`true`}, 0, 30 * time.Second, "assistant server.timeoutSeconds 30",
			[]string{"tool get_weather: server.timeoutSeconds true is not a number"}, 1500 * time.Millisecond},
		{"tool object", "30", "", []string{`{"s":4}`}, 0, 30 * time.Second, "assistant server.timeoutSeconds 30",
			[]string{`server.timeoutSeconds {"s":4} is not a number`}, 1500 * time.Millisecond},
		{"tool above 300", "30", "", []string{"301"}, 0, 30 * time.Second, "assistant server.timeoutSeconds 30",
			[]string{"tool get_weather: server.timeoutSeconds 301 is above Vapi's maximum of 300: using the assistant's 30s"}, 1500 * time.Millisecond},
		{"tool far above 300", "30", "", []string{"1e400"}, 0, 30 * time.Second, "assistant server.timeoutSeconds 30",
			[]string{"server.timeoutSeconds 1e400 is above Vapi's maximum of 300"}, 1500 * time.Millisecond},
		{"tool below 1", "30", "", []string{"0.5"}, 0, 30 * time.Second, "assistant server.timeoutSeconds 30",
			[]string{"server.timeoutSeconds 0.5 is below Vapi's minimum of 1"}, 1500 * time.Millisecond},
		{"assistant bad, phone used", `"30"`, "25", []string{""}, 0, 25 * time.Second, "phone number server.timeoutSeconds 25",
			[]string{`assistant server.timeoutSeconds "30" is a string, not a number: using the phone number's 25s`}, 1500 * time.Millisecond},
		{"everything bad", "0", "-1", []string{"999"}, 15 * time.Second, 15 * time.Second, "--tool-timeout 15s (default)",
			[]string{"tool get_weather: server.timeoutSeconds 999 is above Vapi's maximum of 300: using --tool-timeout 15s",
				"assistant server.timeoutSeconds 0 is zero: using --tool-timeout 15s",
				"phone number server.timeoutSeconds -1 is negative: using --tool-timeout 15s"}, 1500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := Timing(timedMessage(t, tt.assistant, tt.phone, tt.tools...), t0, tt.toolTimeout)
			if d.Budget != tt.wantBudget || d.Source != tt.wantSource {
				t.Errorf("budget %v source %q, want %v %q", d.Budget, d.Source, tt.wantBudget, tt.wantSource)
			}
			if !d.Vapi.Equal(t0.Add(tt.wantBudget)) || d.Vapi.Sub(d.Send) != tt.wantSendBeforeVap {
				t.Errorf("vapi %v send %v: want vapi at +%v, send %v before", d.Vapi.Sub(t0), d.Send.Sub(t0), tt.wantBudget, tt.wantSendBeforeVap)
			}
			if len(d.Notes) != len(tt.wantNotes) {
				t.Fatalf("notes %q, want %d like %q", d.Notes, len(tt.wantNotes), tt.wantNotes)
			}
			for i, want := range tt.wantNotes {
				if !strings.Contains(d.Notes[i], want) {
					t.Errorf("note %d = %q, want it to contain %q", i, d.Notes[i], want)
				}
			}
		})
	}
}

func TestTimingFixedAndNone(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 29, 14, 0, 0, 0, time.UTC)
	// assistant-request: Vapi's fixed 7.5 s whatever the payload says; vapimon answers by 6 s.
	m := mustParse(t, `{"message":{"type":"assistant-request","assistant":{"server":{"timeoutSeconds":2}},"phoneNumber":{"server":{"timeoutSeconds":30}}}}`)
	d := Timing(m, t0, time.Minute)
	if d.Budget != 7500*time.Millisecond || !d.Vapi.Equal(t0.Add(7500*time.Millisecond)) || !d.Send.Equal(t0.Add(6*time.Second)) || len(d.Notes) != 0 || !strings.Contains(d.Source, "fixed 7.5s") {
		t.Errorf("assistant-request: %+v", d)
	}
	// Other requests: the assistant's, else the phone number's.
	m = mustParse(t, `{"message":{"type":"transfer-destination-request","assistant":{"server":{"timeoutSeconds":9}}}}`)
	if d := Timing(m, t0, 0); d.Budget != 9*time.Second || d.Source != "assistant server.timeoutSeconds 9" {
		t.Errorf("transfer-destination-request: %+v", d)
	}
	m = mustParse(t, `{"message":{"type":"knowledge-base-request"}}`)
	if d := Timing(m, t0, 0); d.Budget != DefaultToolTimeout || len(d.Notes) != 1 || !strings.Contains(d.Notes[0], "(assistant or phone number)") {
		t.Errorf("knowledge-base-request: %+v", d)
	}
	// Informational messages are not waited for.
	m = mustParse(t, `{"message":{"type":"status-update","assistant":{"server":{"timeoutSeconds":9}}}}`)
	if d := Timing(m, t0, 0); d.Budget != 0 || !d.Send.IsZero() || d.Source != "" || d.Notes != nil {
		t.Errorf("status-update: %+v", d)
	}
	if d := Timing(nil, t0, 0); d.Budget != 0 {
		t.Errorf("nil: %+v", d)
	}
}

func TestTimingBounded(t *testing.T) {
	t.Parallel()
	// Hundreds of tools with a bad value give a few notes, not hundreds.
	tools := make([]string, 600)
	for i := range tools {
		tools[i] = `"x"`
	}
	d := Timing(timedMessage(t, "", "", tools...), time.Now(), 0)
	if len(d.Notes) != maxToolNotes+1 || !strings.Contains(d.Notes[maxToolNotes], "and 597 more tools") {
		t.Fatalf("%d notes: %q", len(d.Notes), d.Notes)
	}
	// A name from the payload is made safe before it reaches a note or the source.
	m := mustParse(t, `{"message":{"type":"tool-calls","toolCallList":[{"id":"c1","function":{"name":"evil\u001b[31m\u202e"}}],
		"toolWithToolCallList":[{"server":{"timeoutSeconds":5},"toolCall":{"id":"c1"}}]}}`)
	d = Timing(m, time.Now(), 0)
	if strings.ContainsAny(d.Source, "\x1b\u202e") || !strings.Contains(d.Source, `"evil\x1b[31m\u202e"`) {
		t.Errorf("source %q", d.Source)
	}
}
