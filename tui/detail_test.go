package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/colorprofile"

	"github.com/charmbracelet/x/ansi"
	"github.com/vapimon/vapimon/webhook"
	"github.com/vapimon/vapimon/webhook/webhooktest"
)

// TestVerifiedText checks that a request is called verified only when auth was on and
// passed; with auth none it says nothing was checked, in the warning colour.
func TestVerifiedText(t *testing.T) {
	t.Parallel()
	st := NewStyles(true, colorprofile.TrueColor)
	tests := []struct {
		name     string
		mode     webhook.AuthMode
		verified bool
		want     string
		warn     bool
	}{
		{"auth none", webhook.AuthNone, false, "not verified (auth none)", true},
		{"auth none, old handler says verified", webhook.AuthNone, true, "not verified (auth none)", true},
		{"no mode at all", "", true, "not verified (auth none)", true},
		{"secret passed", webhook.AuthSecret, true, "verified (secret)", false},
		{"hmac not passed", webhook.AuthMode("hmac"), false, "not verified (auth hmac)", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := verifiedText(&st, &webhook.Event{AuthMode: tt.mode, Verified: tt.verified})
			if s := ansi.Strip(got); s != tt.want {
				t.Errorf("text = %q, want %q", s, tt.want)
			}
			if warn := got == st.Warn.Render(tt.want); warn != tt.warn {
				t.Errorf("warning colour = %v, want %v (%q)", warn, tt.warn, got)
			}
		})
	}
}

// TestForwardResultShown checks each event's exchange with the developer's server: the
// events row is tagged with it and the request detail has a "Your server" section, with
// keys that jump to each section and long strings wrapped rather than cut.
func TestForwardResultShown(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("word ", 60) + "END"
	tests := []struct {
		name       string
		health     webhook.ForwardHealth
		out        *webhook.Outcome
		wantRow    string
		wantDetail []string
	}{
		{
			name:       "server answered",
			health:     webhook.ForwardHealth{Seq: 1, Target: "http://127.0.0.1:3999/hook", Status: 200, Latency: ms(3), At: base},
			out:        outcome(1, webhook.SourceForward, `{"results":[{"toolCallId":"call_1","result":"`+long+`"}]}`, ms(4)),
			wantRow:    "✓ your server 200 3ms",
			wantDetail: []string{"200 · answered by your server · 4ms · 1 result", "Your server", "✓ HTTP 200 in 3ms", "its reply was sent to Vapi", "END"},
		},
		{
			name:   "server refused, answers file answered",
			health: webhook.ForwardHealth{Seq: 1, Target: "http://127.0.0.1:3999/hook", Latency: ms(1), At: base, Failure: webhook.ForwardRefused, Err: "connection refused: is the server running?"},
			out: func() *webhook.Outcome {
				o := outcome(1, webhook.SourceAnswers, `{"results":[{"toolCallId":"call_1","error":"no such order"}]}`, ms(2))
				o.Attempts = []string{"forward: connection refused: is the server running?"}
				return o
			}(),
			wantRow:    "✗ your server: refused",
			wantDetail: []string{"200 · answered by answers file · 2ms · 1 result (1 error) · ✗ your server: refused", "✗ connection refused: is the server running?", "its reply was not used"},
		},
		{
			name: "server replied the wrong shape: its reply is shown too",
			health: webhook.ForwardHealth{Seq: 1, Target: "http://127.0.0.1:3999/hook", Status: 200, Latency: ms(2), At: base,
				Failure: webhook.ForwardUnusable, Err: "unusable reply: results[0].toolCallId is missing", Header: map[string][]string{"Content-Type": {"application/json"}},
				Body: []byte(`{"results":[{"id":"call_1","output":"sunny"}]}`)},
			out: func() *webhook.Outcome {
				o := outcome(1, webhook.SourceFallback, `{"results":[{"toolCallId":"call_1","error":"nobody answered"}]}`, ms(9000))
				o.Attempts = []string{"forward: unusable reply: results[0].toolCallId is missing"}
				return o
			}(),
			wantDetail: []string{"content-type application/json", "its reply:", `"output": "sunny`, "its reply was not used"},
		},
		{
			name:       "typed by the operator",
			out:        outcome(1, webhook.SourceOperator, `{"results":[{"toolCallId":"call_1","result":"ok"}]}`, ms(9000)),
			wantDetail: []string{"answered by you (typed)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, _ := sized(t, 100, 30)
			m.Update(event(t, 1, base, toolCallsBody(callID, "call_1", "lookup_order", `{"orderId":"A123"}`)))
			if tt.health.Seq != 0 {
				m.Update(tt.health)
			}
			m.Update(tt.out)
			if s := screen(m); tt.wantRow != "" && !strings.Contains(s, tt.wantRow) {
				t.Errorf("events row lacks %q:\n%s", tt.wantRow, s)
			}
			m.Update(press("4"))
			m.Update(press("enter"))
			if m.detail == nil {
				t.Fatal("no detail view")
			}
			m.View()
			all := ansi.Strip(strings.Join(m.detail.lines, "\n"))
			webhooktest.Holds(t, "detail", all, tt.wantDetail...)
			for i, l := range m.detail.lines {
				if lw := ansi.StringWidth(l); lw > m.detail.w {
					t.Errorf("detail line %d is %d wide, more than %d: %q", i, lw, m.detail.w, ansi.Strip(l))
				}
			}
			if !strings.Contains(ansi.Strip(m.detail.lines[0]), "200 · ") {
				t.Errorf("first line is not the summary: %q", ansi.Strip(m.detail.lines[0]))
			}
			for _, k := range []struct{ key, want string }{{"a", "Reply: HTTP 200"}, {"r", "Request body"}, {"h", "Headers"}} {
				m.Update(press(k.key))
				if top := ansi.Strip(m.detail.View()[0]); !strings.HasPrefix(top, k.want) {
					t.Errorf("after %s the view starts with %q, want %q", k.key, top, k.want)
				}
			}
			m.Update(press("s"))
			top := ansi.Strip(m.detail.View()[0])
			if hasServer := tt.health.Seq != 0; hasServer != (top == "Your server") {
				t.Errorf("after s the view starts with %q (forwarded: %v)", top, hasServer)
			}
		})
	}
}

