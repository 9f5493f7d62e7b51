package vapischema

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func loadMini(t *testing.T) *Schemas {
	t.Helper()
	s, err := LoadFile(filepath.Join("testdata", "mini.json"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestNormalisation checks the OpenAPI 3.0 rewrites on a small spec: each case is valid
// only if the rewrite happened as documented.
func TestNormalisation(t *testing.T) {
	t.Parallel()
	s := loadMini(t)
	checkCases(t, s, "Thing", []problemCase{
		{"minimal", `{"type":"thing"}`, nil},
		{"nullable string accepts null", `{"type":"thing","label":null}`, nil},
		{"nullable string accepts a string", `{"type":"thing","label":"x"}`, nil},
		{"nullable string rejects a number", `{"type":"thing","label":3}`, []string{"/label: got number, want string"}},
		{"nullable allOf ref accepts null", `{"type":"thing","child":null}`, nil},
		{"nullable allOf ref still checks the object", `{"type":"thing","child":{"n":0}}`, []string{"/child/n: minimum"}},
		{"duplicate enum still accepts its values", `{"type":"thing","reason":"a"}`, nil},
		{"duplicate enum still rejects others", `{"type":"thing","reason":"c"}`, []string{"/reason: value must be one of 'a', 'b'"}},
		{"empty enum admits nothing, the other branch still works", `{"type":"thing","voice":3}`, nil},
		{"empty enum admits no string", `{"type":"thing","voice":"x"}`, []string{"/voice: "}},
		{"js regex literal loses slashes", `{"type":"thing","name":"get_x"}`, nil},
		{"js regex literal still checks", `{"type":"thing","name":"Get-X"}`, []string{"/name: does not match pattern '^[a-z_]{1,8}$'"}},
		{"js regex flags dropped, unicode class kept", `{"type":"thing","letters":"Élan"}`, nil},
		{"leaked constant pattern dropped", `{"type":"thing","role":"admin"}`, nil},
		{"property named nullable is a property", `{"type":"thing","nullable":"x"}`, []string{"/nullable: got string, want integer"}},
		{"uuid format asserted", `{"type":"thing","id":"not-a-uuid"}`, []string{"/id: 'not-a-uuid' is not valid uuid"}},
		{"uuid format accepts a uuid", `{"type":"thing","id":"7420f27a-30fd-4f49-a995-5549ae7cc00d"}`, nil},
		{"date-time format asserted", `{"type":"thing","at":"yesterday"}`, []string{"/at: 'yesterday' is not valid date-time"}},
		{"array-level enum means allowed items", `{"type":"thing","messages":["a","b"],"codes":["y"]}`, nil},
		{"array-level enum still checks items", `{"type":"thing","messages":["c"]}`, []string{"/messages/0: value must be one of 'a', 'b'"}},
		{"array-level enum moves to items that lack one", `{"type":"thing","codes":["z"]}`, []string{"/codes/0: value must be one of 'x', 'y'"}},
		{"string enum typed object accepts its strings", `{"type":"thing","verb":"refer"}`, nil},
		{"string enum typed object still rejects others", `{"type":"thing","verb":"dial"}`, []string{"/verb: value must be one of 'refer', 'bye'"}},
		{"missing required", `{}`, []string{": missing property 'type'"}},
	})
	// oneOf is read as anyOf: an item matching two overlapping alternatives is valid.
	checkCases(t, s, "Log", []problemCase{
		{"overlapping alternatives", `{"items":[{"role":"user","message":"hi"},{"role":"bot","message":"yo","source":""}]}`, nil},
		{"no alternative", `{"items":[{"role":"user"}]}`, []string{"/items/0: missing property 'message'"}},
	})
}

// problemCase is a document and the problems validating it must report.
type problemCase struct {
	name string
	doc  string
	// want lists "path: message substring" problems; empty means valid.
	want []string
}

// checkCases validates each case's document against schema, each in a parallel subtest.
func checkCases(t *testing.T, s *Schemas, schema string, cases []problemCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkProblems(t, s.Validate(schema, []byte(tt.doc)), tt.want)
		})
	}
}

