package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/tui/sanitize"
)

// DefaultVapiBaseURL is Vapi's API; VAPI_BASE_URL overrides it (tests use a fake API).
const DefaultVapiBaseURL = "https://api.vapi.ai"

// Target kinds: the Vapi resources whose server URL vapimon can point at itself.
const (
	KindAssistant   = "assistant"
	KindPhoneNumber = "phone-number"
	KindTool        = "tool"
)

// VapiClient points Vapi resources at vapimon and puts them back. It never prints or
// stores the API key.
type VapiClient struct {
	// BaseURL is the API root; DefaultVapiBaseURL when empty.
	BaseURL string
	// APIKey is the org's private API key (VAPI_API_KEY).
	APIKey string
	// HTTP sends the requests; a client with a 20 s timeout when nil.
	HTTP *http.Client
}

// NewVapiClientFromEnv reads VAPI_API_KEY and VAPI_BASE_URL.
func NewVapiClientFromEnv() (*VapiClient, error) {
	return NewVapiClient(os.Getenv("VAPI_API_KEY"), os.Getenv("VAPI_BASE_URL"))
}

// NewVapiClient returns a client for the API at baseURL (DefaultVapiBaseURL when empty),
// or an error saying where to find a key when apiKey is empty.
func NewVapiClient(apiKey, baseURL string) (*VapiClient, error) {
	key := strings.TrimSpace(apiKey)
	if key == "" {
		return nil, errors.New("VAPI_API_KEY is not set: use the private API key from dashboard → Organization → API Keys")
	}
	return &VapiClient{BaseURL: strings.TrimSpace(baseURL), APIKey: key}, nil
}

// Target is one Vapi resource: Kind is "assistant", "phone-number" or "tool".
type Target struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// String is "assistant ID", safe to print.
func (t Target) String() string { return t.Kind + " " + sanitize.Line(t.ID, 80) }

// Saved is a resource's server setting before vapimon changed it.
type Saved struct {
	Target Target `json:"target"`
	// Server is the previous server object, exactly as Vapi returned it; null if none.
	Server json.RawMessage `json:"server"`
	// Provider (phone numbers) and Type (tools) are sent back with every PATCH: Vapi's
	// update bodies for those resources are discriminated by them.
	Provider string    `json:"provider,omitempty"`
	Type     string    `json:"type,omitempty"`
	SavedAt  time.Time `json:"savedAt"`
	// URL is the server URL vapimon set.
	URL string `json:"url"`
}

// stateFile is what Point writes before changing anything, for Restore (and for
// `vapimon restore` after a crash).
type stateFile struct {
	Version int     `json:"version"`
	BaseURL string  `json:"baseUrl"`
	Saved   []Saved `json:"saved"`
}

// DefaultStatePath is pointed.json in vapimon's state directory (fixtures.StateDir).
func DefaultStatePath() (string, error) {
	dir, err := fixtures.StateDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "pointed.json"), nil
}

// CheckReachable returns an error saying why Vapi cannot post to u: no URL, not http(s),
// or a loopback, private or link-local host.
func CheckReachable(u string) error {
	const hint = "set NGROK_AUTHTOKEN or pass --public-url"
	if strings.TrimSpace(u) == "" {
		return errors.New("vapimon has no public URL: " + hint)
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Hostname() == "" {
		return &plainError{msg: fmt.Sprintf("Vapi cannot post to %q: not an http(s) URL", u)}
	}
	host := strings.ToLower(strings.TrimSuffix(p.Hostname(), "."))
	why := ""
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		why = "it is this machine"
	} else if ip := net.ParseIP(host); ip != nil {
		switch {
		case ip.IsLoopback(), ip.IsUnspecified():
			why = "it is this machine"
		case ip.IsPrivate(), ip.IsLinkLocalUnicast():
			why = "it is a private address"
		}
	}
	if why != "" {
		return &plainError{msg: fmt.Sprintf("Vapi cannot reach %s (%s): %s", u, why, hint)}
	}
	return nil
}

