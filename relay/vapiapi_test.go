package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vapimon/vapimon/webhook/webhooktest"
)

const testKey = "test-private-key-0123"

// fakeVapi is an httptest Vapi API that checks the Bearer key, method, path and JSON
// body of every call, stores resources in memory and applies PATCHes as Vapi does (top-
// level fields replaced).
type fakeVapi struct {
	t   *testing.T
	srv *httptest.Server

	mu    sync.Mutex
	store map[string]map[string]json.RawMessage // "/assistant/ID" → object
	calls []string                              // "PATCH /assistant/ID {body}"
	// fail maps "METHOD /path" to a status and body to answer instead.
	fail map[string]struct {
		status int
		body   string
	}
	// onPatch runs before each PATCH is applied (e.g. to check the state file exists).
	onPatch func(path string)
	// rejectUnknownServerFields mimics a strict validator: "property X should not exist".
	rejectUnknownServerFields bool
	// rejectNullServer mimics a validator for which server must be an object.
	rejectNullServer bool
}

func newFakeVapi(t *testing.T) *fakeVapi {
	f := &fakeVapi{t: t, store: map[string]map[string]json.RawMessage{}, fail: map[string]struct {
		status int
		body   string
	}{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeVapi) put(path, obj string) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(obj), &m); err != nil {
		f.t.Fatal(err)
	}
	f.store[path] = m
}

func (f *fakeVapi) object(path string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, _ := json.Marshal(f.store[path])
	return string(b)
}

func (f *fakeVapi) client() *VapiClient {
	return &VapiClient{BaseURL: f.srv.URL, APIKey: testKey, HTTP: f.srv.Client()}
}

func (f *fakeVapi) callLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeVapi) serve(w http.ResponseWriter, r *http.Request) {
	reply := func(status int, body string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+testKey {
		reply(401, `{"message":"Invalid Key. Hot tip, you may be using the private key instead of the public key, or vice versa.","error":"Unauthorized","statusCode":401}`)
		return
	}
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.calls = append(f.calls, strings.TrimSpace(r.Method+" "+r.URL.Path+" "+string(body)))
	fail, failing := f.fail[r.Method+" "+r.URL.Path]
	f.mu.Unlock()
	if failing {
		reply(fail.status, fail.body)
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) != 2 || (parts[0] != KindAssistant && parts[0] != KindPhoneNumber && parts[0] != KindTool) {
		f.t.Errorf("unexpected path %s", r.URL.Path)
		reply(404, `{"message":"Cannot `+r.Method+` `+r.URL.Path+`"}`)
		return
	}
	f.mu.Lock()
	obj, ok := f.store[r.URL.Path]
	f.mu.Unlock()
	if !ok {
		reply(404, `{"message":"Not Found","statusCode":404}`)
		return
	}
	switch r.Method {
	case http.MethodGet:
		if len(body) != 0 {
			f.t.Errorf("GET %s with a body", r.URL.Path)
		}
		b, _ := json.Marshal(obj)
		reply(200, string(b))
	case http.MethodPatch:
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			f.t.Errorf("PATCH %s with Content-Type %q", r.URL.Path, ct)
		}
		var patch map[string]json.RawMessage
		if err := json.Unmarshal(body, &patch); err != nil {
			f.t.Errorf("PATCH %s: body is not JSON: %s", r.URL.Path, body)
			reply(400, `{"message":"bad json"}`)
			return
		}
		if f.onPatch != nil {
			f.onPatch(r.URL.Path)
		}
		// Discriminated updates need their discriminator.
		if parts[0] == KindPhoneNumber && string(patch["provider"]) != string(obj["provider"]) {
			reply(400, `{"message":["provider must be one of the following values: byo-phone-number, twilio, vonage, vapi, telnyx"],"error":"Bad Request","statusCode":400}`)
			return
		}
		if parts[0] == KindTool && string(patch["type"]) != string(obj["type"]) {
			reply(400, `{"message":["type must be a valid enum value"],"error":"Bad Request","statusCode":400}`)
			return
		}
		if s, ok := patch["server"]; ok {
			if string(s) == "null" && f.rejectNullServer {
				reply(400, `{"message":["server must be an object"],"error":"Bad Request","statusCode":400}`)
				return
			}
			var fields map[string]json.RawMessage
			_ = json.Unmarshal(s, &fields)
			if f.rejectUnknownServerFields {
				for k := range fields {
					if !isServerField(k) {
						reply(400, fmt.Sprintf(`{"message":["server.property %s should not exist"],"error":"Bad Request","statusCode":400}`, k))
						return
					}
				}
			}
		}
		f.mu.Lock()
		for k, v := range patch {
			obj[k] = v
		}
		b, _ := json.Marshal(obj)
		f.mu.Unlock()
		reply(200, string(b))
	default:
		f.t.Errorf("unexpected method %s %s", r.Method, r.URL.Path)
		reply(405, `{}`)
	}
}

