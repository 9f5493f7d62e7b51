package tui

import (
	"fmt"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
)

// Theme says which terminal background the monitor's colours are made for. It is a
// flag.Value (and a pflag.Value), so that a command registers it as --theme.
type Theme string

// Themes. The zero value is ThemeAuto.
const (
	// ThemeAuto asks the terminal for its background colour (tea.RequestBackgroundColor)
	// and draws for a dark one until it answers; a terminal that never answers gets the
	// dark colours.
	ThemeAuto  Theme = "auto"
	ThemeLight Theme = "light"
	ThemeDark  Theme = "dark"
)

// ThemeUsage is the help text for a --theme flag.
const ThemeUsage = "colours for the terminal's background: light, dark, or auto (ask the terminal)"

// String implements flag.Value.
func (t *Theme) String() string {
	if *t == "" {
		return string(ThemeAuto)
	}
	return string(*t)
}

// Set implements flag.Value.
func (t *Theme) Set(s string) error {
	switch Theme(s) {
	case ThemeAuto, ThemeLight, ThemeDark:
		*t = Theme(s)
		return nil
	}
	return fmt.Errorf("unknown theme %q: use light, dark or auto", s)
}

// Type implements pflag.Value.
func (t *Theme) Type() string { return "light|dark|auto" }

// auto reports whether the terminal is asked for its background.
func (t Theme) auto() bool { return t == "" || t == ThemeAuto }

// look is what the styles are built for: the background and the colour profile.
type look struct {
	dark    bool
	profile colorprofile.Profile
}

// initialLook is the look before the terminal says anything: dark unless the theme says
// light, and 24-bit colour (bubbletea downsamples what it writes to the terminal's
// profile, and says which it is with a tea.ColorProfileMsg).
func initialLook(t Theme) look {
	return look{dark: t != ThemeLight, profile: colorprofile.TrueColor}
}

// lookCmd asks the terminal for its background when the theme is auto.
func (m *Model) lookCmd() tea.Cmd {
	if !m.opts.Theme.auto() {
		return nil
	}
	return tea.RequestBackgroundColor
}

// restyle builds the styles for l and drops what was drawn with the old ones (cached
// transcript rows, pretty JSON, detail lines).
func (m *Model) restyle(l look) {
	if l == m.look {
		return
	}
	m.look = l
	m.styles = NewStyles(l.dark, l.profile)
	m.help.Styles = m.styles.Help
	m.shortHelp = shortHelpMemo{} // drawn with the old styles
	for _, c := range m.calls.byID {
		c.transcript.wrapWidth = -1
	}
	for _, r := range m.toolLog {
		r.pretty, r.promptArgs = nil, nil
	}
	for _, c := range m.calls.byID {
		for _, r := range c.tools {
			r.pretty, r.promptArgs = nil, nil
		}
	}
	for _, p := range m.queue {
		p.pretty = nil
	}
	if d := m.detail; d != nil && d.build != nil {
		d.builtW = 0 // rebuilt by the next SetSize, at the end of Update
	}
}
