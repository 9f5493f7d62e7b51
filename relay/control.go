package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/tui/sanitize"
	"github.com/vapimon/vapimon/webhook"
)

// DefaultControlTimeout bounds one control request: a live call does not wait on a slow
// control URL, and neither does the operator.
const DefaultControlTimeout = 5 * time.Second

// maxControlAnswer caps what is read of a control URL's answer.
const maxControlAnswer = 64 << 10

// PublicKeyEnv names the environment variable holding the key a control URL wants when
// the assistant's monitorPlan.controlAuthenticationEnabled is on: Vapi's OpenAPI
// (MonitorPlan.controlAuthenticationEnabled) says "Authorization: Bearer
// <vapi-public-api-key>", the org's public key, not the private API key.
const PublicKeyEnv = "VAPI_PUBLIC_KEY"

// ControlClient POSTs live-call control messages to a call's monitor.controlUrl, as Vapi's
// Live Call Control docs show: the message as a flat JSON body, Content-Type
// application/json, and, when PublicKey is set, Authorization: Bearer PublicKey. It never
// follows redirects, reads at most 64 KiB of the answer, and gives up after Timeout. It
// never prints or records the key.
type ControlClient struct {
	// PublicKey is the org's public API key (VAPI_PUBLIC_KEY); empty sends no
	// Authorization header.
	PublicKey string
	// Timeout bounds each request; DefaultControlTimeout when zero.
	Timeout time.Duration
	// HTTP sends the requests; nil uses a client that follows no redirect.
	HTTP *http.Client
}

// NewControlClientFromEnv reads VAPI_PUBLIC_KEY.
func NewControlClientFromEnv() *ControlClient {
	return &ControlClient{PublicKey: strings.TrimSpace(os.Getenv(PublicKeyEnv))}
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// Send POSTs c to controlURL and says what came back. It never returns before the answer
// or the timeout, whichever is first, and never later.
func (cc *ControlClient) Send(ctx context.Context, controlURL string, c webhook.Control) webhook.ControlResult {
	start := time.Now()
	res := cc.send(ctx, controlURL, c)
	res.Latency = time.Since(start)
	res.Err = cc.redact(res.Err)
	res.Body = cc.redact(res.Body)
	return res
}

func (cc *ControlClient) send(ctx context.Context, controlURL string, c webhook.Control) webhook.ControlResult {
	u, err := CheckControlURL(controlURL)
	if err != nil {
		return webhook.ControlResult{Err: err.Error()}
	}
	// The key goes only to Vapi (or to this machine, where the simulator runs), and never in
	// clear over a network: a control URL comes from a webhook, which anyone could forge.
	sendKey := cc.PublicKey != "" && (isLoopbackHost(u.Hostname()) || isVapiHost(u.Hostname()))
	if sendKey && u.Scheme != "https" && !isLoopbackHost(u.Hostname()) {
		return webhook.ControlResult{Err: fmt.Sprintf("refusing to send %s over plain http to %s: use the https control URL Vapi gave", PublicKeyEnv, u.Host)}
	}
	body, err := json.Marshal(c)
	if err != nil {
		return webhook.ControlResult{Err: "encode control message: " + err.Error()}
	}
	timeout := cc.Timeout
	if timeout <= 0 {
		timeout = DefaultControlTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return webhook.ControlResult{Err: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "vapimon")
	if sendKey {
		req.Header.Set("Authorization", "Bearer "+cc.PublicKey)
	}
	client := cc.HTTP
	if client == nil {
		client = noRedirects
	}
	resp, err := client.Do(req)
	if err != nil {
		switch {
		case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
			return webhook.ControlResult{Err: fmt.Sprintf("no answer from the control URL within %s", timeout)}
		case ctx.Err() != nil:
			return webhook.ControlResult{Err: "cancelled"}
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return webhook.ControlResult{Err: "cannot reach the control URL: " + err.Error()}
	}
	defer resp.Body.Close()
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, maxControlAnswer))
	res := webhook.ControlResult{Status: resp.StatusCode, Body: strings.TrimSpace(string(b))}
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		res.Err = fmt.Sprintf("the control URL redirects to %s: not followed (a control URL answers itself)", sanitize.Line(resp.Header.Get("Location"), 200))
	case resp.StatusCode == http.StatusUnauthorized:
		if cc.PublicKey != "" && !sendKey {
			res.Err = fmt.Sprintf("the control URL wants authentication, and %s is only sent to vapi.ai hosts, not to %s", PublicKeyEnv, sanitize.Line(u.Hostname(), 100))
		} else if cc.PublicKey == "" {
			res.Err = "the control URL wants authentication (monitorPlan.controlAuthenticationEnabled is on): set " + PublicKeyEnv + " to your org's public API key (dashboard → Organization → API Keys)"
		} else {
			res.Err = "the control URL refused " + PublicKeyEnv + " (401): it must be the public API key of the org that owns the call"
		}
	case resp.StatusCode >= 400:
		msg := vapiMessage(b)
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		res.Err = "Vapi says " + sanitize.Line(msg, 300)
		if resp.StatusCode == http.StatusNotFound {
			res.Err += " (the call has probably ended)"
		}
	case rerr != nil:
		res.Err = "reading the answer: " + rerr.Error()
	}
	return res
}

