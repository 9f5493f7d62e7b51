package webhook

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestReadingSlotsEvictTheSlowestOldSender: with every slot taken, a newcomer cuts the
// slowest sender that has been sending for at least minEvictAge, never a young one and
// never one at minBodyRate or faster.
func TestReadingSlotsEvictTheSlowestOldSender(t *testing.T) {
	t.Parallel()
	s := newReadingSlots(3)
	rc := func() *http.ResponseController { return http.NewResponseController(httptest.NewRecorder()) }
	old := time.Now().Add(-time.Second)
	fast := s.take(rc(), old)
	s.progress(fast, 1<<20) // 1 MiB in a second: an upload, never cut
	slow := s.take(rc(), old)
	s.progress(slow, 10) // a trickler
	young := s.take(rc(), time.Now())
	if s.inUse() != 3 || s.take(rc(), time.Now()) >= 0 {
		t.Fatal("a fourth slot was given out")
	}
	if !s.evict(time.Now()) {
		t.Fatal("nothing evicted")
	}
	if !s.slots[slow].evicted || s.slots[fast].evicted || s.slots[young].evicted {
		t.Errorf("evicted: fast %v slow %v young %v; want only the slow old sender", s.slots[fast].evicted, s.slots[slow].evicted, s.slots[young].evicted)
	}
	if s.evict(time.Now()) {
		t.Error("a second eviction found a victim among a fast upload and a young sender")
	}
	if !s.release(slow) || s.release(fast) {
		t.Error("release does not report which slot was evicted")
	}
	if i := s.acquire(rc(), time.Now()); i < 0 {
		t.Error("no slot after one was released")
	}
}

// TestReadingSlotsNewcomerWaitsForASenderToAge: when the slots are full of young
// tricklers, a newcomer waits until one is old enough to cut instead of failing at once.
func TestReadingSlotsNewcomerWaitsForASenderToAge(t *testing.T) {
	t.Parallel()
	s := newReadingSlots(2)
	rc := func() *http.ResponseController { return http.NewResponseController(httptest.NewRecorder()) }
	a, b := s.take(rc(), time.Now()), s.take(rc(), time.Now())
	done := make(chan int, 1)
	go func() { done <- s.acquire(rc(), time.Now()) }()
	// The evicted sender's handler gives its slot back when its read fails; play that part.
	deadline := time.After(5 * time.Second)
	for {
		s.mu.Lock()
		ea, eb := s.slots[a].evicted, s.slots[b].evicted
		s.mu.Unlock()
		if ea || eb {
			if ea {
				s.release(a)
			} else {
				s.release(b)
			}
			break
		}
		select {
		case <-deadline:
			t.Fatal("no sender was cut once old enough")
		case <-time.After(10 * time.Millisecond):
		}
	}
	if i := <-done; i < 0 {
		t.Error("the newcomer got no slot")
	}
}