// Point saves the current server of each target to statePath, then sets its server.url
// to publicURL, keeping the other server fields. Everything is saved before anything is
// changed, so Restore (or `vapimon restore` after a crash) can put it all back. A target
// already in the state file (a session that did not restore) keeps its saved original.
// It refuses a URL Vapi cannot reach. The returned Saved values are the targets'
// originals; the error lists every target that could not be pointed.
func (c *VapiClient) Point(ctx context.Context, targets []Target, publicURL, statePath string) ([]Saved, error) {
	if len(targets) == 0 {
		return nil, nil
	}
	if err := CheckReachable(publicURL); err != nil {
		return nil, err
	}
	for _, t := range targets {
		if err := t.check(); err != nil {
			return nil, err
		}
	}
	st, err := c.loadState(statePath)
	if errors.Is(err, fs.ErrNotExist) {
		st = &stateFile{Version: 1, BaseURL: c.base()}
	} else if err != nil {
		return nil, err
	}

	// Read every original first: a wrong id or key fails here, before any change.
	now := time.Now().UTC()
	out := make([]Saved, 0, len(targets))
	for _, t := range targets {
		if i := st.find(t); i >= 0 {
			st.Saved[i].URL = publicURL
			out = append(out, st.Saved[i])
			continue
		}
		obj, err := c.get(ctx, t)
		if err != nil {
			return nil, err
		}
		s := Saved{Target: t, Server: rawOrNull(obj["server"]), SavedAt: now, URL: publicURL}
		switch t.Kind {
		case KindPhoneNumber:
			s.Provider = jsonString(obj["provider"])
		case KindTool:
			s.Type = jsonString(obj["type"])
		}
		st.Saved = append(st.Saved, s)
		out = append(out, s)
	}
	if err := writeState(statePath, st); err != nil {
		return nil, fmt.Errorf("save the current server URLs to %s (nothing was changed): %w", statePath, err)
	}

	var errs []error
	for _, s := range out {
		server, err := withURL(s.Server, publicURL)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: saved server is not an object: %v", s.Target, err))
			continue
		}
		if err := c.patchServer(ctx, s, server); err != nil {
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}

// Restored says what Restore did with one target.
type Restored struct {
	Target Target
	// Action is "restored", "left as is" (someone pointed it elsewhere meanwhile) or
	// "gone" (deleted meanwhile), or "failed".
	Action string
	Note   string
}

// Restore puts every target in statePath back as it was, then removes the file. A target
// that no longer points at the URL vapimon set is left alone (someone changed it since).
// When some fail, the file keeps just those and the error names them; run it again. With
// no state file it returns an error wrapping fs.ErrNotExist.
func (c *VapiClient) Restore(ctx context.Context, statePath string) error {
	_, err := c.RestoreDetail(ctx, statePath)
	return err
}

// RestoreSaved is `vapimon restore`: it puts back, with the client from the environment,
// the server settings saved in DefaultStatePath and prints what happened to each target
// on out, or that there is nothing to restore.
func RestoreSaved(ctx context.Context, out io.Writer) error {
	c, err := NewVapiClientFromEnv()
	if err != nil {
		return err
	}
	path, err := DefaultStatePath()
	if err != nil {
		return err
	}
	done, err := c.RestoreDetail(ctx, path)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(out, "Nothing to restore: %s does not exist (vapimon restores on a normal exit).\n", path)
		return nil
	}
	for _, r := range done {
		fmt.Fprintf(out, "%-10s %s\n", r.Action, r.Target)
	}
	return err
}

// RestoreDetail is Restore, reporting what happened to each target.
func (c *VapiClient) RestoreDetail(ctx context.Context, statePath string) ([]Restored, error) {
	st, err := c.loadState(statePath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &plainError{msg: "nothing to restore: no state file at " + statePath, err: err}
		}
		return nil, err
	}
	var (
		done   []Restored
		failed []Saved
		errs   []error
	)
	for _, s := range st.Saved {
		r, err := c.restoreOne(ctx, s)
		done = append(done, r)
		if err != nil {
			failed = append(failed, s)
			errs = append(errs, err)
		}
	}
	if len(failed) == 0 {
		if err := os.Remove(statePath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return done, fmt.Errorf("restored, but could not remove %s: %w", statePath, err)
		}
		return done, nil
	}
	st.Saved = failed
	if err := writeState(statePath, st); err != nil {
		errs = append(errs, fmt.Errorf("update %s: %w", statePath, err))
	}
	return done, fmt.Errorf("could not restore %d of %d (kept in %s; run `vapimon restore` again): %w",
		len(failed), len(done), statePath, errors.Join(errs...))
}

