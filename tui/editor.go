package tui

import (
	"slices"
	"strings"
	"unicode"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/vapimon/vapimon/tui/sanitize"
)

// editor is a small multi-line text input for typed answers and the filter. (bubbles'
// textarea would do, but it pulls in a clipboard module this build does not carry.)
// Input is sanitised as it arrives: pasted text may carry escape sequences too.
type editor struct {
	lines [][]rune
	row   int
	col   int
	multi bool
	limit int // maximum runes, 0 for none
}

func newEditor(multi bool) editor {
	return editor{lines: [][]rune{nil}, multi: multi, limit: 8000}
}

// Value returns the text.
func (e *editor) Value() string {
	parts := make([]string, len(e.lines))
	for i, l := range e.lines {
		parts[i] = string(l)
	}
	return strings.Join(parts, "\n")
}

// SetValue replaces the text and puts the cursor at its end.
func (e *editor) SetValue(s string) {
	e.lines = [][]rune{nil}
	e.row, e.col = 0, 0
	e.Insert(s)
}

func (e *editor) size() int {
	n := 0
	for _, l := range e.lines {
		n += len(l) + 1
	}
	return n
}

// Insert types s at the cursor. Text is spliced in one piece per line, so pasting (or
// prefilling) a large body costs its length, not its length squared.
func (e *editor) Insert(s string) {
	s = sanitize.Text(s, 0)
	rs := []rune(s)
	if e.limit > 0 {
		room := e.limit - e.size()
		if room <= 0 {
			return
		}
		if len(rs) > room {
			rs = rs[:room]
		}
	}
	if len(rs) == 0 {
		return
	}
	var segs [][]rune
	if e.multi {
		for {
			i := slices.Index(rs, '\n')
			if i < 0 {
				segs = append(segs, rs)
				break
			}
			segs = append(segs, rs[:i])
			rs = rs[i+1:]
		}
	} else {
		for i, r := range rs {
			if r == '\n' {
				rs[i] = ' '
			}
		}
		segs = [][]rune{rs}
	}
	l := e.lines[e.row]
	tail := append([]rune(nil), l[e.col:]...)
	head := l[:e.col:e.col]
	last := segs[len(segs)-1]
	if len(segs) == 1 {
		e.lines[e.row] = append(append(head, last...), tail...)
		e.col += len(last)
		return
	}
	added := make([][]rune, 0, len(segs))
	added = append(added, append(head, segs[0]...))
	for _, seg := range segs[1 : len(segs)-1] {
		added = append(added, append([]rune(nil), seg...))
	}
	added = append(added, append(append([]rune(nil), last...), tail...))
	e.lines = slices.Concat(e.lines[:e.row], added, e.lines[e.row+1:])
	e.row += len(segs) - 1
	e.col = len(last)
}

// Home puts the cursor at the start of the text.
func (e *editor) Home() { e.row, e.col = 0, 0 }

// Newline splits the line at the cursor.
func (e *editor) Newline() {
	if !e.multi {
		return
	}
	l := e.lines[e.row]
	head := append([]rune(nil), l[:e.col]...)
	tail := append([]rune(nil), l[e.col:]...)
	e.lines[e.row] = head
	e.lines = append(e.lines[:e.row+1], append([][]rune{tail}, e.lines[e.row+1:]...)...)
	e.row++
	e.col = 0
}

func (e *editor) backspace() {
	if e.col > 0 {
		l := e.lines[e.row]
		e.lines[e.row] = append(l[:e.col-1], l[e.col:]...)
		e.col--
		return
	}
	if e.row > 0 {
		prev := e.lines[e.row-1]
		e.col = len(prev)
		e.lines[e.row-1] = append(prev, e.lines[e.row]...)
		e.lines = append(e.lines[:e.row], e.lines[e.row+1:]...)
		e.row--
	}
}

