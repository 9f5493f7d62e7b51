package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/colorprofile"

	"github.com/charmbracelet/x/ansi"
)

func TestEditor(t *testing.T) {
	t.Parallel()
	k := press
	tests := []struct {
		name  string
		multi bool
		keys  []string // "\n" is a newline
		want  string
	}{
		{"typing", true, []string{"a", "b", "space", "c"}, "ab c"},
		{"backspace joins lines", true, []string{"a", "\n", "b", "home", "backspace"}, "ab"},
		{"insert in the middle", true, []string{"a", "c", "left", "b"}, "abc"},
		{"delete forward", true, []string{"a", "b", "home", "delete"}, "b"},
		{"word delete", true, []string{"o", "n", "e", "space", "t", "w", "o", "ctrl+w"}, "one "},
		{"kill to end, then to start", true, []string{"a", "b", "c", "left", "ctrl+k", "ctrl+u"}, ""},
		{"up and down keep the column", true, []string{"a", "b", "c", "\n", "d", "up", "x"}, "axbc\nd"},
		{"single line turns newlines into spaces", false, []string{"a", "\n", "b"}, "a b"},
		{"end", true, []string{"a", "b", "home", "end", "c"}, "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEditor(tt.multi)
			for _, key := range tt.keys {
				if key == "\n" {
					if tt.multi {
						e.Newline()
					} else {
						e.Insert("\n")
					}
					continue
				}
				e.Update(k(key))
			}
			if got := e.Value(); got != tt.want {
				t.Errorf("value = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEditorSanitisesAndWraps(t *testing.T) {
	t.Parallel()
	e := newEditor(true)
	e.Insert("a\x1b[31mb\rc\u202ed")
	if got := e.Value(); got != "abcd" {
		t.Errorf("value = %q", got)
	}
	e.SetValue(strings.Repeat("x", 25))
	st := NewStyles(true, colorprofile.TrueColor)
	rows := e.View(&st, 10, 2, true)
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2 (scrolled to the cursor)", len(rows))
	}
	for _, r := range rows {
		if w := ansi.StringWidth(r); w > 10 {
			t.Errorf("row %q is %d wide", ansi.Strip(r), w)
		}
	}
	if last := ansi.Strip(rows[1]); !strings.HasSuffix(last, " ") {
		t.Errorf("the cursor row %q does not end with the cursor block", last)
	}
}
