package tui

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/vapimon/vapimon/webhook"
	"github.com/vapimon/vapimon/webhook/webhooktest"
)

func sized(t *testing.T, w, h int) (*Model, *clock) {
	t.Helper()
	clk := newClock(base)
	m := newTestModel(clk, nil)
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m, clk
}

// sizedWithWeather is sized for a model that has received the weather tool call (seq 1),
// which it returns.
func sizedWithWeather(t *testing.T, w, h int) (*Model, *clock, *webhook.Event) {
	t.Helper()
	m, clk := sized(t, w, h)
	ev := event(t, 1, base, weatherBody)
	m.Update(ev)
	return m, clk, ev
}

// sizedWith is sized for a model of its own options: opts.Now is set to the returned clock.
func sizedWith(t *testing.T, opts Options, w, h int) (*Model, *clock) {
	t.Helper()
	clk := newClock(base)
	opts.Now = clk.Now
	m := NewModel(opts, nil)
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m, clk
}

// TestPayloadNeverReachesTerminalRaw sends escape sequences, carriage returns and bidi
// overrides in every displayed field and checks the rendered frame of every view.
func TestPayloadNeverReachesTerminalRaw(t *testing.T) {
	t.Parallel()
	const evil = `pwn \u001b]0;owned\u0007 \u001b[2J\u001b[H \r\b\u0007 \u009b31m \u202eexe.txt \u001b]52;c;ZXZpbA==\u001b\\ end`
	id := `7420f27a\u001b[31m-evil`
	bodies := []string{
		`{"message":{"type":"transcript","role":"user","transcriptType":"final","transcript":"` + evil + `","call":{"id":"` + id + `","customer":{"number":"` + evil + `"}}}}`,
		`{"message":{"type":"transcript","role":"assistant","transcriptType":"partial","transcript":"` + evil + `","call":{"id":"` + id + `"}}}`,
		`{"message":{"type":"status-update","status":"` + evil + `","call":{"id":"` + id + `"}}}`,
		`{"message":{"type":"tool-calls","call":{"id":"` + id + `"},"toolCallList":[{"id":"` + evil + `","function":{"name":"` + evil + `","arguments":{"q":"` + evil + `"}}}]}}`,
		`{"message":{"type":"end-of-call-report","endedReason":"` + evil + `","analysis":{"summary":"` + evil + `"},"artifact":{"recordingUrl":"` + evil + `","transcript":"` + evil + `"},"call":{"id":"` + id + `"}}}`,
		`{"message":{"type":"` + evil + `","call":{"id":"` + id + `"}}}`,
	}
	m, clk := sized(t, 160, 48)
	for i, b := range bodies {
		m.Update(event(t, uint64(i+1), base, b))
	}
	m.Update(rejected(99, base, "bad secret "+"\x1b]0;x\x07\r", 401))
	m.Update(outcome(4, webhook.SourceForward, `{"results":[{"toolCallId":"x","result":"`+evil+`"}]}`, ms(5)))
	m.Update(webhook.Notice{Time: base, Level: "error", Text: "notice \x1b[2J\r"})
	clk.Advance(time.Second)

	frames := map[string]string{"panes": m.View().Content}
	m.focus = paneEvents
	m.eventsP.follow = false
	for i := 0; i < m.events.len(); i++ {
		m.eventsP.sel = i
		m.Update(press("enter"))
		frames[fmt.Sprintf("detail %d", i)] = m.View().Content
		m.Update(press("esc"))
	}
	m.focus = paneCalls
	m.Update(press("j"))
	m.Update(press("enter"))
	frames["report"] = m.View().Content
	m.Update(press("esc"))
	m.Update(event(t, 200, base, toolCallsBody(callID, "c1", "t", `{"x":"`+evil+`"}`)))
	m.Update(&opRequest{ev: event(t, 201, base, `{"message":{"type":"tool-calls","call":{"id":"`+id+`"},"toolCallList":[{"id":"c2","function":{"name":"`+evil+`","arguments":{"q":"`+evil+`"}}}]}}`), ctx: t.Context(), reply: make(chan webhook.Reply, 1)})
	frames["prompt"] = m.View().Content
	m.Update(tea.PasteMsg{Content: "pasted \x1b]0;x\x07\r text"})
	clk.Advance(time.Second)
	m.Update(tea.PasteMsg{Content: "pasted \x1b]0;x\x07\r text"})
	frames["prompt after paste"] = m.View().Content

	for name, f := range frames {
		for _, bad := range []string{"\x1b]0;", "\x1b]52;", "\x1b[2J", "\x1b[H", "\r", "\b", "\a", "\u009b", "\u202e"} {
			if strings.Contains(f, bad) {
				t.Errorf("%s frame contains %q", name, bad)
			}
		}
	}
	if got := m.prompt.ed.Value(); got != "pasted  text" {
		t.Errorf("pasted text = %q", got)
	}
}

