package tui

import (
	"context"
	"sort"
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

// Player publishes recorded requests and their replies on a bus in recorded order and at
// the recorded pace (gaps capped), so that the monitor shows yesterday's call the way it
// looked live: a reply appears where it came in the recording, so a request that came
// after a slow reply is not shown before it. Its Control drives it from the monitor's keys:
// pause, step, speed.
type Player struct {
	bus    *webhook.Bus
	items  []ReplayItem
	source string
	now    func() time.Time

	// Built once by NewPlayer, read-only after.
	timeline []replayPub
	recorded []time.Time // recorded time of each request, by replay seq - 1

	mu      sync.Mutex
	pos     int // next timeline entry
	next    int // requests published
	outDone []bool
	outs    []*webhook.Outcome // rebased outcomes of published requests, by item
	paused  bool
	steps   int
	speed   float64
	wake    chan struct{}
}

// replayPub is one publication of the replay: a request or its reply, at its recorded time.
type replayPub struct {
	item int
	out  bool
	at   time.Time
	seq  uint64 // replay sequence number of the item
}

// NewPlayer returns a player of items publishing on bus; source names the tape for the
// status bar. Requests are played in the order they were received, each reply at its
// recorded time after its request.
func NewPlayer(bus *webhook.Bus, items []ReplayItem, source string) *Player {
	p := &Player{bus: bus, items: items, source: source, now: time.Now, speed: 1, wake: make(chan struct{}, 1),
		outDone: make([]bool, len(items)), outs: make([]*webhook.Outcome, len(items))}
	var tl []replayPub
	for i, it := range items {
		if it.Event == nil {
			continue
		}
		at := it.Event.Received
		tl = append(tl, replayPub{item: i, at: at})
		if it.Outcome != nil {
			tl = append(tl, replayPub{item: i, out: true, at: at.Add(max(it.Outcome.Latency, 0))})
		}
	}
	sort.SliceStable(tl, func(a, b int) bool { return tl[a].at.Before(tl[b].at) })
	seqs := make([]uint64, len(items))
	for k := range tl {
		if !tl[k].out {
			p.recorded = append(p.recorded, tl[k].at)
			seqs[tl[k].item] = uint64(len(p.recorded))
		}
	}
	for k := range tl {
		tl[k].seq = seqs[tl[k].item]
	}
	p.timeline = tl
	return p
}

// Control returns the ReplayControl to put in Options.Replay.
func (p *Player) Control() *ReplayControl {
	return &ReplayControl{
		Source:      p.source,
		TogglePause: p.TogglePause,
		Step:        p.Step,
		Speed:       p.Speed,
		Progress:    p.Progress,
		Recorded:    p.Recorded,
		Start:       func(ctx context.Context) { _ = p.Run(ctx) },
	}
}

// Recorded returns when the replayed request seq was recorded (zero when unknown).
func (p *Player) Recorded(seq uint64) time.Time {
	if seq == 0 || seq > uint64(len(p.recorded)) {
		return time.Time{}
	}
	return p.recorded[seq-1]
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
	return p.next, len(p.recorded), p.paused, p.speed
}

// Run publishes every request and reply, then returns; it returns early with ctx.Err()
// when ctx ends.
func (p *Player) Run(ctx context.Context) error {
	var last time.Time
	waitFrom := p.now()
	for {
		p.mu.Lock()
		for p.pos < len(p.timeline) && p.timeline[p.pos].out && p.outDone[p.timeline[p.pos].item] {
			p.pos++ // a reply already published by a step
		}
		if p.pos >= len(p.timeline) {
			p.mu.Unlock()
			return nil
		}
		e := p.timeline[p.pos]
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
		if !step && !last.IsZero() {
			gap := min(max(e.at.Sub(last), 0), maxReplayGap)
			if wait := time.Duration(float64(gap)/speed) - p.now().Sub(waitFrom); wait > 0 {
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
		if err := ctx.Err(); err != nil {
			return err
		}

		p.mu.Lock()
		p.pos++
		var ev *webhook.Event
		var out *webhook.Outcome
		if e.out {
			out = p.outs[e.item]
			p.outDone[e.item] = true
		} else {
			ev, p.outs[e.item] = p.rebase(p.items[e.item], e.seq)
			p.next++
			if step {
				p.steps--
				if o := p.outs[e.item]; o != nil {
					out = o // a step shows the request with its reply
					p.outDone[e.item] = true
				}
			}
		}
		p.mu.Unlock()
		last = e.at
		waitFrom = p.now()
		if ev != nil {
			p.bus.Publish(ev)
		}
		if out != nil {
			p.bus.Publish(out)
		}
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
