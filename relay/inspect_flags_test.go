package relay

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vapimon/vapimon/webhook"
)

// TestForwardHeaderAndInsecure: --forward-header values reach your server (replacing a
// header of the same name), and --forward-insecure reaches an https server with a
// self-signed certificate, which is refused without it.
func TestForwardHeaderAndInsecure(t *testing.T) {
	t.Parallel()
	seen := make(chan http.Header, 4)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Clone()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(toolCallsReply))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	h, err := ParseForwardHeaders([]string{"X-Dev-Key: k1", "User-Agent: my-agent", "X-Multi: a", "X-Multi:b"})
	if err != nil {
		t.Fatal(err)
	}

	f := NewForwarder([]Route{{"*", srv.URL}}, ForwardOptions{Header: h, Insecure: true})
	reply, err := f.Respond(context.Background(), newEvent(t, toolCallsBody))
	if err != nil || reply.Status != 200 || string(reply.Body) != toolCallsReply {
		t.Fatalf("insecure forward: %v, %d %s", err, reply.Status, reply.Body)
	}
	got := <-seen
	if got.Get("X-Dev-Key") != "k1" || got.Get("User-Agent") != "my-agent" || strings.Join(got.Values("X-Multi"), ",") != "a,b" || got.Get("X-Vapi-Secret") != "s3cret" {
		t.Errorf("server saw headers %v", got)
	}

	strict := NewForwarder([]Route{{"*", srv.URL}}, ForwardOptions{})
	if _, err := strict.Respond(context.Background(), newEvent(t, toolCallsBody)); err == nil {
		t.Error("a self-signed certificate was accepted without --forward-insecure")
	}

	for _, bad := range []string{"no colon", ": v", "Bad Name: v", "X: a\r\nY: b"} {
		if _, err := ParseForwardHeaders([]string{bad}); err == nil {
			t.Errorf("ParseForwardHeaders(%q) accepted", bad)
		}
	}
}

func TestReadTrafficPolicy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name, text, wantErr string
	}{
		{"yaml", "on_http_request:\n  - actions:\n      - type: add-headers\n        config:\n          headers:\n            x-from: ngrok\n", ""},
		{"json", `{"on_http_request":[{"actions":[{"type":"deny"}]}]}`, ""},
		{"broken yaml", "on_http_request:\n  - actions: [\n", "line 2"},
		{"broken json", "{\"on_http_request\": [}\n", "line 1"},
		{"unknown key", "on_http_request: []\n\non_requests: []\n", `line 3: unknown key "on_requests"`},
		{"not a mapping", "- a\n- b\n", "line 1: a traffic policy is a mapping"},
		{"rules not a list", "on_http_request:\n  actions: []\n", "line 2: on_http_request is a list of rules"},
		{"empty", "", "empty"},
	} {
		p := filepath.Join(dir, tc.name)
		if err := os.WriteFile(p, []byte(tc.text), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := ReadTrafficPolicy(p)
		switch {
		case tc.wantErr == "" && (err != nil || got != tc.text):
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), p)):
			t.Errorf("%s: error %v, want one naming the file and %q", tc.name, err, tc.wantErr)
		}
	}
	if _, err := ReadTrafficPolicy(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file was accepted")
	}
}

// TestTrafficPolicyWithoutTunnel: a traffic policy nobody applies is said, not ignored.
func TestTrafficPolicyWithoutTunnel(t *testing.T) {
	t.Parallel()
	c := Config{Tunnel: TunnelConfig{TrafficPolicyFile: "p.yml", NoTunnel: true, Authtoken: "tok"}, Auth: webhook.AuthConfig{Mode: webhook.AuthSecret}}
	if w := strings.Join(c.warnings(), "\n"); !strings.Contains(w, "--traffic-policy p.yml is ignored") {
		t.Errorf("warnings: %q", w)
	}
	c.Tunnel.NoTunnel = false
	if w := strings.Join(c.warnings(), "\n"); strings.Contains(w, "traffic-policy") {
		t.Errorf("warned with a tunnel: %q", w)
	}
}
