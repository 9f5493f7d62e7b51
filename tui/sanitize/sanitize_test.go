package sanitize

import (
	"strings"
	"testing"
	"unicode"
)

func TestText(t *testing.T) {
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
			got := Text(tt.in, 0)
			if got != tt.want {
				t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
			}
			for _, r := range got {
				if r != '\n' && !unicode.IsPrint(r) {
					t.Errorf("Text(%q) kept unprintable %U", tt.in, r)
				}
			}
		})
	}
}

func TestLine(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"one\ntwo", "one two"},
		{"  spaced   out \n\n end ", "spaced out end"},
		{"\x1b[1mbold\x1b[0m", "bold"},
		{"plain", "plain"},
	}
	for _, tt := range tests {
		if got := Line(tt.in, 0); got != tt.want {
			t.Errorf("Line(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestBound: the bound is applied first, on a rune boundary, and the cut is marked; a line
// bounded and sanitised in one call is what SanitizeLine(clip(x, n)) was.
func TestBound(t *testing.T) {
	t.Parallel()
	if got := Text("héllo", 2); got != "h…" {
		t.Errorf("Text cut on a rune boundary = %q", got)
	}
	if got := Text("short", 10); got != "short" {
		t.Errorf("Text of a short string = %q", got)
	}
	long := strings.Repeat("x", 100)
	if got := Line(long, 10); got != strings.Repeat("x", 10)+"…" {
		t.Errorf("Line = %q", got)
	}
	if got := Line("a\x1b[31m\nb"+long, 12); got != "a b"+strings.Repeat("x", 4)+"…" { // the bound counts raw bytes
		t.Errorf("Line of a coloured two-line value = %q", got)
	}
	if got := Text(long, 0); got != long {
		t.Errorf("Text with no bound cut the value to %d bytes", len(got))
	}
}

func FuzzText(f *testing.F) {
	for _, s := range []string{"\x1b[31m", "a\rb", "\u202e", "\xff", "\u009b"} {
		f.Add(s)
	}
	for _, s := range []string{"21°C, sunny", "caf\u00e9 \U0001F600 \uFFFD", "漢字\nline"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Text(s, 0), clean(s); got != want {
			t.Fatalf("Text(%q) = %q, the full cleaning gives %q", s, got, want)
		}
		for _, r := range Text(s, 0) {
			if r != '\n' && !unicode.IsPrint(r) {
				t.Fatalf("Text(%q) kept %U", s, r)
			}
			if r == 0x1b {
				t.Fatalf("Text(%q) kept ESC", s)
			}
		}
	})
}

func TestEscaped(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"plain\nascii", "plain\nascii"},
		{"x\u202ey\u00a0z😀", `x\u202ey\u00a0z😀`},
		{"bell\a esc\x1b[31m cr\r", `bell\u0007 esc\u001b[31m cr\u000d`},
		{"bad \xff, real \uFFFD", `bad \ufffd, real ` + "\uFFFD"},
		{"\U000E0001", `\udb40\udc01`},
	} {
		if got := Escaped(tt.in); got != tt.want {
			t.Errorf("Escaped(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
