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
	// The senders' connections say when their read is cut, as a real connection's Read
	// returns at once with a deadline error.
	cutA, cutB := make(chan struct{}, 1), make(chan struct{}, 1)
	a := s.take(http.NewResponseController(cutRecorder{httptest.NewRecorder(), cutA}), time.Now())
	b := s.take(http.NewResponseController(cutRecorder{httptest.NewRecorder(), cutB}), time.Now())
	done := make(chan int, 1)
	go func() { done <- s.acquire(rc(), time.Now()) }()
	// The evicted sender's handler gives its slot back when its read fails; play that part.
	var cut int
	select {
	case <-cutA:
		cut = a
	case <-cutB:
		cut = b
	case i := <-done:
		t.Fatalf("acquire returned %d before any sender was cut", i)
	case <-time.After(10 * time.Second): // a failure detector, not a timing assertion
		t.Fatal("no sender was cut once old enough")
	}
	if !s.release(cut) {
		t.Error("the slot whose read was cut is not marked evicted")
	}
	if i := <-done; i != cut {
		t.Errorf("the newcomer got slot %d, want %d (the one given back)", i, cut)
	}
}

// cutRecorder is a ResponseWriter whose read deadline, when set, is reported on cut.
type cutRecorder struct {
	*httptest.ResponseRecorder
	cut chan struct{}
}

func (c cutRecorder) SetReadDeadline(time.Time) error {
	select {
	case c.cut <- struct{}{}:
	default:
	}
	return nil
}
