package tui

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/vapimon/vapimon/webhook"
	"github.com/vapimon/vapimon/webhook/webhooktest"
)

// serverReply is what the developer's server answered, as the forwarder passes it on.
func serverReply(body string) webhook.Reply {
	return webhook.Reply{Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}, "X-Server": {"dev"}},
		Body: []byte(body), Source: webhook.SourceForward}
}

// hold hands the model a server reply to review, as Operator.Intercept does.
func hold(t *testing.T, m *Model, ev *webhook.Event, body string) *opRequest {
	t.Helper()
	rep := serverReply(body)
	req := &opRequest{ev: ev, ctx: t.Context(), reply: make(chan webhook.Reply, 1), server: &rep}
	m.Update(batchMsg{items: []any{ev, req}})
	if m.prompt == nil || m.prompt.p.req != req {
		t.Fatal("no review prompt opened")
	}
	return req
}

const transferRequest = `{"message":{"type":"transfer-destination-request","call":{"id":"` + callID + `"}}}`

const weatherReply = `{"results":[{"toolCallId":"call_1","name":"get_weather","result":"18C"}]}`

// TestInterceptReplies reviews a held server reply by keyboard in each way (as is, edited,
// replaced) and checks the reply sent, against Vapi's response schema when the operator
// produced it.
func TestInterceptReplies(t *testing.T) {
	t.Parallel()
	// The edited JSON, pretty-printed, has "result": "18C" on line 6 (index 5).
	toResult := []string{"down", "down", "down", "down", "down", "end", "left"}
	tests := []struct {
		name       string
		body       string
		server     string
		keys       []string // keys, "text:..." typed text, or "grace"
		schema     string
		want       string // the reply body sent (JSON, compared structurally)
		source     string
		noteHas    string
		noReplyYet bool // the keys must not have sent anything
	}{
		{
			name: "sent as is", body: weatherBody, server: weatherReply,
			keys: []string{"enter"}, want: weatherReply, source: webhook.SourceForward, noteHas: "sent as is",
		},
		{
			name: "edited", body: weatherBody, server: weatherReply,
			keys:   append(append([]string{"e"}, toResult...), "backspace", "backspace", "backspace", "text:21C", "enter"),
			schema: "ServerMessageResponseToolCalls", source: webhook.SourceOperator, noteHas: "edited",
			want: `{"results":[{"toolCallId":"call_1","name":"get_weather","result":"21C"}]}`,
		},
		{
			name: "edited into a reply Vapi cannot use: problems first, then sent anyway", body: weatherBody, server: weatherReply,
			// Empty the toolCallId line: the result no longer says which call it answers.
			keys:   []string{"e", "down", "down", "down", "ctrl+u", "ctrl+k", "enter", "enter"},
			source: webhook.SourceOperator, noteHas: "sent despite",
			want: `{"results":[{"name":"get_weather","result":"18C"}]}`,
		},
		{
			name: "edited into a problem is not sent on the first enter", body: weatherBody, server: weatherReply,
			keys:       []string{"e", "down", "down", "down", "ctrl+u", "ctrl+k", "enter"},
			noReplyYet: true,
		},
		{
			name: "invalid JSON is never sent", body: weatherBody, server: weatherReply,
			keys:       []string{"e", "text:x", "enter", "enter"},
			noReplyYet: true,
		},
		{
			name: "esc keeps the edits but enter in the review sends the server's reply", body: weatherBody, server: weatherReply,
			keys: append(append([]string{"e"}, toResult...), "text:!", "esc", "enter"),
			want: weatherReply, source: webhook.SourceForward,
		},
		{
			name: "replaced by a typed result", body: weatherBody, server: weatherReply,
			keys:   []string{"r", "text:Paris: 21C, sunny", "enter"},
			schema: "ServerMessageResponseToolCalls", source: webhook.SourceOperator,
			want: `{"results":[{"toolCallId":"call_1","name":"get_weather","result":"Paris: 21C, sunny"}]}`,
		},
		{
			name: "replaced by a typed error", body: weatherBody, server: weatherReply,
			keys:   []string{"r", "text:weather service down", "ctrl+e"},
			schema: "ServerMessageResponseToolCalls", source: webhook.SourceOperator,
			want: `{"results":[{"toolCallId":"call_1","name":"get_weather","error":"weather service down"}]}`,
		},
		{
			name: "esc from replacing goes back to the review", body: weatherBody, server: weatherReply,
			keys: []string{"r", "text:never sent", "esc", "enter"},
			want: weatherReply, source: webhook.SourceForward,
		},
		{
			name: "two tool calls replaced in one reply", body: twoToolCalls,
			server: `{"results":[{"toolCallId":"call_a","name":"get_weather","result":"18C"},{"toolCallId":"call_b","name":"get_time","result":"10:00"}]}`,
			keys:   []string{"r", "text:19C", "enter", "grace", "text:11:00", "enter"},
			schema: "ServerMessageResponseToolCalls", source: webhook.SourceOperator,
			want: `{"results":[{"toolCallId":"call_a","name":"get_weather","result":"19C"},{"toolCallId":"call_b","name":"get_time","result":"11:00"}]}`,
		},
		{
			name: "assistant-request replaced by a picked assistant", body: assistantRequest, server: `{"assistantId":"5a6b-support"}`,
			keys:   []string{"r", "down", "enter"},
			schema: "ServerMessageResponseAssistantRequest", source: webhook.SourceOperator,
			want: `{"assistantId":"7c8d-sales"}`,
		},
		{
			name: "transfer destination edited", body: transferRequest,
			server: `{"destination":{"type":"number","number":"+14155550100"}}`,
			// r does nothing here (no typed form for transfers); edit the number's last digits.
			keys:   []string{"r", "e", "down", "down", "down", "end", "left", "backspace", "backspace", "text:99", "enter"},
			schema: "ServerMessageResponseTransferDestinationRequest", source: webhook.SourceOperator,
			want: `{"destination":{"type":"number","number":"+14155550199"}}`,
		},
		{
			name: "legacy function-call sent as is", body: functionCall, server: `{"result":"18C"}`,
			keys: []string{"enter"}, want: `{"result":"18C"}`, source: webhook.SourceForward,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, clk := sizedWith(t, Options{Assistants: testAssistants}, 120, 40)
			req := hold(t, m, event(t, 1, base, tt.body), tt.server)
			// Keys within the grace period are ignored: enter would otherwise send at once.
			m.Update(press("enter"))
			noReply(t, req)
			clk.Advance(time.Second)
			playKeys(m, clk, tt.keys)
			if tt.noReplyYet {
				noReply(t, req)
				if m.prompt == nil || len(m.prompt.p.problems) == 0 {
					t.Fatal("no problem shown for the edited reply")
				}
				if s := screen(m); !strings.Contains(s, "not sent yet") {
					t.Errorf("problems not on screen:\n%s", s)
				}
				return
			}
			rep := reply(t, req)
			if rep.Source != tt.source {
				t.Errorf("source = %q, want %q", rep.Source, tt.source)
			}
			if !webhooktest.JSONEqual(t, rep.Body, []byte(tt.want)) {
				t.Errorf("reply = %s, want %s", rep.Body, tt.want)
			}
			if rep.Status != http.StatusOK {
				t.Errorf("status = %d", rep.Status)
			}
			if tt.noteHas != "" && !strings.Contains(rep.Note, tt.noteHas) {
				t.Errorf("note = %q, want it to mention %q", rep.Note, tt.noteHas)
			}
			replied(t, m, rep, tt.schema)
		})
	}
}

