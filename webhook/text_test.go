package webhook

import (
	"testing"
	"time"
	"unicode/utf8"
)

func TestPlural(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		n    int
		want string
	}{{0, "0 replies"}, {1, "1 reply"}, {2, "2 replies"}} {
		if got := Plural(c.n, "reply", "replies"); got != c.want {
			t.Errorf("Plural(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}

func TestClipRunes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{
		{"hello", 10, "hello"},
		{"hello", 3, "hel"},
		{"héllo", 2, "h"}, // é is two bytes: never cut in half
		{"héllo", 3, "hé"},
		{"日本", 4, "日"},
		{"abc", 0, ""},
	} {
		got := ClipRunes(c.s, c.n)
		if got != c.want || !utf8.ValidString(got) {
			t.Errorf("ClipRunes(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		a, b         string
		full, prefix int
	}{
		{"forwrd-to", "forward-to", 1, 1},
		{"", "abc", 3, 0},
		{"abc", "", 3, 3},
		{"tol-calls", "tool-calls-flat", 6, 1},
		{"tool-calls", "tool-calls", 0, 0},
		{"café", "cafe", 1, 1},      // runes, not bytes
		{"kitten", "sitting", 3, 2}, // "sittin"
	} {
		if got := EditDistance(c.a, c.b); got != c.full {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.full)
		}
		if got := PrefixEditDistance(c.a, c.b); got != c.prefix {
			t.Errorf("PrefixEditDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.prefix)
		}
	}
}

func TestJSONOrString(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		in   []byte
		want string
	}{
		{"json compacted", []byte(" {\"a\": [1, 2]}\n"), `{"a":[1,2]}`},
		{"text", []byte("GET / HTTP/1.1 junk"), `"GET / HTTP/1.1 junk"`},
		{"empty", nil, `""`},
		{"not utf-8", []byte{0xff, 0xfe, 0x00}, `"//4A"`},
		{"html kept valid", []byte("<b>&</b>"), `"\u003cb\u003e\u0026\u003c/b\u003e"`},
	} {
		if got := string(JSONOrString(c.in)); got != c.want {
			t.Errorf("%s: JSONOrString(%q) = %s, want %s", c.name, c.in, got, c.want)
		}
	}
}

func TestSmallFormatters(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ got, want string }{
		{SingleLine("a\r\nb\nc\rd  e"), "a b c d  e"},
		{SingleLine("plain"), "plain"},
		{Quote("tab\there", 64), `"tab\there"`},
		{Quote("\u202eevil", 64), `"\u202eevil"`},
		{Quote("héllo wörld", 7), `"héllo "…`}, // 7 bytes: é is two
		{Quote("hé", 2), `"h"…`},               // never half a rune
		{ByteSize(64 << 10), "64 KiB"},
		{ByteSize(1 << 20), "1 MiB"},
		{ByteSize(1500), "1500 bytes"},
		{RoundDuration(1234567 * time.Microsecond).String(), "1.2s"},
		{RoundDuration(3456789 * time.Nanosecond).String(), "3ms"},
		{RoundDuration(312456 * time.Nanosecond).String(), "312µs"},
		{Latency(312456 * time.Nanosecond), "312µs"},
		{Latency(3234 * time.Microsecond), "3.2ms"},
		{Latency(184 * time.Millisecond), "184ms"},
		{Latency(1254 * time.Millisecond), "1.25s"},
		{Thousands(1588), "1,588"},
		{Thousands(999), "999"},
		{Thousands(1234567), "1,234,567"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
