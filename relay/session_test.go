package relay

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vapimon/vapimon/webhook"
	"github.com/vapimon/vapimon/webhook/webhooktest"
)

// testConfig is a local session writing its tape and log into a temp dir.
func testConfig(t *testing.T) Config {
	dir := t.TempDir()
	auth, err := webhook.AuthConfig{Mode: webhook.AuthNone}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	return Config{
		Addr:        "127.0.0.1:0",
		Auth:        auth,
		ToolTimeout: webhook.DefaultToolTimeout,
		TapePath:    filepath.Join(dir, "tape.jsonl"),
		LogFile:     filepath.Join(dir, "vapimon.log"),
		Tunnel:      TunnelConfig{NoTunnel: true},
	}
}

// TestSessionLifecycle: a session built from plain data listens, answers, records, shows
// its status as typed fields and JSON lines, and on Shutdown flushes the tape and closes
// the bus; the summary counts what is on the tape.
func TestSessionLifecycle(t *testing.T) {
	t.Parallel()
	var stderr webhooktest.Buffer
	cfg := testConfig(t)
	cfg.Addr = "0.0.0.0:0"
	cfg.Mode = webhook.ModeDemo
	cfg.TunnelNote = "demo: playing inbound-call"
	cfg.Stderr = &stderr
	s := NewSession(cfg)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out webhooktest.Buffer
	s.StreamJSON(&out)
	st := s.Status()
	if !strings.HasPrefix(st.ListenURL, "http://127.0.0.1:") || st.Tunnel != webhook.TunnelOff || st.Mode != webhook.ModeDemo ||
		st.AuthMode != webhook.AuthNone || !strings.Contains(st.Auth, "NOT verified") || st.Tape != cfg.TapePath || st.ToolTimeout != cfg.ToolTimeout {
		t.Errorf("status = %+v", st)
	}
	if st.TunnelNote != cfg.TunnelNote {
		t.Errorf("tunnel note = %q, want the demo's %q", st.TunnelNote, cfg.TunnelNote)
	}
	if len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "every interface") || strings.Contains(st.TunnelNote, "warning") {
		t.Errorf("warnings = %q (tunnel note %q): want the --addr warning in Warnings, not in the note", st.Warnings, st.TunnelNote)
	}
	if s.Forwarding() {
		t.Error("Forwarding without routes")
	}
	code, reply := webhooktest.Post(t, st.ListenURL+"/vapi", toolCallsBody)
	if code != 200 || !strings.Contains(reply, `"toolCallId":"call_1"`) {
		t.Errorf("HTTP %d %s, want the fallback for call_1", code, reply)
	}
	if err := s.Wait(ctxDone()); err != nil {
		t.Errorf("Wait with an ended context: %v", err)
	}
	if err := s.Shutdown(nil); err != nil {
		t.Fatal(err)
	}
	if got := s.TapeSummary(true); got != "vapimon: tape saved: 1 request in "+cfg.TapePath+" (replay it with: vapimon replay "+cfg.TapePath+")" {
		t.Errorf("summary = %q", got)
	}
	if _, ok := <-s.Bus().Subscribe(1); ok {
		t.Error("the bus is still open after Shutdown")
	}
	var status map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON line: %q", l)
		}
		if m["kind"] == "status" && status == nil {
			status = m
		}
	}
	if status == nil || status["mode"] != "demo" || status["authMode"] != "none" || !strings.Contains(strings.Join(anyStrings(status["warnings"]), ""), "every interface") {
		t.Errorf("first status line = %v", status)
	}
	for _, want := range []string{"listening on " + st.ListenURL, "warning: --addr 0.0.0.0:0 listens on every interface"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr.String())
		}
	}
}

func anyStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func ctxDone() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// TestSessionRefuses: configurations that cannot work fail at Start with the flag to fix,
// and leave nothing open (the port is free again) and no tape behind: an empty tape left
// by a failed start would become "last".
func TestSessionRefuses(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() })
	loopRoutes := func(url string) []Route {
		r, err := ParseRoutes([]string{url})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name string
		edit func(c *Config)
		want string
	}{
		{"tool timeout", func(c *Config) { c.ToolTimeout = 500 * time.Millisecond }, "--tool-timeout 500ms"},
		{"intercept without a reviewer", func(c *Config) {
			c.Forward = ForwardConfig{Routes: loopRoutes("http://localhost:3000"), Intercept: true}
		}, "--intercept needs the TUI"},
		{"intercept without forwarding", func(c *Config) {
			c.Forward.Intercept = true
			c.Interceptor = func(_ context.Context, _ *webhook.Event, r webhook.Reply) (webhook.Reply, error) { return r, nil }
		}, "--intercept needs --forward-to"},
		{"raw without forwarding", func(c *Config) { c.Forward.Raw = true }, "--forward-raw needs --forward-to"},
		{"forward to itself", func(c *Config) {
			c.Tunnel.PublicURL = "https://vapimon.example.test"
			c.Forward.Routes = loopRoutes("tool-calls=https://vapimon.example.test/hook")
		}, "--forward-to https://vapimon.example.test/hook is vapimon itself"},
		{"missing answers", func(c *Config) { c.AnswersFile = "/nonexistent/answers.yaml" }, "/nonexistent/answers.yaml"},
		{"port in use", func(c *Config) { c.Addr = busy.Addr().String() }, busy.Addr().String() + " is in use"},
		{"forward to its own listen address", func(c *Config) {
			c.Addr = webhooktest.FreeAddr(t)
			c.Forward.Routes = loopRoutes("http://" + c.Addr + "/hook")
		}, "is vapimon itself"},
		{"point Vapi at a local URL", func(c *Config) { c.Vapi.Targets = []Target{{Kind: KindAssistant, ID: "a"}} }, "has no public URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t)
			tt.edit(&cfg)
			s := NewSession(cfg)
			err := s.Start(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Start: %v, want an error saying %q", err, tt.want)
			}
			if _, ok := <-s.Bus().Subscribe(1); ok {
				t.Error("the bus is still open after a failed Start")
			}
			if _, err := os.Stat(cfg.TapePath); !os.IsNotExist(err) {
				t.Errorf("a failed Start left a tape behind (stat: %v)", err)
			}
		})
	}
}

// TestSessionFailedStartKeepsATapeWithRecords: a failed Start removes only the empty tape
// it created; a --record tape that already holds records is left as it was.
func TestSessionFailedStartKeepsATapeWithRecords(t *testing.T) {
	t.Parallel()
	for _, fail := range []struct {
		name string
		edit func(c *Config)
	}{
		{"before serving", func(c *Config) { c.Forward.Raw = true }},
		{"after serving", func(c *Config) { c.Vapi.Targets = []Target{{Kind: KindAssistant, ID: "a"}} }},
	} {
		t.Run(fail.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t)
			const rec = `{"v":1,"kind":"request"}` + "\n"
			if err := os.WriteFile(cfg.TapePath, []byte(rec), 0o600); err != nil {
				t.Fatal(err)
			}
			fail.edit(&cfg)
			if err := NewSession(cfg).Start(context.Background()); err == nil {
				t.Fatal("Start succeeded")
			}
			got, err := os.ReadFile(cfg.TapePath)
			if err != nil || string(got) != rec {
				t.Errorf("tape after a failed Start = %q, %v; want it unchanged", got, err)
			}
		})
	}
}

