package tui

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
)

// cell is one terminal cell as a terminal would draw it: its rune and whether it stands
// out from the rows around it (a background colour, or reverse video), and its foreground
// and background when they are set ("" for the terminal's own).
type cell struct {
	r        rune
	marked   bool
	fg, bg   string
	reversed bool
}

var sgr = regexp.MustCompile(`\x1b\[([0-9;:]*)m`)

// cells interprets the SGR sequences of one screen line, the way a terminal does.
func cells(line string) []cell {
	var out []cell
	var fg, bg string
	rev := false
	apply := func(params string) {
		ps := strings.Split(params, ";")
		for i := 0; i < len(ps); i++ {
			n, _ := strconv.Atoi(ps[i])
			switch {
			case ps[i] == "" || n == 0:
				fg, bg, rev = "", "", false
			case n == 7:
				rev = true
			case n == 27:
				rev = false
			case n == 39:
				fg = ""
			case n == 49:
				bg = ""
			case (n == 38 || n == 48) && i+1 < len(ps):
				k := 3 // 2;r;g;b
				if ps[i+1] == "5" {
					k = 1 // 5;n
				}
				v := strings.Join(ps[i+1:min(i+2+k, len(ps))], ";")
				if n == 38 {
					fg = v
				} else {
					bg = v
				}
				i += 1 + k
			case n >= 30 && n <= 37 || n >= 90 && n <= 97:
				fg = ps[i]
			case n >= 40 && n <= 47 || n >= 100 && n <= 107:
				bg = strconv.Itoa(n - 10) // the same colour number as a foreground
			}
		}
	}
	for line != "" {
		loc := sgr.FindStringSubmatchIndex(line)
		text := line
		if loc != nil {
			text = line[:loc[0]]
		}
		for _, r := range ansi.Strip(text) {
			out = append(out, cell{r: r, marked: bg != "" || rev, fg: fg, bg: bg, reversed: rev})
		}
		if loc == nil {
			break
		}
		apply(line[loc[2]:loc[3]])
		line = line[loc[1]:]
	}
	return out
}

// selectedRowCells renders a model with the events pane focused (its last row selected)
// through a terminal of the given profile, and returns the cells of the events pane's
// inner area on the selected row and on the row above it.
func selectedRowCells(t *testing.T, p colorprofile.Profile, dark bool) (sel, above []cell) {
	t.Helper()
	m, _ := sized(t, 160, 48)
	m.restyle(look{dark: dark, profile: p})
	feed(t, m, 1, base, callBodies(callID)[:9])
	m.Update(press("4"))
	var buf bytes.Buffer
	w := &colorprofile.Writer{Forward: &buf, Profile: p}
	if _, err := w.WriteString(m.View().Content); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	r := m.panes[paneEvents]
	row := -1
	for i := r.y + 1; i < r.y+r.h-1; i++ {
		if strings.Contains(ansi.Strip(lines[i]), "speech-update") && strings.Contains(ansi.Strip(lines[i]), "user stopped") {
			row = i
		}
	}
	if row < 1 {
		t.Fatalf("selected event row not found:\n%s", ansi.Strip(buf.String()))
	}
	inner := func(l string) []cell {
		cs := cells(l)
		return cs[r.x+1 : r.x+r.w-1]
	}
	return inner(lines[row]), inner(lines[row-1])
}

// TestSelectedRowWholeWidth: the selected row stands out across the whole width of its pane
// (it used to on its first cell only: the row's own colour resets ended the highlight), on
// 24-bit and 256-colour terminals, on 16 colours (TERM=xterm) and with NO_COLOR, on dark and
// light themes; the row above does not; and no selected cell has its text in the colour of
// its background (under TERM=xterm the selected timestamp was blue on blue).
func TestSelectedRowWholeWidth(t *testing.T) {
	t.Parallel()
	for _, p := range []colorprofile.Profile{colorprofile.TrueColor, colorprofile.ANSI256, colorprofile.ANSI, colorprofile.ASCII} {
		for _, dark := range []bool{true, false} {
			sel, above := selectedRowCells(t, p, dark)
			for i, c := range sel {
				if !c.marked {
					t.Errorf("%s dark=%v: cell %d (%q) of the selected row is not highlighted: %q", p, dark, i, c.r, text(sel))
					break
				}
				if c.fg != "" && c.fg == c.bg {
					t.Errorf("%s dark=%v: cell %d (%q) of the selected row is drawn in its background's colour %s", p, dark, i, c.r, c.bg)
					break
				}
			}
			for i, c := range above {
				if c.marked {
					t.Errorf("%s dark=%v: cell %d of the row above the selection is highlighted too: %q", p, dark, i, text(above))
					break
				}
			}
		}
	}
}

func text(cs []cell) string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteRune(c.r)
	}
	return b.String()
}
