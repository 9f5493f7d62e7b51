package tui

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
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
	// NoReply marks a request the tape holds without its reply (vapimon stopped before
	// answering it): the monitor shows "no reply recorded" instead of waiting for one.
	NoReply bool
}

// ReplaySource yields the recorded items in tape order, one at a time, so that a tape of
// any size plays in flat memory; it returns io.EOF after the last one.
type ReplaySource func() (ReplayItem, error)

// sourceNoReply is the Reply.Source of the outcome the Player publishes for a request
// recorded without its reply; noReplyRecorded is how the monitor shows it.
const (
	sourceNoReply   = "no-reply-recorded"
	noReplyRecorded = "no reply recorded"
	noReplyNote     = "the tape holds this request but not its reply: vapimon stopped (crash, kill) before answering it, or could not write the reply"
)

// maxReplayGap caps the pause between two recorded requests, so that a long silence on the
// tape does not look like a hang.
const maxReplayGap = 3 * time.Second

// Limits of the Player's look-ahead. A tape written before v2 has each request on the line
// of its reply, so a slow request comes after requests received later: the player reads
// ahead replayLookahead of recorded time (more than Vapi's longest wait, 300 s) to play
// requests in the order they were received, holding at most replayWindow publications.
const (
	replayLookahead = 5*time.Minute + 30*time.Second
	replayWindow    = 10_000
	// recordedRing is how many recorded times Recorded remembers (the latest requests:
	// the monitor asks as it shows each one).
	recordedRing = 1 << 16
)

// Player publishes recorded requests and their replies on a bus in recorded order and at
// the recorded pace (gaps capped), so that the monitor shows yesterday's call the way it
// looked live: a reply appears where it came in the recording, so a request that came
// after a slow reply is not shown before it. It reads its items as it plays them, holding
// only a bounded look-ahead. Its Control drives it from the monitor's keys: pause, step,
// speed.
type Player struct {
	bus    *webhook.Bus
	src    ReplaySource
	total  int
	source string
	now    func() time.Time

	// Only Run touches these.
	window  pubHeap
	order   uint64    // publications read so far, to keep equal times in tape order
	newest  time.Time // latest request time read
	srcDone bool
	srcErr  error

	mu       sync.Mutex
	next     int // requests published
	recorded [recordedRing]recordedAt
	paused   bool
	steps    int
	speed    float64
	wake     chan struct{}
}

type recordedAt struct {
	seq uint64
	at  time.Time
}

// playing is one item in the look-ahead window: its request and reply publications share it.
type playing struct {
	item    ReplayItem
	out     *webhook.Outcome // rebased once the request is published
	outDone bool
}

// replayPub is one publication of the replay: a request or its reply, at its recorded time.
type replayPub struct {
	p     *playing
	out   bool
	at    time.Time
	order uint64
}

// pubHeap orders publications by time, then by tape order (a request before its reply).
type pubHeap []replayPub

func (h pubHeap) Len() int { return len(h) }
func (h pubHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].order < h[j].order
}
func (h pubHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pubHeap) Push(x any)   { *h = append(*h, x.(replayPub)) }
func (h *pubHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = replayPub{}
	*h = old[:len(old)-1]
	return x
}

// NewPlayer returns a player of items publishing on bus; source names the tape for the
// status bar. Requests are played in the order they were received, each reply at its
// recorded time after its request.
func NewPlayer(bus *webhook.Bus, items []ReplayItem, source string) *Player {
	total, i := 0, 0
	for _, it := range items {
		if it.Event != nil {
			total++
		}
	}
	return NewStreamPlayer(bus, func() (ReplayItem, error) {
		if i >= len(items) {
			return ReplayItem{}, io.EOF
		}
		i++
		return items[i-1], nil
	}, total, source)
}

// NewStreamPlayer returns a player of the items src yields, read as they are played;
// total is the number of requests, for the progress shown in the status bar.
func NewStreamPlayer(bus *webhook.Bus, src ReplaySource, total int, source string) *Player {
	return &Player{bus: bus, src: src, total: total, source: source, now: time.Now, speed: 1, wake: make(chan struct{}, 1)}
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

// Recorded returns when the replayed request seq was recorded (zero when unknown, or when
// it was published too long ago to be remembered).
func (p *Player) Recorded(seq uint64) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r := p.recorded[seq%recordedRing]; seq != 0 && r.seq == seq {
		return r.at
	}
	return time.Time{}
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
	return p.next, max(p.total, p.next), p.paused, p.speed
}

// fill reads items into the look-ahead window until the earliest publication is safe to
// play: every item still unread was received after it (the tape is replayLookahead past
// it), or the source is done, or the window is full.
func (p *Player) fill() {
	for !p.srcDone && len(p.window) < replayWindow &&
		(len(p.window) == 0 || p.newest.Sub(p.window[0].at) < replayLookahead) {
		it, err := p.src()
		if err != nil {
			p.srcDone = true
			if !errors.Is(err, io.EOF) {
				p.srcErr = err
			}
			return
		}
		if it.Event == nil {
			continue
		}
		pl := &playing{item: it}
		at := it.Event.Received
		p.order++
		heap.Push(&p.window, replayPub{p: pl, at: at, order: p.order})
		if it.Outcome != nil && !it.NoReply {
			p.order++
			heap.Push(&p.window, replayPub{p: pl, out: true, at: at.Add(max(it.Outcome.Latency, 0)), order: p.order})
		}
		if at.After(p.newest) {
			p.newest = at
		}
	}
}

// Run publishes every request and reply, then returns; it returns early with ctx.Err()
// when ctx ends. When the tape cannot be read to the end, it says so on the bus and
// returns the error.
func (p *Player) Run(ctx context.Context) error {
	var last time.Time
	waitFrom := p.now()
	for {
		p.fill()
		for len(p.window) > 0 && p.window[0].out && p.window[0].p.outDone {
			heap.Pop(&p.window) // a reply already published by a step
			p.fill()
		}
		if len(p.window) == 0 {
			if p.srcErr != nil {
				p.bus.Publish(webhook.Notice{Time: p.now(), Level: "error", Text: fmt.Sprintf("replay stopped: %v", p.srcErr)})
				return p.srcErr
			}
			return nil
		}
		e := p.window[0]
		p.mu.Lock()
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

		heap.Pop(&p.window)
		var ev *webhook.Event
		var out *webhook.Outcome
		if e.out {
			out = e.p.out
			e.p.outDone = true
		} else {
			p.mu.Lock()
			p.next++
			seq := uint64(p.next)
			p.recorded[seq%recordedRing] = recordedAt{seq: seq, at: e.at}
			if step {
				p.steps--
			}
			p.mu.Unlock()
			ev, e.p.out = p.rebase(e.p.item, seq)
			if e.p.item.NoReply || step {
				// A step shows the request with its reply; a request recorded without one
				// says so at once rather than look as if it were waiting.
				out, e.p.outDone = e.p.out, true
			}
		}
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
	switch {
	case it.NoReply:
		out = &webhook.Outcome{Seq: ev.Seq, Reply: webhook.Reply{Source: sourceNoReply, Note: noReplyNote}}
	case it.Outcome != nil:
		o := *it.Outcome
		o.Seq = ev.Seq
		out = &o
	}
	return &ev, out
}
