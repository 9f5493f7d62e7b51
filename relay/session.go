package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/relay/listen"
	"github.com/vapimon/vapimon/webhook"
)

// Session is one running listener, from Start to Shutdown: the HTTP server and the
// handler, the tunnel, the forwarder, the answers file and its watcher, the tape, the Vapi
// resources pointed at vapimon, and the status a monitor shows. A command builds a Config,
// calls Start, shows the session (StreamJSON, or a TUI through RunUI) until Wait returns
// or the person quits, then calls Shutdown, which answers every caller, puts Vapi back
// and closes the tape, in that order.
type Session struct {
	cfg Config
	say io.Writer

	log       *slog.Logger
	bus       *webhook.Bus
	handler   *webhook.Handler
	answers   *webhook.Answers
	tape      *fixtures.TapeWriter
	tapeCount *tapeCounter
	// tapeCreated says that this session created the tape file (it did not exist).
	tapeCreated bool
	// tapeCloseErr is the error from closing (syncing) the tape, for the exit summary.
	tapeCloseErr error
	status       statusBox
	srv          *http.Server
	tunnel       Tunnel
	forward      *Forwarder
	intercepting atomic.Bool
	vapi         *VapiClient
	listen       *listen.Manager
	vapiState    string
	closers      []func()
	wg           sync.WaitGroup

	// served is closed when the HTTP server stops; serveErr says why (nil after Shutdown).
	served   chan struct{}
	serveErr error
	// reqCtx is the parent of every request's context: cancelReqs makes every request
	// still waiting (for your server, for the operator) get its fallback reply now.
	reqCtx     context.Context
	cancelReqs context.CancelFunc
	// output receives the end of StreamJSON's writer; nil without it.
	output chan error
	// failed receives an error found after Start (the tunnel's public URL turning out to
	// be a --forward-to target): Wait returns it.
	failed chan error
	// sayMu orders what StreamJSON and later tunnel changes tell a person; streaming says
	// that StreamJSON has run (so a headless user hears of ngrok coming online).
	sayMu     sync.Mutex
	streaming bool
}

// NewSession returns a session for cfg; nothing is opened before Start.
func NewSession(cfg Config) *Session {
	say := cfg.Stderr
	if say == nil {
		say = io.Discard
	}
	s := &Session{cfg: cfg, say: say, bus: webhook.NewBus(), served: make(chan struct{}), failed: make(chan error, 1), log: slog.New(slog.DiscardHandler)}
	s.reqCtx, s.cancelReqs = context.WithCancel(context.Background())
	return s
}

// Bus carries everything the session sees (events, outcomes, notices, status, forward and
// tape health) to whoever shows it. It is closed by Shutdown.
func (s *Session) Bus() *webhook.Bus { return s.bus }

// Status is the current status (listen and public URL, tunnel, auth, warnings...).
func (s *Session) Status() webhook.Status { return s.status.get() }

// Answers is the answers file (empty when none was given), for the TUI's suggestions.
func (s *Session) Answers() *webhook.Answers { return s.answers }

// Forwarding reports whether events go on to the developer's server, so that replies can
// be intercepted.
func (s *Session) Forwarding() bool { return s.forward != nil }

// SetIntercepting turns the review of forwarded replies by Config.Interceptor on or off
// (the TUI's i key). It returns at once and is safe while requests are in flight.
func (s *Session) SetIntercepting(on bool) {
	if s.forward == nil || s.cfg.Interceptor == nil {
		return
	}
	s.intercepting.Store(on)
	if on {
		s.forward.SetIntercept(s.cfg.Interceptor)
	} else {
		s.forward.SetIntercept(nil)
	}
}

// Intercepting reports whether forwarded replies are reviewed before they go to Vapi.
func (s *Session) Intercepting() bool { return s.intercepting.Load() }

