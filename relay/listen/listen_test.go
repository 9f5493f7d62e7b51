package listen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/vapimon/vapimon/webhook"
	"github.com/vapimon/vapimon/webhook/webhooktest"
)

type tapeNotes struct {
	files []string
}

func (n *tapeNotes) RecordAudio(callID, file string, f Format, at time.Time) error {
	n.files = append(n.files, callID+" "+file+" "+f.String())
	return nil
}

// run starts a manager fed by its own bus; it returns the bus (to publish events on) and
// a subscription to read updates from.
func run(t *testing.T, cfg Config) (*Manager, *webhook.Bus, <-chan any) {
	t.Helper()
	bus := webhook.NewBus()
	cfg.Bus = bus
	if cfg.Backoff == nil {
		cfg.Backoff = func(int) time.Duration { return 10 * time.Millisecond }
	}
	m := NewManager(cfg)
	events := bus.Subscribe(1024)
	updates := bus.Subscribe(1 << 14)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx, events) }()
	t.Cleanup(func() { cancel(); <-done })
	return m, bus, updates
}

// listenTo starts a manager with cfg (as run does), publishes ev on its bus and waits for
// the first update that until accepts; it returns that update and the subscription, for
// the updates after it.
func listenTo(t *testing.T, cfg Config, ev *webhook.Event, until func(Update) bool) (Update, <-chan any) {
	t.Helper()
	_, bus, sub := run(t, cfg)
	bus.Publish(ev)
	return watch(t, sub, until), sub
}

// ended, failed and over (ended or failed) are the states tests wait for.
func ended(u Update) bool  { return u.State == StateEnded }
func failed(u Update) bool { return u.State == StateFailed }
func over(u Update) bool   { return ended(u) || failed(u) }

// The WAV holds exactly the samples streamed, its header is valid (read by Python's wave
// module, a parser vapimon did not write), the file is 0600 and named after tape and call,
// and the tape is told.
func TestRecordsExactlyTheStreamedSamples(t *testing.T) {
	t.Parallel()
	pcm := tone(1500*time.Millisecond, [2]float64{0.5, 0.25}, 0)
	fake := newFakeListen(t)
	fake.script = func(ctx context.Context, c *websocket.Conn, n int) {
		_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"start","encoding":"linear16","container":"raw","sampleRate":16000,"channels":2}`))
		_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"transcript","role":"user","transcript":"hi"}`))
		// Frames of 1,282 bytes: sample frames split across WebSocket frames.
		if err := sendFrames(ctx, c, pcm, 1282); err != nil {
			t.Errorf("send: %v", err)
		}
		_ = c.Close(websocket.StatusNormalClosure, "call ended")
	}
	dir := t.TempDir()
	notes := &tapeNotes{}
	u, _ := listenTo(t, Config{All: true, Dir: dir, TapePath: filepath.Join(dir, "2026-12-02T01-00-00.jsonl"), Tape: notes}, fake.call("call-1", false), ended)
	if !strings.Contains(u.Note, "call ended") {
		t.Errorf("note %q: want it to say the call ended", u.Note)
	}
	if fake.paths[0] != "/call-1/listen" || fake.auths[0] != "" {
		t.Errorf("connected to %q with Authorization %q: want /call-1/listen, none (no monitor plan asked for it)", fake.paths[0], fake.auths[0])
	}
	path := filepath.Join(dir, "2026-12-02T01-00-00.call-1.wav")
	if u.File != path {
		t.Errorf("update names %q, want %q", u.File, path)
	}
	webhooktest.Perm(t, path, 0o600)
	b, _ := os.ReadFile(path)
	if got, want := sha256.Sum256(b[wavHeaderLen:]), sha256.Sum256(pcm); got != want {
		t.Errorf("data chunk hash %s, want %s (%d vs %d bytes)", hex.EncodeToString(got[:4]), hex.EncodeToString(want[:4]), len(b)-wavHeaderLen, len(pcm))
	}
	if len(notes.files) != 1 || notes.files[0] != "call-1 2026-12-02T01-00-00.call-1.wav 16000 Hz stereo s16le" {
		t.Errorf("tape told %q", notes.files)
	}
	checkWAVWithPython(t, path, 2, 16000, len(pcm)/4)
	if u.TextFrames != 2 {
		t.Errorf("text frames %d, want 2", u.TextFrames)
	}
}