// TestOneOfReporting checks that a failed oneOf reports the alternative that was meant, or
// one merged line when none was.
func TestOneOfReporting(t *testing.T) {
	t.Parallel()
	s := loadMini(t)
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"foo valid", `{"message":{"type":"foo","n":1}}`, nil},
		{"literal second enum value", `{"message":{"type":"foo[final]"}}`, nil},
		{"bar valid", `{"message":{"type":"bar","s":"x"}}`, nil},
		{"meant bar, broken", `{"message":{"type":"bar","s":1}}`, []string{"/message/s: got number, want string"}},
		{"meant bar, missing field", `{"message":{"type":"bar"}}`, []string{"/message: missing property 's'"}},
		{"unknown type merged", `{"message":{"type":"baz"}}`, []string{"/message/type: value must be one of 'foo', 'foo[final]', 'bar'"}},
		{"not an object", `{"message":"hi"}`, []string{"/message: got string, want object"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := s.Validate("ServerMessage", []byte(tt.doc))
			checkProblems(t, err, tt.want)
			var ve *ValidationError
			if errors.As(err, &ve) && len(ve.Problems) != len(tt.want) {
				t.Errorf("got %d problems, want %d:\n%v", len(ve.Problems), len(tt.want), err)
			}
		})
	}
}

func checkProblems(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("want valid, got %v", err)
		}
		return
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a *ValidationError, got %v", err)
	}
	for _, w := range want {
		path, msg, _ := strings.Cut(w, ": ")
		if !ve.Has(path, msg) {
			t.Errorf("missing problem %q in:\n%v", w, err)
		}
	}
}

func TestSchemaNames(t *testing.T) {
	t.Parallel()
	s := loadMini(t)
	checkNames(t, s, []nameCase{
		{"foo", "ServerMessageFoo", "ServerMessageResponseFoo"},
		{"foo[final]", "ServerMessageFoo", "ServerMessageResponseFoo"},
		{"bar", "ServerMessageBar", ""},
		{"nope", "", ""},
	})
	if !s.Has("Child") || s.Has("Nope") {
		t.Error("Has: wrong answer")
	}
	if err := s.Validate("Nope", []byte(`{}`)); err == nil || !strings.Contains(err.Error(), `no schema "Nope"`) {
		t.Errorf("unknown schema: got %v", err)
	}
	if err := s.Validate("Child", []byte(`{"n":`)); err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Errorf("broken JSON: got %v", err)
	}
}

// nameCase is a message type and the schemas its message and its reply must be checked
// against ("" for none).
type nameCase struct{ typ, msg, resp string }

// checkNames checks MessageSchema and ResponseSchema for each case.
func checkNames(t *testing.T, s *Schemas, cases []nameCase) {
	t.Helper()
	for _, tt := range cases {
		if got := s.MessageSchema(tt.typ); got != tt.msg {
			t.Errorf("MessageSchema(%q) = %q, want %q", tt.typ, got, tt.msg)
		}
		if got := s.ResponseSchema(tt.typ); got != tt.resp {
			t.Errorf("ResponseSchema(%q) = %q, want %q", tt.typ, got, tt.resp)
		}
	}
}

func TestErrorText(t *testing.T) {
	t.Parallel()
	s := loadMini(t)
	err := s.Validate("Thing", []byte(`{"type":"thing","label":3,"reason":"z"}`))
	want := "does not match Vapi schema Thing:\n" +
		"  /label: got number, want string or null\n" +
		"  /reason: value must be one of 'a', 'b'"
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
	if got := (Problem{Message: "x"}).String(); got != "(document): x" {
		t.Errorf("root problem: %q", got)
	}
}