func TestCallsAreBoundedByKeepCalls(t *testing.T) {
	t.Parallel()
	clk := newClock(base)
	m := NewModel(Options{Now: clk.Now, KeepCalls: 3}, nil)
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	// call-0 stays live; the others end.
	for i := 0; i < 6; i++ {
		id := fmt.Sprintf("call-%d", i)
		at := base.Add(time.Duration(i) * time.Second)
		m.Update(event(t, uint64(10*i+1), at, `{"message":{"type":"status-update","status":"in-progress","call":{"id":"`+id+`"}}}`))
		if i > 0 {
			m.Update(event(t, uint64(10*i+2), at, `{"message":{"type":"status-update","status":"ended","endedReason":"customer-ended-call","call":{"id":"`+id+`"}}}`))
		}
	}
	if n := len(m.calls.byID); n != 3 {
		t.Fatalf("%d calls kept, want 3", n)
	}
	for _, id := range []string{"call-0", "call-4", "call-5"} {
		if m.calls.byID[id] == nil {
			t.Errorf("%s was evicted; want the oldest ended calls to go first", id)
		}
	}
	list := m.calls.list()
	if list[0].id != "call-0" {
		t.Errorf("first row is %s, want the live call first", list[0].id)
	}
}

func TestEventLogRingAndBodyBudget(t *testing.T) {
	t.Parallel()
	l := newEventLog(4)
	for i := 1; i <= 6; i++ {
		l.push(&eventRow{seq: uint64(i), ev: &webhook.Event{}, size: bodyBudget / 3})
	}
	if l.len() != 4 || l.at(0).seq != 3 || l.at(3).seq != 6 {
		t.Fatalf("ring holds %d rows from #%d to #%d, want 4 from #3 to #6", l.len(), l.at(0).seq, l.at(l.len()-1).seq)
	}
	if l.has(2) || !l.has(3) {
		t.Error("index out of step with the ring")
	}
	if l.bytes > bodyBudget {
		t.Errorf("%d body bytes held, budget %d", l.bytes, bodyBudget)
	}
	if l.at(3).ev == nil {
		t.Error("the newest body was dropped")
	}
	if l.at(0).ev != nil {
		t.Error("the oldest body was kept over budget")
	}
}

func TestTranscriptFromConversationUpdate(t *testing.T) {
	t.Parallel()
	m, _ := sized(t, 120, 40)
	conv := func(n int) string {
		msgs := []string{`{"role":"system","message":"You are…"}`, `{"role":"bot","message":"Hello there"}`, `{"role":"user","message":"Hi, book a table"}`, `{"role":"tool_calls","message":""}`}
		return `{"message":{"type":"conversation-update","call":{"id":"` + callID + `"},"messages":[` + strings.Join(msgs[:n], ",") + `]}}`
	}
	m.Update(event(t, 1, base, conv(2)))
	m.Update(event(t, 2, base, conv(4)))
	lines := m.calls.byID[callID].transcript.lines
	if len(lines) != 2 || lines[0].text != "Hello there" || lines[0].kind != lineAssistant || lines[1].kind != lineUser {
		t.Errorf("transcript from conversation-update = %+v", lines)
	}
	// Once transcript events arrive, conversation-update is not used any more.
	m.Update(event(t, 3, base, `{"message":{"type":"transcript","role":"assistant","transcriptType":"final","transcript":"For how many?","call":{"id":"`+callID+`"}}}`))
	m.Update(event(t, 4, base, conv(4)))
	if n := len(m.calls.byID[callID].transcript.lines); n != 3 {
		t.Errorf("%d lines, want 3", n)
	}
}

