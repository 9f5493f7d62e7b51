package tui

import (
	"context"
	"sync"
	"time"

	"github.com/vapimon/vapimon/webhook"
)

// ReplayItem is one recorded request with its recorded reply, for an offline replay.
type ReplayItem struct {
	// Event is the request as the handler published it; Received is the recorded time and
	// sets the pace. It is copied before publishing.
	Event *webhook.Event
	// Outcome is the recorded reply; nil when none was recorded.
	Outcome *webhook.Outcome
}

// maxReplayGap caps the pause between two recorded requests, so that a long silence on the
// tape does not look like a hang.
const maxReplayGap = 3 * time.Second

// Player publishes recorded requests and their replies on a bus at the recorded pace, as if
// the calls were happening now, so that the monitor shows yesterday's call the way it
// looked live. Its Control drives it from the monitor's keys: pause, step, speed.
type Player struct {
	bus    *webhook.Bus
	items  []ReplayItem
	source string
	now    func() time.Time

	mu     sync.Mutex
	next   int
	paused bool
	steps  int
	speed  float64
	wake   chan struct{}
}

// NewPlayer returns a player of items (in recorded order) publishing on bus; source names
// the tape for the status bar.
func NewPlayer(bus *webhook.Bus, items []ReplayItem, source string) *Player {
	return &Player{bus: bus, items: items, source: source, now: time.Now, speed: 1, wake: make(chan struct{}, 1)}
}

// Control returns the ReplayControl to put in Options.Replay.
func (p *Player) Control() *ReplayControl {
	return &ReplayControl{
		Source:      p.source,
		TogglePause: p.TogglePause,
		Step:        p.Step,
		Speed:       p.Speed,
		Progress:    p.Progress,
		Start:       func(ctx context.Context) { _ = p.Run(ctx) },
	}
}

func (p *Player) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// TogglePause pauses or resumes playback and reports whether it is now paused.
func (p *Player) TogglePause() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paused = !p.paused
	p.poke()
	return p.paused
}

// Step publishes the next request at once (with its reply) and pauses.
func (p *Player) Step() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paused = true
	p.steps++
	p.poke()
}

// Speed multiplies the playback speed by factor (kept within 1/16x..64x) and returns it.
func (p *Player) Speed(factor float64) float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if factor > 0 {
		p.speed = min(max(p.speed*factor, 1.0/16), 64)
	}
	p.poke()
	return p.speed
}

// Progress reports requests published, requests in total, whether paused, and the speed.
func (p *Player) Progress() (done, total int, paused bool, speed float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.next, len(p.items), p.paused, p.speed
}

// Run publishes every item, then returns; it returns early with ctx.Err() when ctx ends.
func (p *Player) Run(ctx context.Context) error {
	// Replies are published after their recorded latency by timers; at the end Run waits
	// for them, and stops them when ctx ends.
	var (
		timers  []*time.Timer
		pending sync.WaitGroup
	)
	defer func() {
		for _, t := range timers {
			if t.Stop() {
				pending.Done()
			}
		}
	}()
	last := time.Time{}
	waitFrom := p.now()
	for {
		p.mu.Lock()
		if p.next >= len(p.items) {
			p.mu.Unlock()
			idle := make(chan struct{})
			go func() { pending.Wait(); close(idle) }()
			select {
			case <-idle:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		it := p.items[p.next]
		step := p.steps > 0
		paused := p.paused && !step
		speed := p.speed
		p.mu.Unlock()

		if paused {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-p.wake:
				waitFrom = p.now()
				continue
			}
		}
		if !step && !last.IsZero() && it.Event != nil {
			gap := min(it.Event.Received.Sub(last), maxReplayGap)
			wait := time.Duration(float64(gap)/speed) - p.now().Sub(waitFrom)
			if wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return ctx.Err()
				case <-p.wake:
					t.Stop()
					continue // state changed: recompute
				case <-t.C:
				}
			}
		}

		p.mu.Lock()
		if p.steps > 0 {
			p.steps--
		}
		p.next++
		seq := uint64(p.next)
		p.mu.Unlock()
		if it.Event == nil {
			continue
		}
		last = it.Event.Received
		waitFrom = p.now()
		ev, out := p.rebase(it, seq)
		p.bus.Publish(ev)
		if out == nil {
			continue
		}
		if step || out.Latency <= 0 {
			p.bus.Publish(out)
			continue
		}
		pending.Add(1)
		timers = append(timers, time.AfterFunc(time.Duration(float64(out.Latency)/speed), func() {
			defer pending.Done()
			p.bus.Publish(out)
		}))
	}
}

// rebase copies the item with its times moved to now, keeping the recorded deadline budget.
// Requests are renumbered in replay order, since a tape may hold several sessions whose
// sequence numbers overlap.
func (p *Player) rebase(it ReplayItem, seq uint64) (*webhook.Event, *webhook.Outcome) {
	ev := *it.Event
	ev.Seq = seq
	now := p.now()
	shift := now.Sub(ev.Received)
	ev.Received = now
	switch {
	case !ev.Deadline.IsZero():
		ev.Deadline = ev.Deadline.Add(shift)
		if !ev.VapiDeadline.IsZero() {
			ev.VapiDeadline = ev.VapiDeadline.Add(shift)
		}
	case ev.Msg != nil && ev.Rejected == "":
		if b := webhook.Budget(ev.Msg.Kind, 0); b > 0 {
			ev.VapiDeadline = now.Add(b)
			ev.Deadline = ev.VapiDeadline.Add(-webhook.SafetyMargin(b))
		}
	}
	var out *webhook.Outcome
	if it.Outcome != nil {
		o := *it.Outcome
		o.Seq = ev.Seq
		out = &o
	}
	return &ev, out
}
