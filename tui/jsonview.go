package tui

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/vapimon/vapimon/tui/sanitize"
)

// prettyJSONLen is len(prettyJSON(st, raw, maxLines)), without colouring the lines.
func prettyJSONLen(raw []byte, maxLines int) int {
	var buf bytes.Buffer
	return prettyJSONLenBuf(&buf, raw, maxLines)
}

// prettyJSONLenBuf is prettyJSONLen indenting into buf (reset first), which the caller
// reuses.
func prettyJSONLenBuf(buf *bytes.Buffer, raw []byte, maxLines int) int {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 1
	}
	buf.Reset()
	if err := json.Indent(buf, raw, "", "  "); err != nil {
		n := strings.Count(sanitize.Text(string(raw), 1<<20), "\n") + 1
		if n > maxLines {
			return maxLines + 1
		}
		return n
	}
	// The lines of the indented text: sanitising it (as prettyJSON does) removes no line
	// break, and valid JSON has none but those Indent writes.
	n := bytes.Count(buf.Bytes(), []byte{'\n'}) + 1
	if n > maxLines {
		return maxLines + 1
	}
	return n
}

// prettyJSON indents raw JSON and colours it, one styled line per output line, at most
// maxLines lines. Text that is not JSON is shown sanitised as is.
func prettyJSON(st *Styles, raw []byte, maxLines int) []string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return []string{st.Dim.Render("(empty)")}
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		lines := strings.Split(sanitize.Text(string(raw), 1<<20), "\n")
		if len(lines) > maxLines {
			lines = append(lines[:maxLines], st.Dim.Render("… (truncated)"))
		}
		return lines
	}
	text := sanitize.Text(buf.String(), 0)
	var out []string
	for len(text) > 0 && len(out) < maxLines {
		i := strings.IndexByte(text, '\n')
		var line string
		if i < 0 {
			line, text = text, ""
		} else {
			line, text = text[:i], text[i+1:]
		}
		out = append(out, colourJSONLine(st, line))
	}
	if len(text) > 0 {
		out = append(out, st.Dim.Render("… (truncated)"))
	}
	return out
}

// colourJSONLine colours one line of indented JSON: keys, strings, numbers, literals.
func colourJSONLine(st *Styles, line string) string {
	var b strings.Builder
	i := 0
	for i < len(line) {
		c := line[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(line) && line[j] != '"' {
				if line[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(line))
			tok := line[i:j]
			rest := strings.TrimLeft(line[j:], " ")
			if strings.HasPrefix(rest, ":") {
				b.WriteString(st.JSONKey.Render(tok))
			} else {
				b.WriteString(st.JSONString.Render(tok))
			}
			i = j
		case c == '-' || (c >= '0' && c <= '9'):
			j := i
			for j < len(line) && strings.IndexByte("-+.eE0123456789", line[j]) >= 0 {
				j++
			}
			b.WriteString(st.JSONNumber.Render(line[i:j]))
			i = j
		case c == 't' || c == 'f' || c == 'n':
			j := i
			for j < len(line) && line[j] >= 'a' && line[j] <= 'z' {
				j++
			}
			b.WriteString(st.JSONLiteral.Render(line[i:j]))
			i = max(j, i+1)
		case c == ' ':
			j := i
			for j < len(line) && line[j] == ' ' {
				j++
			}
			b.WriteString(line[i:j])
			i = j
		default:
			b.WriteString(st.JSONPunct.Render(line[i : i+1]))
			i++
		}
	}
	return b.String()
}

// compactJSON renders a JSON value on one sanitised line of at most n bytes.
func compactJSON(raw json.RawMessage, n int) string {
	if len(raw) == 0 {
		return ""
	}
	if !hasJSONSpace(raw) {
		// Already compact, as Vapi sends arguments: json.Compact would give raw back, or
		// fail and leave raw to be shown as it is.
		return sanitize.Line(string(raw), n)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return sanitize.Line(string(raw), n)
	}
	return sanitize.Line(b.String(), n)
}

// hasJSONSpace reports whether raw holds a byte that JSON counts as white space.
func hasJSONSpace(raw []byte) bool {
	for _, c := range raw {
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			return true
		}
	}
	return false
}

// jsonText returns a JSON string's value, or the compact JSON of anything else.
func jsonText(raw json.RawMessage) string {
	if plainJSONString(raw) {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) == nil {
		return b.String()
	}
	return string(raw)
}

// plainJSONString reports whether raw is a JSON string without escapes, control characters
// or invalid UTF-8: its text is then the bytes between the quotes.
func plainJSONString(raw []byte) bool {
	return plainJSONQuoted(raw) && utf8.Valid(raw[1:len(raw)-1])
}

// plainJSONText is plainJSONString for a string.
func plainJSONText(raw string) bool {
	return plainJSONQuoted(raw) && utf8.ValidString(raw[1:len(raw)-1])
}

// plainJSONQuoted reports whether raw is quoted and holds no quote, backslash or control
// character between its quotes.
func plainJSONQuoted[T string | []byte](raw T) bool {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return false
	}
	for i := 1; i < len(raw)-1; i++ {
		if c := raw[i]; c == '"' || c == '\\' || c < 0x20 {
			return false
		}
	}
	return true
}
