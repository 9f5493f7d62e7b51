package tui

import (
	"bytes"
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/relay"
	"github.com/vapimon/vapimon/webhook"
)

// inspectRig is a real listening session (its handler, answers file and tape) with the
// monitor in a teatest program fed from the session's bus, as tui.Run feeds it.
type inspectRig struct {
	t      *testing.T
	s      *relay.Session
	cfg    relay.Config
	tm     *teatest.TestModel
	tape   string
	copied string
}

func newInspectRig(t *testing.T, auth webhook.AuthConfig, editor string) *inspectRig {
	t.Helper()
	dir := t.TempDir()
	answers := filepath.Join(dir, "answers.yaml")
	if err := os.WriteFile(answers, []byte("tools:\n  get_weather: \"Sunny in {{location}}\"\n  lookup_order: \"Order {{orderId}} shipped\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	auth, err := auth.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	r := &inspectRig{t: t, tape: filepath.Join(dir, "tape.jsonl"), copied: filepath.Join(dir, "copied.txt")}
	r.cfg = relay.Config{Addr: "127.0.0.1:0", Auth: auth, MaxBody: webhook.DefaultMaxBody, MaxInFlight: webhook.DefaultMaxInFlight,
		ToolTimeout: 20 * time.Second, AnswersFile: answers, TapePath: r.tape, LogFile: filepath.Join(dir, "vapimon.log"),
		Tunnel: relay.TunnelConfig{NoTunnel: true}}
	r.s = relay.NewSession(r.cfg)
	sub := r.s.Bus().Subscribe(1024)
	if err := r.s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.s.Shutdown(nil) })
	clk := newClock(time.Now())
	m := NewModel(Options{Status: r.s.Status(), Now: clk.Now, PromptGrace: -1,
		Inspect: &Inspect{URL: r.s.Status().ListenURL, Auth: auth, UserAgent: "vapimon/test", Editor: editor, CopiedFile: r.copied, Now: time.Now}}, nil)
	r.tm = teatest.NewTestModel(t, m, teatest.WithInitialTermSize(160, 48))
	go func() {
		for v := range sub {
			r.tm.Send(batchMsg{items: []any{v}})
		}
	}()
	return r
}

// send posts a built-in fixture to the session, signed for its auth, and returns the reply.
func (r *inspectRig) send(name string) fixtures.Result {
	r.t.Helper()
	recs, err := fixtures.Load(name)
	if err != nil {
		r.t.Fatal(err)
	}
	s := fixtures.Sender{To: r.s.Status().ListenURL + "/vapi/webhook", Auth: r.cfg.Auth}
	res, err := s.Send(context.Background(), recs[0])
	if err != nil || res.Status != 200 {
		r.t.Fatalf("send %s: %d %v", name, res.Status, err)
	}
	return res
}

// tapeRecords reads the session's tape as it is now.
func (r *inspectRig) tapeRecords() []fixtures.Record {
	r.t.Helper()
	recs, _, err := fixtures.ReadTapeFile(r.tape)
	if err != nil {
		r.t.Fatal(err)
	}
	return recs
}

// waitAll waits until the output has shown every token (WaitFor consumes the output, so
// tokens drawn in one frame are looked for together).
func waitAll(t *testing.T, tm *teatest.TestModel, tokens ...string) {
	t.Helper()
	seen := map[string]bool{}
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		for _, tok := range tokens {
			seen[tok] = seen[tok] || bytes.Contains(b, []byte(tok))
		}
		return len(seen) == len(tokens) && !slices.Contains(slices.Collect(maps.Values(seen)), false)
	}, waitOpts()...)
}

func (r *inspectRig) quit() *Model {
	r.t.Helper()
	return quitFinal(r.t, r.tm)
}