func isServerField(k string) bool {
	for _, f := range serverFields {
		if f == k {
			return true
		}
	}
	return false
}

// seed puts an assistant with a full server, a phone number without one and a tool.
func seed(f *fakeVapi) {
	f.put("/assistant/asst-1", `{"id":"asst-1","name":"Support","server":{"url":"https://dev.example.com/vapi","timeoutSeconds":30,"credentialId":"cred-9","headers":{"X-Team":"a"}}}`)
	f.put("/phone-number/pn-1", `{"id":"pn-1","provider":"twilio","number":"+14155550100"}`)
	f.put("/tool/tool-1", `{"id":"tool-1","type":"function","function":{"name":"get_weather"},"server":{"url":"https://dev.example.com/tools","timeoutSeconds":20}}`)
}

var allTargets = []Target{{KindAssistant, "asst-1"}, {KindPhoneNumber, "pn-1"}, {KindTool, "tool-1"}}

const publicURL = "https://vapimon-test.ngrok.app"

func TestPointAndRestore(t *testing.T) {
	t.Parallel()
	api := newFakeVapi(t)
	seed(api)
	state := filepath.Join(t.TempDir(), "state", "vapimon", "pointed.json")
	patches := 0
	api.onPatch = func(path string) {
		patches++
		if patches > 1 {
			return
		}
		// Everything must be saved before the first change.
		var st stateFile
		b, err := os.ReadFile(state)
		if err != nil || json.Unmarshal(b, &st) != nil || len(st.Saved) != 3 {
			t.Errorf("at the first PATCH the state file holds %q (err %v), want all 3 originals", b, err)
		}
	}
	c := api.client()

	saved, err := c.Point(context.Background(), allTargets, publicURL, state)
	if err != nil {
		t.Fatal(err)
	}
	wantCalls := []string{
		"GET /assistant/asst-1",
		"GET /phone-number/pn-1",
		"GET /tool/tool-1",
		`PATCH /assistant/asst-1 {"server":{"credentialId":"cred-9","headers":{"X-Team":"a"},"timeoutSeconds":30,"url":"https://vapimon-test.ngrok.app"}}`,
		`PATCH /phone-number/pn-1 {"provider":"twilio","server":{"url":"https://vapimon-test.ngrok.app"}}`,
		`PATCH /tool/tool-1 {"server":{"timeoutSeconds":20,"url":"https://vapimon-test.ngrok.app"},"type":"function"}`,
	}
	assertCalls(t, api.callLog(), wantCalls)
	if len(saved) != 3 || string(saved[1].Server) != "null" || saved[1].Provider != "twilio" || saved[2].Type != "function" || saved[0].URL != publicURL {
		t.Errorf("saved = %+v", saved)
	}
	webhooktest.Perm(t, state, 0o600)
	webhooktest.Perm(t, filepath.Dir(state), 0o700)
	b, _ := os.ReadFile(state)
	if strings.Contains(string(b), testKey) {
		t.Error("the state file contains the API key")
	}

	api.mu.Lock()
	api.calls = nil
	api.mu.Unlock()
	done, err := c.RestoreDetail(context.Background(), state)
	if err != nil {
		t.Fatal(err)
	}
	assertCalls(t, api.callLog(), []string{
		"GET /assistant/asst-1",
		`PATCH /assistant/asst-1 {"server":{"url":"https://dev.example.com/vapi","timeoutSeconds":30,"credentialId":"cred-9","headers":{"X-Team":"a"}}}`,
		"GET /phone-number/pn-1",
		`PATCH /phone-number/pn-1 {"provider":"twilio","server":null}`,
		"GET /tool/tool-1",
		`PATCH /tool/tool-1 {"server":{"url":"https://dev.example.com/tools","timeoutSeconds":20},"type":"function"}`,
	})
	for _, r := range done {
		if r.Action != "restored" {
			t.Errorf("%s: %s %s", r.Target, r.Action, r.Note)
		}
	}
	if got := api.object("/assistant/asst-1"); !strings.Contains(got, `"server":{"url":"https://dev.example.com/vapi","timeoutSeconds":30,"credentialId":"cred-9","headers":{"X-Team":"a"}}`) {
		t.Errorf("assistant after restore: %s", got)
	}
	if _, err := os.Stat(state); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("state file still there after a full restore (stat err %v)", err)
	}
	if err := c.Restore(context.Background(), state); !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "nothing to restore") {
		t.Errorf("second restore: %v", err)
	}
}

