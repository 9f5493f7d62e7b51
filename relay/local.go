package relay

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
)

// localTunnel is a plain TCP listener: no tunnel, reachable from this machine only
// (unless the user exposes it themselves, see --public-url).
type localTunnel struct {
	ln  net.Listener
	url string
	// wildcard is set when the listener takes connections on every interface (--addr
	// 0.0.0.0:4242, :4242, [::]:4242), although url names 127.0.0.1.
	wildcard bool
}

// ListenLocal listens on addr (DefaultAddr when empty). A busy port is reported in plain
// words: "127.0.0.1:4242 is in use: pick another with --addr".
func ListenLocal(addr string) (Tunnel, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, &plainError{msg: addr + " is in use: pick another with --addr", err: err}
		}
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	t := &localTunnel{ln: ln, url: "http://" + displayAddr(ln.Addr())}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok {
		t.wildcard = tcp.IP == nil || tcp.IP.IsUnspecified()
	}
	return t, nil
}

// reach says where the listener takes connections, for the tunnel note: "http://127.0.0.1:4242
// only" for one address, "every interface, port 4242 (http://127.0.0.1:4242 from this
// machine)" for a wildcard one, which must not be called "127.0.0.1 only".
func (t *localTunnel) reach() string {
	if !t.wildcard {
		return t.url + " only"
	}
	port := t.url[strings.LastIndexByte(t.url, ':')+1:]
	return fmt.Sprintf("every interface, port %s (%s from this machine)", port, t.url)
}

// displayAddr is the address a person on this machine would type: a wildcard host
// (":4242", "0.0.0.0:4242", "[::]:4242") becomes 127.0.0.1.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	host := tcp.IP
	if host == nil || host.IsUnspecified() {
		host = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(host.String(), fmt.Sprint(tcp.Port))
}

func (t *localTunnel) Listener() net.Listener { return t.ln }
func (t *localTunnel) URL() string            { return t.url }
func (t *localTunnel) Public() bool           { return false }

// Close closes the listener; closing it again (http.Server.Shutdown already did) is not
// an error.
func (t *localTunnel) Close() error {
	if err := t.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}
