package tui

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/vapimon/vapimon/tui/sanitize"

	"github.com/charmbracelet/x/ansi"
)

// TestCellWidth: cellWidth counts as ansi.StringWidth does, on lines as the panes draw them
// and on what its fast path must leave to ansi.
func TestCellWidth(t *testing.T) {
	t.Parallel()
	st := NewStyles(true, 0)
	lines := []string{"", "plain", st.Dim.Render("12:00:00.000") + " tool-calls " + st.OK.Render("→ answers file 150µs"),
		"╭─ " + strings.Repeat("─", 30) + "╮", "█████░░░ 3.2s", "· • ✓ ✗ ● ↻ ▸ … ° µs ⚙ ← ↑ ↓", "⌛ wide", "e\u0301 combining",
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

// TestPrettyJSONLen: the count of argument lines the tools pane lays out with is the
// number of lines prettyJSON draws, and what counting the sanitised indented text gives.
func TestPrettyJSONLen(t *testing.T) {
	t.Parallel()
	st := NewStyles(true, 0)
	for _, raw := range []string{``, ` `, `{}`, `{"city":"Paris"}`, `{"a":[1,2,{"b":null}],"c":"x\u2028y"}`,
		"{\"a\":\"\u202e\xff\"}", `[` + strings.Repeat(`1,`, 60) + `1]`, `not json`, "not\njson\nat all", `"str"`} {
		for _, max := range []int{1, 3, 40} {
			got := prettyJSONLen([]byte(raw), max)
			if want := len(prettyJSON(&st, []byte(raw), max)); got != want {
				t.Errorf("prettyJSONLen(%q, %d) = %d, prettyJSON draws %d lines", raw, max, got, want)
			}
			var buf bytes.Buffer
			if json.Indent(&buf, bytes.TrimSpace([]byte(raw)), "", "  ") == nil {
				if want := prettyJSONLenText(buf.String(), max); got != want {
					t.Errorf("prettyJSONLen(%q, %d) = %d, the sanitised text has %d", raw, max, got, want)
				}
			}
		}
	}
}

// prettyJSONLenText is how prettyJSONLen counted the lines of indented JSON, the reference
// for its count now.
func prettyJSONLenText(indented string, maxLines int) int {
	text := sanitize.Text(indented, 0)
	n := 0
	for len(text) > 0 && n < maxLines {
		if i := strings.IndexByte(text, '\n'); i < 0 {
			text = ""
		} else {
			text = text[i+1:]
		}
		n++
	}
	if len(text) > 0 {
		n++
	}
	return n
}

// TestShortHelpMemo: the footer's remembered short help is what the help draws, after the
// bindings, their state, the width or the styles change.
func TestShortHelpMemo(t *testing.T) {
	t.Parallel()
	m := NewModel(Options{}, nil)
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	check := func(what string) {
		t.Helper()
		b := m.helpFor().ShortHelp()
		if got, want := m.shortHelpView(b), m.help.ShortHelpView(b); got != want {
			t.Errorf("%s: short help %q, the help draws %q", what, got, want)
		}
	}
	check("first")
	check("again")
	m.Update(tea.WindowSizeMsg{Width: 60, Height: 48})
	check("narrower")
	m.keys.Filter.SetEnabled(!m.keys.Filter.Enabled())
	check("a binding toggled")
	m.keys.Filter.SetHelp("/", "look for")
	check("a binding's help changed")
	m.restyle(look{dark: false, profile: colorprofile.ANSI256})
	check("restyled")
}

// TestShortID: a call's short id is its first 8 runes, as []rune would cut it.
func TestShortID(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"", "abc", "12345678", "123456789", "9f6c0b8e-load-4e1a", "é漢字✓ab€¢xyz", "ab\xffcdefghij"} {
		want := id
		if r := []rune(id); len(r) > 8 {
			want = string(r[:8])
		}
		if got := shortID(id); got != want {
			t.Errorf("shortID(%q) = %q, want %q", id, got, want)
		}
	}
}

// TestFirstPending: the tools pane's remembered search finds the first pending row as a
// search from the start would, as rows are answered and added.
func TestFirstPending(t *testing.T) {
	t.Parallel()
	var p toolsPane
	rows := make([]*toolRow, 0, 64)
	want := func() int {
		for i, r := range rows {
			if r.pending() {
				return i
			}
		}
		return len(rows)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for step := 0; step < 2000; step++ {
		switch k := rng.IntN(4); {
		case k == 0 && len(rows) < cap(rows):
			rows = append(rows, &toolRow{})
		case k == 1 && len(rows) == cap(rows): // the log is cut: a new array
			rows = append(make([]*toolRow, 0, 64), rows[len(rows)/2:]...)
		case len(rows) > 0:
			rows[rng.IntN(len(rows))].done = true
		}
		if got, w := p.firstPending(rows), want(); got != w {
			t.Fatalf("step %d: first pending %d, want %d", step, got, w)
		}
	}
}