func TestTranscriptPartialsAndSpeaking(t *testing.T) {
	t.Parallel()
	m, _ := sized(t, 120, 40)
	body := func(kind, text string) string {
		return `{"message":{"type":"transcript","role":"user","transcriptType":"` + kind + `","transcript":"` + text + `","call":{"id":"` + callID + `"}}}`
	}
	m.Update(event(t, 1, base, `{"message":{"type":"speech-update","status":"started","role":"user","call":{"id":"`+callID+`"}}}`))
	m.Update(event(t, 2, base, body("partial", "book a")))
	m.Update(event(t, 3, base, body("partial", "book a table")))
	s := screen(m)
	if !strings.Contains(s, "book a table") || strings.Count(s, "book a") != 1+strings.Count(s, "partial: book a") {
		t.Errorf("partial not replaced in place:\n%s", s)
	}
	if !strings.Contains(s, "user speaking") {
		t.Error("no speaking indicator")
	}
	m.Update(event(t, 4, base, body("final", "book a table for two")))
	c := m.calls.byID[callID]
	if c.transcript.partial[1] != "" || len(c.transcript.lines) != 1 {
		t.Errorf("final did not replace the partial: %+v", c.transcript)
	}
}

func TestTranscriptFollowAndScroll(t *testing.T) {
	t.Parallel()
	m, _ := sized(t, 80, 24)
	for i := 0; i < 50; i++ {
		m.Update(event(t, uint64(i+1), base, fmt.Sprintf(`{"message":{"type":"transcript","role":"user","transcriptType":"final","transcript":"line %d","call":{"id":"%s"}}}`, i, callID)))
	}
	if s := screen(m); !strings.Contains(s, "line 49") {
		t.Fatalf("not following:\n%s", s)
	}
	m.Update(press("2"))
	m.Update(press("k"))
	m.Update(press("k"))
	m.Update(event(t, 100, base, `{"message":{"type":"transcript","role":"user","transcriptType":"final","transcript":"line new","call":{"id":"`+callID+`"}}}`))
	s := screen(m)
	if strings.Contains(s, "user line new") || !strings.Contains(s, "paused") {
		t.Errorf("scrolled up but the view followed:\n%s", s)
	}
	m.Update(press("f"))
	if s := screen(m); !strings.Contains(s, "user line new") {
		t.Errorf("f did not resume following:\n%s", s)
	}
	m.Update(press("g"))
	if s := screen(m); !strings.Contains(s, "line 0") {
		t.Errorf("g did not go to the top:\n%s", s)
	}
}

func TestTranscriptCap(t *testing.T) {
	t.Parallel()
	var tr transcript
	for i := 0; i < maxTranscriptLines+10; i++ {
		tr.turn("user", base, fmt.Sprint(i))
	}
	if len(tr.lines) > maxTranscriptLines || tr.dropped == 0 {
		t.Errorf("%d lines kept, %d dropped", len(tr.lines), tr.dropped)
	}
	if last := tr.lines[len(tr.lines)-1].text; last != fmt.Sprint(maxTranscriptLines+9) {
		t.Errorf("last line %q", last)
	}
}

// TestTranscriptWrapCacheAcrossDrops: the wrapped rows kept while lines are dropped from
// the front are exactly what wrapping the kept lines afresh gives (lines of one and of
// several rows), and rows already wrapped are not wrapped again.
func TestTranscriptWrapCacheAcrossDrops(t *testing.T) {
	t.Parallel()
	st := NewStyles(true, colorprofile.TrueColor)
	var tr transcript
	for i := 0; i < 3*maxTranscriptLines; i++ {
		text := fmt.Sprint("line ", i)
		if i%3 == 0 {
			text += strings.Repeat(" long words that wrap", 1+i%5)
		}
		tr.turn([]string{"user", "assistant"}[i%2], base, text)
		if i%97 == 0 {
			tr.rows(&st, 40) // the monitor draws now and then, between drops
		}
	}
	got := tr.rows(&st, 40)
	var fresh transcript
	fresh.lines = tr.lines
	if want := fresh.rows(&st, 40); !slices.Equal(got, want) {
		t.Fatalf("cached rows (%d) differ from a fresh wrap (%d)", len(got), len(want))
	}
	n := len(tr.rowsOf)
	sum := 0
	for _, r := range tr.rowsOf {
		sum += r
	}
	if n != len(tr.lines) || sum != len(got) {
		t.Errorf("rowsOf has %d entries summing to %d, want %d lines making %d rows", n, sum, len(tr.lines), len(got))
	}
}

