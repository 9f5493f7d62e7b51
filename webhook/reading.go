package webhook

import (
	"net/http"
	"sync"
	"time"
)

// readingSlots caps the requests still sending their body. When every slot is taken, a
// new request does not get 503 at once: the slowest sender that has been at it for a
// while (the fewest bytes per second, at least minEvictAge old) has its read cut, and the
// newcomer takes its place. A real webhook body arrives in milliseconds, so connections
// that trickle a byte a second (a slowloris) can fill the slots but cannot keep a real
// request out; a sender at minBodyRate or faster is never cut.
type readingSlots struct {
	mu    sync.Mutex
	slots []readSlot
	free  []int
	// released is signalled (without blocking) whenever a slot is given back.
	released chan struct{}
}

type readSlot struct {
	start   time.Time
	bytes   int64
	rc      *http.ResponseController
	evicted bool
}

// minEvictAge is how long a sender must have been sending before it may be cut to make
// room: newer senders are still within what any real request takes.
const minEvictAge = 250 * time.Millisecond

// evictWait bounds how long a newcomer waits for an evicted sender to let go of its slot.
const evictWait = 250 * time.Millisecond

func newReadingSlots(n int) *readingSlots {
	s := &readingSlots{slots: make([]readSlot, n), free: make([]int, n), released: make(chan struct{}, 1)}
	for i := range s.free {
		s.free[i] = n - 1 - i
	}
	return s
}

// cap returns the number of slots.
func (s *readingSlots) cap() int { return len(s.slots) }

// inUse returns how many slots are taken.
func (s *readingSlots) inUse() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.slots) - len(s.free)
}

// acquire takes a slot for a request whose body is about to be read through rc, evicting
// the slowest old sender when all are taken. When no sender is old enough yet, it waits
// (about minEvictAge) for one to be, or for a slot to come free; once it has cut a sender,
// it waits up to evictWait from that cut for the sender's handler to give the slot back.
// The wait for the cut is counted from the cut itself, not from the start: on a loaded
// machine the tick that finds a sender old enough can come late, and a newcomer must not
// give up on a slot that is about to be freed. It returns -1 when no slot could be had.
func (s *readingSlots) acquire(rc *http.ResponseController, now time.Time) int {
	if i := s.take(rc, now); i >= 0 {
		return i
	}
	until := time.Now().Add(minEvictAge + evictWait)
	deadline := time.NewTimer(minEvictAge + evictWait)
	defer deadline.Stop()
	tick := time.NewTicker(minEvictAge / 5)
	defer tick.Stop()
	evict := func() {
		t := time.Now()
		if s.evict(t) && t.Add(evictWait).After(until) {
			until = t.Add(evictWait)
			deadline.Reset(evictWait)
		}
	}
	evict()
	for {
		select {
		case <-s.released:
		case <-tick.C:
			evict()
		case <-deadline.C:
			return s.take(rc, now)
		}
		if i := s.take(rc, now); i >= 0 {
			return i
		}
	}
}

func (s *readingSlots) take(rc *http.ResponseController, now time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.free)
	if n == 0 {
		return -1
	}
	i := s.free[n-1]
	s.free = s.free[:n-1]
	s.slots[i] = readSlot{start: now, rc: rc}
	return i
}

// evict cuts the read of the slowest sender old enough to be cut, and reports whether it
// found one.
func (s *readingSlots) evict(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	victim, worst := -1, 0.0
	isFree := make([]bool, len(s.slots))
	for _, i := range s.free {
		isFree[i] = true
	}
	for i := range s.slots {
		sl := &s.slots[i]
		if isFree[i] || sl.evicted || sl.rc == nil {
			continue
		}
		age := now.Sub(sl.start)
		if age < minEvictAge {
			continue
		}
		rate := float64(sl.bytes) / age.Seconds()
		if rate >= minBodyRate {
			continue // a real upload at a decent rate is never cut
		}
		if victim < 0 || rate < worst {
			victim, worst = i, rate
		}
	}
	if victim < 0 {
		return false
	}
	s.slots[victim].evicted = true
	// The sender's Read returns at once with a deadline error; its handler answers 408
	// and gives the slot back.
	_ = s.slots[victim].rc.SetReadDeadline(time.Now())
	return true
}

// progress records that slot i has read n bytes in all.
func (s *readingSlots) progress(i int, n int) {
	s.mu.Lock()
	s.slots[i].bytes = int64(n)
	s.mu.Unlock()
}

// release gives slot i back and reports whether it had been evicted.
func (s *readingSlots) release(i int) (evicted bool) {
	s.mu.Lock()
	evicted = s.slots[i].evicted
	s.slots[i] = readSlot{}
	s.free = append(s.free, i)
	s.mu.Unlock()
	select {
	case s.released <- struct{}{}:
	default:
	}
	return evicted
}
