package tui

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/vapimon/vapimon/relay"
	"github.com/vapimon/vapimon/webhook"
)

// fakeControlURL is Vapi's control endpoint for one call: it checks method, path and
// headers, parses each body as Vapi would, and answers status.
type fakeControlURL struct {
	mu     sync.Mutex
	got    []webhook.Control
	bad    []string
	status int
	srv    *httptest.Server
}

func newFakeControlURL(t *testing.T) *fakeControlURL {
	f := &fakeControlURL{status: 200}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		defer f.mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != "/"+callID+"/control" || r.Header.Get("Content-Type") != "application/json" {
			f.bad = append(f.bad, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type"))
		}
		c, err := webhook.ParseControl(b)
		if err != nil {
			f.bad = append(f.bad, err.Error())
		}
		f.got = append(f.got, c)
		w.WriteHeader(f.status)
		if f.status >= 400 {
			_, _ = io.WriteString(w, `{"message":"Call is not active"}`)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeControlURL) url() string { return f.srv.URL + "/" + callID + "/control" }

func (f *fakeControlURL) received() []webhook.Control {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]webhook.Control(nil), f.got...)
}

func controlModel(clk *clock, f *fakeControlURL) *Model {
	m := newTestModel(clk, nil)
	cc := &relay.ControlClient{Timeout: 2 * time.Second}
	m.opts.Control = func(ctx context.Context, _, u string, c webhook.Control) webhook.ControlResult {
		return cc.Send(ctx, u, c)
	}
	return m
}

func liveCallBody(ctl string) string {
	return `{"message":{"type":"status-update","status":"in-progress","call":{"id":"` + callID + `","customer":{"number":"+14155550123"},"monitor":{"listenUrl":"wss://x/listen","controlUrl":"` + ctl + `"}}}}`
}

func keys(tm *teatest.TestModel, ks ...string) {
	for _, k := range ks {
		switch k {
		case "enter":
			tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
		case "esc":
			tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
		case "ctrl+t", "ctrl+e", "ctrl+r", "ctrl+o":
			tm.Send(tea.KeyPressMsg{Code: rune(k[5]), Mod: tea.ModCtrl})
		default:
			tm.Type(k)
		}
	}
}

// TestFlowControlActions drives each action of the menu against a fake control URL that
// checks the bodies it receives, and reads the operator line in the transcript.
func TestFlowControlActions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		keys []string
		want string // the body the control URL must receive
		line string // the operator line
	}{
		{"say interrupt", []string{"a", "s", "Hold on please", "ctrl+t", "enter"}, `{"type":"say","content":"Hold on please","interruptAssistantEnabled":true,"endCallAfterSpoken":false}`, `say "Hold on please" (interrupting) → 200 in`},
		{"say end after", []string{"a", "s", "Bye", "ctrl+e", "enter"}, `{"type":"say","content":"Bye","interruptAssistantEnabled":false,"endCallAfterSpoken":true}`, `then end the call`},
		{"add-message user silent", []string{"a", "m", "I am a VIP", "ctrl+r", "ctrl+o", "enter"}, `{"type":"add-message","message":{"role":"user","content":"I am a VIP"},"triggerResponseEnabled":false}`, `add-message user "I am a VIP" (silently) → 200`},
		{"mute assistant", []string{"a", "a"}, `{"type":"control","control":"mute-assistant"}`, `mute-assistant → 200`},
		{"mute customer", []string{"a", "c"}, `{"type":"control","control":"mute-customer"}`, `mute-customer → 200`},
		{"end with confirmation", []string{"a", "e", "y"}, `{"type":"end-call"}`, `end-call → 200`},
		{"transfer with confirmation", []string{"a", "t", "+14155550199", "enter", "y"}, `{"type":"transfer","destination":{"type":"number","number":"+14155550199"}}`, `transfer to +14155550199 → 200`},
		{"transfer sip", []string{"a", "t", "sip:desk@example.com", "enter", "y"}, `{"type":"transfer","destination":{"type":"sip","sipUri":"sip:desk@example.com"}}`, `transfer to sip:desk@example.com`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeControlURL(t)
			clk := newClock(base)
			tm := teatest.NewTestModel(t, controlModel(clk, f), teatest.WithInitialTermSize(140, 40))
			tm.Send(batchMsg{items: []any{event(t, 1, base, liveCallBody(f.url()))}})
			keys(tm, tc.keys...)
			teatest.WaitFor(t, tm.Output(), contains("op ▸"), waitOpts()...)
			m := quitFinal(t, tm)
			got := f.received()
			if len(got) != 1 {
				t.Fatalf("control URL received %d messages: %+v", len(got), got)
			}
			if b, _ := jsonOf(got[0]); b != tc.want {
				t.Errorf("body\n got %s\nwant %s", b, tc.want)
			}
			if len(f.bad) > 0 {
				t.Errorf("control URL: %v", f.bad)
			}
			lines := m.calls.byID[callID].transcript.lines
			last := lines[len(lines)-1]
			if last.kind != lineOperator || !strings.Contains(last.text, tc.line) {
				t.Errorf("last transcript line = %+v, want operator line with %q", last, tc.line)
			}
		})
	}
}

func jsonOf(c webhook.Control) (string, error) {
	b, err := json.Marshal(c)
	return string(b), err
}

// TestFlowControlRefusedAndCancelled: Vapi's refusal shows as a failed operator line with
// its reason; n and esc send nothing; a call without a control URL says why.
func TestFlowControlRefusedAndCancelled(t *testing.T) {
	t.Parallel()
	f := newFakeControlURL(t)
	f.status = http.StatusBadRequest
	clk := newClock(base)
	tm := teatest.NewTestModel(t, controlModel(clk, f), teatest.WithInitialTermSize(140, 40))
	tm.Send(batchMsg{items: []any{event(t, 1, base, liveCallBody(f.url()))}})
	keys(tm, "a", "e", "n", "esc") // end asked, refused: nothing sent
	keys(tm, "a", "t", "555", "enter", "esc", "esc")
	keys(tm, "a", "s", "hello", "enter")
	teatest.WaitFor(t, tm.Output(), contains("op ✗"), waitOpts()...)
	m := quitFinal(t, tm)
	if got := f.received(); len(got) != 1 || got[0].Type != "say" {
		t.Errorf("received %+v, want only the say", got)
	}
	lines := m.calls.byID[callID].transcript.lines
	last := lines[len(lines)-1]
	if last.kind != lineOperatorFailed || !strings.Contains(last.text, "HTTP 400: Vapi says Call is not active") {
		t.Errorf("last line %+v", last)
	}

	// No control URL: the menu does not open, and the flash says why.
	m2 := controlModel(newClock(base), f)
	m2.Update(tea.WindowSizeMsg{Width: 140, Height: 40})
	m2.Update(event(t, 1, base, `{"message":{"type":"status-update","status":"in-progress","call":{"id":"`+callID+`"}}}`))
	m2.Update(tea.KeyPressMsg{Code: 'a', Text: "a"})
	if m2.ctl != nil || !strings.Contains(m2.flash, "monitorPlan.controlEnabled is off") {
		t.Errorf("menu open %v, flash %q", m2.ctl != nil, m2.flash)
	}
	// The help lists the key on the calls and transcript panes.
	found := false
	for _, b := range m2.helpFor().ShortHelp() {
		found = found || b.Help().Key == "a"
	}
	if !found {
		t.Error("the footer's help has no a key on the calls pane")
	}
	if h := strings.Join(m2.helpLines(120), "\n"); !strings.Contains(h, "Controlling a live call") {
		t.Error("? help has no section on controlling a call")
	}
}