func (cc *ControlClient) redact(s string) string {
	if cc.PublicKey == "" {
		return s
	}
	return strings.ReplaceAll(s, cc.PublicKey, "["+PublicKeyEnv+"]")
}

// CheckControlURL parses a control URL: http or https, with a host.
func CheckControlURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	// Vapi's docs show the URL inside <...> once; accept it pasted that way.
	raw = strings.TrimSuffix(strings.TrimPrefix(raw, "<"), ">")
	if raw == "" {
		return nil, errors.New(webhook.NoControlURL)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("control URL %q is not an http(s) URL", sanitize.Line(raw, 200))
	}
	return u, nil
}

// isVapiHost reports whether h is vapi.ai or one of its subdomains, where Vapi's control
// URLs live (phone-call-websocket.aws-us-west-2-backend-production2.vapi.ai).
func isVapiHost(h string) bool {
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	return h == "vapi.ai" || strings.HasSuffix(h, ".vapi.ai")
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// Control sends a live-call control to a call's control URL for the operator, records it
// and the answer on the tape as an operator line, and logs it (without the key). It
// returns within the control client's timeout whatever the control URL does.
func (s *Session) Control(ctx context.Context, callID, controlURL string, c webhook.Control) webhook.ControlResult {
	cc := s.cfg.Control
	if cc == nil {
		cc = &ControlClient{}
	}
	start := time.Now()
	res := cc.Send(ctx, controlURL, c)
	if s.tape != nil {
		if err := s.tape.Operator(webhook.ControlAction{Time: start, CallID: callID, Control: c, Result: res}); err != nil {
			s.log.Warn("tape: operator action not recorded", "err", err)
		}
	}
	s.log.Info("operator control", "call", callID, "action", c.Action(), "status", res.Status, "latency", res.Latency, "err", res.Err)
	return res
}

// CallMonitor reads a call from Vapi's API (GET /call/{id}) and returns its
// monitor.controlUrl, or an error saying why there is none.
func (c *VapiClient) CallMonitor(ctx context.Context, callID string) (controlURL string, err error) {
	t := Target{Kind: "call", ID: callID}
	if id := strings.TrimSpace(callID); id == "" || id != callID || strings.ContainsAny(id, "/?#") {
		return "", fmt.Errorf("call id %q is not a Vapi id", sanitize.Line(callID, 80))
	}
	b, err := c.do(ctx, http.MethodGet, t, nil)
	if err != nil {
		return "", err
	}
	var call struct {
		Status  string `json:"status"`
		Monitor struct {
			ControlURL string `json:"controlUrl"`
		} `json:"monitor"`
	}
	if err := json.Unmarshal(b, &call); err != nil {
		return "", fmt.Errorf("call %s: Vapi's answer is not a call: %v", callID, err)
	}
	if call.Monitor.ControlURL == "" {
		if call.Status == "ended" {
			return "", fmt.Errorf("call %s has ended: it cannot be controlled", callID)
		}
		return "", fmt.Errorf("call %s: %s", callID, webhook.NoControlURL)
	}
	return call.Monitor.ControlURL, nil
}

// ResolveControlURL finds the control URL of a call for the shell: in the tapes (newest
// first; the call id may be the start of one, as the monitor shows it), then, when api is
// not nil, in Vapi's API. It returns the full call id too.
func ResolveControlURL(ctx context.Context, callID string, tapes []string, api *VapiClient) (id, controlURL string, err error) {
	calls, terr := fixtures.RecentCalls(tapes)
	ref, ferr := fixtures.FindCall(calls, callID)
	if ferr == nil && ref.ControlURL != "" {
		return ref.ID, ref.ControlURL, nil
	}
	id = callID
	if ferr == nil {
		id = ref.ID
	}
	if api != nil {
		u, err := api.CallMonitor(ctx, id)
		return id, u, err
	}
	switch {
	case ferr == nil && ref.Ended:
		return id, "", fmt.Errorf("call %s has ended (tape %s)", id, ref.Tape)
	case ferr == nil:
		return id, "", fmt.Errorf("call %s (tape %s): %s; set VAPI_API_KEY to ask Vapi, or pass --control-url", id, ref.Tape, webhook.NoControlURL)
	case terr != nil:
		return id, "", fmt.Errorf("%v; %w; set VAPI_API_KEY to ask Vapi, or pass --control-url", ferr, terr)
	}
	return id, "", fmt.Errorf("%v; set VAPI_API_KEY to ask Vapi, or pass --control-url", ferr)
}

// RecentTapes is how many of the latest tapes `vapimon control` searches for a call.
const RecentTapes = 10

// ControlCall is `vapimon control`: one control message for one call from the shell.
type ControlCall struct {
	// Call is the call id or its first characters; URL, when set, skips the lookup (Call
	// is then only a label) in Tapes (default: the latest RecentTapes) and Vapi's API.
	Call, URL string
	Tapes     []string
	Timeout   time.Duration
	Control   webhook.Control
}

// Send looks the call's control URL up, sends the message and prints Vapi's answer on out
// ("✓ ...") or why it failed on errw ("✗ ..."): ok is false then. err is a failure to
// find the control URL.
func (cc ControlCall) Send(ctx context.Context, out, errw io.Writer) (ok bool, err error) {
	id, u := cc.Call, cc.URL
	if u == "" {
		tapes := cc.Tapes
		if len(tapes) == 0 {
			tapes, _ = fixtures.LatestTapes(RecentTapes)
		}
		api, _ := NewVapiClientFromEnv()
		if id, u, err = ResolveControlURL(ctx, id, tapes, api); err != nil {
			return false, err
		}
	}
	client := NewControlClientFromEnv()
	client.Timeout = cc.Timeout
	res := client.Send(ctx, u, cc.Control)
	if !res.OK() {
		fmt.Fprintf(errw, "✗ %s to call %s: %s\n", cc.Control.Describe(), id, res.Summary())
		return false, nil
	}
	fmt.Fprintf(out, "✓ %s to call %s: %s\n", cc.Control.Describe(), id, res.Summary())
	if res.Body != "" && res.Body != "{}" {
		// text from a remote answer printed to a terminal
		fmt.Fprintln(out, "  Vapi:", sanitize.Line(res.Body, 300))
	}
	return true, nil
}

// CallLabel describes a call from the tapes for shell completion: "+14155550123 · live ·
// 14:52" or "… · ended".
func CallLabel(c fixtures.CallRef) string {
	var parts []string
	if c.Customer != "" {
		parts = append(parts, sanitize.Line(c.Customer, 40))
	}
	switch {
	case c.Ended:
		parts = append(parts, "ended")
	case c.ControlURL == "":
		parts = append(parts, "no control URL")
	default:
		parts = append(parts, "controllable")
	}
	parts = append(parts, c.Last.Local().Format("Jan 2 15:04"))
	return strings.Join(parts, " · ")
}
