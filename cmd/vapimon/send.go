package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/tui"
	"github.com/vapimon/vapimon/webhook"
)

// defaultSendTo is where `vapimon send` posts without --to: a local `vapimon listen`.
const defaultSendTo = "http://127.0.0.1:4242/"

// sendFlags are the flags of `vapimon send`.
type sendFlags struct {
	auth    authFlags
	to      string
	sets    []string
	keep    bool
	timeout time.Duration
	json    bool
	strict  bool
}

func newSendCmd() *cobra.Command {
	f := &sendFlags{}
	cmd := &cobra.Command{
		Use:   "send NAME|FILE",
		Short: "Send one Vapi event to a server, signed as Vapi would, and check the reply",
		Long: `Send one webhook (a built-in fixture, or a tape or JSON file holding one event) to a
server, with the same headers Vapi would send for --auth, and show the status, latency and
reply. For a message Vapi waits on (tool-calls, assistant-request...) the reply's shape is
checked against Vapi's response schema for it and vapimon's own rules (every tool call
answered by its id), and vapimon exits with status 1 when Vapi could not use it (a 4xx or
5xx, no body, a required field missing...). A reply Vapi can use that is still worth a
look is marked ⚠, and --strict exits 1 then: a 2xx other than 200, a shape Vapi reads
although its schema says otherwise (a tool result that is an object...), every tool result
an error, an assistant-request, transfer or handoff answered with an error, and a reply
that a vapimon sent in place of your server (its X-Vapimon-Fallback header).

Call ids, tool-call ids and timestamps are made fresh (the call happens now) unless --keep
is given. --set overrides one field of the body; the leading "message." may be left out.
Run "vapimon fixtures" for the list of built-in events.`,
		Example: `  vapimon send tool-calls
  vapimon send tool-calls --to http://localhost:3000/vapi --secret "$VAPI_SECRET"
  vapimon send tool-calls --set 'toolCallList[0].function.arguments.location=Berlin'
  vapimon send assistant-request --to https://example.com/vapi --auth hmac --secret "$KEY" --json`,
		Args:              oneFixtureArg("send needs a fixture name or file, e.g. vapimon send tool-calls (vapimon fixtures lists them)"),
		ValidArgsFunction: completeFixtureNames,
		RunE:              func(cmd *cobra.Command, args []string) error { return runSend(cmd, f, args[0]) },
	}
	fs := cmd.Flags()
	fs.StringVar(&f.to, "to", defaultSendTo, "URL to send to, used as given (http:// is added when there is no scheme)")
	fs.StringArrayVar(&f.sets, "set", nil, "override a body field, path=value (value is JSON when valid, else a string); repeatable")
	fs.BoolVar(&f.keep, "keep", false, "send the body byte for byte as stored: no fresh ids or timestamps")
	fs.DurationVar(&f.timeout, "timeout", fixtures.DefaultSendTimeout, "give up on a reply after this long")
	fs.BoolVar(&f.json, "json", false, "print the result as one JSON object")
	fs.BoolVar(&f.strict, "strict", false, "exit 1 also on a reply Vapi can use that has a warning (⚠)")
	f.auth.register(cmd)
	return cmd
}

// oneFixtureArg accepts exactly one argument, and says what is missing in plain words.
func oneFixtureArg(missing string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) == 0:
			return errors.New(missing)
		case len(args) > 1:
			return fmt.Errorf("%s takes one fixture name or file, got %d: %s", cmd.Name(), len(args), tui.SanitizeLine(strings.Join(args, " ")))
		}
		return nil
	}
}

