package webhook

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// appendHeadlessLine appends l as encoding/json writes it (an Encoder with SetEscapeHTML
// false, without the newline), field by field in the struct's order with its omitempty
// rules: headless output is one line per request and reply, and the reflection encoder
// was the largest part of its cost. It reports false, having appended nothing, for what it
// does not write the same way (a time outside years 0-9999, a latency that is not a finite
// number, a body that is not compact JSON); the caller then uses encoding/json. The
// randomized TestAppendHeadlessLineMatchesEncodingJSON holds it to encoding/json's bytes.
func appendHeadlessLine(dst []byte, l *HeadlessLine) ([]byte, bool) {
	if y := l.Time.Year(); y < 0 || y > 9999 {
		return dst, false
	}
	if l.LatencyMs != nil && (math.IsNaN(*l.LatencyMs) || math.IsInf(*l.LatencyMs, 0)) {
		return dst, false
	}
	if len(l.Body) > 0 && !isCompactJSON(l.Body) {
		return dst, false
	}
	start := len(dst)
	dst = append(dst, `{"kind":`...)
	dst = AppendJSONString(dst, l.Kind)
	dst = append(dst, `,"time":"`...)
	dst = l.Time.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, '"')
	if l.Seq != 0 {
		dst = append(dst, `,"seq":`...)
		dst = strconv.AppendUint(dst, l.Seq, 10)
	}
	if l.Payload != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if enc.Encode(l.Payload) != nil {
			return dst[:start], false
		}
		dst = append(dst, `,"payload":`...)
		dst = append(dst, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
	}
	dst = appendStringField(dst, `,"type":`, l.Type)
	dst = appendStringField(dst, `,"callId":`, l.CallID)
	dst = appendStringField(dst, `,"path":`, l.Path)
	dst = appendBoolPtrField(dst, `,"verified":`, l.Verified)
	dst = appendStringField(dst, `,"authMode":`, l.AuthMode)
	dst = appendBoolPtrField(dst, `,"known":`, l.Known)
	if l.Status != 0 {
		dst = append(dst, `,"status":`...)
		dst = strconv.AppendInt(dst, int64(l.Status), 10)
	}
	dst = appendStringField(dst, `,"source":`, l.Source)
	if l.LatencyMs != nil {
		dst = append(dst, `,"latencyMs":`...)
		dst = appendJSONFloat(dst, *l.LatencyMs)
	}
	if len(l.Body) > 0 {
		dst = append(dst, `,"body":`...)
		dst = append(dst, l.Body...)
	}
	dst = appendStringsField(dst, `,"attempts":`, l.Attempts)
	dst = appendStringField(dst, `,"note":`, l.Note)
	dst = appendStringField(dst, `,"reason":`, l.Reason)
	if l.Substituted {
		dst = append(dst, `,"substituted":true`...)
	}
	dst = appendStringField(dst, `,"forwardFailed":`, l.ForwardFailed)
	dst = appendStringField(dst, `,"listen":`, l.Listen)
	dst = appendStringField(dst, `,"publicUrl":`, l.PublicURL)
	dst = appendStringField(dst, `,"tunnel":`, l.Tunnel)
	dst = appendStringField(dst, `,"tunnelNote":`, l.TunnelNote)
	dst = appendStringField(dst, `,"auth":`, l.Auth)
	dst = appendStringField(dst, `,"tape":`, l.Tape)
	dst = appendStringField(dst, `,"forward":`, l.Forward)
	dst = appendStringField(dst, `,"toolTimeout":`, l.ToolTimeout)
	dst = appendStringField(dst, `,"mode":`, l.Mode)
	dst = appendStringsField(dst, `,"warnings":`, l.Warnings)
	if l.TapeFailed != nil {
		dst = append(dst, `,"tapeFailed":`...)
		dst = strconv.AppendUint(dst, *l.TapeFailed, 10)
	}
	dst = appendStringField(dst, `,"tapeError":`, l.TapeError)
	dst = appendStringField(dst, `,"level":`, l.Level)
	dst = appendStringField(dst, `,"text":`, l.Text)
	dst = appendStringField(dst, `,"target":`, l.Target)
	dst = appendStringField(dst, `,"error":`, l.Error)
	return append(dst, '}'), true
}

// appendStringField appends key and s, unless s is empty (omitempty).
func appendStringField(dst []byte, key, s string) []byte {
	if s == "" {
		return dst
	}
	return AppendJSONString(append(dst, key...), s)
}

func appendBoolPtrField(dst []byte, key string, b *bool) []byte {
	if b == nil {
		return dst
	}
	return strconv.AppendBool(append(dst, key...), *b)
}

// appendStringsField appends key and the list, unless it is empty (omitempty).
func appendStringsField(dst []byte, key string, ss []string) []byte {
	if len(ss) == 0 {
		return dst
	}
	dst = append(dst, key...)
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendJSONString(dst, s)
	}
	return append(dst, ']')
}

// appendJSONFloat appends a finite f as encoding/json writes a float64.
func appendJSONFloat(dst []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// e-09 to e-9, as encoding/json does
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// isCompactJSON says b is one JSON value that encoding/json (not escaping HTML) would copy
// unchanged into its output: valid, with no white space outside strings. headlessBody's
// values always are.
func isCompactJSON(b []byte) bool {
	return validJSON(b) && compactSpacing(b)
}

// compactSpacing says valid JSON b has no white space outside its strings.
func compactSpacing(b []byte) bool {
	in := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case !in && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return false
		}
	}
	return true
}
