package webhook

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string exactly as encoding/json writes it with HTML
// escaping off: quotes, backslashes and control characters escaped, U+2028 and U+2029
// escaped, and invalid UTF-8 replaced by U+FFFD. It is the fast path for replies and tape
// lines, which are written on Vapi's clock.
func AppendJSONString[S string | []byte](dst []byte, s S) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		var r rune
		var size int
		switch v := any(s).(type) {
		case string:
			r, size = utf8.DecodeRuneInString(v[i:])
		case []byte:
			r, size = utf8.DecodeRune(v[i:])
		}
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// JSONOrString returns b as one JSON value for a document that embeds bodies (send --json,
// fixtures show): b itself, compacted, when it is JSON; else b as a JSON string, or, when b
// is not valid UTF-8 (a voice-request's PCM, a garbled request), as a base64 string, which
// is what encoding/json writes for bytes, so no byte is lost.
func JSONOrString(b []byte) json.RawMessage {
	if t := bytes.TrimSpace(b); len(t) > 0 && validJSON(t) {
		if compactSpacing(t) {
			return t // already compact (a reply vapimon built, most servers'): no copy
		}
		var buf bytes.Buffer
		buf.Grow(len(t))
		if json.Compact(&buf, t) == nil {
			return buf.Bytes()
		}
	}
	var v any = string(b)
	if !utf8.Valid(b) {
		v = b // encoding/json writes []byte as base64
	}
	s, _ := json.Marshal(v) // a string or []byte always encodes
	return s
}
