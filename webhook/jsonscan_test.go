package webhook

import (
	"encoding/json"
	"strings"
	"testing"
)

var validSeeds = []string{
	``, ` `, `{}`, `[]`, `{"a":1}`, `{"a":}`, `{"a" 1}`, `{,}`, `[1,]`, `[,1]`, `{"a":1,}`, `"x`, `"\u00e9"`, `"\u00g9"`,
	`"\x"`, "\"\x01\"", "\"\xff\"", `-`, `-0`, `01`, `1.`, `1.5e`, `1.5e+3`, `1E-2`, `-.5`, `tru`, `true `, `nul`,
	`null null`, `[[[]]]`, `{"a":[{"b":null}]}`, ` {"a" : "b" } `, `[1 2]`, `{"a":1 "b":2}`, "\t[\n]\r",
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000), strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	toolCallsBody,
}

func TestValidJSONMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range append(validSeeds, func() []string {
		var out []string
		for _, b := range fixtureBodies(t) {
			out = append(out, string(b))
		}
		return out
	}()...) {
		if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("validJSON(%.60q) = %v, json.Valid says %v", s, got, want)
		}
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, s := range validSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}

// naiveScanString is scanString one byte at a time: the reference for its word-at-a-time
// loop.
func naiveScanString(b []byte, i int) (end int, flags int) {
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, flags
		case c < 0x20:
			return -1, flags
		case c == '\\':
			if i = scanEscape(b, i); i < 0 {
				return -1, flags
			}
			i--
			flags |= strEscaped
		case c >= 0x80:
			flags |= strNonASCII
		}
	}
	return -1, flags
}

func FuzzScanString(f *testing.F) {
	for _, s := range []string{`""`, `"abcdefgh"`, `"abcdefghijklmnopq\"rs"`, `"\u00e9\u00e9\u00e9\u00e9"`, "\"abcdefg\xff\"", "\"abcdefg\x01\"",
		`"aaaaaaa\\"`, `"aaaaaaaa\n\t\/\bccccccccc"`, `"\u12g4aaaaaaaa"`, "\"\xe2\x80\xa8aaaaaaaa\"", `"aaaaaaaaaaaaaaaa`, `"a":1,"bbbbbbbbbbbb":2`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || b[0] != '"' {
			return
		}
		end, flags := scanString(b, 0)
		wantEnd, wantFlags := naiveScanString(b, 0)
		if end != wantEnd || (end >= 0 && flags != wantFlags) {
			t.Fatalf("scanString(%q) = %d, %b; byte by byte %d, %b", b, end, flags, wantEnd, wantFlags)
		}
	})
}
