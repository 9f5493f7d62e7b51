package tui

import (
	"fmt"
	"image/color"
	"math"
	"reflect"
	"strings"
	"testing"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
)

// relativeLuminance is WCAG 2.x's relative luminance of an sRGB colour: each channel
// scaled to 0..1 and linearised (c/12.92 up to 0.04045, else ((c+0.055)/1.055)^2.4), then
// weighted 0.2126 R + 0.7152 G + 0.0722 B.
func relativeLuminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA() // 16 bits a channel; our colours are opaque
	lin := func(v uint32) float64 {
		s := float64(v>>8) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// contrast is WCAG 2.x's contrast ratio, (L1 + 0.05) / (L2 + 0.05) with L1 the lighter.
func contrast(a, b color.Color) float64 {
	la, lb := relativeLuminance(a), relativeLuminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func TestContrastFormula(t *testing.T) {
	t.Parallel()
	// Known values: black on white is 21:1; #777777 on white is 4.48:1, just under AA.
	for _, tt := range []struct {
		a, b string
		want float64
	}{{"#000000", "#FFFFFF", 21}, {"#777777", "#FFFFFF", 4.48}, {"#FFFFFF", "#FFFFFF", 1}} {
		if got := contrast(lipgloss.Color(tt.a), lipgloss.Color(tt.b)); math.Abs(got-tt.want) > 0.01 {
			t.Errorf("contrast(%s, %s) = %.3f, want %.2f", tt.a, tt.b, got, tt.want)
		}
	}
}

// Terminal backgrounds the colours are checked on: plain black and white, and the
// backgrounds of popular themes of each kind.
var (
	darkBackgrounds  = []string{"#000000", "#1E1E2E", "#282C34", "#002B36"} // black, Catppuccin Mocha, One Dark, Solarized Dark
	lightBackgrounds = []string{"#FFFFFF", "#FDF6E3", "#EFF1F5"}            // white, Solarized Light, Catppuccin Latte
)

// graphic names the styles drawn as lines and blocks rather than letters: WCAG asks 3:1 of
// them, and 4.5:1 of text.
var graphic = map[string]bool{"Border": true, "BorderFocus": true, "Modal": true, "BarFull": true, "BarEmpty": true, "BarLow": true}

// stylePairs lists every style in st with its name, the Help styles included.
func stylePairs(st Styles) map[string]lipgloss.Style {
	out := map[string]lipgloss.Style{}
	var walk func(prefix string, v reflect.Value)
	walk = func(prefix string, v reflect.Value) {
		for i := 0; i < v.NumField(); i++ {
			f, name := v.Field(i), prefix+v.Type().Field(i).Name
			switch s := f.Interface().(type) {
			case lipgloss.Style:
				out[name] = s
			case Style:
				out[name] = s.Style
			default:
				if f.Kind() == reflect.Struct {
					walk(name+".", f)
				}
			}
		}
	}
	walk("", reflect.ValueOf(st))
	return out
}

func isColour(c color.Color) bool {
	_, none := c.(lipgloss.NoColor)
	return c != nil && !none
}

// TestStylesContrast computes the contrast of every foreground/background pair the styles
// use, on dark and light backgrounds: at least 4.5:1 for text and 3:1 for frames and bars
// (WCAG 2.x AA). A style with a background of its own (the selection) is measured on it; the
// others on each terminal background of their kind.
func TestStylesContrast(t *testing.T) {
	t.Parallel()
	for _, dark := range []bool{true, false} {
		bgs, kind := darkBackgrounds, "dark"
		if !dark {
			bgs, kind = lightBackgrounds, "light"
		}
		st := NewStyles(dark, colorprofile.TrueColor)
		pairs := stylePairs(st)
		if len(pairs) < 30 {
			t.Fatalf("found only %d styles: the walk over Styles misses some", len(pairs))
		}
		lowest := map[string]string{}
		low := map[string]float64{}
		note := func(bg, name string, r float64) {
			k := bg + " text"
			if graphic[name] {
				k = bg + " frames/bars"
			}
			if l, ok := low[k]; !ok || r < l {
				low[k], lowest[k] = r, name
			}
		}
		for name, s := range pairs {
			fg, bg := s.GetForeground(), s.GetBackground()
			if s.GetReverse() {
				fg, bg = bg, fg
			}
			need := 4.5
			if graphic[name] {
				need = 3
			}
			switch {
			case !isColour(fg) && !isColour(bg):
				continue // the terminal's own colours (the cursor's reverse video)
			case isColour(fg) && isColour(bg):
				r := contrast(fg, bg)
				note("own", name, r)
				if r < need {
					t.Errorf("%s theme: %s is %.2f:1 on its own background, want %.1f:1", kind, name, r, need)
				}
			case isColour(bg):
				t.Errorf("%s theme: %s has a background and no foreground: the terminal's text colour on it cannot be checked", kind, name)
			default:
				for _, b := range bgs {
					r := contrast(fg, lipgloss.Color(b))
					note(b, name, r)
					if r < need {
						t.Errorf("%s theme: %s is %.2f:1 on %s, want %.1f:1", kind, name, r, b, need)
					}
				}
			}
		}
		var sum []string
		for _, b := range append(bgs, "own") {
			for _, k := range []string{b + " text", b + " frames/bars"} {
				if _, ok := low[k]; ok {
					sum = append(sum, fmt.Sprintf("%s %.2f (%s)", k, low[k], lowest[k]))
				}
			}
		}
		t.Logf("%s theme, lowest contrast per background: %s", kind, strings.Join(sum, ", "))
	}
}

// TestSelectionWithoutColours: on a terminal of 16 colours or none (TERM=xterm, NO_COLOR)
// the selection is reverse video with no colour of its own, which every palette shows; with
// 256 colours or more it has its own background.
func TestSelectionWithoutColours(t *testing.T) {
	t.Parallel()
	for _, p := range []colorprofile.Profile{colorprofile.NoTTY, colorprofile.ASCII, colorprofile.ANSI, colorprofile.ANSI256, colorprofile.TrueColor} {
		for _, dark := range []bool{true, false} {
			s := NewStyles(dark, p).Selected
			coloured := isColour(s.GetForeground()) || isColour(s.GetBackground())
			if p <= colorprofile.ANSI && (!s.GetReverse() || coloured) {
				t.Errorf("%s (dark %v): selection reverse %v, coloured %v; want reverse video only", p, dark, s.GetReverse(), coloured)
			}
			if p > colorprofile.ANSI && !isColour(s.GetBackground()) {
				t.Errorf("%s (dark %v): the selection has no background of its own", p, dark)
			}
		}
	}
}

// TestStyleRenderIsLipgloss: every style draws every string exactly as lipgloss does, in
// both themes and every colour profile, whether or not it takes the fast path for one line.
func TestStyleRenderIsLipgloss(t *testing.T) {
	t.Parallel()
	texts := []string{"", " ", "x", "get_weather → sunny, 21°C", "  two  spaces  ", "tab\there", "cr\rhere",
		"two\nlines", "\x1b[31mred\x1b[m inside", "漢字 ✓ é", strings.Repeat("─", 200)}
	fast := 0
	for _, dark := range []bool{true, false} {
		for _, prof := range []colorprofile.Profile{colorprofile.TrueColor, colorprofile.ANSI256, colorprofile.ANSI, colorprofile.Ascii, colorprofile.NoTTY} {
			st := NewStyles(dark, prof)
			v := reflect.ValueOf(st)
			for i := 0; i < v.NumField(); i++ {
				s, ok := v.Field(i).Interface().(Style)
				if !ok {
					continue
				}
				if s.fast {
					fast++
				}
				for _, x := range texts {
					if got, want := s.Render(x), s.Style.Render(x); got != want {
						t.Errorf("%s (dark %v, profile %v).Render(%q) = %q, lipgloss draws %q", v.Type().Field(i).Name, dark, prof, x, got, want)
					}
				}
			}
		}
	}
	if fast == 0 {
		t.Error("no style takes the fast path")
	}
}
