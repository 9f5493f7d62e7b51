package tui

import (
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Styles holds every style the monitor draws with, in one place, so that panes never build
// styles of their own.
type Styles struct {
	Border, BorderFocus lipgloss.Style
	Title, TitleFocus   lipgloss.Style

	StatusKey, StatusVal, URL lipgloss.Style
	Footer, Notice            lipgloss.Style

	Selected, Dim, Faint lipgloss.Style
	OK, Warn, Err        lipgloss.Style
	Live                 lipgloss.Style

	Assistant, User, Note, Partial lipgloss.Style

	BarFull, BarEmpty, BarLow lipgloss.Style

	JSONKey, JSONString, JSONNumber, JSONLiteral, JSONPunct lipgloss.Style

	Modal, ModalTitle lipgloss.Style
	Cursor            lipgloss.Style
}

// DefaultStyles returns the monitor's styles for a dark terminal.
func DefaultStyles() Styles {
	c := lipgloss.Color
	accent := c("#B48EF0")
	return Styles{
		Border:      lipgloss.NewStyle().Foreground(c("#5C5C70")),
		BorderFocus: lipgloss.NewStyle().Foreground(accent),
		Title:       lipgloss.NewStyle().Foreground(c("#A0A0B8")),
		TitleFocus:  lipgloss.NewStyle().Foreground(accent).Bold(true),

		StatusKey: lipgloss.NewStyle().Foreground(c("#8A8AA0")),
		StatusVal: lipgloss.NewStyle().Foreground(c("#E0E0E8")),
		URL:       lipgloss.NewStyle().Foreground(c("#7DD3FC")).Bold(true).Underline(true),
		Footer:    lipgloss.NewStyle().Foreground(c("#8A8AA0")),
		Notice:    lipgloss.NewStyle().Foreground(c("#F0C674")),

		Selected: lipgloss.NewStyle().Background(c("#2E2E44")).Bold(true),
		Dim:      lipgloss.NewStyle().Foreground(c("#8A8AA0")),
		Faint:    lipgloss.NewStyle().Foreground(c("#6A6A7A")).Italic(true),
		OK:       lipgloss.NewStyle().Foreground(c("#7EE08A")),
		Warn:     lipgloss.NewStyle().Foreground(c("#F0C674")),
		Err:      lipgloss.NewStyle().Foreground(c("#FF6B6B")).Bold(true),
		Live:     lipgloss.NewStyle().Foreground(c("#7EE08A")).Bold(true),

		Assistant: lipgloss.NewStyle().Foreground(c("#7DD3FC")),
		User:      lipgloss.NewStyle().Foreground(c("#F5C2E7")),
		Note:      lipgloss.NewStyle().Foreground(c("#8A8AA0")),
		Partial:   lipgloss.NewStyle().Foreground(c("#6A6A7A")).Italic(true),

		BarFull:  lipgloss.NewStyle().Foreground(c("#7EE08A")),
		BarEmpty: lipgloss.NewStyle().Foreground(c("#3C3C50")),
		BarLow:   lipgloss.NewStyle().Foreground(c("#FF6B6B")),

		JSONKey:     lipgloss.NewStyle().Foreground(c("#7DD3FC")),
		JSONString:  lipgloss.NewStyle().Foreground(c("#A6E3A1")),
		JSONNumber:  lipgloss.NewStyle().Foreground(c("#FAB387")),
		JSONLiteral: lipgloss.NewStyle().Foreground(c("#CBA6F7")),
		JSONPunct:   lipgloss.NewStyle().Foreground(c("#8A8AA0")),

		Modal:      lipgloss.NewStyle().Foreground(accent),
		ModalTitle: lipgloss.NewStyle().Foreground(accent).Bold(true),
		Cursor:     lipgloss.NewStyle().Reverse(true),
	}
}

// fit truncates or pads a styled line to exactly w cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		s = ansi.Truncate(s, w, "…")
		sw = ansi.StringWidth(s)
	}
	if sw < w {
		s += strings.Repeat(" ", w-sw)
	}
	return s
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
		rest := inner - 1 - 2 - ansi.StringWidth(t)
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
		out = append(out, side+fit(line, inner)+side)
	}
	out = append(out, bs.Render("╰"+strings.Repeat("─", inner)+"╯"))
	return out
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
