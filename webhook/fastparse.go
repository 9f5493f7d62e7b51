package webhook

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync"
	"unicode/utf8"
)

// fastDecode fills w from body the way json.Unmarshal(body, &struct{Message *wireMessage})
// would, several times faster, for the bodies Vapi sends. It is the handler's hot path: the
// reflection-based decoder dominated the time to answer a tool call.
//
// It gives up (ok false) on anything unusual, and the caller then uses encoding/json: a
// body that is not a JSON object, a message that is not an object, a key that matches a
// known field only case-insensitively (encoding/json folds case; this does not), a key
// given twice, or a field whose encoding/json behaviour is awkward to mirror (a non-object
// where a pointer to a struct is expected). A differential fuzz test holds the two
// decoders to the same result wherever this one answers.
func fastDecode(body []byte) (w *wireMessage, ok bool) {
	if !validJSON(body) {
		return nil, false
	}
	d := &fastDecoder{b: body}
	d.ws()
	if d.peek() != '{' {
		return nil, false
	}
	w = nil
	found := false
	ok = d.object(func(key []byte) bool {
		if string(key) != "message" {
			return d.unknownKey(key, "message")
		}
		if found || d.peek() != '{' {
			return false
		}
		found = true
		w = wirePool.Get().(*wireMessage)
		return d.message(w)
	})
	if !ok || w == nil {
		putWire(w)
		return nil, false
	}
	return w, true
}

// wirePool keeps the decoded wire messages Parse is done with: it copies what it keeps
// into the Message, so the wire form (a kilobyte) is used once per request.
var wirePool = sync.Pool{New: func() any { return new(wireMessage) }}

// putWire clears w (nil: nothing) and returns it to wirePool.
func putWire(w *wireMessage) {
	if w != nil {
		*w = wireMessage{}
		wirePool.Put(w)
	}
}

type fastDecoder struct {
	b []byte
	i int
	// unknown is set by unknownKey, so that object knows which keys were fields.
	unknown bool
	// recent holds the last short strings made, so that a value a body repeats (a tool
	// call's id and name stand in two or three lists) is one string, not one per place.
	recent [8]string
	next   int
}

// intern returns inner (valid UTF-8, no escapes) as a string, shared with a recent one of
// the same bytes where it can be.
func (d *fastDecoder) intern(inner []byte) string {
	if len(inner) > 64 {
		return string(inner)
	}
	for _, s := range d.recent {
		if len(s) == len(inner) && s == string(inner) {
			return s
		}
	}
	s := string(inner)
	d.recent[d.next] = s
	d.next = (d.next + 1) % len(d.recent)
	return s
}

func (d *fastDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\r', '\n':
			d.i++
		default:
			return
		}
	}
}