// TestInterceptReviewScreen checks what the operator sees: the request, the server's status
// and pretty reply, the countdown, and the keys; and that the edited JSON's errors point at
// the line.
func TestInterceptReviewScreen(t *testing.T) {
	t.Parallel()
	m, clk := sized(t, 120, 40)
	hold(t, m, event(t, 1, base, weatherBody), weatherReply)
	clk.Advance(5 * time.Second)
	s := screen(m)
	for _, want := range []string{"Your server answered tool-calls", `get_weather {"location":"Paris"}`, "HTTP 200", `"result": "18C"`,
		"13.5s left", "then your server's reply is sent as is", "send as is", "edit JSON", "replace"} {
		if !strings.Contains(s, want) {
			t.Errorf("review lacks %q:\n%s", want, s)
		}
	}
	m.Update(press("r"))
	if s := screen(m); !strings.Contains(s, "your server said 18C") || !strings.Contains(s, "esc back") {
		t.Errorf("replacing does not show the server's answer to this call:\n%s", s)
	}
	m.Update(press("esc"))
	m.Update(press("e"))
	submit(m, "x")
	if s := screen(m); !strings.Contains(s, "not valid JSON: line 1, column 1") {
		t.Errorf("the JSON error does not say where:\n%s", s)
	}
}