func TestPointRefusesLocalURLs(t *testing.T) {
	t.Parallel()
	tests := []struct{ url, want string }{
		{"http://127.0.0.1:4242", "Vapi cannot reach http://127.0.0.1:4242 (it is this machine): set NGROK_AUTHTOKEN or pass --public-url"},
		{"http://localhost:4242/vapi", "Vapi cannot reach http://localhost:4242/vapi (it is this machine): set NGROK_AUTHTOKEN or pass --public-url"},
		{"http://[::1]:4242", "Vapi cannot reach http://[::1]:4242 (it is this machine): set NGROK_AUTHTOKEN or pass --public-url"},
		{"http://192.168.1.20:4242", "Vapi cannot reach http://192.168.1.20:4242 (it is a private address): set NGROK_AUTHTOKEN or pass --public-url"},
		{"", "vapimon has no public URL: set NGROK_AUTHTOKEN or pass --public-url"},
		{"ftp://example.com", `Vapi cannot post to "ftp://example.com": not an http(s) URL`},
	}
	api := newFakeVapi(t)
	seed(api)
	for _, tt := range tests {
		state := filepath.Join(t.TempDir(), "pointed.json")
		_, err := api.client().Point(context.Background(), allTargets, tt.url, state)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Point(%q) error = %v\nwant %s", tt.url, err, tt.want)
		}
		if _, err := os.Stat(state); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Point(%q) wrote a state file", tt.url)
		}
	}
	if calls := api.callLog(); len(calls) != 0 {
		t.Errorf("refused URLs still called the API: %q", calls)
	}
	for _, ok := range []string{"https://abc.ngrok.app", "http://my-box.example.com:8080/vapi", "https://8.8.8.8"} {
		if err := CheckReachable(ok); err != nil {
			t.Errorf("CheckReachable(%q) = %v", ok, err)
		}
	}
}

func TestVapiAPIErrorsInPlainWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		key     string
		fail    string // "METHOD /path"
		status  int
		body    string
		want    string
		patched bool // the failure is on PATCH, after the state was saved
	}{
		{name: "wrong key", key: "wrong-key", want: "Vapi rejected VAPI_API_KEY (401): use the private API key from dashboard → Organization → API Keys"},
		{name: "unknown id", fail: "GET /assistant/asst-1", status: 404, body: `{"message":"Not Found","statusCode":404}`,
			want: "assistant asst-1 not found (404): check the id and that the key belongs to the same org: Vapi says Not Found"},
		{name: "forbidden", fail: "GET /assistant/asst-1", status: 403, body: `{"message":"Forbidden resource"}`,
			want: "Vapi refused access to assistant asst-1 (403): check that VAPI_API_KEY is the private key of the org that owns it: Vapi says Forbidden resource"},
		{name: "validation", fail: "PATCH /assistant/asst-1", status: 422, body: `{"message":["server.url must be a URL address","server.timeoutSeconds must not be greater than 300"],"error":"Unprocessable Entity"}`,
			want: "Vapi refused to change assistant asst-1 (422): Vapi says server.url must be a URL address; server.timeoutSeconds must not be greater than 300", patched: true},
		{name: "key echoed back is redacted", fail: "GET /assistant/asst-1", status: 400, body: `{"message":"bad header Bearer ` + testKey + `\u001b[2J"}`,
			want: "Vapi refused to read assistant asst-1 (400): Vapi says bad header Bearer [VAPI_API_KEY]"},
		{name: "server error", fail: "GET /assistant/asst-1", status: 502, body: `<html>bad gateway</html>`,
			want: "Vapi failed (HTTP 502) on assistant asst-1: try again; if it persists, check status.vapi.ai: Vapi says <html>bad gateway</html>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := newFakeVapi(t)
			seed(api)
			if tt.fail != "" {
				api.fail[tt.fail] = struct {
					status int
					body   string
				}{tt.status, tt.body}
			}
			c := api.client()
			if tt.key != "" {
				c.APIKey = tt.key
			}
			state := filepath.Join(t.TempDir(), "pointed.json")
			_, err := c.Point(context.Background(), allTargets[:1], publicURL, state)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v\nwant    %s", err, tt.want)
			}
			if strings.Contains(err.Error(), testKey) || (tt.key != "" && strings.Contains(err.Error(), tt.key)) {
				t.Error("the error shows the API key")
			}
			_, statErr := os.Stat(state)
			if saved := statErr == nil; saved != tt.patched {
				t.Errorf("state file written = %v, want %v (a failed read changes nothing)", saved, tt.patched)
			}
		})
	}
}