func TestFilter(t *testing.T) {
	t.Parallel()
	m, _ := sized(t, 160, 48)
	feed(t, m, 1, base, callBodies(callID))
	m.Update(event(t, 50, base, `{"message":{"type":"status-update","status":"in-progress","call":{"id":"bbbbbbbb-other"}}}`))
	m.Update(press("/"))
	submit(m, "tool-calls")
	n, at := m.eventsP.visible(m.events, m.filter)
	if n != 1 || at(0).text().typ != "tool-calls" {
		t.Errorf("filter by type kept %d events", n)
	}
	if calls := m.visibleCalls(); len(calls) != 0 {
		t.Errorf("%d calls match a type filter", len(calls))
	}
	m.Update(press("esc"))
	m.Update(press("/"))
	submit(m, "BBBB")
	if calls := m.visibleCalls(); len(calls) != 1 || calls[0].id != "bbbbbbbb-other" {
		t.Errorf("filter by call id kept %d calls", len(calls))
	}
	m.Update(press("/"))
	m.Update(press("esc"))
	if m.filter != "" {
		t.Error("esc did not clear the filter")
	}
	m.Update(press("/"))
	typeText(m, "paris")
	if n, _ := m.eventsP.visible(m.events, m.filter); n != 2 {
		t.Errorf("filter by text kept %d events, want 2 (the final transcript and the tool call)", n)
	}
}

func TestDetailViewAndCopy(t *testing.T) {
	t.Parallel()
	m, _, ev := sizedWithWeather(t, 120, 40)
	m.Update(outcome(1, webhook.SourceForward, `{"results":[{"toolCallId":"call_1","result":"18C"}]}`, ms(42)))
	m.Update(press("4"))
	m.Update(press("enter"))
	if m.detail == nil {
		t.Fatal("enter did not open the detail view")
	}
	s := screen(m)
	webhooktest.Holds(t, "detail", s, "Request #1", "X-Vapi-Secret: [redacted]", `"location": "Paris"`)
	// y copies the JSON shown (issue 10: it copied the request while the reply was shown).
	copied := func(keys ...string) string {
		t.Helper()
		for _, k := range keys {
			m.Update(press(k))
		}
		_, cmd := m.Update(press("y"))
		if cmd == nil {
			t.Fatal("y returned no clipboard command")
		}
		return clipboardOf(t, cmd)
	}
	const reply = `{"results":[{"toolCallId":"call_1","result":"18C"}]}`
	if got := copied(); got != string(ev.Body) {
		t.Errorf("y at the top copies %v, want the request body", got)
	}
	if got := copied("G"); got != reply { // the reply is at the bottom
		t.Errorf("y at the bottom copies %v, want the reply", got)
	}
	s = screen(m)
	webhooktest.Holds(t, "detail", s, "answered by your server", `"result": "18C"`, "copied the reply: 52 bytes")
	if got := copied("r"); got != string(ev.Body) {
		t.Errorf("y after r copies %v, want the request body", got)
	}
	if got := copied("a"); got != reply {
		t.Errorf("y after a copies %v, want the reply", got)
	}
	_, cmd := m.Update(press("c"))
	if cmd == nil || fmt.Sprint(cmd()) != callID {
		t.Error("c does not copy the call id")
	}
	m.Update(press("esc"))
	if m.detail != nil {
		t.Error("esc did not close the detail view")
	}
}