// TestFlowResend: R on a tool call in the events pane sends it again through vapimon with
// fresh ids, signed for the listener's secret; the monitor shows the new event "resent
// from #1", the tape records it with its marker, and the view compares the two replies.
func TestFlowResend(t *testing.T) {
	t.Parallel()
	r := newInspectRig(t, webhook.AuthConfig{Mode: webhook.AuthSecret, Secrets: []string{"s3cret"}}, "")
	r.send("tool-calls")
	teatest.WaitFor(t, r.tm.Output(), contains("Sunny in Paris"), waitOpts()...)
	r.tm.Type("4")
	r.tm.Type("R")
	teatest.WaitFor(t, r.tm.Output(), contains("Same reply as the original"), waitOpts()...)
	r.tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
	teatest.WaitFor(t, r.tm.Output(), contains("resent from #1"), waitOpts()...)

	recs := r.tapeRecords()
	if len(recs) != 2 || recs[1].Header.Get(fixtures.HeaderResentFrom) != "1" || !recs[1].Verified {
		t.Fatalf("tape: %d records, second %+v", len(recs), recs[len(recs)-1])
	}
	if recs[0].CallID == recs[1].CallID || bytes.Equal(recs[0].Body, recs[1].Body) {
		t.Errorf("the resend kept the call id %s: want fresh ids", recs[1].CallID)
	}
	if recs[1].Reply == nil || !strings.Contains(string(recs[1].Reply.Body), "Sunny in Paris") {
		t.Errorf("resend's reply on the tape: %+v", recs[1].Reply)
	}
	m := r.quit()
	if m.eventCount != 2 {
		t.Errorf("monitor saw %d events, want 2", m.eventCount)
	}
}

// TestFlowEditAndResend: E opens the request in $EDITOR (a script that rewrites the file),
// the monitor resumes, the edited body goes out and is recorded, and the reply's
// difference from the original is shown. A broken edit is refused, named, and not sent.
// (One edit per program: after the editor, teatest's input is not a terminal whose read
// the program can cancel, so a second exec would wait on the abandoned read; in a real
// terminal it does not, as the tmux run shows.)
func TestFlowEditAndResend(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, script string
		want         []string
		records      int
	}{
		{"fixed", "sed -i 's/Paris/Berlin/g' \"$1\"", []string{"Differences from the original reply", "Sunny in Berlin"}, 2},
		{"broken", "echo '{\"message\": ' > \"$1\"", []string{"not sent: line 2"}, 1},
		{"not a Vapi message", "echo '{\"hello\": 1}' > \"$1\"", []string{"not a Vapi message"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			editor := filepath.Join(t.TempDir(), "editor.sh")
			if err := os.WriteFile(editor, []byte("#!/bin/sh\n"+tc.script+"\n"), 0o700); err != nil {
				t.Fatal(err)
			}
			r := newInspectRig(t, webhook.AuthConfig{Mode: webhook.AuthHMAC, Secrets: []string{"hmac-key"}}, editor)
			r.send("tool-calls")
			teatest.WaitFor(t, r.tm.Output(), contains("Sunny in Paris"), waitOpts()...)
			r.tm.Type("4")
			r.tm.Type("E")
			waitAll(t, r.tm, tc.want...)
			recs := r.tapeRecords()
			if len(recs) != tc.records {
				t.Fatalf("tape: %d records, want %d", len(recs), tc.records)
			}
			if tc.records == 2 {
				body := string(recs[1].Body)
				if !strings.Contains(body, `"Berlin"`) || strings.Contains(body, `"Paris"`) || !recs[1].Verified || recs[1].Header.Get(fixtures.HeaderResentFrom) != "1" {
					t.Errorf("edited resend on the tape: verified %v, header %v\n%s", recs[1].Verified, recs[1].Header, body)
				}
			}
			m := r.quit()
			if tc.records == 1 && m.drafts[1] == nil {
				t.Error("the refused edit was not kept as a draft")
			}
		})
	}
}

