package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vapimon/vapimon/fixtures/tapetest"
	"github.com/vapimon/vapimon/webhook"
)

var (
	tapeLoad     = flag.Bool("load", false, "run TestReplayLoad: write a -load.size tape and replay it (and fixtures show it) with the real binary, reporting peak RSS")
	tapeLoadSize = flag.Int64("load.size", 1<<30, "size in bytes of the tape TestReplayLoad writes")
)

// TestReplayLoad is the memory load test of issue 9 (not run in CI):
//
//	go test ./cmd/vapimon -run TestReplayLoad -load -v
//
// It writes a 1 GB v2 tape as `vapimon listen` records it (the built-in scenarios' requests
// again and again, a request line and a reply line each, some tool calls without reply),
// then runs `vapimon replay TAPE --to URL --instant` (fresh ids and times: the whole
// streaming path) and `vapimon fixtures show TAPE --json` against it, and fails when either
// process's peak resident memory reaches 200 MB.
func TestReplayLoad(t *testing.T) {
	if !*tapeLoad {
		t.Skip("load test: run with -load (writes a 1 GB tape)")
	}
	if tapetest.RaceEnabled() {
		t.Skip("run the load test without -race: the race detector's memory is not vapimon's")
	}
	path := filepath.Join(t.TempDir(), "big.jsonl")
	start := time.Now()
	n := tapetest.WriteBigTape(t, path, *tapeLoadSize, 0, 100*time.Millisecond)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d requests, %.0f MB, in %s", n, float64(st.Size())/(1<<20), time.Since(start).Round(time.Millisecond))

	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got.Add(1)
		msg, _ := webhook.Parse(body)
		code, reply := goodAnswer(msg)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, reply)
	}))
	defer srv.Close()

	const limit = 200 << 20
	for _, args := range [][]string{
		{"replay", path, "--to", srv.URL, "--instant"},
		{"fixtures", "show", path, "--json"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		cmd := exec.CommandContext(ctx, vapimonBin, args...)
		tmp := t.TempDir()
		cmd.Env = testEnv(tmp, filepath.Join(tmp, "state"))
		var stdout countingWriter
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		began := time.Now()
		err := cmd.Run()
		cancel()
		took := time.Since(began)
		// replay exits 1 when a reply has the wrong shape (this server answers {} to an
		// assistant-request): what matters here is that it went through the whole tape.
		var ee *exec.ExitError
		if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1 && args[0] == "replay") {
			t.Fatalf("vapimon %s: %v\n%s\n%s", strings.Join(args[:2], " "), err, stdout.tail, tail(stderr.String()))
		}
		if args[0] == "replay" && !bytes.Contains(stdout.tail, []byte(fmt.Sprintf("replayed %d requests", n))) {
			t.Errorf("replay did not go through the tape:\n%s\n%s", stdout.tail, tail(stderr.String()))
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		rss := ru.Maxrss << 10 // kilobytes on Linux
		t.Logf("vapimon %s: %s, peak RSS %.1f MB, %d bytes of output", strings.Join(args[:2], " "), took.Round(time.Millisecond), float64(rss)/(1<<20), stdout.n)
		if rss >= limit {
			t.Errorf("vapimon %s: peak RSS %.1f MB for a %.0f MB tape, want under 200 MB", args[0], float64(rss)/(1<<20), float64(st.Size())/(1<<20))
		}
	}
	if got.Load() != int64(n) {
		t.Errorf("the server got %d requests, the tape holds %d", got.Load(), n)
	}
}

// countingWriter counts what is written and keeps its last 4 KB.
type countingWriter struct {
	n    int64
	tail []byte
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	c.tail = append(c.tail, p...)
	if len(c.tail) > 4096 {
		c.tail = append(c.tail[:0], c.tail[len(c.tail)-4096:]...)
	}
	return len(p), nil
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}