// pointedAll returns a fake Vapi with the seeded targets all pointed at publicURL, its
// client, and the state file that remembers what they were.
func pointedAll(t *testing.T) (*fakeVapi, *VapiClient, string) {
	t.Helper()
	api := newFakeVapi(t)
	seed(api)
	c := api.client()
	state := filepath.Join(t.TempDir(), "pointed.json")
	if _, err := c.Point(context.Background(), allTargets, publicURL, state); err != nil {
		t.Fatal(err)
	}
	return api, c, state
}

func TestRestoreLeavesChangedTargetsAlone(t *testing.T) {
	t.Parallel()
	api, c, state := pointedAll(t)
	// Meanwhile someone points the assistant elsewhere and deletes the tool.
	api.mu.Lock()
	api.store["/assistant/asst-1"]["server"] = json.RawMessage(`{"url":"https://colleague.example.com"}`)
	delete(api.store, "/tool/tool-1")
	api.mu.Unlock()

	done, err := c.RestoreDetail(context.Background(), state)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range done {
		got[r.Target.Kind] = r.Action
	}
	if got[KindAssistant] != "left as is" || got[KindPhoneNumber] != "restored" || got[KindTool] != "gone" {
		t.Errorf("actions = %v", got)
	}
	if s := api.object("/assistant/asst-1"); !strings.Contains(s, "colleague.example.com") {
		t.Errorf("the colleague's change was overwritten: %s", s)
	}
	if _, err := os.Stat(state); !errors.Is(err, fs.ErrNotExist) {
		t.Error("state file kept although nothing is left to restore")
	}
}

func TestRestorePartialFailureKeepsTheRest(t *testing.T) {
	t.Parallel()
	api, c, state := pointedAll(t)
	api.fail["PATCH /tool/tool-1"] = struct {
		status int
		body   string
	}{500, `{"message":"Internal server error"}`}
	err := c.Restore(context.Background(), state)
	if err == nil || !strings.Contains(err.Error(), "could not restore 1 of 3") || !strings.Contains(err.Error(), "Vapi failed (HTTP 500) on tool tool-1") {
		t.Fatalf("error = %v", err)
	}
	var st stateFile
	b, _ := os.ReadFile(state)
	if json.Unmarshal(b, &st) != nil || len(st.Saved) != 1 || st.Saved[0].Target != (Target{KindTool, "tool-1"}) {
		t.Fatalf("state after a partial restore = %s, want only the tool", b)
	}
	webhooktest.Perm(t, state, 0o600)

	delete(api.fail, "PATCH /tool/tool-1")
	if err := c.Restore(context.Background(), state); err != nil {
		t.Fatalf("second restore: %v", err)
	}
	if s := api.object("/tool/tool-1"); !strings.Contains(s, `"url":"https://dev.example.com/tools"`) {
		t.Errorf("tool after restore: %s", s)
	}
}

func TestPointAgainKeepsTheOriginals(t *testing.T) {
	t.Parallel()
	api := newFakeVapi(t)
	seed(api)
	c := api.client()
	state := filepath.Join(t.TempDir(), "pointed.json")
	if _, err := c.Point(context.Background(), allTargets[:1], "https://first.ngrok.app", state); err != nil {
		t.Fatal(err)
	}
	// vapimon crashed; the next run points again with a new URL, plus a new target.
	saved, err := c.Point(context.Background(), allTargets, "https://second.ngrok.app", state)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(saved[0].Server), "dev.example.com") || saved[0].URL != "https://second.ngrok.app" {
		t.Errorf("assistant saved = %s (URL %s): want the original from before the first run", saved[0].Server, saved[0].URL)
	}
	if err := c.Restore(context.Background(), state); err != nil {
		t.Fatal(err)
	}
	if s := api.object("/assistant/asst-1"); !strings.Contains(s, `"url":"https://dev.example.com/vapi"`) {
		t.Errorf("assistant after restore: %s", s)
	}
}

