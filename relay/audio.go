package relay

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/relay/listen"
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
	// LookPath finds players on PATH; exec.LookPath when nil.
	LookPath func(string) (string, error)
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
	cfg := listen.Config{All: lc.All, PublicKey: lc.PublicKey, PlayAll: lc.Play, Bus: s.bus, Log: s.log}
	if s.tape != nil {
		cfg.Dir, cfg.TapePath, cfg.Tape = filepath.Dir(s.tape.Path()), s.tape.Path(), tapeAudio{s.tape}
	}
	lookPath := lc.LookPath
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	if lc.Player != "" {
		cfg.Player = listen.NewPlayer(listen.PlayerCommand(lc.Player))
	} else if argv, err := listen.FindPlayer(lookPath); err == nil {
		cfg.Player = listen.NewPlayer(argv)
	} else {
		cfg.NoPlayer = err.Error()
		if lc.Play {
			fmt.Fprintln(s.say, "vapimon: --play:", err)
		}
	}
	s.listen = listen.NewManager(cfg)
	sub := s.bus.Subscribe(4096)
	ctx, cancel := context.WithCancel(context.Background())
	s.closers = append(s.closers, cancel)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.RecoverPanic("listen")
		s.listen.Run(ctx, sub)
	}()
}

// Listen is the listen manager (the TUI's keys for listening and playback).
func (s *Session) Listen() *listen.Manager { return s.listen }