// TestCheckLoop: a route is refused when it is vapimon itself, by its listen URL, its
// public URL or a loopback name for its port; the routes are ParseRoutes's (the one parse
// of --forward-to), so a URL given without a scheme is caught too.
func TestCheckLoop(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec, listen, public string
		loop                 bool
	}{
		{"http://127.0.0.1:4242/hook", "http://127.0.0.1:4242", "", true},
		{"localhost:4242", "http://127.0.0.1:4242", "", true},
		{"tool-calls=http://[::1]:4242", "http://127.0.0.1:4242", "", true},
		{"*=http://0.0.0.0:4242/x?a=b", "http://127.0.0.1:4242", "", true},
		{"https://abc.ngrok.app/hook", "http://127.0.0.1:4242", "https://abc.ngrok.app", true},
		{"http://127.0.0.1:3000/hook", "http://127.0.0.1:4242", "", false},
		{"https://abc.ngrok.app:8443", "http://127.0.0.1:4242", "https://abc.ngrok.app", false},
		{"http://192.168.1.9:4242", "http://127.0.0.1:4242", "", false},
	}
	for _, tt := range tests {
		routes, err := ParseRoutes([]string{tt.spec})
		if err != nil {
			t.Fatalf("%s: %v", tt.spec, err)
		}
		err = checkLoop(routes, tt.listen, tt.public)
		if (err != nil) != tt.loop {
			t.Errorf("%s (listen %s, public %q): err = %v, want loop %v", tt.spec, tt.listen, tt.public, err, tt.loop)
		}
	}
}

// TestSessionIntercept: the toggle the TUI gets turns the review of forwarded replies on
// and off, and --intercept starts with it on.
func TestSessionIntercept(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, toolCallsReply) }))
	t.Cleanup(srv.Close)
	reviewed := make(chan struct{}, 4)
	cfg := testConfig(t)
	cfg.NoTape = true
	cfg.Forward = ForwardConfig{Routes: []Route{{"*", srv.URL}}, Intercept: true}
	cfg.Interceptor = func(_ context.Context, _ *webhook.Event, r webhook.Reply) (webhook.Reply, error) {
		reviewed <- struct{}{}
		return r, nil
	}
	s := NewSession(cfg)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(nil)
	if !s.Forwarding() || !s.Intercepting() || s.Status().Forward != srv.URL {
		t.Fatalf("forwarding %v intercepting %v forward %q", s.Forwarding(), s.Intercepting(), s.Status().Forward)
	}
	url := s.Status().ListenURL + "/vapi"
	webhooktest.Post(t, url, toolCallsBody)
	if len(reviewed) != 1 {
		t.Errorf("%d reviews with interception on, want 1", len(reviewed))
	}
	s.SetIntercepting(false)
	webhooktest.Post(t, url, toolCallsBody)
	if len(reviewed) != 1 || s.Intercepting() {
		t.Errorf("%d reviews after turning it off, want still 1", len(reviewed))
	}
}

// TestSessionLogInStateDir: without --log-file the log goes in the state directory, by the
// one rule (fixtures.StateDir): a relative XDG_STATE_HOME is ignored.
func TestSessionLogInStateDir(t *testing.T) {
	// Not parallel: sets environment variables.
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_STATE_HOME", "relative")
	t.Chdir(t.TempDir())
	cfg := testConfig(t)
	cfg.LogFile, cfg.TapePath = "", ""
	s := NewSession(cfg)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	tape := s.Status().Tape
	if err := s.Shutdown(nil); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(home, ".local", "state", "vapimon")
	if _, err := os.Stat(filepath.Join(dir, "vapimon.log")); err != nil {
		t.Errorf("log: %v", err)
	}
	if filepath.Dir(filepath.Dir(tape)) != dir {
		t.Errorf("tape %s is not under %s", tape, dir)
	}
	if path, _ := DefaultStatePath(); filepath.Dir(path) != dir {
		t.Errorf("pointed.json %s is not in %s", path, dir)
	}
	if _, err := os.Stat("relative"); !os.IsNotExist(err) {
		t.Errorf("something was written under the relative XDG_STATE_HOME: %v", err)
	}
}