func TestFocusKeysAndMouse(t *testing.T) {
	t.Parallel()
	m, _ := sized(t, 160, 48)
	feed(t, m, 1, base, callBodies(callID)[:4])
	for i, want := range []pane{paneTranscript, paneTools, paneEvents, paneCalls} {
		m.Update(press("tab"))
		if m.focus != want {
			t.Fatalf("tab %d: focus %v, want %v", i+1, m.focus, want)
		}
	}
	m.Update(tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift})
	if m.focus != paneEvents {
		t.Errorf("shift+tab: focus %v", m.focus)
	}
	m.Update(press("3"))
	if m.focus != paneTools {
		t.Errorf("3: focus %v", m.focus)
	}
	// Click the second row of the calls pane: focus it and select the call.
	r := m.panes[paneCalls]
	m.Update(tea.MouseClickMsg{X: r.x + 3, Y: r.y + 2, Button: tea.MouseLeft})
	if m.focus != paneCalls || m.selCall != callID {
		t.Errorf("click: focus %v, selected %q", m.focus, m.selCall)
	}
	// The wheel over the events pane scrolls it (and stops following).
	e := m.panes[paneEvents]
	m.Update(tea.MouseWheelMsg{X: e.x + 3, Y: e.y + 2, Button: tea.MouseWheelUp})
	if m.eventsP.follow {
		t.Error("wheel up over the events pane left it following")
	}
}

func TestHelpDependsOnFocus(t *testing.T) {
	t.Parallel()
	m, _ := sized(t, 160, 48)
	m.focus = paneEvents
	if s := m.help.ShortHelpView(m.helpFor().ShortHelp()); !strings.Contains(s, "request detail") {
		t.Errorf("events help: %s", s)
	}
	m.focus = paneTranscript
	if s := m.help.ShortHelpView(m.helpFor().ShortHelp()); strings.Contains(s, "enter") {
		t.Errorf("transcript help offers enter: %s", s)
	}
	m.Update(press("?"))
	if !m.showHelp || !strings.Contains(screen(m), "server.timeoutSeconds") {
		t.Error("? does not show the full help")
	}
	m.Update(press("?"))
	if m.showHelp {
		t.Error("? does not close the help")
	}
}

