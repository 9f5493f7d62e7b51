package webhook

import (
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
	w = new(wireMessage)
	if !fastDecodeInto(body, w, new(wireScratch)) {
		return nil, false
	}
	return w, true
}

// fastDecodeInto is fastDecode into a zero *w, with the lists and structs it points to in
// sc, for Parse, whose w lives on its stack.
func fastDecodeInto(body []byte, w *wireMessage, sc *wireScratch) bool {
	// One pass both checks the body is valid JSON (as encoding/json would first) and
	// decodes it: every byte is looked at, the ones skipped included.
	d := &fastDecoder{b: body, sc: sc}
	d.ws()
	if d.i >= len(body) || body[d.i] != '{' {
		return false
	}
	found := false
	ok := d.object(func(key []byte) bool {
		if string(key) != "message" {
			return d.unknownKey(key, "message")
		}
		if found || d.at() != '{' {
			return false
		}
		found = true
		return d.message(w)
	})
	d.ws()
	return ok && found && d.i == len(body)
}

// wireScratch is the memory decoding a wire message reuses from request to request: the
// lists and the pointed-to structs Parse reads and does not keep (it copies what it keeps
// into the Message).
type wireScratch struct {
	// Backing arrays for the wire's ToolCallList, ToolCalls and ToolWith.
	toolCallList, toolCalls []wireToolCall
	toolWith                []wireToolWith
	// Slabs for the *wireToolCall (functionCall, toolWithToolCallList[].toolCall) and the
	// *wireFunction (toolCall.function) of the wire, handed out in order, all zero when
	// unused.
	calls []wireToolCall
	funcs []wireFunction
}

var scratchPool = sync.Pool{New: func() any { return new(wireScratch) }}

// putScratch clears sc, so that it holds on to no body, and returns it to scratchPool.
func putScratch(sc *wireScratch) {
	// A list's length is what this request put in it; it is zero beyond, as every
	// request leaves it.
	clear(sc.toolCallList)
	clear(sc.toolCalls)
	clear(sc.toolWith)
	clear(sc.calls)
	clear(sc.funcs)
	sc.calls, sc.funcs = sc.calls[:0], sc.funcs[:0]
	scratchPool.Put(sc)
}

// take returns the next zero T of *slab, starting a bigger slab when it is full (the
// pointers already handed out keep the old one).
func take[T any](slab *[]T) *T {
	s := *slab
	if len(s) == cap(s) {
		s = make([]T, 0, max(4, 2*cap(s)))
	}
	s = s[:len(s)+1]
	*slab = s
	return &s[len(s)-1]
}

// fastDecoder reads one body. Its raw values (json.RawMessage fields) are slices of the body,
// not copies: Parse copies the ones the Message keeps (Message.detach).
type fastDecoder struct {
	b []byte
	i int
	// depth is the number of containers open at i, for encoding/json's nesting limit.
	depth int
	// unknown is set by unknownKey, so that object knows which keys were fields.
	unknown bool
	sc      *wireScratch
	// seen is a stack of the nSeen known keys met in the objects open at i, so that a
	// repeated one is left to encoding/json; past the first 32 they go on in seenMore.
	seen     [32]keySpan
	seenMore []keySpan
	nSeen    int
	// recent holds the last short strings made, so that a value a body repeats (a tool
	// call's id and name stand in two or three lists) is one string, not one per place.
	recent [8]string
	next   int
}

// intern returns inner (valid UTF-8, no escapes) as a string, shared with a recent one of
// the same bytes where it can be. Each string is an allocation of its own, on purpose:
// strings cut from one shared buffer would each keep all of it alive, and the monitor
// keeps a call's id, a tool's name or a short utterance long after the message is gone.
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