// Start opens everything, in order: the log, the answers file, the tape, the forwarder,
// the listener and tunnel; then it serves and points the Vapi resources of Config.Vapi at
// the public URL. On error (the port in use, --forward-to pointing at vapimon itself...),
// what was opened is closed again, and a tape this start created that holds nothing is
// removed: an empty tape would become "last".
func (s *Session) Start(ctx context.Context) (err error) {
	cfg := &s.cfg
	s.closers = append(s.closers, s.cancelReqs)
	defer func() {
		if err == nil {
			return
		}
		if s.srv == nil { // once serving, Shutdown has closed everything
			s.close()
		}
		s.removeEmptyTape()
	}()
	if cfg.Forward.Intercept && cfg.Interceptor == nil {
		return errors.New("--intercept needs the TUI (someone has to review the replies): drop --headless, or run in a terminal")
	}
	if err := cfg.check(); err != nil {
		return err
	}
	verifier, err := webhook.NewVerifier(cfg.Auth)
	if err != nil {
		return err
	}
	if err := s.openLog(); err != nil {
		return err
	}
	webhook.WarmReplyChecks(s.log) // compiled in the background before the first reply is judged
	s.answers = webhook.NewAnswers(&webhook.AnswerSet{})
	if cfg.AnswersFile != "" {
		if s.answers, err = webhook.LoadAnswers(cfg.AnswersFile); err != nil {
			return err
		}
	}
	if err := s.openTape(); err != nil {
		return err
	}
	s.openListen() // before the tunnel: nothing of it waits on the network

	var responders []webhook.Responder
	st := webhook.Status{}
	if len(cfg.Forward.Routes) > 0 {
		s.forward = NewForwarder(cfg.Forward.Routes, ForwardOptions{Bus: s.bus, ReplyTimeout: cfg.Forward.Timeout, Raw: cfg.Forward.Raw, Header: cfg.Forward.Header, Insecure: cfg.Forward.Insecure})
		responders = append(responders, s.forward)
		st.Forward, st.ForwardTimeout = s.forward.Describe(), cfg.Forward.Timeout
	}
	if cfg.AnswersFile != "" {
		responders = append(responders, s.answers)
	}
	if cfg.Operator != nil {
		responders = append(responders, cfg.Operator)
	}

	tun, err := s.openTunnel(ctx, &st)
	if err != nil {
		return err
	}
	s.tunnel = tun
	public := st.PublicURL
	if public == "" && cfg.Tunnel.Domain != "" && st.Tunnel == StateConnecting {
		public = endpointURL(cfg.Tunnel.Domain) // known before ngrok connects
	}
	if err := checkLoop(cfg.Forward.Routes, st.ListenURL, public); err != nil {
		_ = tun.Close()
		return err
	}
	st.Mode = cfg.Mode
	st.AuthMode, st.Auth = cfg.Auth.Mode, cfg.Auth.Describe()
	st.Warnings = cfg.warnings()
	if w := cfg.staleTapesWarning(time.Now()); w != "" {
		st.Warnings = append(st.Warnings, w)
	}
	st.ToolTimeout = cfg.ToolTimeout
	if s.tape != nil {
		st.Tape = s.tape.Path()
	}
	if cfg.TunnelNote != "" {
		st.TunnelNote = cfg.TunnelNote
	}
	s.status.set(st)
	if pt, ok := tun.(*pairTunnel); ok {
		s.tunnelChanged(pt.Status()) // what changed while the status was being built
	}

	var rec webhook.Recorder
	if s.tape != nil {
		s.tapeCount = newTapeCounter(s.tape)
		rec = s.tapeCount
		if len(cfg.RecordOnly) > 0 {
			rec = recordOnly{rec: rec, filter: webhook.TypeFilter{Only: cfg.RecordOnly}}
		}
	}
	s.handler = webhook.NewHandler(webhook.Config{
		Verifier:    verifier,
		MaxBody:     cfg.MaxBody,
		MaxInFlight: cfg.MaxInFlight,
		ToolTimeout: cfg.ToolTimeout,
		Responders:  responders,
		Fallback:    s.answers.Fallback,
		Recorder:    rec,
		Bus:         s.bus,
		PublicURL:   func() string { return s.status.get().PublicURL },
		Logger:      s.log,
	})
	s.srv = webhook.NewServer(s.handler, cfg.ToolTimeout, s.log)
	s.srv.BaseContext = func(net.Listener) context.Context { return s.reqCtx }
	s.background("answers watcher", func(ctx context.Context) { s.answers.Watch(ctx, 500*time.Millisecond, s.bus) })
	go s.serve()
	s.log.Info("listening", "listen", st.ListenURL, "public", st.PublicURL, "tunnel", st.Tunnel, "auth", st.Auth, "tape", st.Tape)
	if cfg.Forward.Intercept {
		s.SetIntercepting(true)
	}
	if err := s.pointVapi(ctx); err != nil {
		_ = s.Shutdown(nil)
		return err
	}
	return nil
}

// background runs f in a goroutine of the session: its context ends when the session
// closes, Shutdown waits for it, and a panic in it is reported (RecoverPanic), not fatal.
func (s *Session) background(what string, f func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	s.closers = append(s.closers, cancel)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.RecoverPanic(what)
		f(ctx)
	}()
}

