package listen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/vapimon/vapimon/webhook"
)

// State is where a call's listen stream stands.
type State string

// States of a listened call.
const (
	StateOff        State = ""           // not listened
	StateWaiting    State = "waiting"    // asked for, no listen URL seen yet
	StateConnecting State = "connecting" // handshake in progress (or waiting to retry)
	StateLive       State = "live"       // audio is flowing
	StateEnded      State = "ended"      // the stream or the call ended
	StateFailed     State = "failed"     // gave up (Note says why)
)

// Update is published on the bus for a listened call whenever its state changes, and
// every publishEvery while audio flows. It is plain data; Note is a sentence for a person
// (it may quote a listen URL's host, so show it sanitised).
type Update struct {
	CallID string
	State  State
	Note   string
	Format Format
	Levels Levels
	// File is the call's recording ("" when not recording); RecordErr says why recording
	// stopped (disk full), the call goes on.
	File      string
	RecordErr string
	// Bytes and Frames count the audio received; TextFrames the JSON messages.
	Bytes      int64
	Frames     uint64
	TextFrames uint64
	// NoAudio is how long no frame has come while connected (a stall), 0 otherwise.
	NoAudio time.Duration
	// Attempts is the number of connections tried.
	Attempts int
	// Playing is true while this call's audio goes to the player; PlayErr says why the
	// player is not playing it (it did not start, or stopped).
	Playing bool
	PlayErr string
	// Replayed is true for audio played from a recording (offline replay), not live.
	Replayed bool
}

// Recorder notes a recording on the tape (fixtures.TapeWriter.WriteAudio through an
// adapter), so that the tape names the WAV file of each call.
type Recorder interface {
	RecordAudio(callID, file string, f Format, at time.Time) error
}

// Config configures a Manager.
type Config struct {
	// All listens to every call whose events carry a listen URL (--listen); otherwise only
	// the calls asked for with Toggle.
	All bool
	// PublicKey is the Vapi public API key, sent as a Bearer token when a call's monitor
	// plan has listenAuthenticationEnabled (or the listen URL asks for it with a 401).
	// Never printed or recorded.
	PublicKey string
	// Dir is where recordings go (the tape's directory) and TapePath names them; Dir ""
	// records nothing (meters and playback still work).
	Dir      string
	TapePath string
	// Tape is told about each recording; nil for none.
	Tape Recorder
	// Bus receives Updates and Notices.
	Bus *webhook.Bus
	// Player plays a call's audio (Play); nil when none was found or asked for.
	Player *Player
	// NoPlayer says why Player is nil (no player found on PATH), for the key that plays.
	NoPlayer string
	// Quiet publishes no notice when a stream goes live or ends (the TUI's meter shows
	// it; headless output needs the notices); failures are always noticed.
	Quiet bool
	// PlayAll starts playback for the first call listened (--play).
	PlayAll bool
	// Backoff is the wait before retry n after a failure; nil for 0.5 s doubling to 8 s.
	Backoff func(n int) time.Duration
	// HTTPClient dials the listen URLs; nil for a default one.
	HTTPClient *http.Client
	Log        *slog.Logger
}

// Manager listens to calls' audio beside the webhook path: it reads the events (from
// its own bus subscription, never from the handler), connects to the listen URLs it is
// asked to, and publishes what it hears. Every goroutine it starts is stopped by Close.
type Manager struct {
	cfg    Config
	log    *slog.Logger
	client *http.Client
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	calls   map[string]*call
	order   []string // call ids, oldest first, to forget ended calls past maxCalls
	playing string   // call id whose audio goes to the player
	closed  bool
}

// maxCalls bounds the calls remembered (each costs a few hundred bytes when not listened).
const maxCalls = 512

// call is one call the manager knows of.
type call struct {
	id        string
	url       string
	needsKey  bool
	wanted    bool // listen asked for (Toggle or All)
	ended     bool // end-of-call-report or status ended seen
	running   bool
	cancel    context.CancelFunc
	done      chan struct{}
	last      Update
	lastFrame time.Time
}