// TestInterceptDeadlineInModel: the deadline passes during the review. The prompt closes,
// and the screen says the server's reply went out (not the fallback) and the edits did not.
func TestInterceptDeadlineInModel(t *testing.T) {
	t.Parallel()
	m, clk := sized(t, 160, 48)
	ev := event(t, 1, base, weatherBody)
	req := hold(t, m, ev, weatherReply)
	clk.Advance(time.Second)
	m.Update(press("e"))
	typeText(m, " ")
	clk.Set(ev.Deadline)
	m.Update(tickMsg(ev.Deadline))
	noReply(t, req) // Operator.Intercept sends the server's reply itself at its deadline
	if m.prompt != nil {
		t.Fatal("the review is still open after the deadline")
	}
	s := screen(m)
	webhooktest.Holds(t, "screen", s, "deadline passed: your server's reply was sent unchanged (your edits were not sent)",
		"deadline passed: server's reply sent")
	if strings.Contains(s, "fallback") {
		t.Errorf("the screen speaks of a fallback:\n%s", s)
	}
}

// TestInterceptToggle: i turns interception on and off through Options.SetIntercept;
// turning it off sends replies still held; without forwarding there is no such key.
func TestInterceptToggle(t *testing.T) {
	t.Parallel()
	clk := newClock(base)
	var calls []bool
	m := NewModel(Options{Now: clk.Now, Status: webhook.Status{ListenURL: "http://127.0.0.1:4242", Forward: "http://localhost:3000"},
		Intercept: true, SetIntercept: func(on bool) { calls = append(calls, on) }}, nil)
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 48})
	if s := screen(m); !strings.Contains(s, "intercept on: your server's replies wait for you (i)") {
		t.Errorf("status bar does not show intercept on:\n%s", s)
	}
	req := hold(t, m, event(t, 1, base, toolCallsBody(callID, "call_1", "get_weather", `{}`)), weatherReply)
	clk.Advance(time.Second)
	m.Update(press("esc")) // review later
	if m.prompt != nil {
		t.Fatal("esc did not defer the review")
	}
	if s := screen(m); !strings.Contains(s, "enter to review") {
		t.Errorf("the tools pane does not offer the deferred review:\n%s", s)
	}
	m.Update(press("i"))
	if len(calls) != 1 || calls[0] {
		t.Fatalf("SetIntercept calls = %v, want [false]", calls)
	}
	rep := reply(t, req)
	if rep.Source != webhook.SourceForward || !webhooktest.JSONEqual(t, rep.Body, []byte(weatherReply)) || !strings.Contains(rep.Note, "intercept turned off") {
		t.Errorf("held reply after turning intercept off = %+v", rep)
	}
	s := screen(m)
	if !strings.Contains(s, "intercept off (i)") || !strings.Contains(s, "1 held reply sent as is") {
		t.Errorf("screen after turning intercept off:\n%s", s)
	}
	m.Update(press("i"))
	if len(calls) != 2 || !calls[1] {
		t.Errorf("SetIntercept calls = %v, want [false true]", calls)
	}
	m.Update(press("?"))
	if s := screen(m); !strings.Contains(s, "intercept on/off") {
		t.Errorf("help does not list the intercept key:\n%s", s)
	}

	// Not forwarding: no key, nothing in the status bar or help.
	plain, _ := sized(t, 200, 48)
	plain.Update(press("i"))
	if s := screen(plain); strings.Contains(s, "intercept") {
		t.Errorf("intercept shown without forwarding:\n%s", s)
	}
	plain.Update(press("?"))
	if s := screen(plain); strings.Contains(s, "intercept") {
		t.Errorf("help mentions intercept without forwarding:\n%s", s)
	}
}

