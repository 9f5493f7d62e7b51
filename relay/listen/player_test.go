package listen

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// --play through a stub player (a shell command that records what it gets): the player
// receives the call's PCM with the format in its arguments, the caller muted and the
// assistant at half volume.
func TestPlaybackThroughAStubPlayer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	got := filepath.Join(dir, "got.pcm")
	args := filepath.Join(dir, "args")
	pl := NewPlayer(PlayerCommand("echo {rate} {channels} {layout} $VAPIMON_CALL > " + args + "; cat > " + got))
	pl.ToggleMute(Customer)
	pl.SetVolume(50)
	pcm := tone(400*time.Millisecond, [2]float64{0.5, 0.5}, 0)
	fake := newFakeListen(t)
	fake.script = func(ctx context.Context, c *websocket.Conn, n int) {
		_ = sendFrames(ctx, c, pcm, 1280)
		_ = c.Close(websocket.StatusNormalClosure, "")
	}
	u, _ := listenTo(t, Config{All: true, Player: pl, PlayAll: true}, fake.call("c-play", false), ended)
	if u.Bytes != int64(len(pcm)) {
		t.Fatalf("heard %d bytes", u.Bytes)
	}
	if a, _ := os.ReadFile(args); strings.TrimSpace(string(a)) != "16000 2 stereo c-play" {
		t.Errorf("player arguments %q", a)
	}
	b, err := os.ReadFile(got)
	if err != nil || len(b) != len(pcm) {
		t.Fatalf("the player got %d bytes of %d (%v)", len(b), len(pcm), err)
	}
	for i := 0; i+4 <= len(b); i += 4 {
		c := int16(binary.LittleEndian.Uint16(b[i:]))
		a := int16(binary.LittleEndian.Uint16(b[i+2:]))
		want := int16(binary.LittleEndian.Uint16(pcm[i+2:]))
		if c != 0 || a != int16(int32(want)*50/100) {
			t.Fatalf("frame %d: caller %d (muted: want 0), assistant %d (want %d)", i/4, c, a, want/2)
		}
	}
}

// No player on PATH: a clear message naming what to install; afplay alone is not enough.
func TestFindPlayer(t *testing.T) {
	t.Parallel()
	none := func(string) (string, error) { return "", os.ErrNotExist }
	if _, err := FindPlayer(none); err == nil || !strings.Contains(err.Error(), "ffplay") || !strings.Contains(err.Error(), "still recorded") {
		t.Errorf("err %v", err)
	}
	mac := func(n string) (string, error) {
		if n == "afplay" {
			return "/usr/bin/afplay", nil
		}
		return "", os.ErrNotExist
	}
	if _, err := FindPlayer(mac); err == nil || !strings.Contains(err.Error(), "afplay reads files only") {
		t.Errorf("err %v", err)
	}
	sox := func(n string) (string, error) {
		if n == "play" {
			return "/usr/bin/play", nil
		}
		return "", os.ErrNotExist
	}
	argv, err := FindPlayer(sox)
	if err != nil || argv[0] != "/usr/bin/play" {
		t.Fatalf("%v %v", argv, err)
	}
	if got := strings.Join(expand(argv, DefaultFormat), " "); !strings.Contains(got, "-r 16000 -c 2 -") {
		t.Errorf("sox play arguments: %s", got)
	}
}

// A player that fails is said on the meter (not restarted for every frame); P again
// retries it.
func TestPlayerFailureIsShown(t *testing.T) {
	t.Parallel()
	pl := NewPlayer([]string{"/nonexistent/player"})
	fake := newFakeListen(t)
	fake.script = playOnce(300 * time.Millisecond)
	u, _ := listenTo(t, Config{All: true, Player: pl, PlayAll: true}, fake.call("c-bad", false), func(u Update) bool { return u.PlayErr != "" })
	if !strings.Contains(u.PlayErr, "cannot start the player /nonexistent/player") || !u.Playing {
		t.Errorf("update %+v", u)
	}
	pl.retry()
	if pl.Err() != "" {
		t.Error("retry kept the failure")
	}
}
