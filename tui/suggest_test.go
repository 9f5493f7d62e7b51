package tui

import (
	"encoding/json"
	"testing"
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
			m := NewModel(Options{Suggest: func(tool string, args json.RawMessage) []string {
				gotArgs = args
				return tt.file
			}}, nil)
			m.history["lookup_order"] = tt.history
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
