package main

// Known failures found by the adversarial pass over issues 8 and 9 as merged (see
// /work/notes/soak-and-adversarial.md). Each test states what the issue says should happen
// and is skipped while the product does not do it, so that the suite stays green; remove
// the t.Skip with the fix.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vapimon/vapimon/webhook"
)

// Issue 9, "Disk full: requests keep being answered (right)", and "the tape: on reopen
// repair a torn last line". A kill -9 (or a power cut) can leave the tape's last line
// whole but without its newline; if the disk is full when vapimon starts again with
// --record on that tape, the repair's one-byte write fails and vapimon refuses to start
// ("tape: repair tape …: no space left on device", exit 1): no request is answered at all.
// A full disk must cost the tape, not the calls. Repro by hand: a tmpfs filled to the
// last page, or `ulimit -f` as here.
func TestRegressTornTapeOnFullDiskStillListens(t *testing.T) {
	t.Parallel()
	tape := filepath.Join(t.TempDir(), "torn.jsonl")
	// One whole record, exactly 8192 bytes, without its final newline: what a crash
	// between the line and its "\n" would leave. `ulimit -f 16` is 8192 bytes: no byte more.
	rec := map[string]any{"v": 2, "seq": 1, "time": "2026-12-01T22:52:00Z", "method": "POST", "path": "/vapi",
		"verified": false, "auth": "none", "body": "", "reply": map[string]any{"status": 200, "source": "ack", "body": "{}"}}
	b, _ := json.Marshal(rec)
	rec["body"] = strings.Repeat("x", 8192-len(b))
	b, _ = json.Marshal(rec)
	if len(b) != 8192 {
		t.Fatalf("test tape is %d bytes, want 8192", len(b))
	}
	if err := os.WriteFile(tape, b, 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := launchVapimon(t, procOpts{shell: "ulimit -f 16", args: []string{"--headless", "--no-tunnel", "--record", tape}})
	if err != nil {
		t.Fatalf("vapimon did not start on a torn tape it cannot extend: %v", err)
	}
	if code, _, _, _ := p.post("/vapi/webhook", toolCallsBody("call-full", "get_weather")); code != http.StatusOK {
		t.Errorf("HTTP %d: the request must be answered though the tape cannot be written", code)
	}
	p.stop()
}

// Issue 8 point 2: the deadline comes from the payload ("the assistant's
// server.timeoutSeconds", up to Vapi's 300) and "the prompt, the tool-calls pane, the
// fallback and the forward budget all use it". The HTTP server's WriteTimeout is still
// --tool-timeout + 40 s (60 s by default), counted from the request's headers: any reply
// sent later than that, within the payload's deadline, is cut by net/http and the caller
// gets nothing, while the tape and the headless reply line say 200 was sent. Repro: a
// tool-calls message whose assistant has server.timeoutSeconds 120, forwarded with
// --forward-timeout 100s to a server that answers after 70 s: curl gets "Empty reply from
// server" (exit 52) at 70 s. The same happens to an operator who answers after 60 s, and
// to the fallback itself (sent at 118.5 s). This test takes about 62 s once unskipped.
func TestRegressReplyAfterSixtySecondsReachesCaller(t *testing.T) {
	t.Parallel()
	const answerAfter = 61 * time.Second
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		select {
		case <-time.After(answerAfter): // your server is slow, but within Vapi's 120 s
		case <-r.Context().Done():
			return
		}
		_, reply := goodAnswer(mustParse(t, body))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, reply)
	}))
	t.Cleanup(srv.Close)
	p := startVapimon(t, procOpts{args: []string{"--headless", "--no-tunnel", "--no-record", "--forward-to", srv.URL, "--forward-timeout", "100s"}})
	body := []byte(`{"message":{"type":"tool-calls","call":{"id":"call-slow"},"assistant":{"server":{"url":"https://x.example/vapi","timeoutSeconds":120}},` +
		`"toolCallList":[{"id":"t1","type":"function","function":{"name":"get_weather","arguments":{}}}],` +
		`"toolWithToolCallList":[{"type":"function","function":{"name":"get_weather"},"server":{"url":"https://x.example/tools"},"toolCall":{"id":"t1","type":"function","function":{"name":"get_weather","arguments":{}}}}]}}`)
	client := &http.Client{Timeout: 130 * time.Second}
	resp, err := client.Post(p.base+"/vapi/webhook", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the caller got no reply (Vapi waits 120 s, your server answered after %s): %v", answerAfter, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"toolCallId":"t1"`) {
		t.Errorf("HTTP %d %s (%v): want your server's reply", resp.StatusCode, b, err)
	}
}