func TestStatusBar(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status webhook.Status
		health []webhook.ForwardHealth
		want   []string
	}{
		{"80 columns: the tape path gives way to the forward status", webhook.Status{ListenURL: "http://127.0.0.1:4242", AuthMode: webhook.AuthSecret, Auth: "x-vapi-secret",
			Forward: "http://127.0.0.1:3999", Tape: "/home/dev/.local/state/vapimon/tapes/2026-11-29T15-09-16.jsonl"},
			[]webhook.ForwardHealth{{Target: "http://127.0.0.1:3999", Failure: webhook.ForwardRefused, Err: "connection refused", At: base}},
			[]string{"ev 0 · pend 0 · auth secret · 0 rejected · fwd :3999 ✗ refused · tape …/2026"}},
		{"local", webhook.Status{ListenURL: "http://127.0.0.1:4242", Tunnel: webhook.TunnelOff},
			nil, []string{"http://127.0.0.1:4242", "NGROK_AUTHTOKEN", "auth NONE (unverified) · 0 rejected", "tape off"}},
		{"auth none", webhook.Status{ListenURL: "http://127.0.0.1:4242", AuthMode: webhook.AuthNone, Auth: "none: requests are NOT verified"},
			nil, []string{"auth NONE (unverified) · 0 rejected"}},
		{"public", webhook.Status{ListenURL: "http://127.0.0.1:4242", PublicURL: "https://abc.ngrok.app", Tunnel: webhook.TunnelOnline, AuthMode: webhook.AuthHMAC, Auth: "hmac sha256", Tape: "s.jsonl"},
			nil, []string{"https://abc.ngrok.app", "paste into Vapi", "tunnel online", "auth hmac sha256", "tape s.jsonl"}},
		{"forward failing", webhook.Status{ListenURL: "http://127.0.0.1:4242", Forward: "http://localhost:3000/vapi"},
			[]webhook.ForwardHealth{{Target: "http://localhost:3000/vapi", Failure: webhook.ForwardRefused, Err: "connection refused", At: base}}, []string{"fwd :3000/vapi ✗ refused ·"}},
		{"forward failing again and again", webhook.Status{ListenURL: "http://127.0.0.1:4242", Forward: "http://127.0.0.1:3999"},
			[]webhook.ForwardHealth{
				{Target: "http://127.0.0.1:3999", Status: 200, At: base},
				{Target: "http://127.0.0.1:3999", Failure: webhook.ForwardRefused, Err: "dial tcp 127.0.0.1:3999: connect: connection refused", At: base},
				{Target: "http://127.0.0.1:3999", Failure: webhook.ForwardRefused, Err: "dial tcp 127.0.0.1:3999: connect: connection refused", At: base},
				{Target: "http://127.0.0.1:3999", Failure: webhook.ForwardRefused, Err: "dial tcp 127.0.0.1:3999: connect: connection refused", At: base},
			}, []string{"fwd :3999 ✗ refused 3×"}},
		{"forward timing out on another host", webhook.Status{ListenURL: "http://127.0.0.1:4242", Forward: "https://dev.example.com/hook"},
			[]webhook.ForwardHealth{{Target: "https://dev.example.com/hook", Failure: webhook.ForwardTimeout, Err: "forward: no reply from https://dev.example.com/hook within 6.8s", At: base}}, []string{"fwd dev.example.com/hook ✗ timed out"}},
		{"auth mode given, no description", webhook.Status{ListenURL: "http://127.0.0.1:4242", AuthMode: webhook.AuthBearer},
			nil, []string{"auth bearer · 0 rejected"}},
		{"a description that starts with none is not the mode", webhook.Status{ListenURL: "http://127.0.0.1:4242", AuthMode: webhook.AuthSecret, Auth: "none-of-your-business header"},
			nil, []string{"auth none-of-your-business header · 0 rejected"}},
		{"tunnel reconnecting", webhook.Status{ListenURL: "http://127.0.0.1:4242", PublicURL: "https://abc.ngrok.app", Tunnel: webhook.TunnelReconnecting, TunnelNote: "session closed: retrying"},
			nil, []string{"tunnel reconnecting session closed: retrying"}},
		{"warnings on a line of their own", webhook.Status{ListenURL: "http://0.0.0.0:4242", AuthMode: webhook.AuthNone,
			Warnings: []string{"--addr 0.0.0.0:4242 listens on every interface", "auth none: anyone who finds the URL can post"}},
			nil, []string{"\n ⚠ --addr 0.0.0.0:4242 listens on every interface · auth none: anyone who finds the URL can post", "auth NONE (unverified)"}},
		{"demo: local on purpose", webhook.Status{ListenURL: "http://127.0.0.1:4242", Mode: webhook.ModeDemo, TunnelNote: "demo: playing the weather scenario"},
			nil, []string{"http://127.0.0.1:4242 demo: playing the weather scenario"}},
		{"forward ok", webhook.Status{ListenURL: "http://127.0.0.1:4242", Forward: "http://localhost:3000/vapi"},
			[]webhook.ForwardHealth{{Target: "http://localhost:3000/vapi", Status: 200, Latency: 12 * time.Millisecond, At: base}}, []string{"fwd :3000/vapi ✓ 200 12ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := 200
			if strings.HasPrefix(tt.name, "80 columns") {
				w = 80
			}
			m, _ := sized(t, w, 48)
			m.Update(tt.status)
			for _, h := range tt.health {
				m.Update(h)
			}
			s := strings.Join(strings.Split(screen(m), "\n")[:m.statusHeight()], "\n")
			webhooktest.Holds(t, "status bar", s, tt.want...)
		})
	}
}

func TestDroppedUpdatesShown(t *testing.T) {
	t.Parallel()
	m, _ := sized(t, 120, 40)
	m.Update(batchMsg{dropped: 17})
	if s := screen(m); !strings.Contains(s, "17 screen updates dropped") {
		t.Errorf("dropped count not shown:\n%s", s)
	}
}

func TestTooSmallAndZeroSize(t *testing.T) {
	t.Parallel()
	m, _ := sized(t, 0, 0)
	if got := m.View().Content; got != "" {
		t.Errorf("0x0 view = %q", got)
	}
	m.Update(tea.WindowSizeMsg{Width: 30, Height: 5})
	if got := screen(m); !strings.Contains(got, "40x12") {
		t.Errorf("too small view = %q", got)
	}
}

