package tui

import (
	"image/color"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
)

// Styles holds every style the monitor draws with, in one place, so that panes never build
// styles of their own. NewStyles makes them for a dark or a light terminal background; a
// test measures the contrast of every colour in them on both.
type Styles struct {
	// Border, BorderFocus, Modal: frames. BarFull, BarEmpty, BarLow: the countdown bar.
	// These are drawn as lines and blocks, not letters (3:1 contrast is enough); every
	// other style is text (4.5:1).
	Border, BorderFocus Style
	Title, TitleFocus   Style

	StatusKey, StatusVal, URL Style
	Footer, Notice            Style

	// Selected is the selected row, across the whole width of its pane: its own colours
	// on a background of its own, or reverse video on a terminal of 16 colours or none
	// (whose palette vapimon cannot know). The row is drawn in it without the colours of
	// its parts, which would not all be readable on the selection's background.
	Selected      Style
	Dim, Faint    Style
	OK, Warn, Err Style
	Live          Style

	Assistant, User, Note, Partial Style

	BarFull, BarEmpty, BarLow Style

	JSONKey, JSONString, JSONNumber, JSONLiteral, JSONPunct Style

	Modal, ModalTitle Style
	Cursor            Style

	// Help styles the key help in the footer, the prompts and the help screen.
	Help help.Styles
}

// NewStyles returns the monitor's styles for a dark (isDark) or light terminal background,
// each colour picked by lipgloss.LightDark from a pair chosen so that text has a contrast
// of at least 4.5:1 and frames and bars 3:1 on common backgrounds of that kind (WCAG 2.x,
// measured by TestStylesContrast). profile is the terminal's colour profile: with 16
// colours or fewer the selection is drawn in reverse video, which every terminal shows
// whatever its palette (a colour picked for 24 bits can land on the text's own colour).
func NewStyles(isDark bool, profile colorprofile.Profile) Styles {
	ld := lipgloss.LightDark(isDark)
	c := func(light, dark string) color.Color { return ld(lipgloss.Color(light), lipgloss.Color(dark)) }
	fg := func(light, dark string) lipgloss.Style { return lipgloss.NewStyle().Foreground(c(light, dark)) }

	accent := c("#6D3FC8", "#B48EF0")
	dim := c("#5F5F78", "#9A9AB0")
	faint := c("#666680", "#9595AD")
	blue := c("#075985", "#7DD3FC")
	green := c("#166534", "#7EE08A")
	yellow := c("#92400E", "#F0C674")
	red := c("#B91C1C", "#FF6B6B")
	title := c("#55556A", "#A0A0B8")

	selected := lipgloss.NewStyle().Foreground(c("#1E1B4B", "#FFFFFF")).Background(c("#C4B5FD", "#4B3D8F")).Bold(true)
	if profile <= colorprofile.ANSI {
		selected = lipgloss.NewStyle().Reverse(true).Bold(true)
	}
	st := Styles{
		Border:      newStyle(fg("#80809A", "#7A7A94")),
		BorderFocus: newStyle(lipgloss.NewStyle().Foreground(accent)),
		Title:       newStyle(lipgloss.NewStyle().Foreground(title)),
		TitleFocus:  newStyle(lipgloss.NewStyle().Foreground(accent).Bold(true)),

		StatusKey: newStyle(lipgloss.NewStyle().Foreground(dim)),
		StatusVal: newStyle(fg("#1F1F2E", "#E0E0E8")),
		URL:       newStyle(lipgloss.NewStyle().Foreground(blue).Bold(true).Underline(true)),
		Footer:    newStyle(lipgloss.NewStyle().Foreground(dim)),
		Notice:    newStyle(lipgloss.NewStyle().Foreground(yellow)),

		Selected: newStyle(selected),
		Dim:      newStyle(lipgloss.NewStyle().Foreground(dim)),
		Faint:    newStyle(lipgloss.NewStyle().Foreground(faint).Italic(true)),
		OK:       newStyle(lipgloss.NewStyle().Foreground(green)),
		Warn:     newStyle(lipgloss.NewStyle().Foreground(yellow)),
		Err:      newStyle(lipgloss.NewStyle().Foreground(red).Bold(true)),
		Live:     newStyle(lipgloss.NewStyle().Foreground(green).Bold(true)),

		Assistant: newStyle(lipgloss.NewStyle().Foreground(blue)),
		User:      newStyle(fg("#9D174D", "#F5C2E7")),
		Note:      newStyle(lipgloss.NewStyle().Foreground(dim)),
		Partial:   newStyle(lipgloss.NewStyle().Foreground(faint).Italic(true)),

		BarFull:  newStyle(lipgloss.NewStyle().Foreground(c("#15803D", "#7EE08A"))),
		BarEmpty: newStyle(fg("#85859A", "#787892")),
		BarLow:   newStyle(lipgloss.NewStyle().Foreground(red)),

		JSONKey:     newStyle(lipgloss.NewStyle().Foreground(blue)),
		JSONString:  newStyle(fg("#166534", "#A6E3A1")),
		JSONNumber:  newStyle(fg("#9A3412", "#FAB387")),
		JSONLiteral: newStyle(fg("#6B21A8", "#CBA6F7")),
		JSONPunct:   newStyle(lipgloss.NewStyle().Foreground(dim)),

		Modal:      newStyle(lipgloss.NewStyle().Foreground(accent)),
		ModalTitle: newStyle(lipgloss.NewStyle().Foreground(accent).Bold(true)),
		Cursor:     newStyle(lipgloss.NewStyle().Reverse(true)),
	}
	key := lipgloss.NewStyle().Foreground(title)
	desc := lipgloss.NewStyle().Foreground(dim)
	st.Help = help.Styles{
		ShortKey: key, ShortDesc: desc, ShortSeparator: desc, Ellipsis: desc,
		FullKey: key, FullDesc: desc, FullSeparator: desc,
	}
	return st
}

