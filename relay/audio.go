package relay

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/fixtures/audiosim"
	"github.com/vapimon/vapimon/relay/listen"
	"github.com/vapimon/vapimon/webhook"
)

// AudioConfig is live listening to calls' audio (--listen, --play, --player,
// VAPI_PUBLIC_KEY). Listening to one call at a time is always possible from the TUI;
// these start it for every call and choose the player.
type AudioConfig struct {
	// All listens to every call whose events carry monitor.listenUrl (--listen).
	All bool
	// PublicKey is VAPI_PUBLIC_KEY, sent only when a call's listen URL needs it.
	PublicKey string
	// Play sends the first listened call's audio to the player (--play).
	Play bool
	// Player is --player: a shell command reading raw PCM on stdin; "" to look for one.
	Player string
	// Quiet: no notices when a call's stream goes live or ends (a TUI shows it on the
	// meter); failures are still noticed.
	Quiet bool
	// LookPath finds players on PATH; exec.LookPath when nil.
	LookPath func(string) (string, error)
}

// player is --player, else the first player found on PATH; when there is none, why (said
// on say when --play asked for one).
func (ac AudioConfig) player(say io.Writer) (*listen.Player, string) {
	if ac.Player != "" {
		return listen.NewPlayer(listen.PlayerCommand(ac.Player)), ""
	}
	lookPath := ac.LookPath
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	argv, err := listen.FindPlayer(lookPath)
	if err != nil {
		if ac.Play {
			fmt.Fprintln(say, "vapimon: --play:", err)
		}
		return nil, err.Error()
	}
	return listen.NewPlayer(argv), ""
}

// tapeAudio tells the tape about each recording.
type tapeAudio struct{ t *fixtures.TapeWriter }

func (a tapeAudio) RecordAudio(callID, file string, f listen.Format, at time.Time) error {
	return a.t.WriteAudio(fixtures.AudioRef{Time: at, CallID: callID, File: file, SampleRate: f.SampleRate, Channels: f.Channels})
}

// openListen starts the listen manager: recordings go beside the tape, the manager reads
// its own subscription to the bus (the webhook path never waits on audio).
func (s *Session) openListen() {
	lc := s.cfg.Audio
	cfg := listen.Config{All: lc.All, PublicKey: lc.PublicKey, PlayAll: lc.Play, Quiet: lc.Quiet, Bus: s.bus, Log: s.log}
	if s.tape != nil {
		cfg.Dir, cfg.TapePath, cfg.Tape = filepath.Dir(s.tape.Path()), s.tape.Path(), tapeAudio{s.tape}
	}
	cfg.Player, cfg.NoPlayer = lc.player(s.say)
	s.listen = listen.NewManager(cfg)
	// The manager learns calls from events only: replies and notices do not wake it.
	sub := s.bus.SubscribeWhere(4096, func(v any) bool { _, ok := v.(*webhook.Event); return ok })
	s.background("listen", func(ctx context.Context) { s.listen.Run(ctx, sub) })
}

// audioSim starts a simulated listen server for a feed's calls when the session listens
// to every call (the demo); nil otherwise, or when it cannot start (the call goes on
// without audio, and the bus says why).
func (s *Session) audioSim() *audiosim.Server {
	if !s.cfg.Audio.All {
		return nil
	}
	as, err := audiosim.New(audiosim.Options{})
	if err != nil {
		s.bus.Publish(webhook.Notice{Time: time.Now(), Level: "warn", Text: "simulated audio: " + err.Error()})
		return nil
	}
	return as
}

// Listen is the listen manager (the TUI's keys for listening and playback).
func (s *Session) Listen() *listen.Manager { return s.listen }

// OfflineAudio prepares the recordings a tape names (fixtures.TapeAudio) to play in step
// with its offline replay (tui.RunReplay calls it with the replay's bus and clock,
// fixtures.Player.Clock): the meters move as each call's audio is reached, and --play or
// P sends it to the player. The function returns a nil manager when the tape names no
// recording (or is not a file).
func OfflineAudio(tapePath string, ac AudioConfig, say io.Writer) func(*webhook.Bus, func() (time.Time, bool, float64)) (*listen.Manager, func(context.Context)) {
	return func(bus *webhook.Bus, clock func() (time.Time, bool, float64)) (*listen.Manager, func(context.Context)) {
		refs, err := fixtures.TapeAudio(tapePath)
		if err != nil || len(refs) == 0 {
			return nil, nil
		}
		ac.Play = ac.Play || ac.Player != ""
		cfg := listen.Config{PlayAll: ac.Play, Quiet: true, Bus: bus}
		cfg.Player, cfg.NoPlayer = ac.player(say)
		m := listen.NewManager(cfg)
		recs := make([]listen.Recording, len(refs))
		for i, r := range refs {
			recs[i] = listen.Recording{CallID: r.CallID, File: r.File, Start: r.Time}
		}
		return m, func(ctx context.Context) {
			defer m.Close()
			m.Replay(ctx, recs, clock)
		}
	}
}