// TestOperatorIntercept covers Intercept's own decisions, without a monitor reading: the
// server's reply goes out unchanged, with a note, whenever nobody can review it.
func TestOperatorIntercept(t *testing.T) {
	t.Parallel()
	weather := toolCallsBody(callID, "call_1", "get_weather", `{}`)
	t.Run("deadline", func(t *testing.T) {
		t.Parallel()
		op := NewOperator()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
		defer cancel()
		rep, err := op.Intercept(ctx, event(t, 1, base, weather), serverReply(weatherReply))
		if err != nil || string(rep.Body) != weatherReply || rep.Source != webhook.SourceForward || !strings.Contains(rep.Note, "deadline passed") {
			t.Errorf("Intercept at the deadline = %+v, %v", rep, err)
		}
		if len(op.reqs) != 1 {
			t.Errorf("%d requests queued, want 1", len(op.reqs))
		}
	})
	t.Run("monitor closed", func(t *testing.T) {
		t.Parallel()
		op := NewOperator()
		op.close()
		rep, err := op.Intercept(t.Context(), event(t, 1, base, weather), serverReply(weatherReply))
		if err != nil || string(rep.Body) != weatherReply || !strings.Contains(rep.Note, "monitor has closed") {
			t.Errorf("Intercept after exit = %+v, %v", rep, err)
		}
	})
	t.Run("queue full", func(t *testing.T) {
		t.Parallel()
		op := NewOperator()
		ev := event(t, 1, base, weather)
		for range operatorQueue {
			op.reqs <- &opRequest{ev: ev, ctx: t.Context(), reply: make(chan webhook.Reply, 1)}
		}
		rep, err := op.Intercept(t.Context(), ev, serverReply(weatherReply))
		if err != nil || string(rep.Body) != weatherReply || !strings.Contains(rep.Note, "too many") {
			t.Errorf("Intercept with a full queue = %+v, %v", rep, err)
		}
	})
	t.Run("not held", func(t *testing.T) {
		t.Parallel()
		for _, body := range []string{
			`{"message":{"type":"voice-request","text":"Hello","sampleRate":24000}}`,
			`{"message":{"type":"tool-calls","toolCallList":[{"id":"c","function":{"name":"log"}}],"toolWithToolCallList":[{"async":true,"toolCall":{"id":"c","function":{"name":"log"}}}]}}`,
			`{"message":{"type":"status-update","status":"in-progress"}}`,
		} {
			op := NewOperator()
			in := serverReply(`{}`)
			rep, err := op.Intercept(t.Context(), event(t, 1, base, body), in)
			if err != nil || string(rep.Body) != `{}` || len(op.reqs) != 0 {
				t.Errorf("Intercept(%s) = %+v, %v, %d queued; want passed through", body, rep, err, len(op.reqs))
			}
		}
	})
	t.Run("the held copy is private", func(t *testing.T) {
		t.Parallel()
		op := NewOperator()
		in := serverReply(weatherReply)
		go func() {
			req := <-op.reqs
			in.Body[0] = 'X' // the forwarder's buffer changes: the held reply must not
			req.answer(*req.server)
		}()
		rep, _ := op.Intercept(t.Context(), event(t, 1, base, weather), in)
		if string(rep.Body) != weatherReply {
			t.Errorf("held body = %s", rep.Body)
		}
	})
}