// NewManager returns a manager; Run feeds it events.
func NewManager(cfg Config) *Manager {
	m := &Manager{cfg: cfg, log: cfg.Log, client: cfg.HTTPClient, calls: map[string]*call{}}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.cfg.Backoff == nil {
		m.cfg.Backoff = backoff
	}
	if m.client == nil {
		m.client = &http.Client{Timeout: 0}
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	if cfg.Dir != "" {
		if fixed, err := RepairWAVs(cfg.Dir); len(fixed) > 0 || err != nil {
			for _, f := range fixed {
				m.notice("info", fmt.Sprintf("recording %s was not closed (a crash?): its header is repaired", f))
			}
			if err != nil {
				m.notice("warn", "repairing recordings: "+err.Error())
			}
		}
	}
	return m
}

// Run reads events from sub (a bus subscription of its own) until it closes or ctx ends,
// then stops every stream. It also publishes stall notes once a second.
func (m *Manager) Run(ctx context.Context, sub <-chan any) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	defer m.Close()
	// After the queue empties the manager rests for restFor while the bus queues what
	// comes: under load it wakes a few hundred times a second, not once a request, and a
	// call's stream starts at most restFor later.
	rest := time.NewTimer(time.Hour)
	rest.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.ctx.Done():
			return
		case v, ok := <-sub:
			if !ok {
				return
			}
			if ev, isEv := v.(*webhook.Event); isEv {
				m.observe(ev)
			}
			if len(sub) == 0 {
				rest.Reset(restFor)
				select {
				case <-ctx.Done():
				case <-m.ctx.Done():
				case <-rest.C:
				}
			}
		case <-tick.C:
			m.checkStalls()
		}
	}
}

// observe learns a call's listen URL and end from one event.
func (m *Manager) observe(ev *webhook.Event) {
	if ev.Msg == nil || ev.Msg.Call.ID == "" {
		return
	}
	id := ev.Msg.Call.ID
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	c := m.callLocked(id)
	if u := ev.Msg.Call.Monitor.ListenURL; u != "" && c.url == "" {
		c.url = u
	}
	if needsKey(ev.Body) {
		c.needsKey = true
	}
	switch {
	case ev.Msg.Type == webhook.TypeEndOfCallReport,
		ev.Msg.Type == webhook.TypeStatusUpdate && ev.Msg.Status == "ended":
		c.ended = true
		if c.running {
			// Vapi closes the stream when the call ends; give it a moment to deliver the
			// last frames, then stop.
			cancel := c.cancel
			time.AfterFunc(2*time.Second, cancel)
		}
		return
	}
	if m.cfg.All && !c.wanted {
		c.wanted = true
	}
	m.startLocked(c)
}

func (m *Manager) callLocked(id string) *call {
	c := m.calls[id]
	if c != nil {
		return c
	}
	c = &call{id: id}
	m.calls[id] = c
	m.order = append(m.order, id)
	for len(m.order) > maxCalls {
		old := m.calls[m.order[0]]
		if old != nil && old.running {
			break
		}
		delete(m.calls, m.order[0])
		m.order = m.order[1:]
	}
	return c
}

// restFor is how long Run rests once it has read all that was queued.
const restFor = 5 * time.Millisecond

// needsKey reports whether a message's assistant (or the call's overrides) turns on
// listen authentication.
func needsKey(body []byte) bool {
	if !bytes.Contains(body, []byte(`"listenAuthenticationEnabled"`)) {
		return false
	}
	type plan struct {
		MonitorPlan struct {
			ListenAuthenticationEnabled bool `json:"listenAuthenticationEnabled"`
		} `json:"monitorPlan"`
	}
	var b struct {
		Message struct {
			Assistant plan `json:"assistant"`
			Call      struct {
				Assistant          plan `json:"assistant"`
				AssistantOverrides plan `json:"assistantOverrides"`
			} `json:"call"`
		} `json:"message"`
	}
	if json.Unmarshal(body, &b) != nil {
		return false
	}
	mm := b.Message
	return mm.Assistant.MonitorPlan.ListenAuthenticationEnabled || mm.Call.Assistant.MonitorPlan.ListenAuthenticationEnabled ||
		mm.Call.AssistantOverrides.MonitorPlan.ListenAuthenticationEnabled
}