func runSend(cmd *cobra.Command, f *sendFlags, arg string) error {
	auth, err := f.auth.config()
	if err != nil {
		return err
	}
	recs, err := loadRecords(cmd, arg)
	if err != nil {
		return err
	}
	if len(recs) != 1 {
		return fmt.Errorf("%s holds %d events: send fires one; use \"vapimon replay %s --to URL\" for all of them", arg, len(recs), arg)
	}
	if !f.keep {
		recs = fixtures.Freshen(recs, time.Now())
	}
	rec := recs[0]
	for _, s := range f.sets {
		path, value, ok := strings.Cut(s, "=")
		if !ok {
			return fmt.Errorf("--set %s: want path=value, e.g. toolCallList[0].function.arguments.location=Berlin", s)
		}
		if rec.Body, err = fixtures.SetField(rec.Body, strings.TrimSpace(path), value); err != nil {
			return err
		}
	}
	to, err := fixtures.NormalizeTarget(f.to)
	if err != nil {
		return err
	}
	warmReplyChecks(cmd.ErrOrStderr())
	s := &fixtures.Sender{To: to, Auth: auth, Timeout: f.timeout, UserAgent: userAgent()}
	if err := s.Check(); err != nil {
		return err
	}
	res, _ := s.Send(cmd.Context(), rec)
	out := cmd.OutOrStdout()
	if f.json {
		if err := writeJSON(out, sendJSON(arg, to, rec, res, f.strict)); err != nil {
			return err
		}
	} else {
		printSend(out, cmd.ErrOrStderr(), to, rec, res, f.strict)
	}
	if !res.OK() || (f.strict && res.Warned()) {
		return exitError{code: 1}
	}
	return nil
}

func userAgent() string { return "vapimon/" + versionString() }

// warmReplyChecks starts compiling the reply schemas while the request is on its way; a
// schema that fails (a broken build) is said on errw as a warning, and the hand-written
// checks judge instead.
func warmReplyChecks(errw io.Writer) {
	webhook.WarmReplyChecks(slog.New(slog.NewTextHandler(errw, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		},
	})))
}

// loadRecords resolves a fixture name, scenario name or tape/JSON file, printing the
// reader's warnings (a torn last line...) on stderr.
func loadRecords(cmd *cobra.Command, arg string) ([]fixtures.Record, error) {
	recs, warnings, err := fixtures.Resolve(arg)
	for _, w := range warnings {
		fmt.Fprintln(cmd.ErrOrStderr(), "warning:", tui.SanitizeLine(w))
	}
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s holds no events", arg)
	}
	return recs, nil
}

// completeFixtureNames offers the built-in fixtures and scenarios, with their descriptions,
// and falls back to file names.
func completeFixtureNames(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, fx := range fixtures.List() {
		if strings.HasPrefix(fx.Name, toComplete) {
			out = append(out, fx.Name+"\t"+fx.Description)
		}
	}
	return out, cobra.ShellCompDirectiveDefault
}

// printSend shows one exchange for a person.
func printSend(out, errw io.Writer, to string, rec fixtures.Record, res fixtures.Result, strict bool) {
	typ := "request"
	if res.Type != "" {
		typ = tui.SanitizeLine(res.Type)
	}
	callID := ""
	if m, err := webhook.Parse(rec.Body); err == nil && m.Call.ID != "" {
		callID = "  call " + tui.SanitizeLine(m.Call.ID)
	}
	method := rec.Method
	if method == "" {
		method = http.MethodPost
	}
	fmt.Fprintf(out, "→ %s %s  %s%s\n", method, to, typ, callID)
	if res.Err != nil {
		fmt.Fprintln(errw, "✗", describeSendError(res.Err, to))
		return
	}
	fmt.Fprintf(out, "← %d %s in %s\n", res.Status, http.StatusText(res.Status), fmtLatency(res.Latency))
	if res.Fallback != "" {
		// Said before the body, on its own line: the ✓ or ⚠ below judges vapimon's
		// stand-in answer, not the developer's server.
		fmt.Fprintln(out, "⚠ answered by vapimon, not your server:", tui.SanitizeLine(res.Fallback))
	}
	if body := displayBody(res.Header, res.Body); body != "" {
		fmt.Fprintln(out, body)
	}
	for _, p := range res.Problems {
		fmt.Fprintln(out, "✗", p)
	}
	for _, w := range res.Warnings {
		if res.Fallback == "" || w != fallbackWarning(res) {
			fmt.Fprintln(out, "⚠", tui.SanitizeLine(w))
		}
	}
	if res.Warned() {
		if strict {
			fmt.Fprintf(out, "  (Vapi can use this reply to %s; --strict fails on the warning)\n", typ)
		} else {
			fmt.Fprintf(out, "  (Vapi can use this reply to %s; --strict makes this exit 1)\n", typ)
		}
		return
	}
	if len(res.Problems) == 0 {
		kind := res.Type
		if m, err := webhook.Parse(rec.Body); err == nil {
			kind = m.Kind
		}
		if webhook.ExpectsReply(kind) {
			fmt.Fprintf(out, "✓ the reply has the shape Vapi expects for %s\n", typ)
		} else {
			fmt.Fprintf(out, "✓ acknowledged (Vapi needs no reply body for %s)\n", typ)
		}
	}
}