// TestSessionServesWhileNgrokConnects: with a token set and ngrok unreachable, Start
// returns at once and the local listener answers a webhook while ngrok is still trying;
// the status says "connecting" and where vapimon listens meanwhile; Shutdown abandons the
// connect.
func TestSessionServesWhileNgrokConnects(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	dead := webhooktest.FreeAddr(t)
	cfg.Tunnel = TunnelConfig{Authtoken: "tok", ngrokOptions: func(o NgrokOptions) NgrokOptions {
		o.ConnectURL, o.ConnectTimeout = dead, time.Hour
		return o
	}}
	s := NewSession(cfg)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := s.Status()
	if st.Tunnel != webhook.TunnelConnecting || st.PublicURL != "" || !strings.Contains(st.TunnelNote, "meanwhile listening locally on "+st.ListenURL) {
		t.Errorf("status = %+v", st)
	}
	code, reply := webhooktest.Post(t, st.ListenURL+"/vapi", toolCallsBody)
	if code != 200 || !strings.Contains(reply, `"toolCallId":"call_1"`) {
		t.Errorf("HTTP %d %s, want the fallback for call_1", code, reply)
	}
	if got := s.Status().Tunnel; got != webhook.TunnelConnecting {
		t.Errorf("tunnel = %s after the reply, want still connecting (else the test proves nothing)", got)
	}
	if err := s.Shutdown(nil); err != nil {
		t.Fatal(err)
	}
}

// TestSessionGoesOnlineLater: ngrok coming online after Start publishes a status with the
// public URL, tells a headless user where to point Vapi, and serves through the edge.
func TestSessionGoesOnlineLater(t *testing.T) {
	t.Parallel()
	edge := newFakeEdge(t, "")
	cfg := testConfig(t)
	var stderr webhooktest.Buffer
	cfg.Stderr = &stderr
	cfg.Tunnel = TunnelConfig{Authtoken: "tok", ngrokOptions: edge.options}
	s := NewSession(cfg)
	sub := s.Bus().Subscribe(64)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out webhooktest.Buffer
	s.StreamJSON(&out)
	deadline := time.After(20 * time.Second)
	for online := false; !online; {
		select {
		case ev := <-sub:
			if st, ok := ev.(webhook.Status); ok && st.Tunnel == webhook.TunnelOnline {
				if st.PublicURL != edge.url {
					t.Errorf("online status has public URL %q, want %q", st.PublicURL, edge.url)
				}
				online = true
			}
		case <-deadline:
			t.Fatal("no online status on the bus")
		}
	}
	req, _ := http.NewRequest(http.MethodPost, edge.url+"/vapi", strings.NewReader(toolCallsBody))
	resp, err := edge.roundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"toolCallId":"call_1"`) {
		t.Errorf("through ngrok: HTTP %d %s", resp.StatusCode, b)
	}
	if err := s.Shutdown(nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "paste this server URL into Vapi: "+edge.url) {
		t.Errorf("stderr does not tell where to point Vapi:\n%s", stderr.String())
	}
	if !strings.Contains(out.String(), `"publicUrl":"`+edge.url+`"`) {
		t.Errorf("no status line with the public URL:\n%s", out.String())
	}
}

// TestSessionLoopFoundWhenOnline: a --forward-to target that turns out to be the public
// URL ngrok gives (known only once it connects) ends the session with the loop error, as
// Start does for the targets it can check at once.
func TestSessionLoopFoundWhenOnline(t *testing.T) {
	t.Parallel()
	edge := newFakeEdge(t, "")
	cfg := testConfig(t)
	routes, err := ParseRoutes([]string{edge.url + "/hook"})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Forward = ForwardConfig{Routes: routes}
	cfg.Tunnel = TunnelConfig{Authtoken: "tok", ngrokOptions: edge.options}
	s := NewSession(cfg)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = s.Wait(ctx)
	if err == nil || !strings.Contains(err.Error(), "is vapimon itself") {
		t.Errorf("Wait = %v, want the loop error", err)
	}
	if err := s.Shutdown(nil); err != nil {
		t.Fatal(err)
	}
}