// at returns the byte at d.i, 0 at the end. Values start after white space is skipped.
func (d *fastDecoder) at() byte {
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// object walks the object whose '{' is at d.i, calling field for each key with d at the
// value; field must consume exactly one valid value. It fails on invalid JSON and when
// field does.
func (d *fastDecoder) object(field func(key []byte) bool) bool {
	if d.depth >= maxJSONDepth {
		return false
	}
	d.depth++
	d.i++ // {
	d.ws()
	if d.at() == '}' {
		return d.closeObject()
	}
	base := d.nSeen
	for {
		if d.at() != '"' {
			return false
		}
		start := d.i
		end, flags := scanString(d.b, start)
		if end < 0 || flags&strEscaped != 0 {
			return false // escaped keys: leave to encoding/json
		}
		key := d.b[start+1 : end-1]
		d.i = end
		d.ws()
		if d.at() != ':' {
			return false
		}
		d.i++
		d.ws()
		for j := base; j < d.nSeen; j++ {
			if k := d.seenKey(j); int(k.n) == len(key) && string(d.b[k.at:int(k.at)+len(key)]) == string(key) {
				return false
			}
		}
		d.unknown = false
		if !field(key) {
			return false
		}
		if !d.unknown {
			d.pushSeen(keySpan{at: start + 1, n: len(key)})
		}
		d.ws()
		switch d.at() {
		case ',':
			d.i++
			d.ws()
		case '}':
			d.popSeen(base)
			return d.closeObject()
		default:
			return false
		}
	}
}

// keySpan is where a key is in the body.
type keySpan struct{ at, n int }

func (d *fastDecoder) seenKey(j int) keySpan {
	if j < len(d.seen) {
		return d.seen[j]
	}
	return d.seenMore[j-len(d.seen)]
}

func (d *fastDecoder) pushSeen(k keySpan) {
	if d.nSeen < len(d.seen) {
		d.seen[d.nSeen] = k
	} else {
		d.seenMore = append(d.seenMore, k)
	}
	d.nSeen++
}

// popSeen forgets the keys from the base'th on.
func (d *fastDecoder) popSeen(base int) {
	d.nSeen = base
	d.seenMore = d.seenMore[:max(0, base-len(d.seen))]
}

// closeObject moves past the '}' at d.i. A nested object must not leave its last key's
// "unknown" mark for the caller's key.
func (d *fastDecoder) closeObject() bool {
	d.i++
	d.depth--
	d.unknown = false
	return true
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
		if len(k) == len(key) && asciiEqualFold(key, k) {
			return false
		}
	}
	d.unknown = true
	return d.skip()
}

// asciiEqualFold reports whether ASCII a and b, of the same length, are equal ignoring case.
func asciiEqualFold(a []byte, b string) bool {
	for i := range len(a) {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z' {
			return false
		}
	}
	return true
}

// skip moves past one valid value, or fails.
func (d *fastDecoder) skip() bool {
	end := scanValue(d.b, d.i, maxJSONDepth-d.depth)
	if end < 0 {
		return false
	}
	d.i = end
	return true
}

// rawValue returns the bytes of the value at d.i (nil when it is not a valid value) and
// moves past it. The slice is the body's, capped so that appending to it copies.
func (d *fastDecoder) rawValue() []byte {
	start := d.i
	if !d.skip() {
		return nil
	}
	return d.b[start:d.i:d.i]
}

// str decodes a string value into *dst as encoding/json would: a non-string leaves *dst
// alone (null, or a type mismatch encoding/json skips).
func (d *fastDecoder) str(dst *string) bool {
	if d.at() != '"' {
		return d.skip()
	}
	start := d.i
	end, flags := scanString(d.b, start)
	if end < 0 {
		return false
	}
	d.i = end
	inner := d.b[start+1 : end-1]
	if flags == 0 || (flags == strNonASCII && utf8.Valid(inner)) {
		*dst = d.intern(inner)
		return true
	}
	var s string
	if json.Unmarshal(d.b[start:end], &s) != nil {
		return false
	}
	*dst = s
	return true
}

// raw stores the next value's bytes, as json.RawMessage does, null included. They are the
// body's own (see fastDecoder).
func (d *fastDecoder) raw(dst *json.RawMessage) bool {
	v := d.rawValue()
	*dst = v
	return v != nil
}

