package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vapimon/vapimon/webhook"
	"github.com/vapimon/vapimon/webhook/webhooktest"
)

// TestListenLocal: on a loopback address or on every interface (":0"), the URL is one a
// person on this machine can type, with the port the kernel chose.
func TestListenLocal(t *testing.T) {
	t.Parallel()
	for _, listen := range []string{"127.0.0.1:0", ":0"} {
		t.Run(listen, func(t *testing.T) {
			t.Parallel()
			tun, err := ListenLocal(listen)
			if err != nil {
				t.Fatal(err)
			}
			defer tun.Close()
			port := tun.Listener().Addr().(*net.TCPAddr).Port
			if want := "http://127.0.0.1:" + strconv.Itoa(port); tun.URL() != want {
				t.Errorf("URL = %q, want %q", tun.URL(), want)
			}
			if tun.Public() {
				t.Error("a local listener claims to be public")
			}

			// The same address again: a plain-words error that still unwraps to EADDRINUSE.
			host, _, _ := net.SplitHostPort(listen)
			addr := net.JoinHostPort(host, strconv.Itoa(port))
			_, err = ListenLocal(addr)
			if err == nil {
				t.Fatal("second listen on a busy port succeeded")
			}
			if want := addr + " is in use: pick another with --addr"; err.Error() != want {
				t.Errorf("error = %q, want %q", err, want)
			}
			if !errors.Is(err, syscall.EADDRINUSE) {
				t.Errorf("error %v does not unwrap to EADDRINUSE", err)
			}

			// Closing after http.Server.Shutdown closed the listener is not an error.
			tun.Listener().Close()
			if err := tun.Close(); err != nil {
				t.Errorf("Close after the listener was closed: %v", err)
			}
		})
	}
}

