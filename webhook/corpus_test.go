package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/vapimon/vapimon/webhook/vapischema"
)

// corpusFile is one testdata/replies/<type>.json: replies to one message, built from
// Vapi's response schemas and from what real servers send. Each case says where it comes
// from when it is a real-world shape ("source").
type corpusFile struct {
	About string `json:"about"`
	// Message is the request the replies answer; One is an alternative that a case picks
	// with "message": "one"; a case may also carry its own request object.
	Message json.RawMessage `json:"message"`
	One     json.RawMessage `json:"one"`
	Valid   []corpusCase    `json:"valid"`
	Invalid []corpusCase    `json:"invalid"`
}

type corpusCase struct {
	Name    string          `json:"name"`
	Source  string          `json:"source"`
	Message json.RawMessage `json:"message"`
	Status  int             `json:"status"`
	// Reply is the body as JSON; Raw, when set, is the body as bytes (non-JSON, empty,
	// PCM written with \u00XX escapes).
	Reply json.RawMessage `json:"reply"`
	Raw   *string         `json:"raw"`
	// Long puts a string of Length x's at Path (dotted, indexes as numbers) in Reply, for
	// the length limits.
	Long *struct {
		Path   string `json:"path"`
		Length int    `json:"length"`
	} `json:"long"`
	// Problem is a text an invalid reply's problems must contain.
	Problem string `json:"problem"`
	// Warnings are texts a valid reply's warnings must contain, one per warning, all of
	// them (no other warning may appear).
	Warnings []string `json:"warnings"`
}

type loadedCase struct {
	file, name string
	valid      bool
	msg        *Message
	status     int
	body       []byte
	c          corpusCase
}

func (lc loadedCase) String() string {
	v := "invalid"
	if lc.valid {
		v = "valid"
	}
	return fmt.Sprintf("%s %s %q", lc.file, v, lc.name)
}

func loadCorpus(t *testing.T) []loadedCase {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "replies", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no corpus in testdata/replies: %v", err)
	}
	var out []loadedCase
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var f corpusFile
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		name := filepath.Base(p)
		for _, set := range []struct {
			cases []corpusCase
			valid bool
		}{{f.Valid, true}, {f.Invalid, false}} {
			for _, c := range set.cases {
				lc := loadedCase{file: name, name: c.Name, valid: set.valid, status: c.Status, c: c}
				if lc.status == 0 {
					lc.status = http.StatusOK
				}
				req := f.Message
				switch {
				case string(c.Message) == `"one"`:
					req = f.One
				case len(c.Message) > 0:
					req = c.Message
				}
				m, err := Parse(req)
				if err != nil {
					t.Fatalf("%s: request: %v", lc, err)
				}
				lc.msg = m
				lc.body, err = caseBody(c)
				if err != nil {
					t.Fatalf("%s: %v", lc, err)
				}
				if set.valid && c.Problem != "" || !set.valid && (c.Problem == "" || len(c.Warnings) > 0) {
					t.Fatalf("%s: a valid case lists warnings, an invalid one the problem it must get", lc)
				}
				out = append(out, lc)
			}
		}
	}
	return out
}

func caseBody(c corpusCase) ([]byte, error) {
	if c.Raw != nil {
		return []byte(*c.Raw), nil
	}
	if c.Long == nil {
		return c.Reply, nil
	}
	var v any
	if err := json.Unmarshal(c.Reply, &v); err != nil {
		return nil, err
	}
	parts := strings.Split(c.Long.Path, ".")
	cur := v
	for i, p := range parts {
		last := i == len(parts)-1
		switch x := cur.(type) {
		case map[string]any:
			if last {
				x[p] = strings.Repeat("x", c.Long.Length)
			}
			cur = x[p]
		case []any:
			n, err := strconv.Atoi(p)
			if err != nil || n >= len(x) {
				return nil, fmt.Errorf("long: bad path %s", c.Long.Path)
			}
			cur = x[n]
		default:
			return nil, fmt.Errorf("long: bad path %s", c.Long.Path)
		}
	}
	return json.Marshal(v)
}

type judgeFunc func(msg *Message, status int, header http.Header, body []byte) Verdict

// corpusFailures judges every case and returns one line per case judged wrongly: an
// invalid reply accepted (or refused for another reason than the one listed), a valid one
// refused, or a valid one with other warnings than listed.
func corpusFailures(cases []loadedCase, judge judgeFunc) []string {
	var out []string
	hdr := http.Header{"Content-Type": {"application/json"}}
	for _, lc := range cases {
		v := judge(lc.msg, lc.status, hdr, lc.body)
		switch {
		case lc.valid && !v.OK():
			out = append(out, fmt.Sprintf("%s refused: %q", lc, v.Problems))
		case lc.valid:
			if msg := warningsMismatch(v.Warnings, lc.c.Warnings); msg != "" {
				out = append(out, fmt.Sprintf("%s: %s", lc, msg))
			}
		case v.OK():
			out = append(out, fmt.Sprintf("%s accepted (warnings %q)", lc, v.Warnings))
		case !containsText(v.Problems, lc.c.Problem):
			out = append(out, fmt.Sprintf("%s refused, but without %q: %q", lc, lc.c.Problem, v.Problems))
		}
	}
	return out
}

func containsText(list []string, want string) bool {
	for _, s := range list {
		if strings.Contains(s, want) {
			return true
		}
	}
	return false
}

func warningsMismatch(got, want []string) string {
	if len(got) != len(want) {
		return fmt.Sprintf("warnings %q, want %d: %q", got, len(want), want)
	}
	for _, w := range want {
		if !containsText(got, w) {
			return fmt.Sprintf("warnings %q lack %q", got, w)
		}
	}
	return ""
}

