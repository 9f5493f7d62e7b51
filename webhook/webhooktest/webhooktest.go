// Package webhooktest holds what the tests of every room need to exercise webhooks for
// real: a server that records what it is sent, polling with a deadline, a free loopback
// port, a server that hangs, a buffer goroutines can share, a POST and a JSON comparison,
// and the files they watch or write (a whole-file swap, a permission check). It imports no
// vapimon package, so that webhook's own tests use it too; it is imported only by tests.
package webhooktest

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// Request is one request a Server saw.
type Request struct {
	Method string
	// Path is the request URI as sent: path and query.
	Path string
	// URL is the whole URL the request was sent to, with the Host it named.
	URL    string
	Header http.Header
	Body   []byte
}

// Server starts a test server that answers every request with status, header and body
// and hands each request it sees to the returned channel (room for 16 unread ones). It
// closes when the test ends.
func Server(t testing.TB, status int, header http.Header, body string) (*httptest.Server, <-chan Request) {
	t.Helper()
	ch := make(chan Request, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ch <- Request{Method: r.Method, Path: r.URL.RequestURI(), URL: "http://" + r.Host + r.URL.RequestURI(), Header: r.Header.Clone(), Body: b}
		for k, vs := range header {
			w.Header()[k] = vs
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, ch
}

// Hang holds a test server's handler until its request ends (the client gave up) or the
// test t is over. t's Context is done before t's cleanups run, so a cleanup that closes
// the server never waits on a handler that hangs.
func Hang(t testing.TB, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-t.Context().Done():
	}
}

// HangingServer starts a test server that never answers: each request hangs (see Hang).
// It closes when the test ends.
func HangingServer(t testing.TB) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { Hang(t, r) }))
	t.Cleanup(srv.Close)
	return srv
}

// Eventually polls cond until it holds, and fails the test when it still does not after
// within: for state that another goroutine changes, where there is no event to wait on.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not synchronisation
	}
}

// FreeAddr returns a loopback address that nothing listens on (it was free a moment ago):
// for a server the test starts later, or for a connection that must be refused.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Buffer is a bytes.Buffer that goroutines can write while the test reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Contains reports whether what was written so far holds sub.
func (b *Buffer) Contains(sub string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Contains(b.b.Bytes(), []byte(sub))
}

// Post sends body as JSON to url and returns the status and the reply's body; a request
// that fails fails the test.
func Post(t testing.TB, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// JSONEqual reports whether a and b hold the same JSON value (key order and spacing
// aside); either not being JSON fails the test.
func JSONEqual(t testing.TB, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("not JSON: %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("not JSON: %s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

// WantErr checks err against a table case's wanted error: with want set, err must start
// with it, and WantErr returns true (the case is done); with want "", err must be nil.
func WantErr(t testing.TB, err error, want string) bool {
	t.Helper()
	if want != "" {
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Fatalf("error = %v, want prefix %q", err, want)
		}
		return true
	}
	if err != nil {
		t.Fatal(err)
	}
	return false
}

// WantErrExact is WantErr for a case whose wanted error is the whole message: with want
// set, err must say exactly want.
func WantErrExact(t testing.TB, err error, want string) bool {
	t.Helper()
	if want != "" {
		if err == nil || err.Error() != want {
			t.Fatalf("error = %v\nwant    %s", err, want)
		}
		return true
	}
	if err != nil {
		t.Fatal(err)
	}
	return false
}

// Holds fails the test (and goes on) for each of wants that s does not contain, naming s
// as what ("screen", "stdout") and showing it whole.
func Holds(t testing.TB, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, s)
		}
	}
}

// Concurrently calls call(g, i) from goroutines goroutines at once, each of them for i from
// 0 to each-1 and stopping at its first error, then fails the test (and goes on) with every
// error returned; it returns whether there was none. For -race and for shared writers.
func Concurrently(t testing.TB, goroutines, each int, call func(g, i int) error) bool {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				if err := call(g, i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	ok := true
	for err := range errs {
		t.Error(err)
		ok = false
	}
	return ok
}

// WriteAtomic replaces the file at path with data whole, the way editors that save safely
// do: written beside it, then renamed over it, so that a watcher or a reader sees the old
// content or the new, never part of it.
func WriteAtomic(t testing.TB, path, data string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// Perm fails the test (and goes on) when the permission bits of path are not want; a path
// that cannot be read stops the test.
func Perm(t testing.TB, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s: mode %o, want %o", path, got, want)
	}
}