// Toggle starts or stops listening to a call (the TUI's key). It returns at once and
// says whether the call is now listened.
func (m *Manager) Toggle(callID string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || callID == "" {
		return false
	}
	c := m.callLocked(callID)
	if c.wanted {
		c.wanted = false
		if c.running {
			c.cancel()
		}
		m.setLocked(c, func(u *Update) { u.State, u.Note = StateOff, "stopped listening" })
		return false
	}
	c.wanted = true
	if !m.startLocked(c) {
		note := "waiting for an event with the call's monitor.listenUrl"
		if c.ended {
			note = "the call has ended"
		}
		m.setLocked(c, func(u *Update) { u.State, u.Note = StateWaiting, note })
	}
	return true
}

// Listening reports whether callID is listened.
func (m *Manager) Listening(callID string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.calls[callID]
	return c != nil && c.wanted
}

// startLocked starts the call's stream if it is wanted, has a URL and is not running.
func (m *Manager) startLocked(c *call) bool {
	if !c.wanted || c.running || c.url == "" || c.ended {
		return false
	}
	ctx, cancel := context.WithCancel(m.ctx)
	c.running, c.cancel, c.done = true, cancel, make(chan struct{})
	if m.cfg.PlayAll && m.playing == "" && m.cfg.Player != nil {
		m.playing = c.id
	}
	m.wg.Add(1)
	go m.stream(ctx, c, c.url, c.needsKey)
	return true
}

// setLocked changes a call's last update and publishes it.
func (m *Manager) setLocked(c *call, f func(*Update)) {
	prev := c.last.State
	c.last.CallID = c.id
	f(&c.last)
	c.last.Playing = m.playing == c.id
	m.cfg.Bus.Publish(c.last)
	if u := c.last; u.State != prev {
		if text, level := transitionNotice(u); text != "" && (!m.cfg.Quiet || u.State == StateFailed) {
			m.notice(level, text)
		}
	}
}

// transitionNotice is the notice for a call's listen stream going live, failing or
// ending (headless output prints notices; the TUI shows them too).
func transitionNotice(u Update) (text, level string) {
	who := "call " + clip(u.CallID, 12)
	switch u.State {
	case StateLive:
		if u.File != "" {
			return who + ": listening to its audio (" + u.Format.String() + "), recording to " + u.File, "info"
		}
		return who + ": listening to its audio (" + u.Format.String() + ")", "info"
	case StateFailed:
		return who + ": cannot listen: " + u.Note, "warn"
	case StateEnded:
		text = who + ": listen stream ended: " + u.Note
		if n := len(u.Levels.Latencies); n > 0 {
			var sum time.Duration
			for _, d := range u.Levels.Latencies {
				sum += d
			}
			text += fmt.Sprintf("; %d turn gaps, avg %.2fs", u.Levels.Turns, (sum / time.Duration(n)).Seconds())
		}
		if u.File != "" {
			text += "; audio in " + u.File
		}
		return text, "info"
	}
	return "", ""
}

func (m *Manager) set(c *call, f func(*Update)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.setLocked(c, f)
}

func (m *Manager) notice(level, text string) {
	m.cfg.Bus.Publish(webhook.Notice{Time: time.Now(), Level: level, Text: text})
}

// checkStalls publishes "no audio for …" for live calls whose frames stopped.
func (m *Manager) checkStalls() {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	for _, c := range m.calls {
		if c.running && c.last.State == StateLive && now.Sub(c.lastFrame) >= stallAfter {
			d := now.Sub(c.lastFrame).Truncate(time.Second)
			m.setLocked(c, func(u *Update) {
				u.NoAudio = d
				u.Note = fmt.Sprintf("no audio for %s (the stream is open; reconnecting after %s)", d, idleTimeout)
			})
		}
	}
}