// checkWAVWithPython reads the header with Python's wave module (skipped without python3).
func checkWAVWithPython(t *testing.T, path string, channels, rate, frames int) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Log("python3 not found: WAV header not checked by an outside parser")
		return
	}
	out, err := exec.Command(py, "-c", `import sys, wave
w = wave.open(sys.argv[1], "rb")
print(w.getnchannels(), w.getframerate(), w.getsampwidth(), w.getnframes(), len(w.readframes(w.getnframes())))`, path).CombinedOutput()
	if err != nil {
		t.Fatalf("python wave: %v: %s", err, out)
	}
	want := strings.Join([]string{itoa(channels), itoa(rate), "2", itoa(frames), itoa(frames * 2 * channels)}, " ")
	if got := strings.TrimSpace(string(out)); got != want {
		t.Errorf("python wave reads %q, want %q", got, want)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// With listenAuthenticationEnabled in the monitor plan, the public key goes as a Bearer
// token; without a key, vapimon does not connect and says what to set.
func TestBearerKeyWhenTheMonitorPlanAsks(t *testing.T) {
	t.Parallel()
	fake := newFakeListen(t)
	fake.want = "Bearer pk-test-123"
	fake.script = playOnce(200 * time.Millisecond)
	u, _ := listenTo(t, Config{All: true, PublicKey: "pk-test-123"}, fake.call("c-auth", true), over)
	if u.State != StateEnded || u.Bytes == 0 {
		t.Errorf("state %s (%s), %d bytes: want the stream heard to its end", u.State, u.Note, u.Bytes)
	}
	if fake.auths[0] != "Bearer pk-test-123" {
		t.Errorf("Authorization %q", fake.auths[0])
	}

	u, _ = listenTo(t, Config{All: true}, fake.call("c-nokey", true), failed)
	if !strings.Contains(u.Note, "VAPI_PUBLIC_KEY") {
		t.Errorf("note %q: want it to name VAPI_PUBLIC_KEY", u.Note)
	}
	if strings.Contains(u.Note, "pk-test") {
		t.Errorf("note shows the key: %q", u.Note)
	}
}

// A listen URL that answers 401 though no payload asked for the key gets the key on the
// next attempt; the key never goes to a host that is not Vapi's or this machine.
func TestKeyOnlyToVapiOrLoopback(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		url  string
		want bool
	}{
		{"wss://phone-call-websocket.aws-us-west-2-backend-production1.vapi.ai/x/listen", true},
		{"ws://phone-call-websocket.vapi.ai/x/listen", false},
		{"wss://evil.example/x/listen", false},
		{"wss://vapi.ai.evil.example/x", false},
		{"ws://127.0.0.1:9/x", true},
		{"ws://localhost:9/x", true},
	} {
		u, err := checkURL(c.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := keyAllowed(u); got != c.want {
			t.Errorf("keyAllowed(%s) = %v, want %v", c.url, got, c.want)
		}
	}
	fake := newFakeListen(t)
	fake.want = "Bearer pk-2"
	fake.script = playOnce(100 * time.Millisecond)
	u, _ := listenTo(t, Config{All: true, PublicKey: "pk-2"}, fake.call("c-401", false), over)
	if u.State != StateEnded || len(fake.auths) != 2 || fake.auths[0] != "" || fake.auths[1] != "Bearer pk-2" {
		t.Errorf("state %s (%s), auths %q: want a first try without, then with the key", u.State, u.Note, fake.auths)
	}
}

// Refusing, garbage, dropping and stalling listen URLs: the note says why, reconnects are
// bounded, and the manager keeps serving other calls.
func TestBadListenURLs(t *testing.T) {
	t.Parallel()
	t.Run("refuses", func(t *testing.T) {
		t.Parallel()
		fake := newFakeListen(t)
		fake.refuse = func(int) int { return http503 }
		u, _ := listenTo(t, Config{All: true}, fake.call("c", false), failed)
		if !strings.Contains(u.Note, "HTTP 503") || !strings.Contains(u.Note, "gave up after 5 attempts") {
			t.Errorf("note %q", u.Note)
		}
		if n := fake.connections(); n != maxFailures {
			t.Errorf("%d attempts, want %d", n, maxFailures)
		}
	})
	t.Run("not a websocket URL", func(t *testing.T) {
		t.Parallel()
		u, _ := listenTo(t, Config{All: true}, event("c", webhook.TypeStatusUpdate, "https://example.com/listen", false), failed)
		if !strings.Contains(u.Note, "wss://") {
			t.Errorf("note %q", u.Note)
		}
	})
	t.Run("garbage frames", func(t *testing.T) {
		t.Parallel()
		fake := newFakeListen(t)
		fake.script = func(ctx context.Context, c *websocket.Conn, n int) {
			_ = c.Write(ctx, websocket.MessageText, []byte("\x1b[31mnot json"))
			_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"start","sampleRate":999999,"channels":7}`))
			_ = c.Write(ctx, websocket.MessageBinary, []byte{1, 2, 3}) // not a whole sample frame
			_ = sendFrames(ctx, c, tone(300*time.Millisecond, [2]float64{0.3, 0.3}, 0), 640)
			_ = c.Close(websocket.StatusNormalClosure, "")
		}
		dir := t.TempDir()
		u, sub := listenTo(t, Config{All: true, Dir: dir, TapePath: filepath.Join(dir, "t.jsonl")}, fake.call("c", false),
			func(u Update) bool { return u.State == StateLive && strings.Contains(u.Note, "start frame says") })
		if !strings.Contains(u.Note, "999999 Hz") {
			t.Errorf("note %q", u.Note)
		}
		u = watch(t, sub, ended)
		if u.Format != DefaultFormat {
			t.Errorf("format %v after a bad start frame, want the default", u.Format)
		}
		b, _ := os.ReadFile(filepath.Join(dir, "t.c.wav"))
		if len(b) < wavHeaderLen || !bytes.Equal(b[wavHeaderLen:wavHeaderLen+3], []byte{1, 2, 3}) {
			t.Errorf("the split bytes are not kept in order")
		}
	})
	t.Run("drops then ends", func(t *testing.T) {
		t.Parallel()
		fake := newFakeListen(t)
		fake.script = func(ctx context.Context, c *websocket.Conn, n int) {
			_ = sendFrames(ctx, c, tone(100*time.Millisecond, [2]float64{0.3, 0}, 0), 640)
			if n < 3 {
				_ = c.CloseNow() // drop without a close frame
				return
			}
			_ = c.Close(websocket.StatusNormalClosure, "")
		}
		dir := t.TempDir()
		u, _ := listenTo(t, Config{All: true, Dir: dir, TapePath: filepath.Join(dir, "t.jsonl")}, fake.call("c", false), ended)
		if fake.connections() != 3 || u.Bytes != 3*6400 {
			t.Errorf("%d connections, %d bytes: want 3 and the audio of all three in one recording", fake.connections(), u.Bytes)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "t.c.wav")); len(b) != wavHeaderLen+3*6400 {
			t.Errorf("recording %d bytes", len(b))
		}
	})
	t.Run("stalls", func(t *testing.T) {
		t.Parallel()
		fake := newFakeListen(t)
		release := make(chan struct{})
		fake.script = func(ctx context.Context, c *websocket.Conn, n int) {
			_ = sendFrames(ctx, c, tone(100*time.Millisecond, [2]float64{0.3, 0}, 0), 640)
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		m, bus, sub := run(t, Config{})
		bus.Publish(fake.call("c", false))
		m.Toggle("c")
		u := watch(t, sub, func(u Update) bool { return u.NoAudio >= stallAfter })
		if !strings.Contains(u.Note, "no audio for") {
			t.Errorf("note %q", u.Note)
		}
		close(release)
	})
}

const http503 = 503
