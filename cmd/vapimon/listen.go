package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/relay"
	"github.com/vapimon/vapimon/tui"
	"github.com/vapimon/vapimon/webhook"
)

// listenFlags are the flags of `vapimon listen` (and of the bare `vapimon`).
type listenFlags struct {
	auth        authFlags
	addr        string
	headless    bool
	maxBody     int64
	maxInFlight int
	toolTimeout time.Duration
	answers     string
	record      string
	noRecord    bool
	logFile     string
	keepCalls   int
	theme       tui.Theme
	tunnel      tunnelFlags
}

func (f *listenFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.addr, "addr", "127.0.0.1:4242", "local address to listen on (loopback only unless you ask otherwise)")
	fs.BoolVar(&f.headless, "headless", false, "print one JSON line per event on stdout instead of the TUI (automatic when stdout is not a terminal)")
	fs.Int64Var(&f.maxBody, "max-body", webhook.DefaultMaxBody, "largest request body accepted, in bytes (413 past it)")
	fs.IntVar(&f.maxInFlight, "max-inflight", webhook.DefaultMaxInFlight, "most requests handled at once (503 past it)")
	fs.DurationVar(&f.toolTimeout, "tool-timeout", webhook.DefaultToolTimeout, "default wait for messages whose payload names no server.timeoutSeconds (the tool's, assistant's or phone number's is used when present; assistant-request always has 7.5s)")
	fs.StringVar(&f.answers, "answers", "", "canned answers file (YAML or JSON; see fixtures/answers.example.yaml); re-read when it changes")
	fs.StringVar(&f.record, "record", "", "tape file to append every request and reply to (default: a new file under the state directory)")
	fs.BoolVar(&f.noRecord, "no-record", false, "do not record a tape")
	fs.StringVar(&f.logFile, "log-file", "", "diagnostic log file (default: vapimon.log in the state directory)")
	fs.IntVar(&f.keepCalls, "keep-calls", 500, "calls kept in memory by the TUI (older ones stay on the tape)")
	fs.Var(&f.theme, "theme", tui.ThemeUsage)
	f.auth.register(cmd)
	f.tunnel.register(cmd)
	_ = cmd.MarkFlagFilename("answers", "yaml", "yml", "json")
	_ = cmd.MarkFlagFilename("record", "jsonl")
	_ = cmd.MarkFlagFilename("log-file", "log")
}

func newListenCmd() *cobra.Command {
	f := &listenFlags{}
	cmd := &cobra.Command{
		Use:   "listen",
		Short: "Receive Vapi webhooks: show them live, answer them, record them",
		Long: `Listen for Vapi server-URL webhooks and show them live in the TUI, or as JSON lines
with --headless (also when stdout is not a terminal).

With NGROK_AUTHTOKEN set, vapimon opens an ngrok tunnel and shows the public URL to paste
into Vapi; otherwise it listens on --addr only. Messages that expect a reply are answered,
in this order, by your server (--forward-to), the answers file (--answers), you (the TUI
prompt), and finally a fallback sent just before Vapi's deadline.`,
		Example: `  vapimon listen
  vapimon listen --answers answers.yaml --secret "$VAPI_SECRET"
  vapimon listen --forward-to http://localhost:3000/webhook --headless | jq .
  vapimon listen --auth hmac --secret "$HMAC_KEY" --hmac-preset x-vapi-signature`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runListen(cmd, f) },
	}
	f.register(cmd)
	return cmd
}

// stateDir returns vapimon's state directory ($XDG_STATE_HOME/vapimon or
// ~/.local/state/vapimon), creating it 0700.
func stateDir() (string, error) {
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("state directory: %w", err)
		}
		base = filepath.Join(home, ".local", "state")
	}
	dir := filepath.Join(base, "vapimon")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("state directory: %w", err)
	}
	return dir, nil
}

func openLog(path string) (*slog.Logger, io.Closer, error) {
	if path == "" {
		dir, err := stateDir()
		if err != nil {
			return nil, nil, err
		}
		path = filepath.Join(dir, "vapimon.log")
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("log file: %w", err)
	}
	return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug})), f, nil
}

