package main

// Webhook servers written the way Vapi's published examples are, for the conformance tests
// (conformance_test.go). Each Go handler here behaves as its example does, status codes,
// reply shapes and quirks included; where node or python3 is on the PATH the same server
// also runs as a small dependency-free script under testdata/examples, so that a real
// JavaScript JSON.stringify or a real Python json module is in the loop. What each example
// does, read from its repository:
//
//   - VapiAI/server-side-example-go-gin (Go, gin), POST /api/webhook (api/webhook/*.go):
//     assistant-request → 201 {"assistant": {...}}; legacy function-call → 201 {"result":
//     ...} for getRandomName and getCharacterInspiration, 400 {"error": "Invalid function
//     name."} for any other name, 400 {"error": "Invalid Request."} without one;
//     status-update, end-of-call-report, hang, speech-update, transcript → 200 and an empty
//     body (the handlers write nothing); every other type, tool-calls included → 400
//     {"error": "Invalid message type"}. No authentication.
//   - VapiAI/example-webhook-handler (Node, fastify): src/utils/auth.js answers 401 {"error":
//     "Invalid or missing VAPI secret"} unless x-vapi-secret equals $VAPI_SECRET;
//     src/routes/messages.js (POST /messages) answers transfer-destination-request with
//     {"destination": {"type": "number", "message": "Connecting you to our support line.",
//     "number": $TRANSFER_DESTINATION}} (JSON.stringify drops the number when the variable
//     is unset), a message without a type with 400 {"error": "Invalid message format"}, and
//     everything else with 200 {"success": true, "message": "Processed <type> message"};
//     src/routes/story-tool.js (POST /story-tool) answers {"results": [{"toolCallId":
//     message.toolCalls[0].id, "result": <a story object>}]}: the id comes from the
//     OpenAI-style list, and the result is an object, not a string.
//   - An Express server (the example the project was seeded with) whose POST /vapi/webhook
//     checks x-vapi-signature, when $WEBHOOK_SECRET is set, as the hex HMAC-SHA256 of
//     JSON.stringify(req.body), the body express.json() parsed: 401 "Invalid signature" on
//     a mismatch, 500 when the lengths differ (crypto.timingSafeEqual throws), else
//     res.sendStatus(200) ("OK"). It fails on any body whose re-serialisation differs from
//     the bytes sent (0.1480 becomes 0.148, spacing, escapes).
//   - VapiAI/server-example-python-flask (Python, Flask), POST /api/webhook/ (app/api/
//     webhook.py, run with debug=True, so jsonify indents by 2 and sorts keys): 201 for
//     everything it knows: assistant-request {"assistant": {...}}, status-update and
//     speech-update {}, end-of-call-report {}, transcript and hang null (their handlers
//     return None); function-call getCharacterInspiration → a JSON string (without its
//     data directory it returns json.dumps of its fallback), any other name → null, and
//     getRandomName → 500 (an async function called without await: the coroutine does not
//     serialise); any other type (tool-calls) → 500, Werkzeug's HTML error page. POST
//     /api/webhook without the slash → 308 to /api/webhook/ (Werkzeug's strict slashes).
//
// Deliberate differences: the examples' calls to randomuser.me and their random story
// choice are replaced by fixed values (tests never need the network), and each server
// reports what it saw as a sighting, which the scripts print as JSON lines (the examples
// console.log the same things).

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vapimon/vapimon/webhook/webhooktest"
)

// sighting is what an example server saw and did with one request.
type sighting struct {
	Path   string `json:"path"`
	Type   string `json:"type"`
	Status int    `json:"status"`
	// Verified is set by servers that check a secret or signature.
	Verified *bool `json:"verified,omitempty"`
	// ToolCallID is what message.toolCalls[0].id gave the story tool ("" when absent).
	ToolCallID *string `json:"toolCallId,omitempty"`
}

