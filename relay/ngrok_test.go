package relay

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vapimon/vapimon/webhook/webhooktest"
)

// The ngrok tests count goroutines, so they do not run in parallel with anything.

func TestListenNgrokUnreachable(t *testing.T) {
	base := goroutines()
	addr := webhooktest.FreeAddr(t) // not 127.0.0.1:1: on a shared machine something may listen there
	elapsed, states, err := listenFails(t, "against a closed port", NgrokOptions{
		Authtoken:      "test-token",
		ConnectURL:     addr,
		ConnectTimeout: 300 * time.Millisecond,
	})
	want := "ngrok did not connect within 300ms: cannot reach ngrok's servers at " + addr + ": connection refused"
	if err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
	// A hang guard, not a benchmark: the timer must end the attempt, not ngrok's retries.
	if elapsed > 5*time.Second {
		t.Errorf("ListenNgrok took %s with a 300ms connect timeout", elapsed)
	}
	if len(states) < 2 || !strings.HasPrefix(states[0], "connecting") || !strings.HasPrefix(states[len(states)-1], "failed: ngrok did not connect") {
		t.Errorf("status sequence = %q", states)
	}
	goroutinesSettle(t, base)
}

func TestListenNgrokBadToken(t *testing.T) {
	base := goroutines()
	edge := newFakeEdge(t, "The authtoken you specified does not look like a proper ngrok tunnel authtoken.\nYour authtoken: bad\nInstructions to install your authtoken are on your ngrok dashboard:\nhttps://dashboard.ngrok.com/get-started/your-authtoken\n\nERR_NGROK_105\n")
	elapsed, states, err := listenFails(t, "with a refused token", edge.options(NgrokOptions{
		Authtoken:      "bad",
		ConnectTimeout: time.Minute,
	}))
	if want := "ngrok rejected the authtoken (ERR_NGROK_105): check NGROK_AUTHTOKEN"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	// A refused token is final: ListenNgrok must not sit out the one-minute timeout.
	if elapsed > 10*time.Second {
		t.Errorf("ListenNgrok took %s to give up on a refused token", elapsed)
	}
	if got := states[len(states)-1]; got != "failed: ngrok rejected the authtoken (ERR_NGROK_105): check NGROK_AUTHTOKEN" {
		t.Errorf("last status = %q (all: %q)", got, states)
	}
	edge.close()
	goroutinesSettle(t, base)
}

// listenFails runs ListenNgrok with opts, which must fail (else the test fails, saying
// how: what), and returns how long it took, the statuses it reported and its error.
func listenFails(t *testing.T, what string, opts NgrokOptions) (elapsed time.Duration, states []string, err error) {
	t.Helper()
	st := newStatusLog()
	opts.OnStatus = st.on
	start := time.Now()
	tun, err := ListenNgrok(context.Background(), opts)
	elapsed = time.Since(start)
	if err == nil {
		tun.Close()
		t.Fatal("ListenNgrok succeeded " + what)
	}
	return elapsed, st.states(), err
}

func TestListenNgrokCancelled(t *testing.T) {
	base := goroutines()
	ctx, cancel := context.WithCancel(context.Background())
	st := newStatusLog()
	go func() {
		for s := range st.ch {
			if s == StateConnecting {
				cancel()
				return
			}
		}
	}()
	_, err := ListenNgrok(ctx, NgrokOptions{Authtoken: "x", ConnectURL: webhooktest.FreeAddr(t), ConnectTimeout: time.Minute, OnStatus: st.on})
	if err == nil || !strings.Contains(err.Error(), "connect abandoned: context canceled") {
		t.Fatalf("error = %v, want connect abandoned", err)
	}
	goroutinesSettle(t, base)
}