func (d *fastDecoder) peek() byte {
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// object walks an object whose '{' is next, calling field for each key with d positioned
// at the value; field must consume the value. Input is known to be valid JSON.
func (d *fastDecoder) object(field func(key []byte) bool) bool {
	// A nested object must not leave its last key's "unknown" mark for the caller's key.
	defer func() { d.unknown = false }()
	d.ws()
	d.i++ // {
	// The known keys met so far (a repeated one is left to encoding/json), on the stack
	// for the usual small objects.
	var seenBuf [16][]byte
	seen := seenBuf[:0]
	for {
		d.ws()
		if d.b[d.i] == '}' {
			d.i++
			return true
		}
		if d.b[d.i] == ',' {
			d.i++
			d.ws()
		}
		raw := d.stringToken()
		if bytes.IndexByte(raw, '\\') >= 0 {
			return false // escaped keys: leave to encoding/json
		}
		key := raw[1 : len(raw)-1]
		d.ws()
		d.i++ // :
		d.ws()
		for _, k := range seen {
			if bytes.Equal(k, key) {
				return false
			}
		}
		d.unknown = false
		if !field(key) {
			return false
		}
		if !d.unknown {
			seen = append(seen, key)
		}
	}
}

// onlyField decodes an object of which vapimon reads one key, by decode; any other key is
// skipped as unknownKey says.
func (d *fastDecoder) onlyField(key string, decode func() bool) bool {
	return d.structInto(func(k []byte) bool {
		if string(k) == key {
			return decode()
		}
		return d.unknownKey(k, key)
	})
}

// unknownKey skips the value of a key that is none of known, unless encoding/json would
// match it to one of them case-insensitively (or it is not ASCII: encoding/json folds some
// Unicode letters to ASCII ones), in which case the fast path gives up.
func (d *fastDecoder) unknownKey(key []byte, known ...string) bool {
	for _, c := range key {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	for _, k := range known {
		if bytes.EqualFold(key, []byte(k)) {
			return false
		}
	}
	d.unknown = true
	d.skip()
	return true
}

// stringToken returns the string token at d (quotes included) and moves past it.
func (d *fastDecoder) stringToken() []byte {
	start := d.i
	j := start + 1
	for {
		k := bytes.IndexByte(d.b[j:], '"')
		j += k
		// The quote ends the string unless an odd number of backslashes precede it.
		n := 0
		for p := j - 1; p > start && d.b[p] == '\\'; p-- {
			n++
		}
		j++
		if n%2 == 0 {
			d.i = j
			return d.b[start:j]
		}
	}
}

// skip moves past one value, iteratively (nesting may be deep).
func (d *fastDecoder) skip() {
	d.ws()
	depth := 0
	for {
		switch c := d.b[d.i]; c {
		case '"':
			d.stringToken()
		case '{', '[':
			depth++
			d.i++
		case '}', ']':
			depth--
			d.i++
		case ',', ':', ' ', '\t', '\r', '\n':
			d.i++
		default: // number or literal
			for d.i < len(d.b) && !isDelim(d.b[d.i]) {
				d.i++
			}
		}
		if depth == 0 {
			return
		}
	}
}

func isDelim(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

// rawValue returns the bytes of the next value and moves past it.
func (d *fastDecoder) rawValue() []byte {
	d.ws()
	start := d.i
	d.skip()
	return d.b[start:d.i]
}

// str decodes a string value into *dst as encoding/json would: a non-string leaves *dst
// alone (null, or a type mismatch encoding/json skips).
func (d *fastDecoder) str(dst *string) bool {
	if d.peek() != '"' {
		d.skip()
		return true
	}
	tok := d.stringToken()
	inner := tok[1 : len(tok)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		*dst = d.intern(inner)
		return true
	}
	var s string
	if json.Unmarshal(tok, &s) != nil {
		return false
	}
	*dst = s
	return true
}

// raw stores the next value's bytes (a copy), as json.RawMessage does, null included.
func (d *fastDecoder) raw(dst *json.RawMessage) bool {
	*dst = append(json.RawMessage(nil), d.rawValue()...)
	return true
}

func (d *fastDecoder) float(dst *float64) bool {
	c := d.peek()
	if c != '-' && (c < '0' || c > '9') {
		d.skip()
		return true
	}
	v := d.rawValue()
	if f, err := strconv.ParseFloat(string(v), 64); err == nil {
		*dst = f
	}
	return true
}

// structInto decodes an object into a struct through fields; null and non-objects leave it
// alone, as encoding/json does for a struct value.
func (d *fastDecoder) structInto(fields func(key []byte) bool) bool {
	if d.peek() != '{' {
		d.skip()
		return true
	}
	return d.object(fields)
}

// arrayOf decodes a JSON array into *dst, each element by elem into a zero value appended
// to it: null gives nil, [] an empty slice, another value leaves *dst as it is.
func arrayOf[T any](d *fastDecoder, dst *[]T, elem func(*T) bool) bool {
	return d.array(func(null bool) {
		if null {
			*dst = nil
		} else {
			*dst = []T{}
		}
	}, func() bool {
		var zero T
		*dst = append(*dst, zero)
		return elem(&(*dst)[len(*dst)-1])
	})
}

// array decodes an array, calling elem for each element; null reports nil (set the slice
// to nil), a non-array leaves the slice alone.
func (d *fastDecoder) array(reset func(null bool), elem func() bool) bool {
	switch d.peek() {
	case '[':
	case 'n':
		d.skip()
		reset(true)
		return true
	default:
		d.skip()
		return true
	}
	reset(false)
	d.i++
	for {
		d.ws()
		switch d.b[d.i] {
		case ']':
			d.i++
			return true
		case ',':
			d.i++
			continue
		}
		if !elem() {
			return false
		}
	}
}

func (d *fastDecoder) message(w *wireMessage) bool {
	return d.object(func(k []byte) bool {
		switch string(k) {
		case "type":
			return d.str(&w.Type)
		case "timestamp":
			return d.raw(&w.Timestamp)
		case "call":
			return d.call(&w.Call)
		case "customer":
			return d.customer(&w.Customer)
		case "phoneNumber":
			pn := &w.PhoneNumber
			return d.structInto(func(k []byte) bool {
				switch string(k) {
				case "id":
					return d.str(&pn.ID)
				case "number":
					return d.str(&pn.Number)
				case "name":
					return d.str(&pn.Name)
				case "provider":
					return d.str(&pn.Provider)
				case "server":
					return d.server(&pn.Server)
				}
				return d.unknownKey(k, "id", "number", "name", "provider", "server")
			})
		case "assistant":
			a := &w.Assistant
			return d.structInto(func(k []byte) bool {
				switch string(k) {
				case "id":
					return d.str(&a.ID)
				case "name":
					return d.str(&a.Name)
				case "server":
					return d.server(&a.Server)
				}
				return d.unknownKey(k, "id", "name", "server")
			})
		case "status":
			return d.str(&w.Status)
		case "endedReason":
			return d.str(&w.EndedReason)
		case "role":
			return d.str(&w.Role)
		case "transcriptType":
			return d.str(&w.TranscriptType)
		case "transcript":
			return d.str(&w.Transcript)
		case "turn":
			return d.raw(&w.Turn)
		case "toolCallList":
			return d.toolCalls(&w.ToolCallList)
		case "toolCalls":
			return d.toolCalls(&w.ToolCalls)
		case "toolWithToolCallList":
			return d.toolsWith(&w.ToolWith)
		case "functionCall":
			switch d.peek() {
			case '{':
				w.FunctionCall = &wireToolCall{}
				return d.toolCall(w.FunctionCall)
			case 'n':
				d.skip()
				w.FunctionCall = nil
				return true
			}
			return false
		case "cost":
			return d.raw(&w.Cost)
		case "analysis":
			return d.onlyField("summary", func() bool { return d.str(&w.Analysis.Summary) })
		case "artifact":
			return d.artifact(w)
		case "startedAt":
			return d.str(&w.StartedAt)
		case "endedAt":
			return d.str(&w.EndedAt)
		case "summary":
			return d.str(&w.Summary)
		case "recordingUrl":
			return d.str(&w.RecordingURL)
		case "stereoRecordingUrl":
			return d.str(&w.StereoURL)
		case "destination":
			return d.raw(&w.Destination)
		case "request":
			return d.str(&w.Request)
		case "language":
			return d.str(&w.Language)
		case "text":
			return d.str(&w.Text)
		case "sampleRate":
			return d.raw(&w.SampleRate)
		case "input":
			return d.str(&w.Input)
		case "output":
			return d.raw(&w.Output)
		case "turnId":
			return d.str(&w.TurnID)
		case "parameters":
			return d.raw(&w.Parameters)
		case "messages":
			return d.logMessages(&w.Messages)
		case "campaignId":
			return d.str(&w.CampaignID)
		case "eventType":
			return d.str(&w.EventType)
		case "data":
			return d.raw(&w.Data)
		}
		return d.unknownKey(k, messageKeys...)
	})
}

var messageKeys = []string{"type", "timestamp", "call", "customer", "phoneNumber", "assistant",
	"status", "endedReason", "role", "transcriptType", "transcript", "turn", "toolCallList",
	"toolCalls", "toolWithToolCallList", "functionCall", "cost", "analysis", "artifact",
	"startedAt", "endedAt", "summary", "recordingUrl", "stereoRecordingUrl", "destination",
	"request", "language", "text", "sampleRate", "input", "output", "turnId", "parameters",
	"messages", "campaignId", "eventType", "data"}

// server decodes the part of a Server object vapimon reads.
func (d *fastDecoder) server(s *wireServer) bool {
	return d.onlyField("timeoutSeconds", func() bool { return d.raw(&s.TimeoutSeconds) })
}

// boolean decodes true or false into *dst; anything else leaves it alone, as encoding/json
// does for a bool field (null, or a type mismatch it skips).
func (d *fastDecoder) boolean(dst *bool) bool {
	switch d.peek() {
	case 't':
		*dst = true
	case 'f':
		*dst = false
	}
	d.skip()
	return true
}

func (d *fastDecoder) toolsWith(dst *[]wireToolWith) bool {
	return arrayOf(d, dst, func(tw *wireToolWith) bool {
		return d.structInto(func(k []byte) bool {
			switch string(k) {
			case "async":
				return d.boolean(&tw.Async)
			case "function":
				return d.onlyField("name", func() bool { return d.str(&tw.Function.Name) })
			case "server":
				return d.server(&tw.Server)
			case "toolCall":
				switch d.peek() {
				case '{':
					if tw.ToolCall == nil {
						tw.ToolCall = &wireToolCall{}
					}
					return d.toolCall(tw.ToolCall)
				case 'n':
					d.skip()
					tw.ToolCall = nil
					return true
				}
				return false
			}
			return d.unknownKey(k, "async", "function", "server", "toolCall")
		})
	})
}

func (d *fastDecoder) customer(c *Customer) bool {
	return d.structInto(func(k []byte) bool {
		switch string(k) {
		case "number":
			return d.str(&c.Number)
		case "name":
			return d.str(&c.Name)
		case "sipUri":
			return d.str(&c.SIPURI)
		}
		return d.unknownKey(k, "number", "name", "sipUri")
	})
}

func (d *fastDecoder) call(c *wireCall) bool {
	return d.structInto(func(k []byte) bool {
		switch string(k) {
		case "id":
			return d.str(&c.ID)
		case "orgId":
			return d.str(&c.OrgID)
		case "type":
			return d.str(&c.Type)
		case "status":
			return d.str(&c.Status)
		case "endedReason":
			return d.str(&c.EndedReason)
		case "assistantId":
			return d.str(&c.AssistantID)
		case "customer":
			return d.customer(&c.Customer)
		case "cost":
			return d.float(&c.Cost)
		case "startedAt":
			return d.str(&c.StartedAt)
		case "endedAt":
			return d.str(&c.EndedAt)
		case "monitor":
			return d.structInto(func(k []byte) bool {
				switch string(k) {
				case "listenUrl":
					return d.str(&c.Monitor.ListenURL)
				case "controlUrl":
					return d.str(&c.Monitor.ControlURL)
				}
				return d.unknownKey(k, "listenUrl", "controlUrl")
			})
		case "costBreakdown":
			return false // a map: rare and only in reports, leave it to encoding/json
		}
		return d.unknownKey(k, "id", "orgId", "type", "status", "endedReason", "assistantId",
			"customer", "cost", "startedAt", "endedAt", "monitor", "costBreakdown")
	})
}

func (d *fastDecoder) toolCalls(dst *[]wireToolCall) bool {
	return arrayOf(d, dst, func(tc *wireToolCall) bool {
		if d.peek() != '{' {
			d.skip()
			return true
		}
		return d.toolCall(tc)
	})
}

func (d *fastDecoder) toolCall(tc *wireToolCall) bool {
	return d.object(func(k []byte) bool {
		switch string(k) {
		case "id":
			return d.str(&tc.ID)
		case "name":
			return d.str(&tc.Name)
		case "arguments":
			return d.raw(&tc.Arguments)
		case "parameters":
			return d.raw(&tc.Parameters)
		case "function":
			switch d.peek() {
			case '{':
				if tc.Function == nil {
					tc.Function = &struct {
						Name       string          `json:"name"`
						Arguments  json.RawMessage `json:"arguments"`
						Parameters json.RawMessage `json:"parameters"`
					}{}
				}
				f := tc.Function
				return d.object(func(k []byte) bool {
					switch string(k) {
					case "name":
						return d.str(&f.Name)
					case "arguments":
						return d.raw(&f.Arguments)
					case "parameters":
						return d.raw(&f.Parameters)
					}
					return d.unknownKey(k, "name", "arguments", "parameters")
				})
			case 'n':
				d.skip()
				tc.Function = nil
				return true
			}
			return false
		}
		return d.unknownKey(k, "id", "name", "arguments", "parameters", "function")
	})
}

func (d *fastDecoder) logMessages(dst *[]LogMessage) bool {
	return arrayOf(d, dst, func(m *LogMessage) bool {
		return d.structInto(func(k []byte) bool {
			switch string(k) {
			case "role":
				return d.str(&m.Role)
			case "message":
				return d.str(&m.Message)
			case "name":
				return d.str(&m.Name)
			case "result":
				return d.str(&m.Result)
			}
			return d.unknownKey(k, "role", "message", "name", "result")
		})
	})
}

func (d *fastDecoder) artifact(w *wireMessage) bool {
	a := &w.Artifact
	return d.structInto(func(k []byte) bool {
		switch string(k) {
		case "transcript":
			return d.str(&a.Transcript)
		case "recordingUrl":
			return d.str(&a.RecordingURL)
		case "stereoRecordingUrl":
			return d.str(&a.StereoURL)
		case "messages":
			return d.logMessages(&a.Messages)
		case "recording":
			return d.structInto(func(k []byte) bool {
				switch string(k) {
				case "stereoUrl":
					return d.str(&a.Recording.StereoURL)
				case "mono":
					return d.onlyField("combinedUrl", func() bool { return d.str(&a.Recording.Mono.CombinedURL) })
				}
				return d.unknownKey(k, "stereoUrl", "mono")
			})
		}
		return d.unknownKey(k, "transcript", "recordingUrl", "stereoRecordingUrl", "messages", "recording")
	})
}