// noteSighting hands a sighting to the test without ever blocking a server (a test that stops
// reading fails on its own, by timeout, with a message saying so).
func noteSighting(seen chan<- sighting, s sighting) {
	select {
	case seen <- s:
	default:
	}
}

// exampleServer is one running example server.
type exampleServer struct {
	name string // the example it stands for, and how it runs ("Go handler", "node")
	url  string // base URL, no trailing slash
	seen chan sighting
}

// next returns the server's next sighting.
func (s *exampleServer) next(t *testing.T) sighting {
	t.Helper()
	select {
	case v := <-s.seen:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("%s: saw no request within %s", s.name, waitTimeout)
	}
	return sighting{}
}

// exampleEnv is the configuration the examples read from their environment.
type exampleEnv struct {
	vapiSecret          string // VAPI_SECRET (fastify example); "" = unset
	transferDestination string // TRANSFER_DESTINATION (fastify example); "" = unset
	webhookSecret       string // WEBHOOK_SECRET (Express example); "" = unset
}

func (e exampleEnv) vars() []string {
	var out []string
	for k, v := range map[string]string{"VAPI_SECRET": e.vapiSecret, "TRANSFER_DESTINATION": e.transferDestination, "WEBHOOK_SECRET": e.webhookSecret} {
		if v != "" {
			out = append(out, k+"="+v)
		}
	}
	return out
}

// startGoExample serves an example's Go handler.
func startGoExample(t *testing.T, name string, handler func(env exampleEnv, seen chan<- sighting) http.Handler, env exampleEnv) *exampleServer {
	t.Helper()
	seen := make(chan sighting, 256)
	srv := httptest.NewServer(handler(env, seen))
	t.Cleanup(srv.Close)
	return &exampleServer{name: name + " (Go handler)", url: srv.URL, seen: seen}
}

// startScriptExample runs testdata/examples/script with interpreter on a free port (the
// script binds port 0 and prints "listening URL"), or skips the test with a clear message
// when the interpreter is not on the PATH. Nothing is ever installed.
func startScriptExample(t *testing.T, name, interpreter, script string, env exampleEnv) *exampleServer {
	t.Helper()
	bin, err := exec.LookPath(interpreter)
	if err != nil {
		t.Skipf("%s is not on the PATH: the %s script version of %s is not run (the Go handler version is)", interpreter, script, name)
	}
	path, err := filepath.Abs(filepath.Join("testdata", "examples", script))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, path)
	cmd.Env = append(os.Environ(), env.vars()...)
	var stderr webhooktest.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s %s: %v", interpreter, script, err)
	}
	s := &exampleServer{name: name + " (" + interpreter + " script)", seen: make(chan sighting, 256)}
	listening := make(chan string, 1)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				listening <- u
				continue
			}
			var v sighting
			if json.Unmarshal(sc.Bytes(), &v) == nil && v.Path != "" {
				noteSighting(s.seen, v)
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-readDone
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s stderr:\n%s", s.name, stderr.String())
		}
	})
	select {
	case s.url = <-listening:
	case <-readDone:
		t.Fatalf("%s exited before listening:\n%s", s.name, stderr.String())
	case <-time.After(waitTimeout):
		t.Fatalf("%s did not say where it listens within %s:\n%s", s.name, waitTimeout, stderr.String())
	}
	s.url = strings.TrimRight(s.url, "/")
	return s
}

// vapiMessage is the part of a webhook body the examples read.
type vapiMessage struct {
	Type         string    `json:"type"`
	Call         *struct{} `json:"call"`
	FunctionCall *struct {
		Name       string         `json:"name"`
		Parameters map[string]any `json:"parameters"`
	} `json:"functionCall"`
	ToolCalls []struct {
		ID *string `json:"id"`
	} `json:"toolCalls"`
}

