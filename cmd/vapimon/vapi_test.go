package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeVapi is a stand-in for Vapi's API (which tests cannot reach): it holds one assistant
// and checks the key and the shape of every call it receives.
type fakeVapi struct {
	t      *testing.T
	mu     sync.Mutex
	server json.RawMessage
	calls  []string
}

func (f *fakeVapi) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer test-private-key" {
		f.t.Errorf("%s %s: Authorization %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.URL.Path != "/assistant/asst-1" {
		f.t.Errorf("unexpected path %s", r.URL.Path)
		w.WriteHeader(http.StatusNotFound)
		return
	}
	switch r.Method {
	case http.MethodGet:
		f.calls = append(f.calls, "GET")
	case http.MethodPatch:
		var body struct {
			Server json.RawMessage `json:"server"`
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &body); err != nil || len(body.Server) == 0 {
			f.t.Errorf("PATCH body %s: want {\"server\": {...}}", b)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.server = body.Server
		f.calls = append(f.calls, "PATCH "+string(body.Server))
	default:
		f.t.Errorf("unexpected method %s", r.Method)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"id":"asst-1","name":"Support","server":`+string(f.server)+`}`)
}

func TestListenPointsAssistantAndRestores(t *testing.T) {
	t.Parallel()
	fake := &fakeVapi{t: t, server: json.RawMessage(`{"url":"https://old.example.com/hook","timeoutSeconds":30}`)}
	api := httptest.NewServer(fake)
	defer api.Close()

	p := startVapimon(t, procOpts{
		args: []string{"--headless", "--public-url", "https://vapimon.example.test/hook", "--assistant", "asst-1"},
		env:  []string{"VAPI_API_KEY=test-private-key", "VAPI_BASE_URL=" + api.URL},
	})
	statePath := filepath.Join(p.state, "vapimon", "pointed.json")
	if _, err := os.Stat(statePath); err != nil {
		t.Fatalf("the previous server was not saved before pointing: %v", err)
	}
	fake.mu.Lock()
	pointed := string(fake.server)
	fake.mu.Unlock()
	if !strings.Contains(pointed, `"url":"https://vapimon.example.test/hook"`) || !strings.Contains(pointed, `"timeoutSeconds":30`) {
		t.Fatalf("assistant server while listening = %s, want the public URL with the other fields kept", pointed)
	}
	p.interrupt()
	if code := p.wait(); code != 0 {
		t.Fatalf("exit status %d\n%s", code, p.stderrText())
	}
	if !strings.Contains(p.stderrText(), "pointed assistant asst-1") {
		t.Errorf("stderr does not say the assistant was pointed:\n%s", p.stderrText())
	}
	fake.mu.Lock()
	restored, calls := string(fake.server), append([]string(nil), fake.calls...)
	fake.mu.Unlock()
	if restored != `{"url":"https://old.example.com/hook","timeoutSeconds":30}` {
		t.Errorf("after exit the assistant's server is %s, want the original back\ncalls: %q", restored, calls)
	}
	if _, err := os.Stat(statePath); !os.IsNotExist(err) {
		t.Errorf("state file still there after a clean restore: %v", err)
	}
	for _, out := range []string{p.stdoutText(), p.stderrText()} {
		if strings.Contains(out, "test-private-key") {
			t.Error("the API key was printed")
		}
	}
}

func TestListenRefusesToPointVapiAtLocalURL(t *testing.T) {
	t.Parallel()
	r := runVapimon(t, "listen", "--headless", "--addr", "127.0.0.1:0", "--assistant", "asst-1")
	if r.code == 0 || !strings.Contains(r.stderr, "has no public URL: set NGROK_AUTHTOKEN or pass --public-url") {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}