// TestReplyCorpus judges every reply of testdata/replies with the embedded schemas: no
// invalid reply accepted, no valid reply refused, every problem and warning as listed.
func TestReplyCorpus(t *testing.T) {
	t.Parallel()
	cases := loadCorpus(t)
	valid, invalid := 0, 0
	types := map[string]bool{}
	for _, lc := range cases {
		if lc.valid {
			valid++
		} else {
			invalid++
		}
		types[lc.msg.Kind] = true
	}
	t.Logf("corpus: %d valid and %d invalid replies to %d message types", valid, invalid, len(types))
	if valid < 30 || invalid < 60 {
		t.Errorf("corpus has %d valid and %d invalid replies: want at least 30 and 60", valid, invalid)
	}
	for _, typ := range KnownTypes {
		if ExpectsReply(typ) && !types[typ] {
			t.Errorf("no reply to %s in the corpus", typ)
		}
	}
	for _, f := range corpusFailures(cases, JudgeReply) {
		t.Error(f)
	}
}

// TestReplyCorpusCanFail proves the corpus test would see a checker that accepts or
// refuses everything: one failure per case, each named.
func TestReplyCorpusCanFail(t *testing.T) {
	t.Parallel()
	cases := loadCorpus(t)
	valid := 0
	for _, lc := range cases {
		if lc.valid {
			valid++
		}
	}
	accept := func(*Message, int, http.Header, []byte) Verdict { return Verdict{} }
	refuse := func(*Message, int, http.Header, []byte) Verdict { return Verdict{Problems: []string{"no"}} }
	if got := corpusFailures(cases, accept); len(got) != len(cases)-valid+countWarned(cases) {
		t.Errorf("a checker that accepts everything fails %d cases, want %d (every invalid one, and every valid one with warnings)", len(got), len(cases)-valid+countWarned(cases))
	} else if !strings.Contains(strings.Join(got, "\n"), `destination.number is missing`) && !strings.Contains(strings.Join(got, "\n"), `accepted`) {
		t.Errorf("failures are not named: %q", got[:3])
	}
	if got := corpusFailures(cases, refuse); len(got) != len(cases) {
		// every valid case refused, every invalid one refused for the wrong reason
		t.Errorf("a checker that refuses everything with %q fails %d cases, want %d", "no", len(got), len(cases))
	}
	// One wrong verdict is one named failure.
	first := cases[0]
	flip := func(m *Message, s int, h http.Header, b []byte) Verdict {
		if m == first.msg && string(b) == string(first.body) {
			return Verdict{Problems: []string{"flipped"}}
		}
		return JudgeReply(m, s, h, b)
	}
	got := corpusFailures(cases, flip)
	if len(got) != 1 || !strings.Contains(got[0], first.name) {
		t.Errorf("one wrong verdict gave %q", got)
	}
}

func countWarned(cases []loadedCase) int {
	n := 0
	for _, lc := range cases {
		if lc.valid && len(lc.c.Warnings) > 0 {
			n++
		}
	}
	return n
}

// TestReplyCorpusHandChecks runs the corpus through the hand-written checks used when the
// embedded schemas cannot be compiled: they must never refuse a valid reply, and they
// catch the examples.
func TestReplyCorpusHandChecks(t *testing.T) {
	t.Parallel()
	broken := newReplySchemas(func() (*vapischema.Schemas, error) { return nil, errors.New("broken on purpose") })
	cases := loadCorpus(t)
	var accepted []string
	hdr := http.Header{"Content-Type": {"application/json"}}
	for _, lc := range cases {
		v := broken.judge(lc.msg, lc.status, hdr, lc.body)
		switch {
		case lc.valid && !v.OK():
			t.Errorf("%s refused by the hand-written checks: %q", lc, v.Problems)
		case !lc.valid && v.OK():
			accepted = append(accepted, lc.String())
		}
	}
	sort.Strings(accepted)
	t.Logf("hand-written checks accept %d of the invalid replies: %s", len(accepted), strings.Join(accepted, "; "))
	for _, must := range []string{"Vapi's Node example with its env var unset", "phoneNumber typo of older docs", "SIP destination without sipUri", "above 15 s", "message a string"} {
		for _, a := range accepted {
			if strings.Contains(a, must) {
				t.Errorf("hand-written checks accept %s", a)
			}
		}
	}
}

// FuzzJudgeReply: no reply body, however broken, makes the check panic (it runs on the
// relay's path), and the verdict is always printable.
func FuzzJudgeReply(f *testing.F) {
	for _, seed := range []string{`{}`, `{"results":[{"toolCallId":"c1","result":null}]}`, `{"destination":{"type":"number"}}`,
		`{"documents":[{"content":1}]}`, `{"timeoutSeconds":1e400}`, `[`, "\x00\x01", `{"message":{"type":"x"}}`} {
		for i := range compileOrder {
			f.Add(i, 200, []byte(seed))
		}
	}
	msgs := make([]*Message, 0, len(compileOrder)+2)
	for _, kind := range append(append([]string(nil), compileOrder...), TypeFunctionCall, TypeVoiceRequest) {
		msgs = append(msgs, &Message{Type: kind, Kind: kind, ToolCalls: []ToolCall{{ID: "c1", Name: "f"}, {ID: "c2", Name: "g", Async: true}}})
	}
	f.Fuzz(func(t *testing.T, which, status int, body []byte) {
		if which < 0 {
			which = -which
		}
		v := JudgeReply(msgs[which%len(msgs)], status, nil, body)
		for _, s := range append(v.Problems, v.Warnings...) {
			for _, r := range s {
				if r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x202e {
					t.Fatalf("unprintable %q in %q", r, s)
				}
			}
		}
	})
}