// Issue 9 point 3: "no client can starve the others"; slow, unauthenticated senders take
// a slot of a separate, larger cap while their body arrives. That cap is four times
// --max-inflight (1,024 by default) and, once full, every real request gets 503 ("too many
// requests still sending their body"), before it is authenticated. The issue's figure (500
// trickling connections) is met, but 1,100 connections sending headers and then one body
// byte a second still turn away half of the real requests with the default flags
// (measured: 28 of 57 got 503 over 15 s). Scaled down here: --max-inflight 4 gives a cap
// of 16, and 20 trickling connections. What the issue asks: a real request is served
// within 1 s whatever the trickling connections do.
func TestRegressTricklingSendersCannotStarveRealRequests(t *testing.T) {
	t.Parallel()
	p := startVapimon(t, procOpts{args: []string{"--headless", "--no-tunnel", "--no-record", "--max-inflight", "4"}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const trickling = 20
	for range trickling {
		go func() {
			for ctx.Err() == nil { // reconnect whenever vapimon cuts the connection
				c, err := net.Dial("tcp", p.addr())
				if err != nil {
					return
				}
				fmt.Fprintf(c, "POST /vapi/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
				for ctx.Err() == nil {
					if _, err := c.Write([]byte("{")); err != nil {
						break
					}
					select {
					case <-ctx.Done():
					case <-time.After(time.Second): // the slowloris pace: a byte a second
					}
				}
				c.Close()
			}
		}()
	}
	// Wait until the cap is full: a real request is refused with 503.
	deadline := time.Now().Add(waitTimeout)
	served, refused := 0, 0
	for time.Now().Before(deadline) && served+refused < 40 {
		code, _, _, _ := p.post("/vapi/webhook", []byte(`{"message":{"type":"status-update","status":"in-progress","call":{"id":"real"}}}`))
		if code == http.StatusOK {
			served++
		} else {
			refused++
		}
		time.Sleep(100 * time.Millisecond) // pacing of the real requests
	}
	if refused > 0 {
		t.Errorf("%d of %d real requests refused while %d connections trickled their bodies", refused, served+refused, trickling)
	}
}

// Issue 9 point 10 and its Why: "q is typed into the answer prompt that opened by itself;
// in one run 'q, y, Enter' was sent to a caller as the tool result "qy"", and the fix:
// "q never reaches an answer prompt". q is a letter of an answer (an answer may start
// with q: "quarterly"), so an answer made of nothing but the quit keys, in a prompt that
// opened by itself, asks on the first Enter instead of going to the caller: here the
// caller gets the fallback at its deadline, not "qy".
func TestRegressQuitKeysNeverAnswerAPrompt(t *testing.T) {
	home := t.TempDir()
	s := newTmux(t, 160, 48, tmuxEnv(home), vapimonBin+" listen --addr 127.0.0.1:0 --no-record --tool-timeout 5s")
	url := s.listenURL()
	s.waitFor("the events pane", regexp.MustCompile(`Events`))
	got := postAsync(url+"/vapi/webhook", toolCallsBody("call-q", "mystery_tool"))
	// The person meant to quit, and presses q past the grace period.
	s.waitPrompt("the prompt that opened by itself", regexp.MustCompile(`Answer tool call mystery_tool`))
	s.keys("q")
	s.keys("y")
	s.keys("Enter")
	select {
	case reply := <-got:
		if strings.Contains(reply, `"result":"qy"`) {
			t.Errorf("the keys meant to quit reached the caller as its tool result: %s", reply)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("no reply. Screen:\n%s", s.screen(false))
	}
}

func mustParse(t *testing.T, body []byte) *webhook.Message {
	m, err := webhook.Parse(body)
	if err != nil {
		t.Errorf("your server got a body it cannot parse: %v", err)
	}
	return m
}

// Issue 9 point 1 with --intercept: SIGHUP while the operator reviews your server's reply.
// The caller gets your server's reply (right: "not reviewed: the monitor has closed; your
// server's reply was sent as is" on the tape), but the exit message says "1 request
// waiting for you got the fallback reply": the README promises that the last lines "say
// what happened".
func TestRegressInterceptHangupSaysWhatWasSent(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, reply := goodAnswer(mustParse(t, body))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, reply)
	}))
	t.Cleanup(srv.Close)
	home := t.TempDir()
	exitFile := filepath.Join(home, "exit-status")
	s := newTmuxScript(t, 160, 48, tmuxEnv(home), hangupScript(vapimonBin+" listen --addr 127.0.0.1:0 --no-record --intercept --forward-to "+srv.URL, exitFile, false))
	url := s.listenURL()
	pid := s.childPid()
	got := postAsync(url+"/vapi/webhook", toolCallsBody("call-review", "get_weather"))
	s.waitFor("the review of your server's reply", regexp.MustCompile(`Your server answered tool-calls`))
	kill(t, pid, syscall.SIGHUP)
	select {
	case reply := <-got:
		if !strings.Contains(reply, `"result":"done"`) {
			t.Fatalf("the caller got %s, want your server's reply", reply)
		}
	case <-time.After(waitTimeout):
		t.Fatal("the caller got no reply after SIGHUP")
	}
	screen := s.waitFor("the exit message", regexp.MustCompile(`SIGHUP: shut down.*`))[0]
	if strings.Contains(screen, "got the fallback reply") {
		t.Errorf("the exit message says %q, but the caller got your server's reply", screen)
	}
}

// postAsync posts body as JSON to url in the background; the channel gets the reply's body,
// or the error.
func postAsync(url string, body []byte) <-chan string {
	got := make(chan string, 1)
	go func() {
		resp, err := http.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			got <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- string(b)
	}()
	return got
}