// Close stops every stream and waits for them; recordings are finalised.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()
	if m.cfg.Player != nil {
		m.cfg.Player.Stop()
	}
}

// stream runs one call's listen connection, reconnecting within the limits, until the
// stream ends, the call ends, or listening is stopped.
func (m *Manager) stream(ctx context.Context, c *call, rawURL string, needKey bool) {
	defer m.wg.Done()
	defer func() {
		if p := recover(); p != nil {
			m.log.Error("panic", "in", "listen stream", "panic", p, "stack", string(debug.Stack()))
			m.notice("error", fmt.Sprintf("internal error in the listen stream of %s: %v (the call goes on)", clip(c.id, 12), p))
			m.mu.Lock()
			c.running = false
			m.mu.Unlock()
		}
	}()
	s := &session{m: m, c: c}
	state, note := s.run(ctx, rawURL, needKey)
	// The recording is closed (its header written) before the last update says so.
	s.closeRecording()
	m.mu.Lock()
	c.running = false
	c.cancel()
	close(c.done)
	stopPlayer := m.playing == c.id && m.cfg.Player != nil
	m.mu.Unlock()
	if stopPlayer { // outside the lock: the player may take a moment to drain
		m.cfg.Player.Stop()
	}
	// The last update comes once the recording is closed and the player has all the audio.
	m.set(c, func(up *Update) {
		up.State, up.Note, up.RecordErr = state, note, s.recErr
	})
}

// run connects and reconnects within the limits; it returns the final state and why.
func (s *session) run(ctx context.Context, rawURL string, needKey bool) (State, string) {
	m, c := s.m, s.c
	u, err := checkURL(rawURL)
	if err != nil {
		return StateFailed, err.Error()
	}
	failures := 0
	for attempt := 1; ; attempt++ {
		if attempt > maxConnects {
			return StateFailed, fmt.Sprintf("gave up after %d connections", maxConnects)
		}
		key := ""
		if needKey && m.cfg.PublicKey != "" {
			if !keyAllowed(u) {
				return StateFailed, fmt.Sprintf("not sending your public key to %s: not a Vapi host (wss://*.vapi.ai)", clip(u.Host, 60))
			}
			key = m.cfg.PublicKey
		}
		if needKey && m.cfg.PublicKey == "" {
			return StateFailed, "the assistant's monitorPlan.listenAuthenticationEnabled is on: set VAPI_PUBLIC_KEY (your public API key) to listen"
		}
		m.set(c, func(up *Update) {
			up.State, up.Attempts = StateConnecting, attempt
			up.Note = "connecting to " + clip(u.Host, 60)
		})
		conn, resp, err := connect(ctx, m.client, u, key)
		if ctx.Err() != nil {
			return StateEnded, endNote(c)
		}
		if err != nil {
			note, auth := dialError(err, resp, key != "")
			if auth && key == "" && m.cfg.PublicKey != "" && keyAllowed(u) {
				needKey = true // the URL asks for the key though no payload said so
				continue
			}
			failures++
			if auth {
				return StateFailed, note
			}
			if failures >= maxFailures {
				return StateFailed, fmt.Sprintf("%s (gave up after %d attempts)", note, failures)
			}
			wait := m.cfg.Backoff(failures)
			m.set(c, func(up *Update) {
				up.State, up.Note = StateConnecting, fmt.Sprintf("%s; retry %d of %d in %s", note, failures, maxFailures-1, wait)
			})
			if !sleep(ctx, wait) {
				return StateEnded, endNote(c)
			}
			continue
		}
		got, err := s.read(ctx, conn)
		_ = conn.CloseNow()
		if got {
			failures = 0
		}
		switch {
		case ctx.Err() != nil:
			return StateEnded, endNote(c)
		case closedNormally(err):
			return StateEnded, "the listen stream ended (the call ended)"
		}
		failures++
		note := readError(err)
		if failures >= maxFailures {
			return StateFailed, fmt.Sprintf("%s (gave up after %d attempts)", note, failures)
		}
		wait := m.cfg.Backoff(failures)
		m.set(c, func(up *Update) {
			up.State, up.Note = StateConnecting, fmt.Sprintf("%s; reconnecting in %s", note, wait)
		})
		if !sleep(ctx, wait) {
			return StateEnded, endNote(c)
		}
	}
}

