package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// runControl runs `vapimon control args...` with XDG_STATE_HOME=state and extra env.
func runControl(t *testing.T, state string, env []string, args ...string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, vapimonBin, append([]string{"control"}, args...)...)
	cmd.Env = testEnv(t.TempDir(), state, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := runResult{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		res.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	checkNoRace(t, res.stderr)
	return res
}

// TestControlCLI looks a call's control URL up on the latest tape and POSTs each action
// to a fake control endpoint, which checks the bodies; failures exit 1 with Vapi's reason.
func TestControlCLI(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var bodies []string
	var auths []string
	fail := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != "/7420f27a-30fd-4f49-a995-5549ae7cc00d/control" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("got %s %s %s", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		bodies = append(bodies, string(b))
		auths = append(auths, r.Header.Get("Authorization"))
		if fail {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"message":"Call is not active"}`)
			return
		}
		_, _ = io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	ctl := srv.URL + "/7420f27a-30fd-4f49-a995-5549ae7cc00d/control"

	state, tapes := stateWithTapes(t)
	body, _ := json.Marshal(map[string]any{"message": map[string]any{"type": "status-update", "status": "in-progress",
		"call": map[string]any{"id": "7420f27a-30fd-4f49-a995-5549ae7cc00d", "customer": map[string]any{"number": "+14155550123"},
			"monitor": map[string]any{"controlUrl": ctl, "listenUrl": "ws://127.0.0.1:1/listen"}}}})
	line, _ := json.Marshal(map[string]any{"v": 2, "seq": 1, "time": "2026-12-02T01:00:00Z", "path": "/", "type": "status-update",
		"callId": "7420f27a-30fd-4f49-a995-5549ae7cc00d", "verified": true, "json": json.RawMessage(body)})
	if err := os.WriteFile(filepath.Join(tapes, "2026-12-02T01-00-00.jsonl"), append(line, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}

	ok := []struct {
		args []string
		want string
	}{
		{[]string{"7420f27a", "say", "--interrupt", "Hold", "on"}, `{"type":"say","content":"Hold on","interruptAssistantEnabled":true,"endCallAfterSpoken":false}`},
		{[]string{"7420f27a", "add-message", "--role", "user", "--silent", "I am a VIP"}, `{"type":"add-message","message":{"role":"user","content":"I am a VIP"},"triggerResponseEnabled":false}`},
		{[]string{"7420f27a", "mute", "customer"}, `{"type":"control","control":"mute-customer"}`},
		{[]string{"7420f27a", "unmute", "assistant"}, `{"type":"control","control":"unmute-assistant"}`},
		{[]string{"7420f27a-30fd-4f49-a995-5549ae7cc00d", "transfer", "+14155550199"}, `{"type":"transfer","destination":{"type":"number","number":"+14155550199"}}`},
		{[]string{"x", "end", "--control-url", ctl}, `{"type":"end-call"}`},
	}
	for i, tc := range ok {
		r := runControl(t, state, nil, tc.args...)
		if r.code != 0 || !strings.Contains(r.stdout, "✓") {
			t.Fatalf("%v: exit %d\nstdout %s\nstderr %s", tc.args, r.code, r.stdout, r.stderr)
		}
		mu.Lock()
		if len(bodies) != i+1 || bodies[i] != tc.want {
			t.Errorf("%v: body\n got %v\nwant %s", tc.args, bodies, tc.want)
		}
		mu.Unlock()
	}

	// The public key goes in Authorization: Bearer and nowhere else.
	r := runControl(t, state, []string{"VAPI_PUBLIC_KEY=pub-key-123"}, "7420f27a", "end")
	mu.Lock()
	if r.code != 0 || auths[len(auths)-1] != "Bearer pub-key-123" {
		t.Errorf("with VAPI_PUBLIC_KEY: exit %d, Authorization %q", r.code, auths[len(auths)-1])
	}
	fail = true
	mu.Unlock()
	if strings.Contains(r.stdout+r.stderr, "pub-key-123") {
		t.Error("the public key was printed")
	}

	r = runControl(t, state, nil, "7420f27a", "say", "hello")
	if r.code != 1 || !strings.Contains(r.stderr, "Vapi says Call is not active") || !strings.Contains(r.stderr, "HTTP 400") {
		t.Errorf("refused: exit %d, stderr %s", r.code, r.stderr)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"deadbeef", "end"}, "call deadbeef is not on the recent tapes"},
		{[]string{"7420f27a", "transfer", "555"}, "neither an E.164 number"},
		{[]string{"7420f27a", "shout", "x"}, `unknown action "shout"`},
		{[]string{"7420f27a", "mute"}, "mute takes one argument"},
	} {
		r := runControl(t, state, nil, tc.args...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}

	// Completion offers the call ids on the tapes.
	r = runVapimonState(t, state, "__complete", "control", "")
	if !strings.Contains(r.stdout, "7420f27a-30fd-4f49-a995-5549ae7cc00d\t+14155550123 · controllable") {
		t.Errorf("completion: %s", r.stdout)
	}
}

func runVapimonState(t *testing.T, state string, args ...string) runResult {
	t.Helper()
	cmd := exec.Command(vapimonBin, args...)
	cmd.Env = testEnv(t.TempDir(), state)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, stderr.String())
	}
	return runResult{stdout: stdout.String(), stderr: stderr.String()}
}
