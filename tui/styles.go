package tui

import (
	"image/color"

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
	Border, BorderFocus lipgloss.Style
	Title, TitleFocus   lipgloss.Style

	StatusKey, StatusVal, URL lipgloss.Style
	Footer, Notice            lipgloss.Style

	// Selected is the selected row, across the whole width of its pane: its own colours
	// on a background of its own, or reverse video on a terminal of 16 colours or none
	// (whose palette vapimon cannot know). The row is drawn in it without the colours of
	// its parts, which would not all be readable on the selection's background.
	Selected      lipgloss.Style
	Dim, Faint    lipgloss.Style
	OK, Warn, Err lipgloss.Style
	Live          lipgloss.Style

	Assistant, User, Note, Partial lipgloss.Style

	BarFull, BarEmpty, BarLow lipgloss.Style

	JSONKey, JSONString, JSONNumber, JSONLiteral, JSONPunct lipgloss.Style

	Modal, ModalTitle lipgloss.Style
	Cursor            lipgloss.Style

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
		Border:      fg("#80809A", "#7A7A94"),
		BorderFocus: lipgloss.NewStyle().Foreground(accent),
		Title:       lipgloss.NewStyle().Foreground(title),
		TitleFocus:  lipgloss.NewStyle().Foreground(accent).Bold(true),

		StatusKey: lipgloss.NewStyle().Foreground(dim),
		StatusVal: fg("#1F1F2E", "#E0E0E8"),
		URL:       lipgloss.NewStyle().Foreground(blue).Bold(true).Underline(true),
		Footer:    lipgloss.NewStyle().Foreground(dim),
		Notice:    lipgloss.NewStyle().Foreground(yellow),

		Selected: selected,
		Dim:      lipgloss.NewStyle().Foreground(dim),
		Faint:    lipgloss.NewStyle().Foreground(faint).Italic(true),
		OK:       lipgloss.NewStyle().Foreground(green),
		Warn:     lipgloss.NewStyle().Foreground(yellow),
		Err:      lipgloss.NewStyle().Foreground(red).Bold(true),
		Live:     lipgloss.NewStyle().Foreground(green).Bold(true),

		Assistant: lipgloss.NewStyle().Foreground(blue),
		User:      fg("#9D174D", "#F5C2E7"),
		Note:      lipgloss.NewStyle().Foreground(dim),
		Partial:   lipgloss.NewStyle().Foreground(faint).Italic(true),

		BarFull:  lipgloss.NewStyle().Foreground(c("#15803D", "#7EE08A")),
		BarEmpty: fg("#85859A", "#787892"),
		BarLow:   lipgloss.NewStyle().Foreground(red),

		JSONKey:     lipgloss.NewStyle().Foreground(blue),
		JSONString:  fg("#166534", "#A6E3A1"),
		JSONNumber:  fg("#9A3412", "#FAB387"),
		JSONLiteral: fg("#6B21A8", "#CBA6F7"),
		JSONPunct:   lipgloss.NewStyle().Foreground(dim),

		Modal:      lipgloss.NewStyle().Foreground(accent),
		ModalTitle: lipgloss.NewStyle().Foreground(accent).Bold(true),
		Cursor:     lipgloss.NewStyle().Reverse(true),
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