// fallbackWarning is the warning fixtures.Send gives for res.Fallback, printed once, first.
func fallbackWarning(res fixtures.Result) string {
	return "answered by vapimon, not your server: " + res.Fallback
}

// describeSendError adds the next step to a transport error.
func describeSendError(err error, to string) string {
	msg := tui.SanitizeLine(err.Error())
	var se *fixtures.SendError
	if errors.As(err, &se) && se.Refused() {
		if isLocalVapimon(to) {
			return msg + " — is `vapimon listen` running?"
		}
		return msg + " — is the server running?"
	}
	return msg
}

// isLocalVapimon reports whether to is the default local `vapimon listen` address.
func isLocalVapimon(to string) bool {
	u, err := url.Parse(to)
	if err != nil {
		return false
	}
	switch u.Host {
	case "127.0.0.1:4242", "localhost:4242", "[::1]:4242":
		return true
	}
	return false
}

func fmtLatency(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= 10*time.Millisecond:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// maxDisplayBody caps the reply text shown on a terminal.
const maxDisplayBody = 16 << 10

// displayBody renders a reply body for a terminal: indented JSON, sanitised text, or a
// note for binary data (voice-request PCM).
func displayBody(h http.Header, body []byte) string {
	t := bytes.TrimSpace(body)
	if len(t) == 0 {
		return "(empty body)"
	}
	if json.Valid(t) {
		var buf bytes.Buffer
		if json.Indent(&buf, t, "", "  ") == nil {
			return clipText(tui.Sanitize(buf.String()), maxDisplayBody)
		}
	}
	if !utf8.Valid(body) || bytes.IndexByte(body, 0) >= 0 {
		ct := h.Get("Content-Type")
		if ct == "" {
			ct = "no Content-Type"
		}
		return fmt.Sprintf("(%d bytes of binary data, %s)", len(body), tui.SanitizeLine(ct))
	}
	return clipText(tui.Sanitize(string(body)), maxDisplayBody)
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("\n… (%d more bytes)", len(s)-cut)
}

// sendResult is the --json form of one exchange.
type sendResult struct {
	Fixture   string          `json:"fixture,omitempty"`
	To        string          `json:"to"`
	Type      string          `json:"type,omitempty"`
	CallID    string          `json:"callId,omitempty"`
	Status    int             `json:"status,omitempty"`
	LatencyMs float64         `json:"latencyMs"`
	Reply     json.RawMessage `json:"reply,omitempty"`
	Problems  []string        `json:"problems"`
	// Warnings: Vapi can use the reply, but something is worth a ⚠ (HTTP 201, every tool
	// result an error, a shape Vapi tolerates...).
	Warnings []string `json:"warnings"`
	// Fallback is set when a vapimon answered in place of your server, with its reason.
	Fallback string `json:"fallback,omitempty"`
	Error    string `json:"error,omitempty"`
	// OK is the exit status: a reply Vapi accepts (and, with --strict, no warnings).
	OK bool `json:"ok"`
}

func sendJSON(fixture, to string, rec fixtures.Record, res fixtures.Result, strict bool) sendResult {
	out := sendResult{
		Fixture:   fixture,
		To:        to,
		Type:      res.Type,
		Status:    res.Status,
		LatencyMs: float64(res.Latency.Microseconds()) / 1000,
		Problems:  res.Problems,
		Warnings:  res.Warnings,
		Fallback:  res.Fallback,
		OK:        res.OK() && !(strict && res.Warned()),
	}
	if out.Problems == nil {
		out.Problems = []string{}
	}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	if m, err := webhook.Parse(rec.Body); err == nil {
		out.CallID = m.Call.ID
	}
	if res.Err != nil {
		out.Error = res.Err.Error()
	} else {
		out.Reply = jsonOrString(res.Body)
	}
	return out
}

// jsonOrString returns b when it is JSON, else b as a JSON string (base64 when not UTF-8).
func jsonOrString(b []byte) json.RawMessage {
	t := bytes.TrimSpace(b)
	if len(t) > 0 && json.Valid(t) {
		var buf bytes.Buffer
		if json.Compact(&buf, t) == nil {
			return buf.Bytes()
		}
	}
	var v any = string(b)
	if !utf8.Valid(b) {
		v = b // encoding/json writes []byte as base64
	}
	s, _ := json.Marshal(v)
	return s
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
