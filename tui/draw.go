package tui

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// fit truncates or pads a styled line to exactly w cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := cellWidth(s)
	if sw > w {
		s = ansi.Truncate(s, w, "…")
		sw = ansi.StringWidth(s)
	}
	if sw < w {
		s += blanks(w - sw)
	}
	return s
}

// spaceRun is the blanks fit pads with, sliced rather than built for each line.
const spaceRun = "                                                                                                                                                                                                                                                                "

// blanks returns n spaces.
func blanks(n int) string {
	if n <= len(spaceRun) {
		return spaceRun[:n]
	}
	return strings.Repeat(" ", n)
}

// box draws a rounded frame of outer size w×h with title in the top border around content,
// fitting every content line to the inner width. It returns exactly h lines of width w.
func box(st *Styles, title string, content []string, w, h int, focused bool) []string {
	if w < 2 || h < 2 {
		return blankLines(w, h)
	}
	bs, ts := st.Border, st.Title
	if focused {
		bs, ts = st.BorderFocus, st.TitleFocus
	}
	inner := w - 2
	out := make([]string, 0, h)
	top := "─"
	if title != "" && inner > 4 {
		t := ansi.Truncate(title, inner-3, "…")
		top = bs.Render("╭─") + ts.Render(" "+t+" ")
		rest := inner - 1 - 2 - cellWidth(t)
		if rest > 0 {
			top += bs.Render(strings.Repeat("─", rest))
		}
		top += bs.Render("╮")
	} else {
		top = bs.Render("╭" + strings.Repeat("─", inner) + "╮")
	}
	out = append(out, top)
	side := bs.Render("│")
	for i := 0; i < h-2; i++ {
		line := ""
		if i < len(content) {
			line = content[i]
		}
		out = append(out, boxLine(side, line, inner))
	}
	out = append(out, bs.Render("╰"+strings.Repeat("─", inner)+"╯"))
	return out
}

// boxLine is side+fit(line, inner)+side in one allocation when line fits.
func boxLine(side, line string, inner int) string {
	if inner <= 0 {
		return side + side
	}
	if sw := cellWidth(line); sw <= inner {
		return side + line + blanks(inner-sw) + side
	}
	return side + fit(line, inner) + side
}

func blankLines(w, h int) []string {
	if h <= 0 {
		return nil
	}
	out := make([]string, h)
	pad := strings.Repeat(" ", max(w, 0))
	for i := range out {
		out[i] = pad
	}
	return out
}

// bar draws a countdown bar of width w showing frac (0..1) remaining.
func bar(st *Styles, frac float64, w int) string {
	if w <= 0 {
		return ""
	}
	frac = min(max(frac, 0), 1)
	full := int(frac*float64(w) + 0.5)
	fs := st.BarFull
	if frac < 0.25 {
		fs = st.BarLow
	}
	return fs.Render(strings.Repeat("█", full)) + st.BarEmpty.Render(strings.Repeat("░", w-full))
}

// modalBox frames content in a double-line box of width w.
func modalBox(st *Styles, title string, body []string, w int) []string {
	inner := w - 4
	bs := st.Modal
	t := ansi.Truncate(title, max(inner-2, 1), "…")
	top := bs.Render("╭─ ") + st.ModalTitle.Render(t) + bs.Render(" "+strings.Repeat("─", max(w-5-ansi.StringWidth(t), 0))+"╮")
	out := []string{top}
	for _, l := range body {
		out = append(out, bs.Render("│ ")+fit(l, inner)+bs.Render(" │"))
	}
	out = append(out, bs.Render("╰"+strings.Repeat("─", w-2)+"╯"))
	return out
}

// overlay draws the box ov over lines at column x, row y, in place. It splices each row
// rather than using lipgloss's compositor: the compositor re-parses the whole screen into
// cells on every frame (about 5 ms at 200x60, more than the frame budget), while splicing
// touches only the rows under the box.
func overlay(lines, ov []string, x, y, w int) {
	for i, o := range ov {
		row := y + i
		if row < 0 || row >= len(lines) {
			continue
		}
		base := lines[row]
		left := ansi.Truncate(base, x, "")
		if lw := ansi.StringWidth(left); lw < x {
			left += strings.Repeat(" ", x-lw)
		}
		ow := ansi.StringWidth(o)
		right := ansi.TruncateLeft(base, x+ow, "")
		lines[row] = fit(left+"\x1b[m"+o+"\x1b[m"+right, w)
	}
}

func scrollPos(top, h, total int) string {
	if total <= h {
		return ""
	}
	return fmt.Sprintf("lines %d-%d of %d", top+1, min(top+h, total), total)
}

// cellWidth is ansi.StringWidth(s), counted byte by byte for what most lines are made of
// (printable ASCII, colour sequences, frame and bar blocks, the few symbols the panes
// draw) and left to ansi for anything else. fit measures every line of every pane, and
// the grapheme segmentation ansi does was the largest cost of a frame.
func cellWidth(s string) int {
	w := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c >= 0x20 && c < 0x7f:
			w++
			i++
		case c == 0x1b && i+1 < len(s) && s[i+1] == '[': // SGR: ESC [ parameters m
			j := i + 2
			for j < len(s) && s[j] >= 0x30 && s[j] <= 0x3f {
				j++
			}
			if j >= len(s) || s[j] != 'm' {
				return ansi.StringWidth(s)
			}
			i = j + 1
		case c >= 0x80:
			r, n := utf8.DecodeRuneInString(s[i:])
			if !narrowSymbol(r) {
				return ansi.StringWidth(s)
			}
			w++
			i += n
		default:
			return ansi.StringWidth(s)
		}
	}
	return w
}

// narrowSymbol reports whether r is one of the symbols the panes draw that take one cell
// (TestCellWidth holds this to ansi.StringWidth).
func narrowSymbol(r rune) bool {
	switch {
	case r >= 0x2500 && r <= 0x259F: // box drawing, blocks
		return true
	}
	switch r {
	case '·', '•', '→', '←', '↑', '↓', '…', '✓', '✗', '●', '↻', '▸', '°', 'µ', '⚙':
		return true
	}
	return false
}
