package tui

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// Sanitize makes payload text safe to draw on a terminal. Everything in a webhook body is
// attacker-influenced (caller speech, LLM-written tool arguments), so every display copy
// passes through here once, when it enters the model: invalid UTF-8 becomes U+FFFD, ANSI
// escape sequences are removed, and then only printable runes and '\n' are kept (a tab
// becomes a space). ansi.Strip alone is not enough: it keeps '\r', '\b', BEL, C1 controls
// such as U+009B (a one-byte CSI on some terminals) and bidi overrides, which can rewrite
// or reorder what is already on screen.
func Sanitize(s string) string {
	if plainASCII(s) {
		return s
	}
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

// SanitizeLine is Sanitize for one-line contexts (table cells, titles): line breaks become
// spaces and runs of spaces collapse, so a payload cannot push rows around.
func SanitizeLine(s string) string {
	s = Sanitize(s)
	if !strings.Contains(s, "\n") && !strings.Contains(s, "  ") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// clip shortens s to at most n bytes on a rune boundary, marking the cut with "…". It is
// applied before sanitising so that a megabyte-long field costs nothing to display.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// plainASCII reports whether s holds only printable ASCII and '\n', the common case, which
// needs no work.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 || c > 0x7e) && c != '\n' {
			return false
		}
	}
	return true
}