// TestFlowCopyCurlIsAccepted: C copies the selected request as curl, signed for the
// listener's verification now; the text, run by a shell against that vapimon, is
// accepted (a wrong secret is not). S copies a vapimon send command whose file holds the
// body; y the raw JSON.
func TestFlowCopyCurlIsAccepted(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl here")
	}
	for _, auth := range []webhook.AuthConfig{
		{Mode: webhook.AuthSecret, Secrets: []string{"s3cret"}},
		{Mode: webhook.AuthBearer, Secrets: []string{"s3cret"}},
		{Mode: webhook.AuthHMAC, Secrets: []string{"s3cret"}},
	} {
		t.Run(string(auth.Mode), func(t *testing.T) {
			t.Parallel()
			r := newInspectRig(t, auth, "")
			r.send("tool-calls")
			teatest.WaitFor(t, r.tm.Output(), contains("Sunny in Paris"), waitOpts()...)
			r.tm.Type("4")
			r.tm.Type("C")
			teatest.WaitFor(t, r.tm.Output(), contains("if your terminal ignores it"), waitOpts()...)
			text, err := os.ReadFile(r.copied)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(text), "s3cret") {
				t.Fatalf("the copied command holds the secret:\n%s", text)
			}
			run := func(secret string) string {
				cmd := exec.Command("sh", "-c", string(text))
				cmd.Env = append(os.Environ(), "VAPI_WEBHOOK_SECRET="+secret)
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("curl: %v\n%s", err, out)
				}
				return string(out)
			}
			if out := run("s3cret"); !strings.HasPrefix(out, "HTTP/1.1 200") || !strings.Contains(out, "Sunny in Paris") {
				t.Errorf("the copied curl was not accepted:\n%s\n%s", text, out)
			}
			if auth.Mode != webhook.AuthHMAC {
				if out := run("wrong"); !strings.HasPrefix(out, "HTTP/1.1 401") {
					t.Errorf("a wrong secret was accepted:\n%s", out)
				}
			}
			recs := r.tapeRecords()
			if len(recs) < 2 || !recs[1].Verified || !bytes.Equal(bytes.TrimSpace(recs[1].Body), bytes.TrimSpace(recs[0].Body)) {
				t.Errorf("tape after the curl: %d records", len(recs))
			}

			r.tm.Type("g") // back to #1: the pane followed the new requests
			r.tm.Type("S")
			teatest.WaitFor(t, r.tm.Output(), contains("(body in "), waitOpts()...)
			send, _ := os.ReadFile(r.copied)
			f := strings.Fields(strings.TrimSpace(string(send[bytes.LastIndexByte(bytes.TrimSpace(send), '\n')+1:])))
			if len(f) < 5 || f[0] != "vapimon" || f[1] != "send" || f[3] != "--to" || !strings.HasSuffix(f[4], "/vapi/webhook") || !slices.Contains(f, string(auth.Mode)) {
				t.Fatalf("send command: %q", send)
			}
			t.Cleanup(func() { os.Remove(strings.Trim(f[2], "'")) })
			body, err := os.ReadFile(strings.Trim(f[2], "'"))
			if err != nil || !bytes.Equal(body, recs[0].Body) {
				t.Errorf("the send command's file does not hold the request: %v", err)
			}
			r.quit()
		})
	}
}

// TestFlowResendRejectedAsks: R on a request rejected for a wrong secret does not re-sign it
// at once (that would make a forged request genuine, and forward it): it says so, and only
// a second R sends it. The resend's view is titled with the message type and what became of
// the original, not "REJECTED" above the resend's HTTP 200.
func TestFlowResendRejectedAsks(t *testing.T) {
	t.Parallel()
	r := newInspectRig(t, webhook.AuthConfig{Mode: webhook.AuthSecret, Secrets: []string{"s3cret"}}, "")
	recs, err := fixtures.Load("tool-calls")
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := webhook.AuthConfig{Mode: webhook.AuthSecret, Secrets: []string{"forged"}}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	s := fixtures.Sender{To: r.s.Status().ListenURL + "/vapi/webhook", Auth: wrong}
	if res, err := s.Send(context.Background(), recs[0]); err != nil || res.Status != 401 {
		t.Fatalf("forged send: %d %v, want a 401", res.Status, err)
	}
	teatest.WaitFor(t, r.tm.Output(), contains("REJECTED"), waitOpts()...)
	r.tm.Type("4")
	r.tm.Type("R")
	teatest.WaitFor(t, r.tm.Output(), contains("failed verification"), waitOpts()...)
	r.tm.Type("R")
	waitAll(t, r.tm, "Resent #1 · tool-calls · the original was rejected (HTTP 401)", "now: HTTP 200")
	m := r.quit()
	if got := len(r.tapeRecords()); got != 2 {
		t.Errorf("tape: %d records, want 2 (the rejected request and one resend)", got)
	}
	if m.eventCount != 2 {
		t.Errorf("monitor saw %d events, want 2", m.eventCount)
	}
}
