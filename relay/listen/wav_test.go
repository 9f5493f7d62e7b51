package listen

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"
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
