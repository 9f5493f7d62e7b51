package relay

import (
	"errors"
	"fmt"
	"net"
	"syscall"
)

// localTunnel is a plain TCP listener: no tunnel, reachable from this machine only
// (unless the user exposes it themselves, see --public-url).
type localTunnel struct {
	ln  net.Listener
	url string
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
	return &localTunnel{ln: ln, url: "http://" + displayAddr(ln.Addr())}, nil
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