func TestListenNgrokOnlineReconnectClose(t *testing.T) {
	base := goroutines()
	edge := newFakeEdge(t, "")
	st := newStatusLog()
	tun, err := ListenNgrok(context.Background(), edge.options(NgrokOptions{
		Authtoken:     "good",
		TrafficPolicy: "on_http_request: []",
		OnStatus:      st.on,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if tun.URL() != edge.url || !tun.Public() {
		t.Errorf("URL, Public = %q, %v; want %q, true", tun.URL(), tun.Public(), edge.url)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s from %s", r.Method, r.URL.Path, r.RemoteAddr)
	}), ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(tun.Listener()) }()

	get := func() string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, "http://vapimon-test.ngrok.app/vapi", strings.NewReader("{}"))
		resp, err := edge.roundTrip(req)
		if err != nil {
			t.Fatalf("request through the tunnel: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got, want := get(), "POST /vapi from 203.0.113.7:4444"; got != want {
		t.Errorf("through the tunnel: %q, want %q", got, want)
	}

	// A dropped session is shown as reconnecting, then online again, and still serves.
	<-edge.bound
	edge.dropSessions()
	st.waitFor(t, StateReconnecting)
	st.waitFor(t, StateOnline)
	<-edge.bound // the endpoint is bound again on the new session
	if got := get(); !strings.HasPrefix(got, "POST /vapi") {
		t.Errorf("after reconnect: %q", got)
	}

	// Ordered shutdown: the server first, then the tunnel; neither hangs.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-served; err != http.ErrServerClosed {
		t.Errorf("Serve returned %v", err)
	}
	if err := tun.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := tun.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	wantStates := []string{"connecting: ", "online: "}
	if got := st.states(); len(got) < 4 || got[0] != wantStates[0] || got[1] != wantStates[1] || !strings.HasPrefix(got[2], "reconnecting: ") || got[len(got)-1] != "online: reconnected" {
		t.Errorf("status sequence = %q", got)
	}
	edge.close()
	goroutinesSettle(t, base)
}

func TestExplainNgrok(t *testing.T) {
	t.Parallel()
	dial := &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, Err: os.NewSyscallError("connect", errConnRefused())}
	tests := []struct {
		name    string
		err     error
		subject string
		want    string
	}{
		{"bad token", codedErr{"The authtoken you specified does not look like a proper ngrok tunnel authtoken.\n\nERR_NGROK_105"}, "", "ngrok rejected the authtoken (ERR_NGROK_105): check NGROK_AUTHTOKEN"},
		{"revoked token", codedErr{"The authtoken you specified is properly formed, but it is invalid.\nERR_NGROK_107"}, "", "ngrok rejected the authtoken (ERR_NGROK_107): check NGROK_AUTHTOKEN"},
		{"session limit", codedErr{"limited to 1 simultaneous session\nERR_NGROK_108"}, "", "ngrok refused another agent session on this account (ERR_NGROK_108): stop the other ngrok agent"},
		{"other code with subject", codedErr{"\x1b[31mYou must reserve\x1b[0m this domain first.\nmore text\nERR_NGROK_320"}, "the endpoint https://x.ngrok.app", "ngrok refused the endpoint https://x.ngrok.app (ERR_NGROK_320): You must reserve this domain first."},
		{"dial refused", fmt.Errorf("failed to dial ngrok server: %w", dial), "", "cannot reach ngrok's servers at 127.0.0.1:1: connection refused"},
		{"dns", &net.DNSError{Name: "connect.ngrok-agent.com", Err: "no such host"}, "", "cannot resolve connect.ngrok-agent.com (no network?)"},
		{"plain", fmt.Errorf("something odd\r\nhappened"), "", "ngrok: something odd happened"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := explainNgrok(tt.err, tt.subject); got != tt.want {
				t.Errorf("explainNgrok = %q\nwant           %q", got, tt.want)
			}
		})
	}
}

// codedErr mimics ngrok's internal error type: the code is parsed from the text.
type codedErr struct{ s string }

func (e codedErr) Error() string { return e.s }
func (e codedErr) ErrorCode() string {
	i := strings.Index(e.s, "ERR_NGROK_")
	if i < 0 {
		return ""
	}
	return strings.TrimSpace(e.s[i:])
}
func (e codedErr) Msg() string {
	i := strings.Index(e.s, "ERR_NGROK_")
	return strings.TrimSpace(e.s[:i])
}

// TestListenNgrokLive runs against ngrok's cloud, only when NGROK_AUTHTOKEN is set.
func TestListenNgrokLive(t *testing.T) {
	token := os.Getenv("NGROK_AUTHTOKEN")
	if token == "" {
		t.Skip("NGROK_AUTHTOKEN is not set")
	}
	tun, err := ListenNgrok(context.Background(), NgrokOptions{Authtoken: token, Domain: os.Getenv("VAPIMON_TEST_NGROK_DOMAIN")})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "vapimon live test") }), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(tun.Listener())
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := tun.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	if !strings.HasPrefix(tun.URL(), "https://") {
		t.Errorf("URL = %q, want https", tun.URL())
	}
	client := &http.Client{Timeout: 20 * time.Second}
	resp, err := client.Get(tun.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "vapimon live test" {
		t.Errorf("GET %s = %d %q", tun.URL(), resp.StatusCode, b)
	}
}

func errConnRefused() error { return syscall.ECONNREFUSED }
