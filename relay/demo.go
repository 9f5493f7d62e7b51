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
