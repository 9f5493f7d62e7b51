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
		_, _, err := syscall.Recvfrom(int(fd), k.b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// Nothing to read: open. A byte (the server sent something unasked) or none
		// without an error (it closed the connection), or any error: not reusable.
		k.open = err == syscall.EAGAIN || err == syscall.EWOULDBLOCK || err == syscall.EINTR
		return true
	}
}

// alive reports whether the connection can carry another request.
func (k *connCheck) alive() bool {
	if k.raw == nil {
		return false
	}
	k.open = false
	if err := k.raw.Read(k.peek); err != nil {
		return false
	}
	return k.open
}
