package main

// End-to-end tests of v2 tapes holding a request without its reply (vapimon was killed
// while the request waited): fixtures show and replay name it, replay still sends it.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/webhook"
)

// crashTape writes the web-call scenario as `vapimon listen` records it (two lines per
// request), except that the tool call never got its reply line: the run was killed while
// it waited. It returns the path and the tool call's position in the tape (from 0).
func crashTape(t *testing.T) (string, int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "crash.jsonl")
	w, err := fixtures.OpenTape(path)
	if err != nil {
		t.Fatal(err)
	}
	pending := -1
	for i, rec := range loadFixture(t, "web-call") {
		msg, err := webhook.Parse(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		ev := &webhook.Event{Seq: rec.Seq, Received: rec.Time, Method: "POST", Path: rec.Path, Body: rec.Body, Msg: msg, AuthMode: webhook.AuthNone}
		if err := w.Received(ev); err != nil {
			t.Fatal(err)
		}
		if msg.Kind == webhook.TypeToolCalls && pending < 0 {
			pending = i
			continue // killed while waiting for this reply
		}
		reply := webhook.Reply{Status: 200, Body: []byte("{}"), Source: webhook.SourceAck}
		if rec.Reply != nil {
			reply = webhook.Reply{Status: rec.Reply.Status, Body: rec.Reply.Body, Source: webhook.SourceAnswers}
		}
		out := &webhook.Outcome{Seq: rec.Seq, Reply: reply, Latency: time.Millisecond}
		if err := w.Replied(ev, out); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if pending < 0 {
		t.Fatal("web-call has no tool call")
	}
	return path, pending
}

func TestNoReplyRecorded(t *testing.T) {
	t.Parallel()
	path, pending := crashTape(t)
	scenario := loadFixture(t, "web-call")
	n := len(scenario)

	t.Run("fixtures show", func(t *testing.T) {
		t.Parallel()
		r := runVapimon(t, "fixtures", "show", path)
		note := fmt.Sprintf("note: #%d tool-calls (seq %d): no reply recorded", pending+1, scenario[pending].Seq)
		if r.code != 0 || !strings.Contains(r.stderr, note) || strings.Count(r.stderr, "no reply recorded") != 1 {
			t.Errorf("exit %d, stderr %q: want one note %q", r.code, r.stderr, note)
		}
		// The output is what json.Indent makes of the whole list of bodies.
		var list bytes.Buffer
		list.WriteByte('[')
		for i, rec := range scenario {
			if i > 0 {
				list.WriteByte(',')
			}
			list.Write(rec.Body)
		}
		list.WriteByte(']')
		var want bytes.Buffer
		if err := json.Indent(&want, list.Bytes(), "", "  "); err != nil {
			t.Fatal(err)
		}
		want.WriteByte('\n')
		if r.stdout != want.String() {
			t.Errorf("stdout is not the indented list of bodies:\n%s", r.stdout)
		}
	})

	t.Run("fixtures show --json keeps the mark", func(t *testing.T) {
		t.Parallel()
		r := runVapimon(t, "fixtures", "show", path, "--json")
		recs, _, err := fixtures.ReadTape(strings.NewReader(r.stdout))
		if r.code != 0 || err != nil || len(recs) != n {
			t.Fatalf("exit %d, %v, %d records", r.code, err, len(recs))
		}
		for i, rec := range recs {
			if rec.NoReply != (i == pending) || !bytes.Equal(rec.Body, scenario[i].Body) {
				t.Errorf("record %d: NoReply %v", i, rec.NoReply)
			}
		}
	})

	t.Run("replay sends it and says so", func(t *testing.T) {
		t.Parallel()
		tg := newTarget(t, webhook.AuthConfig{}, goodAnswer)
		r := runVapimon(t, "replay", path, "--to", tg.URL, "--instant", "--keep", "--compare")
		if bodies, _ := tg.received(); len(bodies) != n || !bytes.Equal(bodies[pending], scenario[pending].Body) {
			t.Errorf("the target got %d requests, want %d with the pending one", len(bodies), n)
		}
		lines := strings.Split(r.stdout, "\n")
		found := false
		for i, l := range lines {
			if strings.Contains(l, fmt.Sprintf("[%2d/%d] tool-calls", pending+1, n)) {
				found = i+1 < len(lines) && strings.Contains(lines[i+1], "    no reply recorded (vapimon stopped before answering it") &&
					strings.HasSuffix(lines[i+1], ": nothing to compare")
			}
		}
		if !found {
			t.Errorf("stdout does not say the tool call has no reply recorded:\n%s", r.stdout)
		}
		if strings.Contains(r.stdout, fmt.Sprintf("#%d tool-calls", pending+1)) {
			t.Errorf("a request without recorded reply was compared:\n%s", r.stdout)
		}
		if !strings.Contains(r.stdout, "  1 request had no reply recorded (not answered when the tape was written or read): sent, nothing to compare") {
			t.Errorf("the summary does not count the request without a recorded reply:\n%s", r.stdout)
		}
	})

	t.Run("replay --json", func(t *testing.T) {
		t.Parallel()
		tg := newTarget(t, webhook.AuthConfig{}, goodAnswer)
		r := runVapimon(t, "replay", path, "--to", tg.URL, "--instant", "--json")
		if want := fmt.Sprintf(`{"kind":"result","index":%d,`, pending); !strings.Contains(r.stdout, want) {
			t.Fatalf("no result line for the pending request:\n%s", r.stdout)
		}
		for _, l := range strings.Split(r.stdout, "\n") {
			marked := strings.Contains(l, `"noReplyRecorded":true`)
			if marked != strings.HasPrefix(l, fmt.Sprintf(`{"kind":"result","index":%d,`, pending)) {
				t.Errorf("line %s: noReplyRecorded %v", l, marked)
			}
		}
		if !strings.Contains(r.stdout, `"noReply":1`) {
			t.Errorf("the summary line does not count the request without a recorded reply:\n%s", r.stdout)
		}
	})
}
