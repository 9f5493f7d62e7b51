// Package sanitize makes text from webhook payloads safe to draw on a terminal. Everything
// in a webhook body is attacker-influenced (caller speech, LLM-written tool arguments), so
// every display copy passes through here once, at the boundary where it is taken in: the
// monitor when a value enters its model, the CLI reports before they print.
//
// There is one entry point per shape of text, each bounding its input first so that a
// megabyte-long field costs nothing to display: Text keeps line breaks, Line makes one line.
package sanitize

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	"github.com/vapimon/vapimon/webhook"
)

// Text returns s safe to draw: cut to at most max bytes on a rune boundary first (the cut
// marked with "…"; max <= 0 for no cut), then invalid UTF-8 becomes U+FFFD, ANSI escape
// sequences are removed, and only printable runes and '\n' are kept (a tab becomes a
// space). ansi.Strip alone is not enough: it keeps '\r', '\b', BEL, C1 controls such as
// U+009B (a one-byte CSI on some terminals) and bidi overrides, which can rewrite or
// reorder what is already on screen.
func Text(s string, max int) string {
	s = clip(s, max)
	if PlainASCII(s) || printable(s) {
		return s // nothing to change (the common cases)
	}
	return clean(s)
}

// clean is Text's work on a string it has to change.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = ansi.Strip(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteByte('\n')
		case r == '\t':
			b.WriteByte(' ')
		case unicode.IsPrint(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Line is Text for one-line contexts (table cells, titles, status bars): line breaks become
// spaces and runs of spaces collapse, so a payload cannot push rows around.
func Line(s string, max int) string {
	s = Text(s, max)
	if !strings.Contains(s, "\n") && !strings.Contains(s, "  ") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// clip shortens s to at most n bytes on a rune boundary, marking the cut with "…".
func clip(s string, n int) string {
	if n <= 0 || len(s) <= n {
		return s
	}
	return webhook.ClipRunes(s, n) + "…"
}

// printable reports whether s is valid UTF-8 of printable runes and '\n' only (speech
// with accents, "21°C"), which Text would return as it is: no escape sequence can start
// without ESC or a C1 control, and neither is printable.
func printable(s string) bool {
	for i, r := range s {
		switch {
		case r == '\n':
		case r == utf8.RuneError:
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				return false // invalid UTF-8
			}
		case !unicode.IsPrint(r):
			return false
		}
	}
	return true
}

// PlainASCII reports whether s holds only printable ASCII and '\n', the common case, which
// Text returns as it is (and the reply editor shows without escapes).
func PlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 || c > 0x7e) && c != '\n' {
			return false
		}
	}
	return true
}

// Escaped returns s with every rune a terminal would not show as is (controls, bidi
// overrides, other unprintable runes, invalid UTF-8) written as a JSON \u escape, a rune
// past U+FFFF as its UTF-16 pair; '\n' and printable runes are kept. Unlike Text it loses
// nothing, so it is the form for values a person must see exactly (a diff, an editable
// reply): inside a JSON string the escapes decode to the same value.
func Escaped(s string) string {
	if PlainASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			b.WriteString(`\ufffd`)
		case r == '\n' || unicode.IsPrint(r):
			b.WriteRune(r)
		case r > 0xFFFF:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&b, `\u%04x\u%04x`, r1, r2)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}
