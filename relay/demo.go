package relay

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/fixtures/sim"
	"github.com/vapimon/vapimon/webhook"
)

// DemoConfig is the session of `vapimon demo` and of `vapimon simulate` into the monitor:
// local only (127.0.0.1, no tunnel), HMAC with a fresh secret, the answers file at
// answersFile, or answersData written to the state directory as demo-answers.yaml.
func DemoConfig(answersFile string, answersData []byte, toolTimeout time.Duration, note string, stderr io.Writer) (Config, error) {
	if answersFile == "" && answersData != nil {
		dir, err := fixtures.MakeStateDir()
		if err != nil {
			return Config{}, err
		}
		answersFile = filepath.Join(dir, "demo-answers.yaml")
		if err := os.WriteFile(answersFile, answersData, 0o600); err != nil {
			return Config{}, fmt.Errorf("demo answers: %w", err)
		}
	}
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	auth, err := webhook.AuthConfig{Mode: webhook.AuthHMAC, Secrets: []string{hex.EncodeToString(secret)}}.Normalize()
	if err != nil {
		return Config{}, err
	}
	if toolTimeout <= 0 {
		toolTimeout = webhook.DefaultToolTimeout
	}
	return Config{
		Mode:        webhook.ModeDemo,
		Addr:        "127.0.0.1:0",
		Auth:        auth,
		MaxBody:     webhook.DefaultMaxBody,
		MaxInFlight: webhook.DefaultMaxInFlight,
		ToolTimeout: toolTimeout,
		AnswersFile: answersFile,
		Tunnel:      TunnelConfig{NoTunnel: true},
		TunnelNote:  note,
		Stderr:      stderr,
		Audio:       AudioConfig{All: true}, // the simulated call's audio (fixtures/audiosim)
	}, nil
}

// DemoOptions says how `vapimon demo`, and `vapimon simulate SCRIPT` without --to, play a
// call into the monitor.
type DemoOptions struct {
	// Speed is the call's pace (2 = twice as fast); ToolTimeout the tools' timeoutSeconds.
	Speed       float64
	ToolTimeout time.Duration
	// AnswersFile answers some requests, or AnswersData written to the state directory.
	AnswersFile string
	AnswersData []byte
	// Note starts the status line ("demo: ").
	Note string
	// Terminal says whether stdin and stdout are terminals: the monitor needs both.
	Terminal bool
	Stderr   io.Writer
}

// Demo is a local session and the call to play into it once it listens.
type Demo struct {
	Config Config
	Feed   func(context.Context, *Session)
	ctl    *sim.ControlServer
}

// Close stops the simulated call's control URL.
func (d *Demo) Close() {
	if d.ctl != nil {
		_ = d.ctl.Close()
	}
}

// NewSimulation is the session and player of a simulated call of sc, with a control URL
// that obeys the monitor's a key.
func NewSimulation(sc *sim.Script, o DemoOptions) (*Demo, error) {
	if !o.Terminal {
		return nil, fmt.Errorf("the monitor needs a terminal. Without one, drive a listener:\n  vapimon listen --headless &\n  vapimon simulate %s --to http://127.0.0.1:4242/", sc.Name)
	}
	cfg, err := DemoConfig(o.AnswersFile, o.AnswersData, o.ToolTimeout, o.Note+"simulating the "+sc.Name+" call to this local port (nothing leaves this machine; a key acts on the call)", o.Stderr)
	if err != nil {
		return nil, err
	}
	ctl, err := sim.StartControl("")
	if err != nil {
		return nil, err
	}
	return &Demo{Config: cfg, ctl: ctl, Feed: func(ctx context.Context, s *Session) {
		s.PlayScript(ctx, sc, sim.Config{Speed: o.Speed, Control: ctl, ToolTimeout: o.ToolTimeout})
	}}, nil
}

