package tui

import (
	"strings"
	"testing"
	"unicode"
)

func TestSanitize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Hi Ada, how can I help?", "Hi Ada, how can I help?"},
		{"newline kept", "line one\nline two", "line one\nline two"},
		{"tab to space", "a\tb", "a b"},
		{"CSI colour", "\x1b[31mred\x1b[0m text", "red text"},
		{"clear screen", "before\x1b[2J\x1b[Hafter", "beforeafter"},
		{"OSC title", "x\x1b]0;pwned\x07y", "xy"},
		{"OSC 52 clipboard", "x\x1b]52;c;ZXZpbA==\x1b\\y", "xy"},
		{"carriage return overwrite", "transfer $10\r$10000", "transfer $10$10000"},
		{"crlf", "a\r\nb", "a\nb"},
		{"backspace", "abc\b\bX", "abcX"},
		{"bell", "ding\a", "ding"},
		{"C1 CSI U+009B", "a\u009b31mb", "a31mb"},
		{"C1 CSI raw byte", "a\x9b31mb", "a\ufffd31mb"},
		{"bidi override", "file\u202egnp.exe", "filegnp.exe"},
		{"bidi isolate", "x\u2066y\u2069z", "xyz"},
		{"zero width joiner and BOM", "a\u200db\ufeffc", "abc"},
		{"invalid utf8", "ok\xff\xfeok", "ok\ufffdok"},
		{"NUL and DEL", "a\x00b\x7fc", "abc"},
		{"unicode letters kept", "Grüße, 東京 🙂", "Grüße, 東京 🙂"},
		{"lone ESC", "a\x1bb", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Sanitize(tt.in)
			if got != tt.want {
				t.Errorf("Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			for _, r := range got {
				if r != '\n' && !unicode.IsPrint(r) {
					t.Errorf("Sanitize(%q) kept unprintable %U", tt.in, r)
				}
			}
		})
	}
}

func TestSanitizeLine(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"one\ntwo", "one two"},
		{"  spaced   out \n\n end ", "spaced out end"},
		{"\x1b[1mbold\x1b[0m", "bold"},
		{"plain", "plain"},
	}
	for _, tt := range tests {
		if got := SanitizeLine(tt.in); got != tt.want {
			t.Errorf("SanitizeLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestClip(t *testing.T) {
	t.Parallel()
	if got := clip("héllo", 2); got != "h…" {
		t.Errorf("clip on a rune boundary = %q", got)
	}
	if got := clip("short", 10); got != "short" {
		t.Errorf("clip of a short string = %q", got)
	}
	long := strings.Repeat("x", 100)
	if got := clip(long, 10); got != strings.Repeat("x", 10)+"…" {
		t.Errorf("clip = %q", got)
	}
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"\x1b[31m", "a\rb", "\u202e", "\xff", "\u009b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range Sanitize(s) {
			if r != '\n' && !unicode.IsPrint(r) {
				t.Fatalf("Sanitize(%q) kept %U", s, r)
			}
			if r == 0x1b {
				t.Fatalf("Sanitize(%q) kept ESC", s)
			}
		}
	})
}
