//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package relay

import (
	"net"
	"syscall"
)

// h1Supported says whether the forwarder's own client (h1client.go) is used: it needs
// connCheck, a peek at a socket that never blocks.
const h1Supported = true

// connCheck tells whether an idle connection is still open: http.Transport learns that
// the server closed one from its read goroutine, which the fast path does not have, so
// it peeks at the socket (MSG_PEEK|MSG_DONTWAIT, one system call) before reusing it.
type connCheck struct {
	raw  syscall.RawConn
	peek func(fd uintptr) bool
	open bool
	// data says the last peek found a byte to read.
	data bool
	b    [1]byte
}

func (k *connCheck) init(c net.Conn) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return
	}
	k.raw = raw
	k.peek = func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), k.b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// Nothing to read: open. A byte (the server sent something unasked) or none
		// without an error (it closed the connection), or any error: not reusable.
		k.open = err == syscall.EAGAIN || err == syscall.EWOULDBLOCK || err == syscall.EINTR
		k.data = err == nil && n > 0
		return true
	}
}

// pending reports whether the server has sent something not read yet (a reply that
// came before a write failed), without waiting.
func (k *connCheck) pending() bool { return k.look() && k.data }

// look peeks at the socket (see init); false when it cannot.
func (k *connCheck) look() bool {
	if k.raw == nil {
		return false
	}
	k.open, k.data = false, false
	return k.raw.Read(k.peek) == nil
}

// refused reports whether the server's side refused what was sent last: a reset came
// after its close (the kernel resets data that arrives on a closed socket), so the
// server cannot have read it. It reads (and clears) the socket's pending error.
func (k *connCheck) refused() bool {
	if k.raw == nil {
		return false
	}
	var soErr int
	var gerr error
	if err := k.raw.Control(func(fd uintptr) {
		soErr, gerr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ERROR)
	}); err != nil || gerr != nil {
		return false
	}
	e := syscall.Errno(soErr)
	return e == syscall.EPIPE || e == syscall.ECONNRESET
}

// alive reports whether the connection can carry another request.
func (k *connCheck) alive() bool { return k.look() && k.open }