// session is one running listener: everything runListen starts, in shutdown order.
type session struct {
	cfg      *listenFlags
	log      *slog.Logger
	bus      *webhook.Bus
	handler  *webhook.Handler
	answers  *webhook.Answers
	tape     *fixtures.TapeWriter
	status   statusBox
	srv      *http.Server
	tunnel   relay.Tunnel
	forward  *relay.Forwarder
	vapi     *relay.VapiClient
	verifier *webhook.Verifier
	closers  []func()
	wg       sync.WaitGroup
	serveErr chan error
	stderr   io.Writer
	// tapeCount counts what reached the tape, for the exit summary; nil without a tape.
	tapeCount *tapeCounter
	// tapeCloseErr is the error from closing (syncing) the tape, for the exit summary.
	tapeCloseErr error
	// reqCtx is the parent of every request's context: cancelReqs makes every request still
	// waiting (for your server, for the operator) get its fallback reply now. hurry is closed
	// by a second signal (see watchSignals).
	reqCtx     context.Context
	cancelReqs context.CancelFunc
	hurry      <-chan struct{}
	// warnings are shown once: in the banner (headless) or the status bar (TUI).
	warnings []string
}

// startSession builds and starts the listener; responders other than the forwarder and the
// answers file (the operator) are appended by the caller through extra.
func startSession(ctx context.Context, f *listenFlags, stderr io.Writer, extra ...webhook.Responder) (*session, error) {
	if f.toolTimeout < time.Second {
		return nil, fmt.Errorf("--tool-timeout %s: Vapi's server.timeoutSeconds is 1 to 300 seconds (default 20s)", f.toolTimeout)
	}
	s := &session{cfg: f, bus: webhook.NewBus(), serveErr: make(chan error, 1), stderr: stderr, hurry: hurryOf(ctx)}
	s.reqCtx, s.cancelReqs = context.WithCancel(context.Background())
	s.closers = append(s.closers, s.cancelReqs)
	s.status.set(webhook.Status{})
	authCfg, err := f.auth.config()
	if err != nil {
		return nil, err
	}
	s.verifier, err = webhook.NewVerifier(authCfg)
	if err != nil {
		return nil, err
	}
	log, logCloser, err := openLog(f.logFile)
	if err != nil {
		return nil, err
	}
	s.log = log
	s.closers = append(s.closers, func() { _ = logCloser.Close() })
	webhook.WarmReplyChecks(log) // compiled in the background before the first reply is judged

	if f.answers != "" {
		s.answers, err = webhook.LoadAnswers(f.answers)
		if err != nil {
			s.close()
			return nil, err
		}
	} else {
		s.answers = webhook.NewAnswers(&webhook.AnswerSet{})
	}

	if !f.noRecord {
		path := f.record
		if path == "" {
			path, err = fixtures.DefaultTapePath(time.Now())
			if err != nil {
				s.close()
				return nil, err
			}
		}
		_, statErr := os.Stat(filepath.Dir(path))
		s.tape, err = fixtures.OpenTape(path)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("tape: %w", err)
		}
		if f.record != "" && os.IsNotExist(statErr) {
			fmt.Fprintf(stderr, "vapimon: created %s for the tape\n", filepath.Dir(path))
		}
		if n := s.tape.Repaired(); n > 0 {
			fmt.Fprintf(stderr, "vapimon: %s ended in a torn line (%d bytes, a crash mid-write?): repaired\n", path, n)
		}
	}

	var responders []webhook.Responder
	var forwardDesc string
	s.forward, err = f.tunnel.forwarder(s.bus)
	if err != nil {
		s.close()
		return nil, err
	}
	if s.forward != nil {
		responders = append(responders, s.forward)
		forwardDesc = s.forward.Describe()
	}
	if f.answers != "" {
		responders = append(responders, s.answers)
	}
	responders = append(responders, extra...)

	if os.Getenv("NGROK_AUTHTOKEN") != "" && !f.tunnel.noTunnel && f.tunnel.publicURL == "" {
		fmt.Fprintln(stderr, "vapimon: connecting to ngrok…")
	}
	tun, st, err := f.tunnel.open(ctx, f.addr, log, func(state, note string) {
		s.bus.Publish(s.status.update(func(st *webhook.Status) { st.Tunnel, st.TunnelNote = webhook.TunnelState(state), note }))
	})
	if err != nil {
		s.close()
		return nil, err
	}
	s.tunnel = tun
	if err := f.tunnel.checkLoop(st.ListenURL, st.PublicURL); err != nil {
		_ = tun.Close()
		s.close()
		return nil, err
	}
	s.warnings = listenWarnings(f, authCfg)
	st.Auth = authCfg.Describe()
	st.Forward = forwardDesc
	st.ToolTimeout = f.toolTimeout
	if s.tape != nil {
		st.Tape = s.tape.Path()
	}
	s.status.set(st)

	var rec webhook.Recorder
	if s.tape != nil {
		s.tapeCount = newTapeCounter(s.tape)
		rec = s.tapeCount
	}
	s.handler = webhook.NewHandler(webhook.Config{
		Verifier:    s.verifier,
		MaxBody:     f.maxBody,
		MaxInFlight: f.maxInFlight,
		ToolTimeout: f.toolTimeout,
		Responders:  responders,
		Fallback:    s.answers.Fallback,
		Recorder:    rec,
		Bus:         s.bus,
		PublicURL:   func() string { return s.status.get().PublicURL },
		Logger:      log,
	})
	s.srv = webhook.NewServer(s.handler, f.toolTimeout, log)
	s.srv.BaseContext = func(net.Listener) context.Context { return s.reqCtx }
	watchCtx, stopWatch := context.WithCancel(context.Background())
	s.closers = append(s.closers, stopWatch)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.recoverPanic("answers watcher")
		s.answers.Watch(watchCtx, 500*time.Millisecond, s.bus)
	}()
	go func() {
		defer s.recoverPanic("server")
		err := s.srv.Serve(s.handler.Listener(tun.Listener())) // also counts what net/http refuses itself
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.serveErr <- err
	}()
	log.Info("listening", "listen", st.ListenURL, "public", st.PublicURL, "tunnel", st.Tunnel, "auth", st.Auth, "tape", st.Tape)
	if err := s.pointVapi(ctx, stderr); err != nil {
		_ = s.shutdown()
		return nil, err
	}
	return s, nil
}