// selectedRow draws line as the selected row of a pane w cells wide: the whole width in the
// selection's style, the line's own colours dropped (see Styles.Selected).
func selectedRow(st *Styles, line string, w int) string {
	return st.Selected.Render(fit(ansi.Strip(line), w))
}

// Style is a lipgloss style that draws a plain line fast. Most of what the monitor draws
// is a short one-line string in a colour, and lipgloss's Render, which handles every
// property (wrapping, padding, borders, tabs...), costs a few allocations for each: under
// load a frame makes thousands. For a style whose rendering of any line is its text
// between two fixed strings (checked on probes when the style is made: colours, bold,
// italic, faint, reverse), Render of one line without tab, carriage return or line break
// is that concatenation, exactly what lipgloss would return. Anything else goes to
// lipgloss.
type Style struct {
	lipgloss.Style
	pre, post string
	fast      bool
}

// newStyle wraps s, finding the strings it draws around a line when that is all it does.
func newStyle(s lipgloss.Style) Style {
	st := Style{Style: s}
	const probe = "x"
	r := s.Render(probe)
	i := strings.Index(r, probe)
	if i < 0 {
		return st
	}
	pre, post := r[:i], r[i+len(probe):]
	for _, p := range []string{"", " ", "ab cd", " a ", "é 漢字 ✓", "\x1b[1mx\x1b[m", "a  b"} {
		if s.Render(p) != pre+p+post {
			return st
		}
	}
	st.pre, st.post, st.fast = pre, post, true
	return st
}

// Render draws strs as lipgloss does (see Style).
func (s *Style) Render(strs ...string) string {
	if pre, post, ok := s.around(strs...); ok {
		return pre + strs[0] + post
	}
	return s.Style.Render(strs...)
}

// around returns what Render(strs...) draws before and after strs[0] when that is all it
// does to them (ok), so that a caller can join several drawn parts in one allocation.
func (s *Style) around(strs ...string) (pre, post string, ok bool) {
	if s.fast && len(strs) == 1 && !strings.ContainsAny(strs[0], "\t\r\n") {
		return s.pre, s.post, true
	}
	return "", "", false
}