func TestVapiValidatorFallbacks(t *testing.T) {
	t.Parallel()
	api := newFakeVapi(t)
	api.rejectUnknownServerFields = true
	api.rejectNullServer = true
	// An old assistant still carries the removed server.secret.
	api.put("/assistant/asst-1", `{"id":"asst-1","server":{"url":"https://dev.example.com/vapi","secret":"legacy"}}`)
	api.put("/phone-number/pn-1", `{"id":"pn-1","provider":"vapi"}`)
	c := api.client()
	state := filepath.Join(t.TempDir(), "pointed.json")
	targets := []Target{{KindAssistant, "asst-1"}, {KindPhoneNumber, "pn-1"}}
	if _, err := c.Point(context.Background(), targets, publicURL, state); err != nil {
		t.Fatal(err)
	}
	if s := api.object("/assistant/asst-1"); !strings.Contains(s, `"server":{"url":"https://vapimon-test.ngrok.app"}`) {
		t.Errorf("assistant after point: %s", s)
	}
	if err := c.Restore(context.Background(), state); err != nil {
		t.Fatal(err)
	}
	calls := api.callLog()
	last := calls[len(calls)-1]
	if last != `PATCH /phone-number/pn-1 {"provider":"vapi","server":{}}` {
		t.Errorf("null server fallback: last call %s", last)
	}
}

func TestTargetAndStatePathChecks(t *testing.T) {
	api := newFakeVapi(t)
	c := api.client()
	for _, tt := range []struct {
		target Target
		want   string
	}{
		{Target{"squad", "x"}, `unknown Vapi resource kind "squad": use assistant, phone-number or tool`},
		{Target{KindAssistant, ""}, `assistant id "" is not a Vapi id: copy it from the dashboard`},
		{Target{KindAssistant, "../org"}, `assistant id "../org" is not a Vapi id: copy it from the dashboard`},
	} {
		if _, err := c.Point(context.Background(), []Target{tt.target}, publicURL, filepath.Join(t.TempDir(), "p.json")); err == nil || err.Error() != tt.want {
			t.Errorf("%v: err = %v, want %s", tt.target, err, tt.want)
		}
	}

	// A state file from another API is not restored against this one.
	state := filepath.Join(t.TempDir(), "pointed.json")
	os.WriteFile(state, []byte(`{"version":1,"baseUrl":"https://api.vapi.ai","saved":[]}`), 0o600)
	if err := c.Restore(context.Background(), state); err == nil || !strings.Contains(err.Error(), "was written for the API at https://api.vapi.ai") {
		t.Errorf("restore against another API: %v", err)
	}

	t.Setenv("XDG_STATE_HOME", "/tmp/xdg-state")
	if got, _ := DefaultStatePath(); got != "/tmp/xdg-state/vapimon/pointed.json" {
		t.Errorf("DefaultStatePath with XDG_STATE_HOME = %q", got)
	}
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "/home/ada")
	if got, _ := DefaultStatePath(); got != "/home/ada/.local/state/vapimon/pointed.json" {
		t.Errorf("DefaultStatePath = %q", got)
	}
	t.Setenv("XDG_STATE_HOME", "relative/state") // invalid under the XDG spec: ignored, like the tapes' rule
	if got, _ := DefaultStatePath(); got != "/home/ada/.local/state/vapimon/pointed.json" {
		t.Errorf("DefaultStatePath with a relative XDG_STATE_HOME = %q", got)
	}

	t.Setenv("VAPI_API_KEY", "")
	if _, err := NewVapiClientFromEnv(); err == nil || !strings.HasPrefix(err.Error(), "VAPI_API_KEY is not set") {
		t.Errorf("NewVapiClientFromEnv without a key: %v", err)
	}
	t.Setenv("VAPI_API_KEY", " k ")
	t.Setenv("VAPI_BASE_URL", api.srv.URL)
	if c, err := NewVapiClientFromEnv(); err != nil || c.APIKey != "k" || c.base() != api.srv.URL {
		t.Errorf("NewVapiClientFromEnv = %+v, %v", c, err)
	}
}

func assertCalls(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("API calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
