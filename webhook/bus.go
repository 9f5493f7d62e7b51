package webhook

import (
	"sync"
	"sync/atomic"
	"time"
)

// Notice is an operator-facing message published on the bus (answers file reloaded, tape
// error, tunnel reconnected...). Level is "info", "warn" or "error".
type Notice struct {
	Time  time.Time
	Level string
	Text  string
}

// Bus carries Events, Outcomes and Notices from the handler to whoever shows them. Publish
// never blocks: a subscriber that falls behind loses messages, and the loss is counted, in
// total and per subscriber.
type Bus struct {
	mu      sync.Mutex
	subs    []*subscriber
	dropped atomic.Uint64
	closed  bool
}

type subscriber struct {
	ch      chan any
	keep    func(any) bool // nil: every value
	dropped atomic.Uint64
}

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{} }

// Subscribe returns a channel receiving everything published from now on, buffered to size.
func (b *Bus) Subscribe(size int) <-chan any { return b.SubscribeWhere(size, nil) }

// SubscribeWhere is Subscribe for the values keep accepts (nil: all): a subscriber that
// wants only events is not woken for every reply and notice. keep runs in Publish, under
// the bus's lock: it must be quick and must not publish.
func (b *Bus) SubscribeWhere(size int, keep func(any) bool) <-chan any {
	if size < 1 {
		size = 1
	}
	ch := make(chan any, size)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(ch)
		return ch
	}
	b.subs = append(b.subs, &subscriber{ch: ch, keep: keep})
	return ch
}

// Unsubscribe stops delivery to ch (a channel returned by Subscribe) and closes it.
func (b *Bus) Unsubscribe(ch <-chan any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, s := range b.subs {
		if s.ch == ch {
			b.subs = append(b.subs[:i], b.subs[i+1:]...)
			close(s.ch)
			return
		}
	}
}

// Publish sends v to every subscriber without blocking.
func (b *Bus) Publish(v any) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	for _, s := range b.subs {
		if s.keep != nil && !s.keep(v) {
			continue
		}
		select {
		case s.ch <- v:
		default:
			s.dropped.Add(1)
			b.dropped.Add(1)
		}
	}
}

// Dropped returns how many messages subscribers missed, in total, because their buffer
// was full.
func (b *Bus) Dropped() uint64 { return b.dropped.Load() }

// DroppedFor returns how many messages the subscriber ch missed.
func (b *Bus) DroppedFor(ch <-chan any) uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.subs {
		if s.ch == ch {
			return s.dropped.Load()
		}
	}
	return 0
}

// Close closes every subscriber channel; later publishes are ignored.
func (b *Bus) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	for _, s := range b.subs {
		close(s.ch)
	}
	b.subs = nil
}