func TestToolsPaneDrawsOnlyVisibleRows(t *testing.T) {
	t.Parallel()
	m, clk := sized(t, 80, 24)
	for i := 1; i <= 300; i++ {
		m.Update(event(t, uint64(i), base, toolCallsBody(callID, fmt.Sprintf("call_%d", i), fmt.Sprintf("tool_%d", i), `{"a":1,"b":2,"c":3}`)))
		if i < 300 {
			m.Update(outcome(uint64(i), webhook.SourceAnswers, `{"results":[{"toolCallId":"x","result":"ok"}]}`, ms(3)))
		}
	}
	clk.Advance(time.Second)
	s := screen(m)
	checkScreen(t, s, 80, 24)
	if !strings.Contains(s, "tool_300") {
		t.Errorf("the pending call is not shown:\n%s", s)
	}
	m.Update(press("3"))
	m.Update(press("g"))
	if s := screen(m); !strings.Contains(s, "tool_1 ") {
		t.Errorf("g did not go to the first tool call:\n%s", s)
	}
}

// TestAllCallsShowsTheNewestCall checks that under "all calls" the transcript shows the
// newest call (issue 10: it used to stay on the oldest): it switches when a call starts,
// not while another call talks or the shown call ends, nor while the operator reads back;
// it counts the other live calls, and shows a call whose tool call needs an answer.
func TestAllCallsShowsTheNewestCall(t *testing.T) {
	t.Parallel()
	m, _ := sized(t, 160, 48)
	line := func(seq uint64, id, text string) {
		m.Update(event(t, seq, base, `{"message":{"type":"transcript","role":"user","transcriptType":"final","transcript":"`+text+`","call":{"id":"`+id+`"}}}`))
	}
	shown := func(want, why string) {
		t.Helper()
		if c := m.selectedCall(); c == nil || c.id != want {
			t.Errorf("%s: all calls shows %v, want %s", why, c, want)
		}
	}
	line(1, "aaaaaaaa-first", "from the first call")
	shown("aaaaaaaa-first", "the first call started")
	line(2, "bbbbbbbb-second", "from the second call")
	shown("bbbbbbbb-second", "a second call started")
	line(3, "aaaaaaaa-first", "the first call again")
	shown("bbbbbbbb-second", "the older call talked")
	if s := screen(m); !strings.Contains(s, "Transcript · bbbbbbbb · 1 other call live") {
		t.Errorf("no badge for the other live call:\n%s", s)
	}
	m.Update(event(t, 4, base, `{"message":{"type":"status-update","status":"ended","call":{"id":"bbbbbbbb-second"}}}`))
	shown("bbbbbbbb-second", "the shown call ended")
	m.Update(press("2"))
	m.Update(press("f")) // the operator pauses the transcript to read back
	line(5, "cccccccc-third", "a curl test")
	shown("bbbbbbbb-second", "a call started while the transcript was paused")
	m.Update(press("f"))
	line(6, "dddddddd-fourth", "another call")
	shown("dddddddd-fourth", "a call started")
	ask(t, m, event(t, 7, base, toolCallsBody("bbbbbbbb-second", "call_1", "get_weather", `{"location":"Paris"}`)))
	shown("bbbbbbbb-second", "a tool call of another call needs an answer")
	line(8, "eeeeeeee-fifth", "yet another call")
	shown("bbbbbbbb-second", "a call started while the shown call waits for an answer")
	m.selCall = "cccccccc-third"
	ask(t, m, event(t, 9, base, toolCallsBody("aaaaaaaa-first", "call_2", "get_weather", `{"location":"Oslo"}`)))
	shown("cccccccc-third", "the user selected a call")
}

func TestHelpScrollsOnASmallScreen(t *testing.T) {
	t.Parallel()
	m, _ := sized(t, 80, 24)
	m.Update(press("?"))
	if strings.Contains(screen(m), "fixed 7.5 s") {
		t.Fatal("the whole help fits at 80x24: use a smaller screen for this test")
	}
	for i := 0; i < 10; i++ {
		m.Update(press("j"))
		m.Update(tea.KeyPressMsg{Code: tea.KeyPgDown})
	}
	if s := screen(m); !strings.Contains(s, "ignore OSC 52.") {
		t.Errorf("scrolling did not reach the end of the help:\n%s", s)
	}
}