func (c *VapiClient) restoreOne(ctx context.Context, s Saved) (Restored, error) {
	r := Restored{Target: s.Target}
	obj, err := c.get(ctx, s.Target)
	var ae *apiError
	if errors.As(err, &ae) && ae.status == http.StatusNotFound {
		r.Action, r.Note = "gone", s.Target.String()+" no longer exists"
		return r, nil
	}
	if err != nil {
		r.Action, r.Note = "failed", err.Error()
		return r, err
	}
	var cur struct {
		URL string `json:"url"`
	}
	_ = json.Unmarshal(obj["server"], &cur)
	if cur.URL != s.URL {
		r.Action = "left as is"
		r.Note = fmt.Sprintf("%s now points at %s, not vapimon's %s: left as is", s.Target, sanitize.Line(cur.URL, 200), s.URL)
		return r, nil
	}
	if err := c.patchServer(ctx, s, rawOrNull(s.Server)); err != nil {
		r.Action, r.Note = "failed", err.Error()
		return r, err
	}
	r.Action = "restored"
	return r, nil
}

// serverFields are the fields of Vapi's Server object (OpenAPI components.schemas.Server).
var serverFields = []string{"url", "timeoutSeconds", "credentialId", "headers", "backoffPlan", "staticIpAddressesEnabled", "encryptedPaths"}

// patchServer sets the target's server. Two fallbacks cover what the OpenAPI spec leaves
// open: if Vapi refuses a field it returned itself ("property secret should not exist",
// from an older schema), the server is sent again with the documented fields only; and if
// it refuses a null server (the spec types server as an object), an empty server object
// is sent, which also leaves no URL at this level.
func (c *VapiClient) patchServer(ctx context.Context, s Saved, server json.RawMessage) error {
	err := c.patch(ctx, s, server)
	var ae *apiError
	if !errors.As(err, &ae) || (ae.status != http.StatusBadRequest && ae.status != http.StatusUnprocessableEntity) {
		return err
	}
	switch {
	case string(server) == "null":
		return c.patch(ctx, s, json.RawMessage("{}"))
	case strings.Contains(ae.message, "should not exist"):
		if trimmed, ok := documentedOnly(server); ok {
			return c.patch(ctx, s, trimmed)
		}
	}
	return err
}

func (c *VapiClient) patch(ctx context.Context, s Saved, server json.RawMessage) error {
	body := map[string]json.RawMessage{"server": server}
	if s.Provider != "" {
		body["provider"] = jsonQuote(s.Provider)
	}
	if s.Type != "" {
		body["type"] = jsonQuote(s.Type)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, http.MethodPatch, s.Target, b)
	return err
}

func (c *VapiClient) get(ctx context.Context, t Target) (map[string]json.RawMessage, error) {
	b, err := c.do(ctx, http.MethodGet, t, nil)
	if err != nil {
		return nil, err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, fmt.Errorf("%s: Vapi's answer is not a JSON object: %v", t, err)
	}
	return obj, nil
}

// maxAPIResponse caps what is read from Vapi's API (an assistant is a few kB to a few
// hundred kB).
const maxAPIResponse = 16 << 20

