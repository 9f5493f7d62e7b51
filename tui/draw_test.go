package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestCellWidth: cellWidth counts as ansi.StringWidth does, on lines as the panes draw them
// and on what its fast path must leave to ansi.
func TestCellWidth(t *testing.T) {
	t.Parallel()
	st := NewStyles(true, 0)
	lines := []string{"", "plain", st.Dim.Render("12:00:00.000") + " tool-calls " + st.OK.Render("→ answers file 150µs"),
		"╭─ " + strings.Repeat("─", 30) + "╮", "█████░░░ 3.2s", "· ✓ ✗ ● ↻ ▸ … °", "⌛ wide", "e\u0301 combining",
		"→\uFE0F emoji", "漢字", "\x1b]8;;http://x\x07link\x1b]8;;\x07", "\x1b[?25l", "\x1b[31", "tab\there", "\x1b[38:2::1:2:3mx\x1b[m"}
	for r := rune(0x2500); r <= 0x259F; r++ {
		lines = append(lines, string(r)+"x")
	}
	for _, s := range lines {
		if got, want := cellWidth(s), ansi.StringWidth(s); got != want {
			t.Errorf("cellWidth(%q) = %d, ansi.StringWidth = %d", s, got, want)
		}
	}
}

func FuzzCellWidth(f *testing.F) {
	for _, s := range []string{"a\x1b[1mb\x1b[m", "→ ok", "●\u0301", "░\u200d█"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := cellWidth(s), ansi.StringWidth(s); got != want {
			t.Fatalf("cellWidth(%q) = %d, ansi.StringWidth = %d", s, got, want)
		}
	})
}