// NewDemo is `vapimon demo --scenario scenario`: a built-in script is simulated (it reacts
// to your answers and controls); a recorded scenario plays as recorded.
func NewDemo(scenario string, o DemoOptions) (*Demo, error) {
	if err := fixtures.CheckSpeed(o.Speed); err != nil {
		return nil, err
	}
	if err := fixtures.CheckToolTimeout(o.ToolTimeout); err != nil {
		return nil, err
	}
	if sc, err := sim.Load(scenario); err == nil {
		o.Note = "demo: "
		return NewSimulation(sc, o)
	} else if fx, ok := fixtures.Lookup(scenario); !ok || fx.Kind != fixtures.KindScenario {
		return nil, err
	}
	if !o.Terminal {
		return nil, fmt.Errorf("demo needs a terminal (it opens the monitor). Without one, try:\n  vapimon listen --headless &\n  vapimon replay %s --to http://127.0.0.1:4242/", scenario)
	}
	recs, err := fixtures.LoadScenario(scenario)
	if err != nil {
		return nil, err
	}
	if recs, err = fixtures.WithToolTimeout(recs, o.ToolTimeout); err != nil {
		return nil, err
	}
	cfg, err := DemoConfig(o.AnswersFile, o.AnswersData, o.ToolTimeout, "demo: playing the recorded "+scenario+" scenario to this local port (a recording: it does not react to your answers)", o.Stderr)
	if err != nil {
		return nil, err
	}
	return &Demo{Config: cfg, Feed: func(ctx context.Context, s *Session) { s.PlayRecording(ctx, recs, o.Speed) }}, nil
}

// webhookURL is where a feed posts to the session.
func (s *Session) webhookURL() string {
	return strings.TrimRight(s.Status().ListenURL, "/") + "/vapi/webhook"
}

// startDelay lets the monitor draw before a feed's call starts.
const startDelay = 800 * time.Millisecond

func waitStart(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(startDelay):
		return true
	}
}

// PlayScript plays a simulated call into the session (signed with its own auth) and says
// on its bus how it ended. cfg.To and cfg.Auth are filled in.
func (s *Session) PlayScript(ctx context.Context, sc *sim.Script, cfg sim.Config) {
	if !waitStart(ctx) {
		return
	}
	cfg.To, cfg.Auth = s.webhookURL(), s.cfg.Auth
	if as := s.audioSim(); as != nil { // the call streams audio that follows its turns
		defer as.Close()
		cfg.ListenURL, cfg.OnSpeak, cfg.OnEnd = as.ListenURL, as.Speak, as.End
	}
	rep, err := sim.Run(ctx, sc, cfg)
	switch {
	case ctx.Err() != nil:
	case err != nil:
		s.Bus().Publish(webhook.Notice{Time: time.Now(), Level: "error", Text: "simulator: " + err.Error()})
	default:
		s.Bus().Publish(webhook.Notice{Time: time.Now(), Level: "info", Text: fmt.Sprintf("simulated call ended (%s): %d events in %s. Browse with tab and the arrows; q quits.", rep.EndedReason, rep.Sent, rep.Elapsed.Round(time.Second))})
	}
}

// PlayRecording replays recorded requests into the session at their pace (a recording:
// it does not react) and says on its bus how it went.
func (s *Session) PlayRecording(ctx context.Context, recs []fixtures.Record, speed float64) {
	if !waitStart(ctx) {
		return
	}
	r := &fixtures.Replayer{Sender: fixtures.Sender{To: s.webhookURL(), Auth: s.cfg.Auth}, Speed: speed}
	recs = fixtures.Freshen(recs, time.Now())
	if as := s.audioSim(); as != nil { // audio that follows the recording's speech-updates
		defer as.Close()
		var onSent func(int)
		recs, onSent = as.Follow(recs, speed)
		r.Progress = func(_, _ int, last fixtures.Result) { onSent(last.Index) }
	}
	sum, err := r.Run(ctx, recs)
	switch {
	case ctx.Err() != nil:
	case err != nil:
		s.Bus().Publish(webhook.Notice{Time: time.Now(), Level: "error", Text: "demo: " + err.Error()})
	default:
		s.Bus().Publish(webhook.Notice{Time: time.Now(), Level: "info", Text: fmt.Sprintf("demo call finished: %d events sent in %s. Browse with tab and the arrows; q quits.", sum.Sent, sum.Elapsed.Round(time.Second))})
	}
}
