//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package relay

import "net"

// h1Supported is false where connCheck cannot peek at a socket: http.Transport sends
// every forward.
const h1Supported = false

type connCheck struct{}

func (*connCheck) init(net.Conn) {}

func (*connCheck) alive() bool { return false }

func (*connCheck) pending() bool { return false }

func (*connCheck) refused() bool { return false }