// listenWarnings are the things a person should know before trusting the listener.
func listenWarnings(f *listenFlags, auth webhook.AuthConfig) []string {
	var out []string
	if host, _, err := net.SplitHostPort(f.addr); err == nil {
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			w := fmt.Sprintf("--addr %s listens on every interface: other machines on your network can reach it", f.addr)
			if auth.Mode == webhook.AuthNone {
				w += ", and with auth none anyone there can answer for your tools"
			}
			out = append(out, w)
		}
	}
	token := strings.TrimSpace(os.Getenv("NGROK_AUTHTOKEN")) != ""
	if f.tunnel.domain != "" && (!token || f.tunnel.noTunnel || f.tunnel.publicURL != "") {
		out = append(out, "--domain "+f.tunnel.domain+" is ignored: it needs NGROK_AUTHTOKEN and the embedded tunnel")
	}
	if u, err := url.Parse(f.tunnel.publicURL); err == nil && f.tunnel.publicURL != "" {
		if h := u.Hostname(); h == "localhost" || strings.HasPrefix(h, "127.") || h == "::1" {
			out = append(out, "--public-url "+f.tunnel.publicURL+" is this machine: Vapi cannot reach it")
		}
	}
	if f.toolTimeout > 300*time.Second {
		out = append(out, fmt.Sprintf("--tool-timeout %s is longer than Vapi allows (server.timeoutSeconds is at most 300)", f.toolTimeout))
	}
	return out
}