func TestResolveListenLocalModes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		cfg        ListenConfig
		wantPublic string // "" means the local URL and Public() false
		wantNote   string // prefix, with LOCAL standing for the local URL
		wantErr    string
	}{
		{name: "no token", cfg: ListenConfig{}, wantNote: "NGROK_AUTHTOKEN is not set: listening on LOCAL only"},
		{name: "no tunnel", cfg: ListenConfig{NoTunnel: true, Ngrok: NgrokOptions{Authtoken: "tok"}}, wantNote: "--no-tunnel: listening on LOCAL only"},
		{name: "public url", cfg: ListenConfig{PublicURL: "https://abc.trycloudflare.com/vapi", Ngrok: NgrokOptions{Authtoken: "tok"}}, wantPublic: "https://abc.trycloudflare.com/vapi", wantNote: "using --public-url https://abc.trycloudflare.com/vapi: it must forward to LOCAL"},
		{name: "bad public url", cfg: ListenConfig{PublicURL: "abc.trycloudflare.com"}, wantErr: `--public-url "abc.trycloudflare.com" is not an http(s) URL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.cfg.Addr = "127.0.0.1:0"
			tun, st, err := ResolveListen(context.Background(), tt.cfg)
			if webhooktest.WantErr(t, err, tt.wantErr) {
				return
			}
			defer tun.Close()
			local := "http://" + tun.Listener().Addr().String()
			if st.ListenURL != local || st.Tunnel != StateOff {
				t.Errorf("status = %+v, want ListenURL %s, Tunnel off", st, local)
			}
			if want := strings.ReplaceAll(tt.wantNote, "LOCAL", local); !strings.HasPrefix(st.TunnelNote, want) {
				t.Errorf("note = %q, want prefix %q", st.TunnelNote, want)
			}
			if tt.wantPublic == "" {
				if tun.URL() != local || tun.Public() || st.PublicURL != "" {
					t.Errorf("URL %q Public %v PublicURL %q; want local only", tun.URL(), tun.Public(), st.PublicURL)
				}
			} else if tun.URL() != tt.wantPublic || !tun.Public() || st.PublicURL != tt.wantPublic {
				t.Errorf("URL %q Public %v PublicURL %q; want %q", tun.URL(), tun.Public(), st.PublicURL, tt.wantPublic)
			}
			assertServes(t, tun, local)
		})
	}
}

// TestResolveListenEveryInterface: with --addr 0.0.0.0 the note must not say "127.0.0.1
// only" (the listen warning says "every interface"), and ListenURL is still an address a
// person on this machine can type (with the port the kernel chose), for `send --to`.
func TestResolveListenEveryInterface(t *testing.T) {
	t.Parallel()
	for _, cfg := range []ListenConfig{{Addr: "0.0.0.0:0"}, {Addr: "0.0.0.0:0", NoTunnel: true}} {
		tun, st, err := ResolveListen(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		port := tun.Listener().Addr().(*net.TCPAddr).Port
		want := fmt.Sprintf("http://127.0.0.1:%d", port)
		if st.ListenURL != want {
			t.Errorf("ListenURL = %q, want %q", st.ListenURL, want)
		}
		if strings.Contains(st.TunnelNote, " only") || !strings.Contains(st.TunnelNote, fmt.Sprintf("every interface, port %d (%s from this machine)", port, want)) {
			t.Errorf("note = %q, want it to say every interface, not only", st.TunnelNote)
		}
		assertServes(t, tun, want)
		tun.Close()
	}
	tun, st, err := ResolveListen(context.Background(), ListenConfig{Addr: "127.0.0.1:0", NoTunnel: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tun.Close()
	if want := "--no-tunnel: listening on " + st.ListenURL + " only"; st.TunnelNote != want {
		t.Errorf("loopback note = %q, want %q", st.TunnelNote, want)
	}
}

func TestResolveListenNgrokFailsBackToLocal(t *testing.T) {
	base := goroutines()
	addr := webhooktest.FreeAddr(t)
	var changes []webhook.Status
	var mu sync.Mutex
	tun, st, err := ResolveListen(context.Background(), ListenConfig{
		Addr:     "127.0.0.1:0",
		Ngrok:    NgrokOptions{Authtoken: "tok", ConnectURL: addr, ConnectTimeout: 200 * time.Millisecond},
		OnChange: func(st webhook.Status) { mu.Lock(); changes = append(changes, st); mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	local := "http://" + tun.Listener().Addr().String()
	// Serve at once: the local listener answers while ngrok is still trying.
	if st.Tunnel != StateConnecting || st.TunnelNote != "connecting to ngrok… · meanwhile listening locally on "+local {
		t.Errorf("status at once = %+v", st)
	}
	srv := serveHello(tun)
	get := func() {
		t.Helper()
		getHello(t, local)
	}
	get()
	select {
	case <-tun.(*pairTunnel).Ready():
		t.Fatal("ngrok's connect ended before the local listener had served: the test proves nothing")
	default:
	}
	st = settled(t, tun)
	mu.Lock()
	if n := len(changes); n == 0 || !reflect.DeepEqual(changes[n-1], st) {
		t.Errorf("OnChange heard %+v, last should be %+v", changes, st)
	}
	mu.Unlock()
	want := "ngrok did not connect within 200ms: cannot reach ngrok's servers at " + addr + ": connection refused: listening locally on " + local
	if st.Tunnel != StateFailed || st.TunnelNote != want || st.PublicURL != "" || tun.Public() {
		t.Errorf("status = %+v\nwant note %q", st, want)
	}
	get()
	srv.Close()
	tun.Close()
	goroutinesSettle(t, base)
}

func TestResolveListenNgrokServesBoth(t *testing.T) {
	base := goroutines()
	edge := newFakeEdge(t, "")
	tun, st, err := ResolveListen(context.Background(), ListenConfig{Addr: "127.0.0.1:0", Ngrok: edge.options(NgrokOptions{Authtoken: "tok"})})
	if err != nil {
		t.Fatal(err)
	}
	local := "http://" + tun.Listener().Addr().String()
	if st.Tunnel != StateConnecting || st.PublicURL != "" {
		t.Errorf("status at once = %+v", st)
	}
	st = settled(t, tun)
	if st.Tunnel != StateOnline || st.PublicURL != edge.url || st.ListenURL != local || tun.URL() != edge.url || !tun.Public() {
		t.Errorf("status = %+v, URL %q", st, tun.URL())
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok "+r.RemoteAddr) }), ReadHeaderTimeout: time.Second}
	go srv.Serve(tun.Listener())

	resp, err := http.Get(local + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(string(b), "ok 127.0.0.1:") {
		t.Errorf("local: %q", b)
	}
	req, _ := http.NewRequest(http.MethodGet, edge.url+"/", nil)
	resp, err = edge.roundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok 203.0.113.7:4444" {
		t.Errorf("through ngrok: %q", b)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Error(err)
	}
	if err := tun.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	http.DefaultClient.CloseIdleConnections()
	edge.close()
	goroutinesSettle(t, base)
}

// assertServes checks that an http.Server on tun's listener answers at url.
func assertServes(t *testing.T, tun Tunnel, url string) {
	t.Helper()
	defer serveHello(tun).Close()
	getHello(t, url)
}

// serveHello serves "hello" on tun's listener until the returned server is closed.
func serveHello(tun Tunnel) *http.Server {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }), ReadHeaderTimeout: time.Second}
	go srv.Serve(tun.Listener())
	return srv
}

// getHello checks that a GET of url, on a connection of its own, answers "hello".
func getHello(t *testing.T, url string) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); string(b) != "hello" {
		t.Errorf("GET %s = %q", url, b)
	}
}

// settled waits for ngrok's first connect to end and returns the tunnel's status then.
func settled(t *testing.T, tun Tunnel) webhook.Status {
	t.Helper()
	pt := tun.(*pairTunnel)
	select {
	case <-pt.Ready():
	case <-time.After(20 * time.Second):
		t.Fatal("ngrok's first connect did not end")
	}
	return pt.Status()
}