func endNote(c *call) string {
	if c.ended {
		return "the call ended"
	}
	return "stopped listening"
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// session is the audio state of one listened call across its reconnects: the format, the
// analyser, the recording and the counters. Only the stream goroutine touches it.
type session struct {
	m       *Manager
	c       *call
	format  Format
	an      *analyzer
	wav     *WAVWriter
	part    int
	recErr  string
	carry   []byte // a sample frame split across two frames
	bytes   int64
	frames  uint64
	texts   uint64
	notes   string
	lastPub time.Time
	buf     []byte
}

// read consumes one connection until it fails; got says whether any audio came.
func (s *session) read(ctx context.Context, conn *websocket.Conn) (got bool, err error) {
	if s.buf == nil {
		s.buf = make([]byte, 0, 8<<10)
	}
	if s.an == nil {
		s.setFormat(DefaultFormat)
	}
	s.m.set(s.c, func(u *Update) {
		u.State, u.Note, u.Format = StateLive, "connected: waiting for audio", s.format
		if s.wav != nil {
			u.File = s.wav.Path()
		}
	})
	// One watchdog per connection, pushed back by every frame: a listen URL that stops
	// sending is closed after idleTimeout (and reconnected), without a timer per frame.
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	idle := time.AfterFunc(idleTimeout, func() { cancel(errIdle) })
	defer idle.Stop()
	// Reads get a context that is never done (coder/websocket then sets no timer per
	// read); ending the connection's context closes the connection, which ends the read.
	stop := context.AfterFunc(cctx, func() { _ = conn.CloseNow() })
	defer stop()
	for {
		typ, data, err := readFrame(context.Background(), conn, s.buf)
		s.buf = data[:0]
		if err != nil {
			s.publish() // the final figures, before the state changes
			if cause := context.Cause(cctx); errors.Is(cause, errIdle) {
				err = errIdle
			}
			return got, err
		}
		idle.Reset(idleTimeout)
		now := time.Now()
		switch typ {
		case websocket.MessageText:
			s.texts++
			f, isStart, _, perr := parseText(data)
			switch {
			case perr != nil:
				s.notes = perr.Error() + " (ignored)"
			case isStart && f != s.format:
				s.setFormat(f)
			}
		case websocket.MessageBinary:
			got = true
			s.audio(data)
		}
		s.m.mu.Lock()
		s.c.lastFrame = now
		s.m.mu.Unlock()
		if now.Sub(s.lastPub) >= publishEvery {
			s.lastPub = now
			s.publish()
		}
	}
}

// setFormat starts analysing (and recording) in format f; a change mid-call starts a new
// recording part, since a WAV file has one format.
func (s *session) setFormat(f Format) {
	s.format = f
	s.an = newAnalyzer(f)
	s.carry = s.carry[:0]
	if s.wav != nil {
		s.closeRecording()
	}
	s.openRecording()
}

func (s *session) openRecording() {
	cfg := s.m.cfg
	if cfg.Dir == "" || s.recErr != "" {
		return
	}
	for tries := 0; tries < 100; tries++ {
		s.part++
		path := filepath.Join(cfg.Dir, WAVName(cfg.TapePath, s.c.id, s.part))
		w, err := CreateWAV(path, s.format)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			s.recErr = err.Error()
			s.m.notice("error", fmt.Sprintf("call %s: %s: not recording, the call goes on", clip(s.c.id, 12), s.recErr))
			return
		}
		s.wav = w
		if cfg.Tape != nil {
			if err := cfg.Tape.RecordAudio(s.c.id, filepath.Base(path), s.format, time.Now()); err != nil {
				s.m.notice("warn", fmt.Sprintf("call %s: the tape could not note the recording %s: %v", clip(s.c.id, 12), filepath.Base(path), err))
			}
		}
		return
	}
}

