package tui

import (
	"context"
	"fmt"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/relay/listen"
	"github.com/vapimon/vapimon/webhook"
)

// The offline player lives in fixtures with the rest of the tape (it needs no terminal);
// PlayerControl is how the monitor drives one.

// PlayerControl returns the ReplayControl that lets the monitor's keys drive p, an offline
// replay of source (the tape path or scenario name, for the status bar).
func PlayerControl(p *fixtures.Player, source string) *ReplayControl {
	return &ReplayControl{
		Source:      source,
		TogglePause: p.TogglePause,
		Step:        p.Step,
		Speed:       p.Speed,
		Progress:    p.Progress,
		Recorded:    p.Recorded,
		Start:       func(ctx context.Context) { _ = p.Run(ctx) },
	}
}

// sourceNoReply is the Reply.Source of the outcome the player publishes for a request
// recorded without its reply; noReplyRecorded is how the monitor shows it.
const (
	sourceNoReply   = fixtures.SourceNoReply
	noReplyRecorded = "no reply recorded"
)

// ReplayControl lets the monitor's keys drive an offline replay. Its functions are called
// from the UI loop and must return at once; any of them may be nil.
type ReplayControl struct {
	// Source names what is replayed (the tape path), for the status bar.
	Source string
	// TogglePause pauses or resumes playback and returns whether it is now paused.
	TogglePause func() (paused bool)
	// Step sends the next record while paused.
	Step func()
	// Speed multiplies the playback speed by factor and returns the new speed.
	Speed func(factor float64) float64
	// Progress reports records sent, records in total, whether paused, and the speed.
	Progress func() (done, total int, paused bool, speed float64)
	// Recorded returns when the replayed request seq was recorded (zero when unknown):
	// the events pane and the request detail show that time rather than now.
	Recorded func(seq uint64) time.Time
	// Start, when set, is run by Run in its own goroutine once it has subscribed to the
	// bus (so nothing published is missed), with a context that ends when Run returns.
	Start func(ctx context.Context)
}

// replayKey drives an offline replay; it reports whether the key was one of its keys.
func (m *Model) replayKey(k tea.KeyPressMsg) bool {
	r := m.opts.Replay
	keys := &m.keys
	switch {
	case key.Matches(k, keys.PlayPause):
		if r.TogglePause != nil {
			if r.TogglePause() {
				m.setFlash("replay paused")
			} else {
				m.setFlash("replay playing")
			}
		}
	case key.Matches(k, keys.Step):
		if r.Step != nil {
			r.Step()
		}
	case key.Matches(k, keys.Faster):
		if r.Speed != nil {
			m.setFlash(fmt.Sprintf("replay speed %gx", r.Speed(2)))
		}
	case key.Matches(k, keys.Slower):
		if r.Speed != nil {
			m.setFlash(fmt.Sprintf("replay speed %gx", r.Speed(0.5)))
		}
	default:
		return false
	}
	return true
}

// RunReplay opens the monitor over a tape offline, as if its calls were happening now
// (`vapimon replay TAPE` without --to): nothing is sent anywhere, the recorded replies are
// shown as they were, and p pauses, n steps, + and - change the speed. The tape is read
// from src as it plays, so memory stays flat whatever its size; counts (from the scan)
// give the progress and the offline status. source names the tape. audio, when not nil,
// plays the calls' recorded audio in step (relay.OfflineAudio, given the bus and the
// replay's clock); it returns nil when the tape has none.
func RunReplay(ctx context.Context, counts fixtures.TapeCounts, src fixtures.RecordSource, source string, audio ReplayAudio) error {
	bus := webhook.NewBus()
	p := fixtures.NewPlayer(bus, fixtures.PlayRecords(src), counts.Records)
	opts := Options{Bus: bus, Replay: PlayerControl(p, source), Status: fixtures.OfflineStatus(source, counts)}
	if audio != nil {
		if a, play := audio(bus, p.Clock); a != nil && play != nil {
			opts.Audio = a
			actx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); play(actx) }()
			defer func() { cancel(); <-done }()
		}
	}
	return Run(ctx, opts, nil)
}

// ReplayAudio starts the playing of a tape's recorded audio beside its replay
// (relay.OfflineAudio): the keys' target and the function that plays until its context
// ends (nil, nil for none).
type ReplayAudio func(bus *webhook.Bus, clock func() (time.Time, bool, float64)) (*listen.Manager, func(context.Context))
