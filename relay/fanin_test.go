package relay

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// blockingListener never accepts, and its Close blocks until release is closed (like
// ngrok's unbind round trip during an outage).
type blockingListener struct {
	release chan struct{}
	closed  chan struct{}
}

func (l *blockingListener) Accept() (net.Conn, error) { <-l.closed; return nil, net.ErrClosed }
func (l *blockingListener) Close() error              { <-l.release; close(l.closed); return nil }
func (l *blockingListener) Addr() net.Addr            { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

func TestFanInCloseDoesNotHang(t *testing.T) {
	t.Parallel()
	bl := &blockingListener{release: make(chan struct{}), closed: make(chan struct{})}
	l := newFanIn(nil, bl)
	l.wait = 50 * time.Millisecond
	accepted := make(chan error, 1)
	go func() {
		_, err := l.Accept()
		accepted <- err
	}()
	if err := l.Close(); err == nil || !strings.Contains(err.Error(), "did not close within 50ms") {
		t.Errorf("Close = %v, want a bounded-wait error", err)
	}
	if err := <-accepted; !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close = %v, want net.ErrClosed", err)
	}
	close(bl.release) // let the background close finish
}

func TestFanInAllInnersDead(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newFanIn(nil, ln)
	ln.Close() // the inner listener dies on its own
	if _, err := l.Accept(); err == nil {
		t.Fatal("Accept succeeded with every inner listener closed")
	}
	l.Close()
}

// failingListener fails every Accept for good.
type failingListener struct{ net.Listener }

func (failingListener) Accept() (net.Conn, error) {
	return nil, errors.New("session closed by the edge")
}

func TestFanInReportsADeadInnerListener(t *testing.T) {
	t.Parallel()
	good, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	failed := make(chan string, 1)
	l := newFanIn(func(i int, err error) { failed <- fmt.Sprintf("%d: %v", i, err) }, good, failingListener{good})
	defer l.Close()
	select {
	case got := <-failed:
		if got != "1: session closed by the edge" {
			t.Fatalf("onFail got %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a dead inner listener was not reported")
	}
}