// serve runs the HTTP server until Shutdown, and says on screen if it stops before.
func (s *Session) serve() {
	defer close(s.served)
	defer s.RecoverPanic("server")
	err := s.srv.Serve(s.handler.Listener(s.tunnel.Listener())) // also counts what net/http refuses itself
	if errors.Is(err, http.ErrServerClosed) {
		return
	}
	s.serveErr = err
	if err != nil {
		s.bus.Publish(webhook.Notice{Time: time.Now(), Level: "error", Text: "the HTTP server stopped: " + err.Error() + " (restart vapimon)"})
	}
}

// Wait returns when ctx ends (nil) or the HTTP server stops serving (its error).
func (s *Session) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-s.served:
		return s.serveErr
	case err := <-s.failed:
		return err
	}
}

// tunnelChanged hears of the tunnel's changes after Start (ngrok online with its URL,
// failed and why, reconnecting): it updates and publishes the status; once ngrok is
// online it checks that the public URL is not a --forward-to target, and a headless user
// is told where to point Vapi.
func (s *Session) tunnelChanged(t webhook.Status) {
	s.sayMu.Lock()
	defer s.sayMu.Unlock()
	var prev webhook.Status
	st := s.status.update(func(st *webhook.Status) {
		prev = *st
		st.PublicURL, st.Tunnel = t.PublicURL, t.Tunnel
		if s.cfg.TunnelNote == "" {
			st.TunnelNote = t.TunnelNote
		}
	})
	if st.ListenURL == "" {
		return // Start has not set the status yet: it calls again when it has
	}
	s.bus.Publish(st)
	switch {
	case t.PublicURL != "" && t.PublicURL != prev.PublicURL:
		if err := checkLoop(s.cfg.Forward.Routes, st.ListenURL, t.PublicURL); err != nil {
			s.bus.Publish(webhook.Notice{Time: time.Now(), Level: "error", Text: err.Error()})
			select {
			case s.failed <- err:
			default:
			}
			return
		}
		if s.streaming {
			fmt.Fprintf(s.say, "vapimon: ngrok is online: paste this server URL into Vapi: %s\n", t.PublicURL)
		}
	case t.Tunnel != prev.Tunnel && s.streaming && t.TunnelNote != "":
		fmt.Fprintf(s.say, "vapimon: %s\n", t.TunnelNote)
	}
}