func (s *session) closeRecording() {
	if s.wav == nil {
		return
	}
	if err := s.wav.Close(); err != nil && s.recErr == "" {
		s.recErr = "closing the recording: " + err.Error()
	}
	s.wav = nil
}

// audio handles one binary frame: whole sample frames are analysed, recorded and played;
// a split sample frame waits for the next.
func (s *session) audio(data []byte) {
	fb := s.format.frameBytes()
	if len(s.carry) > 0 {
		need := fb - len(s.carry)
		if len(data) < need {
			s.carry = append(s.carry, data...)
			return
		}
		s.carry = append(s.carry, data[:need]...)
		s.sink(s.carry)
		s.carry = s.carry[:0]
		data = data[need:]
	}
	whole := len(data) - len(data)%fb
	if whole > 0 {
		s.sink(data[:whole])
	}
	s.carry = append(s.carry, data[whole:]...)
}

func (s *session) sink(pcm []byte) {
	s.bytes += int64(len(pcm))
	s.frames++
	s.an.write(pcm)
	if s.wav != nil {
		if _, err := s.wav.Write(pcm); err != nil {
			s.recErr = "recording stopped: " + err.Error()
			s.m.notice("error", fmt.Sprintf("call %s: %s (the call goes on, the meters too)", clip(s.c.id, 12), s.recErr))
			s.closeRecording()
		}
	}
	if p := s.m.cfg.Player; p != nil && s.isPlaying() {
		p.Feed(s.c.id, s.format, pcm)
	}
}

func (s *session) isPlaying() bool {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	return s.m.playing == s.c.id
}

func (s *session) publish() {
	lv := s.an.levels()
	s.m.set(s.c, func(u *Update) {
		u.State, u.Format, u.Levels = StateLive, s.format, lv
		u.Bytes, u.Frames, u.TextFrames = s.bytes, s.frames, s.texts
		u.RecordErr, u.NoAudio = s.recErr, 0
		u.PlayErr = ""
		if p := s.m.cfg.Player; p != nil && s.m.playing == s.c.id {
			u.PlayErr = p.Err()
		}
		if s.wav != nil {
			u.File = s.wav.Path()
		}
		u.Note = s.notes
		if u.Note == "" {
			u.Note = "live"
		}
	})
}

// TogglePlay sends callID's audio to the player, or stops it when it already plays. It
// returns whether the call now plays and, when it cannot, why.
func (m *Manager) TogglePlay(callID string) (bool, string) {
	if m.cfg.Player == nil {
		return false, m.noPlayer()
	}
	m.mu.Lock()
	if m.playing == callID {
		m.playing = ""
		m.mu.Unlock()
		m.cfg.Player.Stop()
		return false, ""
	}
	m.playing = callID
	m.mu.Unlock()
	m.cfg.Player.Stop() // the next frame of callID starts it
	m.cfg.Player.retry()
	return true, ""
}

// noPlayer is why nothing can play.
func (m *Manager) noPlayer() string {
	if m.cfg.NoPlayer != "" {
		return m.cfg.NoPlayer
	}
	return "no audio player: pass --play or --player 'CMD'"
}

// Player is the player, nil when none.
func (m *Manager) Player() *Player { return m.cfg.Player }

// ToggleMute mutes or unmutes one side of the playback.
func (m *Manager) ToggleMute(s Side) (bool, string) {
	if m.cfg.Player == nil {
		return false, m.noPlayer()
	}
	return m.cfg.Player.ToggleMute(s), ""
}

// Volume changes the playback volume by delta percent (0 to 200) and returns it.
func (m *Manager) Volume(delta int) (int, string) {
	if m.cfg.Player == nil {
		return 0, m.noPlayer()
	}
	return m.cfg.Player.SetVolume(m.cfg.Player.Volume() + delta), ""
}