func (e *editor) del() {
	l := e.lines[e.row]
	if e.col < len(l) {
		e.lines[e.row] = append(l[:e.col], l[e.col+1:]...)
		return
	}
	if e.row < len(e.lines)-1 {
		e.lines[e.row] = append(l, e.lines[e.row+1]...)
		e.lines = append(e.lines[:e.row+1], e.lines[e.row+2:]...)
	}
}

func (e *editor) deleteWordBack() {
	l := e.lines[e.row]
	i := e.col
	for i > 0 && unicode.IsSpace(l[i-1]) {
		i--
	}
	for i > 0 && !unicode.IsSpace(l[i-1]) {
		i--
	}
	e.lines[e.row] = append(l[:i], l[e.col:]...)
	e.col = i
}

// Update applies an editing key; it reports whether the key was used.
func (e *editor) Update(k tea.KeyPressMsg) bool {
	switch k.String() {
	case "left", "ctrl+b":
		if e.col > 0 {
			e.col--
		} else if e.row > 0 {
			e.row--
			e.col = len(e.lines[e.row])
		}
	case "right", "ctrl+f":
		if e.col < len(e.lines[e.row]) {
			e.col++
		} else if e.row < len(e.lines)-1 {
			e.row++
			e.col = 0
		}
	case "up":
		if !e.multi || e.row == 0 {
			return false
		}
		e.row--
		e.col = min(e.col, len(e.lines[e.row]))
	case "down":
		if !e.multi || e.row == len(e.lines)-1 {
			return false
		}
		e.row++
		e.col = min(e.col, len(e.lines[e.row]))
	case "pgup", "pgdown":
		if !e.multi {
			return false
		}
		if k.String() == "pgup" {
			e.row = max(e.row-10, 0)
		} else {
			e.row = min(e.row+10, len(e.lines)-1)
		}
		e.col = min(e.col, len(e.lines[e.row]))
	case "home", "ctrl+a":
		e.col = 0
	case "end":
		e.col = len(e.lines[e.row])
	case "backspace", "ctrl+h":
		e.backspace()
	case "delete", "ctrl+d":
		e.del()
	case "ctrl+w", "alt+backspace":
		e.deleteWordBack()
	case "ctrl+u":
		e.lines[e.row] = e.lines[e.row][e.col:]
		e.col = 0
	case "ctrl+k":
		e.lines[e.row] = e.lines[e.row][:e.col]
	case "space":
		e.Insert(" ")
	default:
		if k.Text == "" || k.Mod&(tea.ModCtrl|tea.ModAlt) != 0 {
			return false
		}
		e.Insert(k.Text)
	}
	return true
}

// View draws at most h rows of width w, scrolled to keep the cursor visible, with a
// block cursor when focused.
func (e *editor) View(st *Styles, w, h int, focused bool) []string {
	if w <= 0 || h <= 0 {
		return nil
	}
	// Soft-wrap the lines around the cursor only (each line is at least one row, so the h
	// rows on screen come from at most h lines either side); remember where the cursor lands.
	lo, hi := max(e.row-h, 0), min(e.row+h+1, len(e.lines))
	var rows []string
	curRow := 0
	for i := lo; i < hi; i++ {
		l := e.lines[i]
		s := string(l)
		if focused && i == e.row {
			before := string(l[:e.col])
			at := " "
			after := ""
			if e.col < len(l) {
				at = string(l[e.col])
				after = string(l[e.col+1:])
			}
			s = before + st.Cursor.Render(at) + after
		}
		wrapped := strings.Split(ansi.Hardwrap(s, w, true), "\n")
		if i == e.row {
			// The cursor is in the wrapped segment that holds column e.col.
			curRow = len(rows) + min(ansi.StringWidth(string(l[:e.col]))/max(w, 1), len(wrapped)-1)
		}
		rows = append(rows, wrapped...)
	}
	start := 0
	if curRow >= h {
		start = curRow - h + 1
	}
	end := min(start+h, len(rows))
	return rows[start:end]
}