func (s *Session) openLog() error {
	path := s.cfg.LogFile
	if path == "" {
		dir, err := fixtures.MakeStateDir()
		if err != nil {
			return err
		}
		path = filepath.Join(dir, "vapimon.log")
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	s.log = slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s.closers = append(s.closers, func() { _ = f.Close() })
	return nil
}

// removeEmptyTape removes the tape after a failed Start when this start created it and
// nothing was written to it; a tape that existed before (--record FILE) or holds a line
// is kept.
func (s *Session) removeEmptyTape() {
	if s.tape == nil || !s.tapeCreated || s.tape.Stats().Lines > 0 {
		return
	}
	if fi, err := os.Lstat(s.tape.Path()); err == nil && fi.Mode().IsRegular() && fi.Size() == 0 {
		_ = os.Remove(s.tape.Path())
	}
}

func (s *Session) openTape() error {
	if s.cfg.NoTape {
		return nil
	}
	path := s.cfg.TapePath
	if path == "" {
		var err error
		if path, err = fixtures.DefaultTapePath(time.Now()); err != nil {
			return err
		}
	}
	_, statErr := os.Stat(filepath.Dir(path))
	_, fileErr := os.Lstat(path)
	tape, err := fixtures.OpenTape(path)
	if err != nil {
		return fmt.Errorf("tape: %w", err)
	}
	s.tape = tape
	s.tapeCreated = errors.Is(fileErr, os.ErrNotExist)
	if s.cfg.TapePath != "" && os.IsNotExist(statErr) {
		fmt.Fprintf(s.say, "vapimon: created %s for the tape\n", filepath.Dir(path))
	}
	if n := tape.Repaired(); n > 0 {
		fmt.Fprintf(s.say, "vapimon: %s ended in a torn line (%d bytes, a crash mid-write?): repaired\n", path, n)
	}
	return nil
}

// openTunnel starts listening (locally, plus ngrok when a token is set) and fills st with
// where; later tunnel changes are published on the bus.
func (s *Session) openTunnel(ctx context.Context, st *webhook.Status) (Tunnel, error) {
	t := s.cfg.Tunnel
	lc := ListenConfig{Addr: s.cfg.Addr, NoTunnel: t.NoTunnel, PublicURL: t.PublicURL}
	lc.Ngrok = NgrokOptions{
		Authtoken: t.Authtoken,
		Domain:    t.Domain,
		Logger:    s.log,
	}
	lc.OnChange = s.tunnelChanged
	if t.ngrokOptions != nil {
		lc.Ngrok = t.ngrokOptions(lc.Ngrok)
	}
	lc.Ngrok.TrafficPolicy = t.trafficPolicy // read and checked by Config.check
	tun, where, err := ResolveListen(ctx, lc)
	if err != nil {
		return nil, err
	}
	st.ListenURL, st.PublicURL, st.Tunnel, st.TunnelNote = where.ListenURL, where.PublicURL, where.Tunnel, where.TunnelNote
	return tun, nil
}

// pointVapi points the assistants, phone numbers and tools of Config.Vapi at the public
// URL, saving their previous server settings first so that Shutdown (or `vapimon
// restore` after a crash) puts them back.
func (s *Session) pointVapi(ctx context.Context) error {
	v := s.cfg.Vapi
	if len(v.Targets) == 0 {
		return nil
	}
	if pt, ok := s.tunnel.(*pairTunnel); ok { // pointing needs the public URL: wait for ngrok
		select {
		case <-pt.Ready():
		case <-ctx.Done():
			return fmt.Errorf("cannot point Vapi at vapimon: %w", ctx.Err())
		}
	}
	st := s.status.get()
	public := st.PublicURL
	if public == "" && st.Tunnel == StateFailed {
		return fmt.Errorf("cannot point Vapi at vapimon: %s", st.TunnelNote)
	}
	if err := CheckReachable(public); err != nil {
		return fmt.Errorf("cannot point Vapi at vapimon: %w", err)
	}
	c, err := NewVapiClient(v.APIKey, v.BaseURL)
	if err != nil {
		return fmt.Errorf("cannot point Vapi at vapimon: %w", err)
	}
	s.vapiState = v.StatePath
	if s.vapiState == "" {
		if s.vapiState, err = DefaultStatePath(); err != nil {
			return fmt.Errorf("cannot point Vapi at vapimon: %w", err)
		}
	}
	saved, err := c.Point(ctx, v.Targets, public, s.vapiState)
	s.vapi = c // restore whatever was changed, even after a partial failure
	if err != nil {
		return err
	}
	for _, sv := range saved {
		msg := fmt.Sprintf("pointed %s at %s (restored on exit; after a crash run `vapimon restore`)", sv.Target, public)
		fmt.Fprintln(s.say, "vapimon:", msg)
		s.bus.Publish(webhook.Notice{Time: time.Now(), Level: "info", Text: msg})
	}
	return nil
}

// RecoverPanic, deferred first in every goroutine the session (or its caller) starts,
// turns a panic into a logged error and a notice on screen instead of a crash that
// leaves the terminal raw.
func (s *Session) RecoverPanic(what string) {
	if p := recover(); p != nil {
		s.log.Error("panic", "in", what, "panic", p, "stack", string(debug.Stack()))
		s.bus.Publish(webhook.Notice{Time: time.Now(), Level: "error", Text: fmt.Sprintf("internal error in %s: %v (details in the log file)", what, p)})
	}
}

// StreamJSON prints the session on w as JSON lines (webhook.WriteHeadless), beginning
// with the status, and tells a person on Config.Stderr where to point Vapi and what to
// know first (the warnings, also sent as notices). Shutdown waits for the lines still
// queued, within reason.
func (s *Session) StreamJSON(w io.Writer) {
	sub := s.bus.Subscribe(1 << 16)
	s.sayMu.Lock()
	defer s.sayMu.Unlock()
	s.streaming = true
	st := s.status.get()
	s.bus.Publish(st)
	s.output = make(chan error, 1)
	go func() {
		err := fmt.Errorf("headless output stopped")
		defer func() { s.output <- err }()
		defer s.RecoverPanic("headless output")
		err = webhook.WriteHeadlessWith(context.Background(), w, sub, s.bus, s.cfg.Headless)
	}()
	printBanner(s.say, st)
	for _, w := range st.Warnings {
		fmt.Fprintln(s.say, "vapimon: warning:", w)
		s.bus.Publish(webhook.Notice{Time: time.Now(), Level: "warn", Text: w})
	}
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