func (c *VapiClient) do(ctx context.Context, method string, t Target, body []byte) ([]byte, error) {
	u := c.base() + "/" + t.Kind + "/" + url.PathEscape(t.ID)
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", t, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.APIKey)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client := c.HTTP
	if client == nil {
		client = &http.Client{Timeout: 20 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("cannot reach Vapi at %s: %s", c.base(), c.redact(err.Error()))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIResponse))
	if err != nil {
		return nil, fmt.Errorf("%s: reading Vapi's answer: %v", t, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return b, nil
	}
	return nil, c.explain(method, t, resp.StatusCode, b)
}

// apiError is a refusal from Vapi's API, in plain words.
type apiError struct {
	status  int
	message string // Vapi's own message, redacted
	text    string
}

func (e *apiError) Error() string { return e.text }

func (c *VapiClient) explain(method string, t Target, status int, body []byte) error {
	msg := c.redact(vapiMessage(body))
	e := &apiError{status: status, message: msg}
	switch {
	case status == http.StatusUnauthorized:
		e.text = "Vapi rejected VAPI_API_KEY (401): use the private API key from dashboard → Organization → API Keys"
	case status == http.StatusForbidden:
		e.text = fmt.Sprintf("Vapi refused access to %s (403): check that VAPI_API_KEY is the private key of the org that owns it", t)
	case status == http.StatusNotFound:
		e.text = fmt.Sprintf("%s not found (404): check the id and that the key belongs to the same org", t)
	case status == http.StatusTooManyRequests:
		e.text = fmt.Sprintf("Vapi is rate-limiting requests (429) for %s: try again in a moment", t)
	case status >= 500:
		e.text = fmt.Sprintf("Vapi failed (HTTP %d) on %s: try again; if it persists, check status.vapi.ai", status, t)
	default:
		verb := "read"
		if method == http.MethodPatch {
			verb = "change"
		}
		e.text = fmt.Sprintf("Vapi refused to %s %s (%d)", verb, t, status)
	}
	if msg != "" && status != http.StatusUnauthorized {
		e.text += ": Vapi says " + sanitize.Line(msg, 300)
	}
	return e
}

// vapiMessage pulls the message out of Vapi's error body ({"message": "..."} or
// {"message": ["...", "..."]}, NestJS style), or returns the start of the body.
func vapiMessage(body []byte) string {
	var e struct {
		Message json.RawMessage `json:"message"`
		Error   string          `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil {
		var s string
		var list []string
		switch {
		case json.Unmarshal(e.Message, &s) == nil && s != "":
			return s
		case json.Unmarshal(e.Message, &list) == nil && len(list) > 0:
			return strings.Join(list, "; ")
		case e.Error != "":
			return e.Error
		}
	}
	return strings.TrimSpace(string(body[:min(len(body), 300)]))
}

// redact removes the API key from text that came from elsewhere (a proxy may echo it).
func (c *VapiClient) redact(s string) string {
	if c.APIKey == "" {
		return s
	}
	return strings.ReplaceAll(s, c.APIKey, "[VAPI_API_KEY]")
}

func (c *VapiClient) base() string {
	if c.BaseURL == "" {
		return DefaultVapiBaseURL
	}
	return strings.TrimRight(c.BaseURL, "/")
}

func (t Target) check() error {
	switch t.Kind {
	case KindAssistant, KindPhoneNumber, KindTool:
	default:
		return fmt.Errorf("unknown Vapi resource kind %q: use assistant, phone-number or tool", t.Kind)
	}
	if id := strings.TrimSpace(t.ID); id == "" || id != t.ID || strings.ContainsAny(id, "/?#") {
		return fmt.Errorf("%s id %q is not a Vapi id: copy it from the dashboard", t.Kind, t.ID)
	}
	return nil
}

func (s *stateFile) find(t Target) int {
	for i, v := range s.Saved {
		if v.Target == t {
			return i
		}
	}
	return -1
}

func (c *VapiClient) loadState(path string) (*stateFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var st stateFile
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s is damaged (%v): fix or remove it; it holds the server URLs to restore", path, err)
	}
	if st.BaseURL != "" && st.BaseURL != c.base() {
		return nil, fmt.Errorf("%s was written for the API at %s, but this run uses %s: set VAPI_BASE_URL to match", path, st.BaseURL, c.base())
	}
	return &st, nil
}

// writeState replaces path atomically: a file 0600 in a directory 0700.
func writeState(path string, st *stateFile) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".pointed-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename this is a no-op
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// withURL returns the server object with url set, keeping its other fields.
func withURL(server json.RawMessage, u string) (json.RawMessage, error) {
	fields := map[string]json.RawMessage{}
	if string(rawOrNull(server)) != "null" {
		if err := json.Unmarshal(server, &fields); err != nil {
			return nil, err
		}
	}
	fields["url"] = jsonQuote(u)
	return json.Marshal(fields)
}

// documentedOnly keeps the Server fields the OpenAPI spec documents.
func documentedOnly(server json.RawMessage) (json.RawMessage, bool) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(server, &fields) != nil {
		return nil, false
	}
	kept := map[string]json.RawMessage{}
	for _, k := range serverFields {
		if v, ok := fields[k]; ok {
			kept[k] = v
		}
	}
	if len(kept) == len(fields) {
		return nil, false // nothing to drop: retrying would fail the same way
	}
	b, err := json.Marshal(kept)
	return b, err == nil
}

func rawOrNull(r json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(r)) == 0 {
		return json.RawMessage("null")
	}
	return r
}

func jsonString(r json.RawMessage) string {
	var s string
	_ = json.Unmarshal(r, &s)
	return s
}

func jsonQuote(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}