// TestServerJumpOnlyWhenForwarded: the request detail offers s (your server) only for a
// request that was forwarded; it used to offer it for every request.
func TestServerJumpOnlyWhenForwarded(t *testing.T) {
	t.Parallel()
	for _, forwarded := range []bool{false, true} {
		m, _, _ := sizedWithWeather(t, 160, 48)
		src := webhook.SourceAnswers
		if forwarded {
			m.Update(webhook.ForwardHealth{Seq: 1, Target: "http://127.0.0.1:3999/hook", Status: 200, Latency: ms(3), At: base})
			src = webhook.SourceForward
		}
		m.Update(outcome(1, src, `{"results":[{"toolCallId":"call_1","result":"18C"}]}`, ms(4)))
		m.Update(press("4"))
		m.Update(press("enter"))
		s := screen(m)
		footer := ansi.Strip(m.footer(160))
		if got := strings.Contains(footer, "s your server"); got != forwarded {
			t.Errorf("forwarded %v: the footer offers s: %v\n%s", forwarded, got, footer)
		}
		if got := strings.Contains(s, "· s your server ·"); got != forwarded {
			t.Errorf("forwarded %v: the jump line offers s: %v\n%s", forwarded, got, s)
		}
	}
}

// TestRejectedDetailSaysWhyOnce: a rejected request's detail gives the reason once, on its
// first line (it used to repeat it as "REJECTED with HTTP 400: ..." two lines below); a
// request refused after it passed verification still says it was verified.
func TestRejectedDetailSaysWhyOnce(t *testing.T) {
	t.Parallel()
	const why = "body is not valid JSON: unexpected end of JSON input"
	for _, verified := range []bool{false, true} {
		m, _ := sized(t, 160, 48)
		ev := rejected(1, base, why, 400)
		ev.AuthMode, ev.Verified = webhook.AuthSecret, verified
		m.Update(ev)
		m.Update(press("4"))
		m.Update(press("enter"))
		if m.detail == nil {
			t.Fatal("enter opened no detail")
		}
		text := ansi.Strip(strings.Join(m.detail.lines, "\n"))
		if n := strings.Count(text, why); n != 1 {
			t.Errorf("verified %v: the reason is given %d times:\n%s", verified, n, text)
		}
		if !strings.Contains(text, "400 · rejected · "+why) {
			t.Errorf("verified %v: the first line lacks the status and reason:\n%s", verified, text)
		}
		if got := strings.Contains(text, "verified (secret)"); got != verified {
			t.Errorf("verified %v: the detail says verified = %v:\n%s", verified, got, text)
		}
	}
}
