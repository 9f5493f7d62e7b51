package listen

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vapimon/vapimon/webhook"
)

// A recording left open by a crash (sizes zero, a torn last sample frame) is repaired on
// the next start: the header describes the whole frames on disk, other files are left alone.
func TestRepairWAVAfterACrash(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w, err := CreateWAV(filepath.Join(dir, "t.c.wav"), DefaultFormat)
	if err != nil {
		t.Fatal(err)
	}
	pcm := tone(200*time.Millisecond, [2]float64{0.5, 0.5}, 0)
	_, _ = w.Write(pcm)
	_ = w.bw.Flush()
	_, _ = w.f.Write([]byte{9, 9}) // half a sample frame: the crash came mid-write
	_ = w.f.Close()                // no header update: as after kill -9
	other := filepath.Join(dir, "notours.wav")
	_ = os.WriteFile(other, []byte("hello"), 0o600)

	fixed, err := RepairWAVs(dir)
	if err != nil || len(fixed) != 1 || fixed[0] != "t.c.wav" {
		t.Fatalf("repaired %v, %v", fixed, err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "t.c.wav"))
	if got := binary.LittleEndian.Uint32(b[40:]); int(got) != len(pcm) || len(b) != wavHeaderLen+len(pcm) || !bytes.Equal(b[wavHeaderLen:], pcm) {
		t.Errorf("data size %d, file %d: want %d of audio", got, len(b), len(pcm))
	}
	checkWAVWithPython(t, filepath.Join(dir, "t.c.wav"), 2, 16000, len(pcm)/4)
	if fixed, _ := RepairWAVs(dir); len(fixed) != 0 {
		t.Errorf("second repair touched %v", fixed)
	}
	if b, _ := os.ReadFile(other); string(b) != "hello" {
		t.Errorf("a file that is not a vapimon WAV was changed")
	}
}

func TestWAVName(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		tape, call string
		part       int
		want       string
	}{
		{"/x/2026-12-02T01-00-00.jsonl", "f26d846a-30fd", 1, "2026-12-02T01-00-00.f26d846a-30fd.wav"},
		{"t.jsonl", "../../etc/passwd", 1, "t.etcpasswd.wav"},
		{"t.jsonl", "", 2, "t.call.2.wav"},
	} {
		if got := WAVName(c.tape, c.call, c.part); got != c.want {
			t.Errorf("WAVName(%q, %q, %d) = %q, want %q", c.tape, c.call, c.part, got, c.want)
		}
	}
}

// A full disk stops the call's recording, says so once, and the meters go on.
func TestDiskFullStopsOnlyTheRecording(t *testing.T) {
	t.Parallel()
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full here")
	}
	bus := webhook.NewBus()
	sub := bus.Subscribe(64)
	m := NewManager(Config{Bus: bus})
	s := &session{m: m, c: &call{id: "c"}}
	s.setFormat(DefaultFormat)
	s.wav = &WAVWriter{f: full, bw: bufio.NewWriterSize(full, 4096), fmt: DefaultFormat}
	pcm := tone(time.Second, [2]float64{0.5, 0}, 0)
	for i := 0; i < len(pcm); i += 1280 {
		s.audio(pcm[i : i+1280])
	}
	if s.wav != nil || !strings.Contains(s.recErr, "no space left") {
		t.Fatalf("recording %v, error %q: want it stopped with the disk's error", s.wav, s.recErr)
	}
	if l := s.an.levels(); l.Audio != time.Second || !l.Speaking[0] {
		t.Errorf("the meters stopped with the recording: %+v", l)
	}
	notices := 0
	for len(sub) > 0 {
		if n, ok := (<-sub).(webhook.Notice); ok && strings.Contains(n.Text, "the call goes on") {
			notices++
		}
	}
	if notices != 1 {
		t.Errorf("%d notices, want one", notices)
	}
}