func TestEditableJSON(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{`{"a":1}`, "{\n  \"a\": 1\n}"},
		{"{\"a\":\"x\u202ey\u00a0z😀\"}", "{\n  \"a\": \"x\\u202ey\\u00a0z😀\"\n}"},
		{"{\"a\":\"\xff\"}", "{\n  \"a\": \"\\ufffd\"\n}"},
		{"{\"a\":\"\U000E0001\"}", "{\n  \"a\": \"\\udb40\\udc01\"\n}"},
	}
	for _, tt := range tests {
		got, err := editableJSON([]byte(tt.in))
		if err != nil || got != tt.want {
			t.Errorf("editableJSON(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		// The same value once decoded (invalid UTF-8 aside, which JSON decoders replace too).
		if !webhooktest.JSONEqual(t, []byte(got), []byte(tt.in)) {
			t.Errorf("editableJSON(%q) changed the value: %s", tt.in, got)
		}
	}
	if _, err := editableJSON([]byte("RIFF....")); err == nil {
		t.Error("a body that is not JSON was made editable")
	}
}

// TestOutcomeClosesOpenPrompt: the handler's outcome often arrives before the next tick
// notices the deadline. The prompt it closes must still say what was sent.
func TestOutcomeClosesOpenPrompt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		held    bool
		at      func(ev *webhook.Event) time.Time
		outcome func(ev *webhook.Event) *webhook.Outcome
		want    string
	}{
		{"fallback at the deadline", false, func(ev *webhook.Event) time.Time { return ev.Deadline },
			func(ev *webhook.Event) *webhook.Outcome {
				return &webhook.Outcome{Seq: 1, Reply: webhook.ErrorReply(ev.Msg, "nobody answered")}
			}, "deadline passed: the fallback reply was sent (not sent: half typed)"},
		{"held reply at the deadline", true, func(ev *webhook.Event) time.Time { return ev.Deadline },
			func(ev *webhook.Event) *webhook.Outcome {
				return &webhook.Outcome{Seq: 1, Reply: serverReply(weatherReply)}
			}, "deadline passed: your server's reply was sent unchanged"},
		{"Vapi hung up early", false, func(ev *webhook.Event) time.Time { return ev.Received.Add(3 * time.Second) },
			func(ev *webhook.Event) *webhook.Outcome {
				return &webhook.Outcome{Seq: 1, Reply: webhook.ErrorReply(ev.Msg, "cancelled")}
			}, "the request ended before an answer: the fallback reply was sent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, clk := sized(t, 160, 48)
			ev := event(t, 1, base, weatherBody)
			if tt.held {
				hold(t, m, ev, weatherReply)
			} else {
				ask(t, m, ev)
			}
			clk.Advance(time.Second)
			if !tt.held {
				typeText(m, "half typed")
			}
			clk.Set(tt.at(ev))
			m.Update(tt.outcome(ev)) // before any tick
			if m.prompt != nil {
				t.Fatal("the prompt is still open")
			}
			if s := screen(m); !strings.Contains(s, tt.want) {
				t.Errorf("screen lacks %q:\n%s", tt.want, s)
			}
		})
	}
}

// TestQuitWithHeldReply: quitting asks first, and says held replies go out as they are.
func TestQuitWithHeldReply(t *testing.T) {
	t.Parallel()
	m, clk := sized(t, 120, 40)
	hold(t, m, event(t, 1, base, toolCallsBody(callID, "call_1", "get_weather", `{}`)), weatherReply)
	clk.Advance(time.Second)
	m.Update(press("esc"))
	m.Update(press("q"))
	if s := screen(m); !m.confirmQuit || !strings.Contains(s, "1 reply from your server held for review is sent as is") {
		t.Errorf("quit confirmation:\n%s", s)
	}
}