func TestConcurrentValidate(t *testing.T) {
	t.Parallel()
	s := loadMini(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			schema := []string{"Thing", "ServerMessage", "Child", "ServerMessageBar"}[i%4]
			doc := map[string]string{
				"Thing": `{"type":"thing"}`, "ServerMessage": `{"message":{"type":"foo"}}`,
				"Child": `{"n":2}`, "ServerMessageBar": `{"type":"bar","s":""}`,
			}[schema]
			errs <- s.Validate(schema, []byte(doc))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// TestFind is not parallel: it changes the working directory and the environment.
func TestFind(t *testing.T) {
	mini, err := filepath.Abs(filepath.Join("testdata", "mini.json"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(mini)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("env wins", func(t *testing.T) {
		t.Setenv(EnvPath, mini)
		got, err := Find()
		if err != nil || got != mini {
			t.Fatalf("Find() = %q, %v; want %q", got, err, mini)
		}
	})
	t.Run("env naming a missing file is an error, not a skip", func(t *testing.T) {
		t.Setenv(EnvPath, filepath.Join(t.TempDir(), "nope.json"))
		_, err := Find()
		if err == nil || errors.Is(err, ErrNotFound) {
			t.Fatalf("got %v, want a plain error", err)
		}
	})
	t.Run("walks up", func(t *testing.T) {
		t.Setenv(EnvPath, "")
		root := t.TempDir()
		spec := filepath.Join(root, "shared", "vapi", "openapi.json")
		deep := filepath.Join(root, "main", "webhook", "x")
		for _, d := range []string{filepath.Dir(spec), deep} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(spec, data, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Chdir(deep)
		got, err := Find()
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := filepath.EvalSymlinks(spec); mustEval(t, got) != want {
			t.Fatalf("Find() = %q, want %q", got, spec)
		}
		s, err := Load()
		if err != nil || !s.Has("Thing") {
			t.Fatalf("Load() = %v, %v", s, err)
		}
	})
	t.Run("absent", func(t *testing.T) {
		t.Setenv(EnvPath, "")
		t.Chdir(t.TempDir())
		if _, err := Load(); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Load() error = %v, want ErrNotFound", err)
		}
	})
	t.Run("not a spec", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "x.json")
		if err := os.WriteFile(p, []byte(`{"openapi":"3.0.0"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadFile(p); err == nil || !strings.Contains(err.Error(), "no components.schemas") {
			t.Fatalf("got %v", err)
		}
	})
}

func mustEval(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestVapiSpec runs against the real specification, when it is there.
func TestVapiSpec(t *testing.T) {
	t.Parallel()
	s := SkipIfMissing(t)
	if again := SkipIfMissing(t); again != s {
		t.Error("SkipIfMissing loaded the spec twice")
	}
	checkNames(t, s, []nameCase{
		{"tool-calls", "ServerMessageToolCalls", "ServerMessageResponseToolCalls"},
		{`transcript[transcriptType="final"]`, "ServerMessageTranscript", ""},
		{"assistant.speechStarted", "ServerMessageAssistantSpeech", ""},
		{"assistant-request", "ServerMessageAssistantRequest", "ServerMessageResponseAssistantRequest"},
		{"function-call", "", ""},
	})
	tests := []struct {
		name, schema, doc string
		want              []string
	}{
		{"tool-calls reply", "ServerMessageResponseToolCalls",
			`{"results":[{"name":"get_weather","toolCallId":"call_1","result":"Paris: 18C"}]}`, nil},
		{"hang envelope", "ServerMessage", `{"message":{"type":"hang","timestamp":1760000000000}}`, nil},
		{"nullable assistantVersion", "ServerMessageHang", `{"type":"hang","assistantVersion":null}`, nil},
		{"tool name with underscore passes the JS-literal pattern", "ServerMessageToolCalls",
			`{"type":"tool-calls","toolCallList":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{}"}}],
			  "toolWithToolCallList":[{"type":"function","function":{"name":"get_weather"},"toolCall":{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{}"}}}]}`, nil},
		{"arguments as an object", "ServerMessage",
			`{"message":{"type":"tool-calls","toolCallList":[{"id":"call_1","type":"function","function":{"name":"f","arguments":{"a":1}}}],"toolWithToolCallList":[]}}`,
			[]string{"/message/toolCallList/0/function/arguments: got object, want string"}},
		{"unknown type", "ServerMessage", `{"message":{"type":"nope"}}`,
			[]string{"/message/type: value must be one of 'assistant-request'"}},
		{"bad status", "ServerMessage", `{"message":{"type":"status-update","status":"weird"}}`,
			[]string{"/message/status: value must be one of 'scheduled'"}},
		{"message log turns match several alternatives", "ServerMessageConversationUpdate",
			`{"type":"conversation-update","messagesOpenAIFormatted":[{"role":"user","content":"hi"}],
			  "messages":[{"role":"user","message":"hi","time":1760000004000,"endTime":1760000005600,"secondsFromStart":3,"duration":1600}]}`, nil},
		{"endedReason with duplicates in the spec compiles", "ServerMessageEndOfCallReport",
			`{"type":"end-of-call-report","endedReason":"customer-ended-call","artifact":{},"analysis":{}}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkProblems(t, s.Validate(tt.schema, []byte(tt.doc)), tt.want)
		})
	}
}

// TestValidateDuringCompile: validating against a compiled schema does not wait for
// another schema's compile (the assistant-request closure takes a few hundred ms).
func TestValidateDuringCompile(t *testing.T) {
	t.Parallel()
	s := loadMini(t)
	if err := s.Compile("Child"); err != nil {
		t.Fatal(err)
	}
	s.compileMu.Lock() // as a long compile would
	done := make(chan error, 1)
	go func() { done <- s.Validate("Child", []byte(`{"n":2}`)) }()
	defer s.compileMu.Unlock()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second): // a failure detector, not a timing assertion
		t.Fatal("Validate waits for another schema's compile")
	}
}
