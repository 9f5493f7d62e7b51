package tui

import (
	"reflect"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
)

// TestThemeFollowsTheTerminal: with --theme auto the monitor asks the terminal for its
// background and restyles when it answers (what was drawn before, the cached transcript
// rows, goes); --theme light or dark asks nothing and keeps its colours.
func TestThemeFollowsTheTerminal(t *testing.T) {
	t.Parallel()
	white := tea.BackgroundColorMsg{Color: lipgloss.Color("#FFFFFF")}
	black := tea.BackgroundColorMsg{Color: lipgloss.Color("#101010")}
	light := NewStyles(false, colorprofile.TrueColor)
	dark := NewStyles(true, colorprofile.TrueColor)
	same := func(a, b Styles) bool {
		return reflect.DeepEqual(a.Dim.GetForeground(), b.Dim.GetForeground()) && reflect.DeepEqual(a.Selected.GetBackground(), b.Selected.GetBackground())
	}
	for _, tt := range []struct {
		theme     Theme
		asks      bool
		msg       tea.BackgroundColorMsg
		wantLight bool
	}{
		{"", true, white, true},
		{ThemeAuto, true, white, true},
		{ThemeAuto, true, black, false},
		{ThemeLight, false, black, true},
		{ThemeDark, false, white, false},
	} {
		clk := newClock(base)
		m := NewModel(Options{Now: clk.Now, Theme: tt.theme}, nil)
		m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
		feed(t, m, 1, base, callBodies(callID)[:4])
		_ = screen(m) // fills the transcript's row cache
		cmd := m.lookCmd()
		if asks := cmd != nil; asks != tt.asks {
			t.Errorf("theme %q: asks the terminal %v, want %v", tt.theme, asks, tt.asks)
		}
		if cmd != nil && !reflect.DeepEqual(cmd(), tea.RequestBackgroundColor()) {
			t.Errorf("theme %q: the command is not tea.RequestBackgroundColor", tt.theme)
		}
		m.Update(tt.msg)
		want := dark
		if tt.wantLight {
			want = light
		}
		if !same(m.styles, want) {
			t.Errorf("theme %q, background %s: styles are not the %v ones (light %v)", tt.theme, tt.msg, tt.wantLight, tt.wantLight)
		}
		got := m.View().Content
		if tt.wantLight != strings.Contains(got, light.Assistant.Render("Hi Ada, how can I help?")) {
			t.Errorf("theme %q, background %s: the transcript is not redrawn in the new colours", tt.theme, tt.msg)
		}
	}
}

// TestThemeFlag: --theme takes light, dark and auto, and says what it takes otherwise.
func TestThemeFlag(t *testing.T) {
	t.Parallel()
	var th Theme
	if th.String() != "auto" {
		t.Errorf("zero theme = %q, want auto", th.String())
	}
	for _, s := range []string{"light", "dark", "auto"} {
		if err := th.Set(s); err != nil || th.String() != s {
			t.Errorf("Set(%q) = %v, theme %q", s, err, th.String())
		}
	}
	if err := th.Set("solarized"); err == nil || !strings.Contains(err.Error(), "light, dark or auto") {
		t.Errorf("Set(solarized) = %v, want an error naming the choices", err)
	}
}

// TestColourProfileRestyles: on a terminal of 16 colours the selection becomes reverse
// video as soon as bubbletea says so.
func TestColourProfileRestyles(t *testing.T) {
	t.Parallel()
	m, _ := sized(t, 120, 40)
	m.Update(tea.ColorProfileMsg{Profile: colorprofile.ANSI})
	if !m.styles.Selected.GetReverse() {
		t.Error("16 colours: the selection is not reverse video")
	}
}