func (d *fastDecoder) float(dst *float64) bool {
	c := d.at()
	if c != '-' && (c < '0' || c > '9') {
		return d.skip()
	}
	v := d.rawValue()
	if v == nil {
		return false
	}
	if f, err := strconv.ParseFloat(string(v), 64); err == nil {
		*dst = f
	}
	return true
}

// structInto decodes an object into a struct through fields; null and non-objects leave it
// alone, as encoding/json does for a struct value.
func (d *fastDecoder) structInto(fields func(key []byte) bool) bool {
	if d.at() != '{' {
		return d.skip()
	}
	return d.object(fields)
}

// arrayOf decodes a JSON array into *dst, each element by elem into a zero value appended
// to it: null gives nil, [] an empty slice, another value leaves *dst as it is.
func arrayOf[T any](d *fastDecoder, dst *[]T, elem func(*T) bool) bool {
	return arrayInto(d, dst, nil, elem)
}

// arrayInto is arrayOf that builds the slice in *spare's backing array (zero beyond its
// length) and leaves the grown array in *spare, for a list the Message does not keep.
func arrayInto[T any](d *fastDecoder, dst, spare *[]T, elem func(*T) bool) bool {
	return d.array(func(null bool) {
		switch {
		case null:
			*dst = nil
		case spare != nil && *spare != nil:
			*dst = (*spare)[:0]
		default:
			*dst = []T{}
		}
	}, func() bool {
		var zero T
		*dst = append(*dst, zero)
		if spare != nil {
			*spare = *dst
		}
		return elem(&(*dst)[len(*dst)-1])
	})
}

// array decodes an array, calling elem for each element (which must consume exactly one
// valid value); null reports nil (set the slice to nil), a non-array leaves the slice alone.
func (d *fastDecoder) array(reset func(null bool), elem func() bool) bool {
	switch d.at() {
	case '[':
	case 'n':
		reset(true)
		return d.skip()
	default:
		return d.skip()
	}
	if d.depth >= maxJSONDepth {
		return false
	}
	reset(false)
	d.depth++
	d.i++
	d.ws()
	if d.at() == ']' {
		d.i++
		d.depth--
		return true
	}
	for {
		if !elem() {
			return false
		}
		d.ws()
		switch d.at() {
		case ',':
			d.i++
			d.ws()
		case ']':
			d.i++
			d.depth--
			return true
		default:
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
			return d.toolCalls(&w.ToolCallList, &d.sc.toolCallList)
		case "toolCalls":
			return d.toolCalls(&w.ToolCalls, &d.sc.toolCalls)
		case "toolWithToolCallList":
			return d.toolsWith(&w.ToolWith)
		case "functionCall":
			switch d.at() {
			case '{':
				w.FunctionCall = take(&d.sc.calls)
				return d.toolCall(w.FunctionCall)
			case 'n':
				w.FunctionCall = nil
				return d.skip()
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
	switch d.at() {
	case 't':
		*dst = true
	case 'f':
		*dst = false
	}
	return d.skip()
}

func (d *fastDecoder) toolsWith(dst *[]wireToolWith) bool {
	return arrayInto(d, dst, &d.sc.toolWith, func(tw *wireToolWith) bool {
		return d.structInto(func(k []byte) bool {
			switch string(k) {
			case "async":
				return d.boolean(&tw.Async)
			case "function":
				return d.onlyField("name", func() bool { return d.str(&tw.Function.Name) })
			case "server":
				return d.server(&tw.Server)
			case "toolCall":
				switch d.at() {
				case '{':
					if tw.ToolCall == nil {
						tw.ToolCall = take(&d.sc.calls)
					}
					return d.toolCall(tw.ToolCall)
				case 'n':
					tw.ToolCall = nil
					return d.skip()
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

func (d *fastDecoder) toolCalls(dst, spare *[]wireToolCall) bool {
	return arrayInto(d, dst, spare, func(tc *wireToolCall) bool {
		if d.at() != '{' {
			return d.skip()
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
			switch d.at() {
			case '{':
				if tc.Function == nil {
					tc.Function = take(&d.sc.funcs)
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
				tc.Function = nil
				return d.skip()
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