func readMessage(r *http.Request) (vapiMessage, []byte, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return vapiMessage{}, body, err
	}
	var env struct {
		Message *vapiMessage `json:"message"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return vapiMessage{}, body, err
	}
	if env.Message == nil {
		return vapiMessage{}, body, nil
	}
	return *env.Message, body, nil
}

// ---- VapiAI/server-side-example-go-gin ----

// ginJSON writes what gin's c.JSON writes: the status, "application/json; charset=utf-8"
// and json.Marshal of v (maps with sorted keys, no trailing newline).
func ginJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// ginAssistant is types.Assistant as api/webhook/assistant_request.go fills it, fields in
// the struct's order, empty ones omitted.
type ginAssistant struct {
	Name  string `json:"name,omitempty"`
	Model struct {
		Model        string  `json:"model"`
		SystemPrompt string  `json:"systemPrompt,omitempty"`
		Temperature  float64 `json:"temperature,omitempty"`
		Functions    []struct {
			Name        string         `json:"name"`
			Description string         `json:"description,omitempty"`
			Parameters  map[string]any `json:"parameters,omitempty"`
		} `json:"functions,omitempty"`
		Provider string `json:"provider"`
	} `json:"model"`
	Voice struct {
		Provider string `json:"provider"`
		VoiceID  string `json:"voiceId"`
	} `json:"voice"`
	FirstMessage string `json:"firstMessage,omitempty"`
}

const paulaPrompt = "You're Paula, an AI assistant who can help user draft beautiful emails to their clients based on the user requirements. Then Call sendEmail function to actually send the email."

func sendEmailParameters() map[string]any {
	return map[string]any{
		"type": "object",
		"properties": map[string]any{
			"email":   map[string]any{"type": "string", "description": "Email to which we want to send the content."},
			"content": map[string]any{"type": "string", "description": "Actual Content of the email to be sent."},
		},
		"required": []string{"email"},
	}
}

func ginPaula() ginAssistant {
	var a ginAssistant
	a.Name = "Paula"
	a.Model.Model = "gpt-3.5-turbo"
	a.Model.SystemPrompt = paulaPrompt
	a.Model.Temperature = 0.7
	a.Model.Functions = append(a.Model.Functions, struct {
		Name        string         `json:"name"`
		Description string         `json:"description,omitempty"`
		Parameters  map[string]any `json:"parameters,omitempty"`
	}{"sendEmail", "Send email to the given email address and with the given content.", sendEmailParameters()})
	a.Model.Provider = "openai"
	a.Voice.Provider = "11labs"
	a.Voice.VoiceID = "paula"
	a.FirstMessage = "Hi, I'm Paula, your personal email assistant."
	return a
}

// ginExample is VapiAI/server-side-example-go-gin's POST /api/webhook.
func ginExample(_ exampleEnv, seen chan<- sighting) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/webhook", func(w http.ResponseWriter, r *http.Request) {
		msg, _, err := readMessage(r)
		status := 0
		defer func() { noteSighting(seen, sighting{Path: r.URL.Path, Type: msg.Type, Status: status}) }()
		reply := func(code int, v any) { status = code; ginJSON(w, code, v) }
		if err != nil {
			reply(http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		switch msg.Type {
		case "assistant-request":
			reply(http.StatusCreated, map[string]any{"assistant": ginPaula()})
		case "function-call":
			name := ""
			var params map[string]any
			if msg.FunctionCall != nil {
				name, params = msg.FunctionCall.Name, msg.FunctionCall.Parameters
			}
			switch name {
			case "":
				reply(http.StatusBadRequest, map[string]string{"error": "Invalid Request."})
			case "getRandomName": // the example asks randomuser.me for the name
				reply(http.StatusCreated, map[string]any{"result": "Ada Lovelace"})
			case "getCharacterInspiration":
				res, fwd := "Sorry, I am dealing with a technical issue at the moment, perhaps because of heightened user traffic. Come back later and we can try this again. Apologies for that.", false
				if s, _ := params["inspiration"].(string); s != "" {
					res, fwd = "This is a placeholder response for the getCharacterInspiration function. It should be replaced with the actual implementation.", true
				}
				reply(http.StatusCreated, map[string]any{"result": res, "forwardToClientEnabled": fwd})
			default:
				reply(http.StatusBadRequest, map[string]string{"error": "Invalid function name."})
			}
		case "status-update", "end-of-call-report", "hang", "speech-update", "transcript":
			status = http.StatusOK // the handler writes nothing: gin sends 200, no body
			w.WriteHeader(status)
		default:
			reply(http.StatusBadRequest, map[string]string{"error": "Invalid message type"})
		}
	})
	return mux
}

// ---- VapiAI/example-webhook-handler (fastify) ----

// fastifySend writes what fastify's reply.send(object) writes: the status,
// "application/json; charset=utf-8" and JSON.stringify's output.
func fastifySend(w http.ResponseWriter, status int, json string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, json)
}

// fastifyBadJSON answers, as fastify does before any route runs, a body that is not JSON;
// it does nothing when err is nil (the auth check has answered).
func fastifyBadJSON(w http.ResponseWriter, err error, s *sighting) {
	if err == nil {
		return
	}
	s.Status = http.StatusBadRequest
	fastifySend(w, s.Status, `{"statusCode":400,"code":"FST_ERR_CTP_INVALID_JSON_BODY","error":"Bad Request","message":"Body is not valid JSON but content-type is set to 'application/json'"}`)
}

// fastifyExample is VapiAI/example-webhook-handler's POST /messages and POST /story-tool.
func fastifyExample(env exampleEnv, seen chan<- sighting) http.Handler {
	mux := http.NewServeMux()
	// validateVapiSecret: !vapiSecret || vapiSecret !== process.env.VAPI_SECRET → 401.
	auth := func(w http.ResponseWriter, r *http.Request, s *sighting) bool {
		got := r.Header.Get("X-Vapi-Secret")
		ok := got != "" && env.vapiSecret != "" && got == env.vapiSecret
		s.Verified = &ok
		if !ok {
			s.Status = http.StatusUnauthorized
			fastifySend(w, s.Status, `{"error":"Invalid or missing VAPI secret"}`)
		}
		return ok
	}
	// Both routes read the message and check the secret before their own part.
	route := func(pattern string, handle func(w http.ResponseWriter, msg vapiMessage, s *sighting)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			msg, _, err := readMessage(r)
			s := sighting{Path: r.URL.Path, Type: msg.Type}
			defer func() { noteSighting(seen, s) }()
			if err != nil || !auth(w, r, &s) {
				fastifyBadJSON(w, err, &s)
				return
			}
			handle(w, msg, &s)
		})
	}
	route("POST /messages", func(w http.ResponseWriter, msg vapiMessage, s *sighting) {
		if msg.Type == "" {
			s.Status = http.StatusBadRequest
			fastifySend(w, s.Status, `{"error":"Invalid message format"}`)
			return
		}
		s.Status = http.StatusOK
		if msg.Type == "transfer-destination-request" {
			number := "" // JSON.stringify leaves out a key whose value is undefined
			if env.transferDestination != "" {
				number = `,"number":` + jsStringify(env.transferDestination)
			}
			fastifySend(w, s.Status, `{"destination":{"type":"number","message":"Connecting you to our support line."`+number+`}}`)
			return
		}
		fastifySend(w, s.Status, `{"success":true,"message":`+jsStringify("Processed "+msg.Type+" message")+`}`)
	})
	route("POST /story-tool", func(w http.ResponseWriter, msg vapiMessage, s *sighting) {
		id := "" // request.body.message?.toolCalls?.[0]?.id
		idKey := ""
		if len(msg.ToolCalls) > 0 && msg.ToolCalls[0].ID != nil {
			id = *msg.ToolCalls[0].ID
			idKey = `"toolCallId":` + jsStringify(id) + `,`
		}
		s.ToolCallID = &id
		s.Status = http.StatusOK
		fastifySend(w, s.Status, `{"results":[{`+idKey+`"result":{"title":"The Wise Old Owl","content":"In a dense forest lived a wise old owl who helped all the animals solve their problems with thoughtful advice."}}]}`)
	})
	return mux
}

// ---- the Express example verifying x-vapi-signature over JSON.stringify(req.body) ----

// expressHMACExample is the Express server's POST /vapi/webhook.
func expressHMACExample(env exampleEnv, seen chan<- sighting) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /vapi/webhook", func(w http.ResponseWriter, r *http.Request) {
		msg, body, _ := readMessage(r)
		s := sighting{Path: r.URL.Path, Type: msg.Type}
		defer func() { noteSighting(seen, s) }()
		text := func(code int, ctype, b string) {
			s.Status = code
			w.Header().Set("Content-Type", ctype)
			w.WriteHeader(code)
			_, _ = io.WriteString(w, b)
		}
		if env.webhookSecret != "" {
			sig := r.Header.Get("X-Vapi-Signature")
			ok := false
			if sig != "" {
				mac := hmac.New(sha256.New, []byte(env.webhookSecret))
				io.WriteString(mac, jsReserialise(body))
				computed := hex.EncodeToString(mac.Sum(nil))
				if len(computed) != len(sig) { // crypto.timingSafeEqual throws: the catch answers 500
					s.Verified = &ok
					text(http.StatusInternalServerError, "text/plain; charset=utf-8", "Internal Server Error")
					return
				}
				ok = hmac.Equal([]byte(computed), []byte(sig))
			}
			s.Verified = &ok
			if !ok {
				text(http.StatusUnauthorized, "text/html; charset=utf-8", "Invalid signature")
				return
			}
		}
		text(http.StatusOK, "text/plain; charset=utf-8", "OK") // res.sendStatus(200)
	})
	return mux
}

// jsReserialise is JSON.stringify(JSON.parse(body)) (what express.json() then the example
// do): keys in document order, numbers as JavaScript prints a double, strings escaped as
// JSON.stringify escapes them. Bodies that are not JSON give "{}" (express.json leaves
// req.body empty). Duplicate keys are not merged (no test body has any).
func jsReserialise(body []byte) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var out strings.Builder
	if err := jsValue(dec, &out); err != nil {
		return "{}"
	}
	return out.String()
}

func jsValue(dec *json.Decoder, out *strings.Builder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case json.Delim:
		closing := json.Delim('}')
		if v == '[' {
			closing = ']'
		}
		out.WriteByte(byte(v))
		for first := true; dec.More(); first = false {
			if !first {
				out.WriteByte(',')
			}
			if v == '{' {
				key, err := dec.Token()
				if err != nil {
					return err
				}
				out.WriteString(jsStringify(key.(string)))
				out.WriteByte(':')
			}
			if err := jsValue(dec, out); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return err
		}
		out.WriteByte(byte(closing))
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return err
		}
		out.WriteString(jsNumber(f))
	case string:
		out.WriteString(jsStringify(v))
	case bool:
		out.WriteString(strconv.FormatBool(v))
	case nil:
		out.WriteString("null")
	}
	return nil
}

// jsNumber is Number.prototype.toString for a finite double (ECMA-262 Number::toString):
// the shortest digits that read back the same, in plain notation for exponents from -7
// to 20 and in e-notation ("1e+21", "1.5e-7") outside.
func jsNumber(f float64) string {
	if f == 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		if f == 0 {
			return "0"
		}
		return "null" // JSON.stringify writes NaN and Infinity as null
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	k, n := len(digits), x+1
	switch {
	case k <= n && n <= 21:
		return sign + digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		return sign + digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		return sign + "0." + strings.Repeat("0", -n) + digits
	}
	es := "+"
	if n-1 < 0 {
		es = "-"
	}
	m := digits[:1]
	if k > 1 {
		m += "." + digits[1:]
	}
	return sign + m + "e" + es + strconv.Itoa(int(math.Abs(float64(n-1))))
}

// jsStringify is JSON.stringify of a string: only ", \ and control characters escaped
// (\b \f \n \r \t, others as \u00xx); <, >, &, U+2028 and every other character as is.
func jsStringify(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// ---- VapiAI/server-example-python-flask ----

// flaskJSON writes what Flask's jsonify writes in debug mode: the status,
// "application/json", json.dumps(v, indent=2, sort_keys=True, ensure_ascii=True) and a
// newline. (Go's encoder indents and sorts the same way; the test values are ASCII.)
func flaskJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// werkzeug500 is the page Werkzeug serves for an unhandled exception.
const werkzeug500 = "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application.</p>\n"

func flaskPaula() map[string]any {
	return map[string]any{
		"name": "Paula",
		"model": map[string]any{
			"provider":     "openai",
			"model":        "gpt-3.5-turbo",
			"temperature":  0.7,
			"systemPrompt": paulaPrompt,
			"functions": []any{map[string]any{
				"name":        "sendEmail",
				"description": "Send email to the given email address and with the given content.",
				"parameters":  sendEmailParameters(),
			}},
		},
		"voice":        map[string]any{"provider": "11labs", "voiceId": "paula"},
		"firstMessage": "Hi, I'm Paula, your personal email assistant.",
	}
}

// flaskExample is VapiAI/server-example-python-flask's POST /api/webhook/.
func flaskExample(_ exampleEnv, seen chan<- sighting) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/webhook", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		noteSighting(seen, sighting{Path: r.URL.Path, Status: http.StatusPermanentRedirect})
		w.Header().Set("Location", "http://"+r.Host+"/api/webhook/")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusPermanentRedirect)
		_, _ = io.WriteString(w, "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the target URL: <a href=\"http://"+r.Host+"/api/webhook/\">http://"+r.Host+"/api/webhook/</a>. If not, click the link.\n")
	})
	mux.HandleFunc("POST /api/webhook/", func(w http.ResponseWriter, r *http.Request) {
		msg, _, err := readMessage(r)
		s := sighting{Path: r.URL.Path, Type: msg.Type}
		defer func() { noteSighting(seen, s) }()
		reply := func(v any) { s.Status = http.StatusCreated; flaskJSON(w, s.Status, v) }
		fail := func() {
			s.Status = http.StatusInternalServerError
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(s.Status)
			_, _ = io.WriteString(w, werkzeug500)
		}
		if err != nil {
			fail()
			return
		}
		switch msg.Type {
		case "function-call":
			if msg.FunctionCall == nil {
				fail() // ValueError("Invalid Request.")
				return
			}
			switch msg.FunctionCall.Name {
			case "getCharacterInspiration":
				// get_character_inspiration(**parameters) takes exactly "inspiration".
				insp, ok := msg.FunctionCall.Parameters["inspiration"]
				if !ok || len(msg.FunctionCall.Parameters) != 1 {
					fail() // TypeError
					return
				}
				fallback := map[string]any{"result": "Sorry, I am dealing with a technical issue at the moment, perhaps because of heightened user traffic. Come back later and we can try this again. Apologies for that."}
				if s, _ := insp.(string); s == "" {
					reply(fallback)
					return
				}
				// Without its data directory it returns json.dumps(fallback): a string,
				// which jsonify sends as a JSON string.
				dumped, _ := json.Marshal(fallback)
				reply(strings.Replace(string(dumped), `":"`, `": "`, 1))
			case "getRandomName":
				fail() // jsonify(coroutine): "Object of type coroutine is not JSON serializable"
			default:
				reply(nil)
			}
		case "status-update", "speech-update", "end-of-call-report":
			reply(map[string]any{})
		case "transcript", "hang":
			reply(nil)
		case "assistant-request":
			if msg.Call == nil {
				fail() // ValueError('Invalid call details provided.')
				return
			}
			reply(map[string]any{"assistant": flaskPaula()})
		default:
			fail() // ValueError('Unhandled message type')
		}
	})
	return mux
}
