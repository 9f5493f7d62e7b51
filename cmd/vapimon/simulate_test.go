package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vapimon/vapimon/webhook"
)

// TestSimulateCLI drives a developer's server through the built-in script: the tool
// result it gives is what the assistant says and what the summary reports; a server that
// fails a tool call makes simulate exit 1 naming it; a script with a typo is refused with
// its line.
func TestSimulateCLI(t *testing.T) {
	t.Parallel()
	var failTools atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-Vapi-Secret") != "sim-secret" {
			t.Errorf("request without the secret: %v", r.Header)
		}
		msg, err := webhook.Parse(b)
		if err != nil {
			t.Errorf("parse: %v", err)
			return
		}
		if msg.Kind == webhook.TypeAssistantRequest {
			_, _ = io.WriteString(w, `{"assistantId":"5a6b2c1d-0000-4000-8000-000000000001"}`)
			return
		}
		if msg.Kind == webhook.TypeToolCalls {
			if failTools.Load() {
				w.WriteHeader(500)
				return
			}
			var res []map[string]string
			for _, tc := range msg.ToolCalls {
				res = append(res, map[string]string{"toolCallId": tc.ID, "result": "Sunny, 21C"})
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"results": res})
			return
		}
		_, _ = io.WriteString(w, "{}")
	}))
	defer srv.Close()

	r := runVapimon(t, "simulate", "inbound-call", "--to", srv.URL, "--secret", "sim-secret", "--speed", "50")
	if r.code != 0 || !strings.Contains(r.stdout, "assistant: The weather in Paris: Sunny, 21C.") ||
		!strings.Contains(r.stdout, "summary: The caller asked about the weather in Paris (told: Sunny, 21C)") ||
		!strings.Contains(r.stdout, "✓ every reply Vapi needed was usable") {
		t.Errorf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	failTools.Store(true)
	r = runVapimon(t, "simulate", "inbound-call", "--to", srv.URL, "--secret", "sim-secret", "--speed", "50")
	if r.code != 1 || !strings.Contains(r.stdout, "tool-calls: HTTP 500") || !strings.Contains(r.stdout, "Sorry, I couldn't get the weather: no result returned") {
		t.Errorf("failing tools: exit %d\n%s", r.code, r.stdout)
	}

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("steps:\n  - user: hi\n  - asistant: typo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runVapimon(t, "simulate", bad, "--to", srv.URL)
	if r.code != 1 || !strings.Contains(r.stderr, `line 3: unknown key "asistant"`) {
		t.Errorf("typo: exit %d, stderr %s", r.code, r.stderr)
	}
}