// pointVapi points the assistants, phone numbers and tools named by the flags at the public
// URL, saving their previous server settings first so that shutdown (or `vapimon restore`
// after a crash) puts them back.
func (s *session) pointVapi(ctx context.Context, stderr io.Writer) error {
	targets := s.cfg.tunnel.targets()
	if len(targets) == 0 {
		return nil
	}
	st := s.status.get()
	if err := relay.CheckReachable(st.PublicURL); err != nil {
		return fmt.Errorf("cannot point Vapi at vapimon: %w", err)
	}
	c, err := relay.NewVapiClientFromEnv()
	if err != nil {
		return fmt.Errorf("cannot point Vapi at vapimon: %w", err)
	}
	saved, err := c.Point(ctx, targets, st.PublicURL, relay.DefaultStatePath())
	s.vapi = c // restore whatever was changed, even after a partial failure
	if err != nil {
		return err
	}
	for _, sv := range saved {
		msg := fmt.Sprintf("pointed %s at %s (restored on exit; after a crash run `vapimon restore`)", sv.Target, st.PublicURL)
		fmt.Fprintln(stderr, "vapimon:", msg)
		s.bus.Publish(webhook.Notice{Time: time.Now(), Level: "info", Text: msg})
	}
	return nil
}

// recoverPanic, deferred first in every goroutine a session starts, turns a panic into a
// logged error and a notice on screen instead of a crash that leaves the terminal raw.
func (s *session) recoverPanic(what string) {
	if p := recover(); p != nil {
		s.log.Error("panic", "in", what, "panic", p, "stack", string(debug.Stack()))
		s.bus.Publish(webhook.Notice{Time: time.Now(), Level: "error", Text: fmt.Sprintf("internal error in %s: %v (details in the log file)", what, p)})
	}
}

// shutdown is the orderly end of a session, whatever asked for it (a signal, q in the
// TUI, the terminal closing): Vapi's resources are pointed back first, then the listener
// stops accepting; requests still waiting for your server get shutdownGrace to finish
// (until a second signal), then every request still waiting gets its fallback reply;
// finally the tunnel closes, the tape is flushed and the bus closed. The TUI has already
// released its prompts by then (their fallback keeps any answer typed in time).
func (s *session) shutdown() error {
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		t := time.NewTimer(shutdownGrace)
		defer t.Stop()
		select {
		case <-t.C:
		case <-s.hurry:
		case <-stopped:
			return
		}
		s.cancelReqs() // every request still waiting gets its fallback now
	}()
	var err error
	if s.vapi != nil {
		// Put Vapi back first, so it stops sending here before the listener goes away.
		rctx, rcancel := context.WithTimeout(context.Background(), 15*time.Second)
		if rerr := s.vapi.Restore(rctx, relay.DefaultStatePath()); rerr != nil {
			// Said here, whatever else failed: the assistant may point at a dead URL.
			fmt.Fprintf(s.stderr, "vapimon: restoring Vapi's server URLs failed: %v\nvapimon: run `vapimon restore` to retry\n", rerr)
			err = exitError{code: 1}
		}
		rcancel()
		s.vapi = nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.srv.Shutdown(ctx) }()
	select {
	case <-done:
	case <-s.reqCtx.Done():
		// The fallbacks are going out: give them a moment to be written, then give up on
		// connections that are still open (a client stalled mid-body, say) rather than
		// fail the whole exit.
		select {
		case <-done:
		case <-time.After(replyWriteGrace):
			n := s.handler.InFlight()
			cancel()
			<-done
			_ = s.srv.Close()
			if n > 0 {
				fmt.Fprintf(s.stderr, "vapimon: gave up on %d request(s) still unfinished at exit (a client that stopped sending?)\n", n)
			}
		}
	}
	if s.tunnel != nil {
		if cerr := s.tunnel.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	s.close()
	return err
}

func (s *session) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
	s.wg.Wait()
	if s.tape != nil {
		s.tapeCloseErr = s.tape.Close()
	}
	s.bus.Close()
}