// TestToolsPaneClick: a click on a row of the tool calls pane selects that row, as in the
// calls and events panes; a click on the selected row's details keeps it.
func TestToolsPaneClick(t *testing.T) {
	t.Parallel()
	m, _ := sized(t, 160, 48)
	for i := 1; i <= 5; i++ {
		m.Update(event(t, uint64(i), base, toolCallsBody(callID, fmt.Sprintf("call_%d", i), fmt.Sprintf("tool_%d", i), `{"n":1}`)))
		m.Update(outcome(uint64(i), webhook.SourceAnswers, fmt.Sprintf(`{"results":[{"toolCallId":"call_%d","result":"ok %d"}]}`, i, i), ms(3)))
	}
	r := m.panes[paneTools]
	click := func(line int) {
		screen(m) // clicks act on what was last drawn
		m.Update(tea.MouseClickMsg{X: r.x + 3, Y: r.y + 1 + line, Button: tea.MouseLeft})
	}
	// Following, the newest row (tool_5) is selected and expanded at the bottom; rows 0-3
	// are tool_1..tool_4, one line each.
	click(1)
	if m.focus != paneTools || m.toolsP.sel != 1 || m.toolsP.follow {
		t.Fatalf("click on line 1: focus %v, selected %d, follow %v; want tools, 1, false", m.focus, m.toolsP.sel, m.toolsP.follow)
	}
	// tool_2 is now expanded under line 1; its details take the next lines.
	details := len(m.toolsP.expand(&m.styles, m.calls.byID[callID].tools[1]))
	if details == 0 {
		t.Fatal("the selected row has no details")
	}
	click(2)
	if m.toolsP.sel != 1 {
		t.Errorf("click on a detail line moved the selection to %d", m.toolsP.sel)
	}
	click(2 + details)
	if m.toolsP.sel != 2 {
		t.Errorf("click on the row after the details selected %d, want 2", m.toolsP.sel)
	}
	if s := screen(m); !strings.Contains(s, "ok 3") {
		t.Errorf("the clicked row is not expanded:\n%s", s)
	}
	click(r.h) // below the last row: nothing changes
	if m.toolsP.sel != 2 {
		t.Errorf("click on empty space selected %d", m.toolsP.sel)
	}
}

// TestLostOutcome: when the bus drops an outcome, the panes stop saying "waiting" a few
// seconds after the deadline, and a late outcome still fills them in.
func TestLostOutcome(t *testing.T) {
	t.Parallel()
	m, clk, ev := sizedWithWeather(t, 160, 48)
	clk.Set(ev.Deadline.Add(time.Second))
	m.Update(tickMsg(clk.Now()))
	if s := screen(m); !strings.Contains(s, "waiting get_weather") || strings.Contains(s, "no outcome seen") {
		t.Fatalf("just after the deadline the event should still be waiting:\n%s", s)
	}
	clk.Set(ev.Deadline.Add(outcomeGrace + time.Second))
	m.Update(tickMsg(clk.Now()))
	s := screen(m)
	if strings.Contains(s, "waiting") || strings.Count(s, "no outcome seen (screen update dropped") != 3 {
		t.Errorf("a lost outcome is not said in both panes (row and details of the tool call, event row):\n%s", s)
	}
	m.Update(press("4"))
	m.Update(press("enter"))
	m.Update(press("G"))
	if s := screen(m); !strings.Contains(s, "Reply: "+noOutcome) {
		t.Errorf("the request detail does not say the outcome was lost:\n%s", s)
	}
	m.Update(press("esc"))
	if n := m.pendingCount(); n != 0 {
		t.Errorf("pending = %d", n)
	}
	// The outcome turns up after all.
	m.Update(outcome(1, webhook.SourceFallback, `{"results":[{"toolCallId":"call_1","error":"nobody answered"}]}`, 18*time.Second))
	s = screen(m)
	if strings.Contains(s, "no outcome seen") || !strings.Contains(s, "fallback sent: nobody answered") {
		t.Errorf("the late outcome is not shown:\n%s", s)
	}
}