// tapeSummary is the exit line about the tape, "" when recording was off.
func (s *session) tapeSummary(replayHint bool) string {
	if s.tape == nil || s.tapeCount == nil {
		return ""
	}
	return tapeSummary(s.tape.Path(), s.tapeCount, s.tapeCloseErr, replayHint)
}

func runListen(cmd *cobra.Command, f *listenFlags) error {
	ctx := cmd.Context()
	headless := f.headless || !term.IsTerminal(os.Stdout.Fd())
	if headless {
		return runHeadless(ctx, f, cmd.OutOrStdout(), cmd.ErrOrStderr())
	}
	return runTUI(ctx, f, cmd.ErrOrStderr())
}

func runHeadless(ctx context.Context, f *listenFlags, stdout, stderr io.Writer) error {
	if f.tunnel.intercept {
		return fmt.Errorf("--intercept needs the TUI (someone has to review the replies): drop --headless, or run in a terminal")
	}
	s, err := startSession(ctx, f, stderr)
	if err != nil {
		return err
	}
	sub := s.bus.Subscribe(1 << 16)
	s.bus.Publish(s.status.get())
	done := make(chan error, 1)
	go func() {
		err := fmt.Errorf("headless output stopped")
		defer func() { done <- err }()
		defer s.recoverPanic("headless output")
		err = webhook.WriteHeadless(context.Background(), stdout, sub, s.bus)
	}()
	printBanner(stderr, s.status.get())
	for _, w := range s.warnings {
		fmt.Fprintln(stderr, "vapimon: warning:", w)
		s.bus.Publish(webhook.Notice{Time: time.Now(), Level: "warn", Text: w})
	}
	var serveErr error
	select {
	case <-ctx.Done():
		tryWrite(stderr, fmt.Sprintf("vapimon: %s: shutting down: replies from your server get up to %s, then every request still waiting gets its fallback (Ctrl-C again: at once)\n", stopReason(ctx), shutdownGrace))
	case serveErr = <-s.serveErr:
	}
	if err := s.shutdown(); err != nil && serveErr == nil {
		serveErr = err
	}
	select {
	case err := <-done:
		// A reader that went away (| head) or a terminal that closed is not vapimon's
		// failure: every caller was answered and the tape is flushed.
		if err != nil && serveErr == nil && !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.EIO) {
			serveErr = err
		}
	case <-time.After(tuiStopWait):
		// stdout takes no more output (a pipe nobody reads): the lines still queued are
		// lost to it, not to the tape.
	}
	if sum := s.tapeSummary(false); sum != "" {
		tryWrite(stderr, sum+"\n")
	}
	return serveErr
}

// stopReason names what ended the session: the signal, else "stopping".
func stopReason(ctx context.Context) string {
	if c := context.Cause(ctx); c != nil && c != context.Canceled {
		return c.Error()
	}
	return "stopping"
}

// printBanner tells a person (on stderr) where to point Vapi.
func printBanner(w io.Writer, st webhook.Status) {
	fmt.Fprintf(w, "vapimon: listening on %s\n", st.ListenURL)
	if st.PublicURL != "" {
		fmt.Fprintf(w, "vapimon: paste this server URL into Vapi: %s\n", st.PublicURL)
	}
	if st.TunnelNote != "" {
		fmt.Fprintf(w, "vapimon: %s\n", st.TunnelNote)
	}
	fmt.Fprintf(w, "vapimon: auth: %s\n", st.Auth)
	if st.Tape != "" {
		fmt.Fprintf(w, "vapimon: recording to %s\n", st.Tape)
	}
	if st.Forward != "" {
		fmt.Fprintf(w, "vapimon: forwarding to %s\n", st.Forward)
	}
}

// statusBox holds the current Status; the tunnel updates it from its own goroutine.
type statusBox struct {
	mu sync.Mutex
	st webhook.Status
}

func (b *statusBox) get() webhook.Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.st
}

func (b *statusBox) set(st webhook.Status) {
	b.mu.Lock()
	b.st = st
	b.mu.Unlock()
}

// update changes the status under the lock and returns the new value.
func (b *statusBox) update(f func(*webhook.Status)) webhook.Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	f(&b.st)
	return b.st
}
