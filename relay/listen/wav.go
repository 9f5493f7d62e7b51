package listen

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// wavHeaderLen is the size of the canonical PCM WAV header vapimon writes.
const wavHeaderLen = 44

// maxWAVData is the largest data chunk a RIFF file can describe (its sizes are 32-bit).
const maxWAVData = 1<<32 - 1 - (wavHeaderLen - 8)

// wavHeader returns the 44-byte RIFF header for dataLen bytes of 16-bit PCM in format f.
func wavHeader(f Format, dataLen uint32) []byte {
	h := make([]byte, wavHeaderLen)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], 36+dataLen)
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16) // fmt chunk size
	binary.LittleEndian.PutUint16(h[20:], 1)  // PCM
	binary.LittleEndian.PutUint16(h[22:], uint16(f.Channels))
	binary.LittleEndian.PutUint32(h[24:], uint32(f.SampleRate))
	binary.LittleEndian.PutUint32(h[28:], uint32(f.bytesPerSecond()))
	binary.LittleEndian.PutUint16(h[32:], uint16(f.frameBytes()))
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], dataLen)
	return h
}

// WAVWriter records one call's audio. The header's sizes are written when it is closed;
// a file left by a crash has sizes of zero and is put right by RepairWAVs on the next
// start.
type WAVWriter struct {
	f    *os.File
	bw   *bufio.Writer
	fmt  Format
	data int64
	err  error
}

// CreateWAV creates path (0600; it must not exist) for audio in format f.
func CreateWAV(path string, f Format) (*WAVWriter, error) {
	file, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	w := &WAVWriter{f: file, bw: bufio.NewWriterSize(file, 64<<10), fmt: f}
	if _, err := w.bw.Write(wavHeader(f, 0)); err != nil {
		_ = file.Close()
		return nil, fmt.Errorf("recording %s: %w", path, err)
	}
	return w, nil
}

// Write appends whole sample frames. After the first error (disk full) it writes nothing
// more and returns that error again: the caller reports it, the call goes on.
func (w *WAVWriter) Write(pcm []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.data+int64(len(pcm)) > maxWAVData {
		w.err = errors.New("the recording reached the WAV size limit (4 GiB): later audio is not recorded")
		return 0, w.err
	}
	n, err := w.bw.Write(pcm)
	w.data += int64(n)
	if err != nil {
		w.err = err
	}
	return n, err
}

// DataBytes is how many bytes of audio are recorded.
func (w *WAVWriter) DataBytes() int64 { return w.data }

// Path is the file's path.
func (w *WAVWriter) Path() string { return w.f.Name() }

// Close writes the header's sizes, syncs and closes the file.
func (w *WAVWriter) Close() error {
	ferr := w.bw.Flush()
	// Whatever reached the disk is described by the header, even after a write error.
	st, err := w.f.Stat()
	data := w.data
	if err == nil {
		data = st.Size() - wavHeaderLen
		data -= data % int64(w.fmt.frameBytes())
	}
	_, herr := w.f.WriteAt(wavHeader(w.fmt, uint32(max(data, 0))), 0)
	serr := w.f.Sync()
	cerr := w.f.Close()
	return errors.Join(ferr, herr, serr, cerr)
}

// RepairWAVs fixes the headers of the WAV files in dir whose sizes do not match the file
// (vapimon stopped before closing them): the sizes are set to the whole sample frames on
// disk, a torn last frame is cut. It returns the names repaired.
func RepairWAVs(dir string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(dir, "*.wav"))
	if err != nil {
		return nil, err
	}
	var fixed []string
	var errs []error
	for _, p := range matches {
		ok, err := repairWAV(p)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			fixed = append(fixed, filepath.Base(p))
		}
	}
	return fixed, errors.Join(errs...)
}

// repairWAV repairs one file written by vapimon; it leaves other files alone.
func repairWAV(path string) (bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return false, fmt.Errorf("repair %s: %w", path, err)
	}
	defer f.Close()
	h := make([]byte, wavHeaderLen)
	if _, err := io.ReadFull(f, h); err != nil {
		return false, nil // too short to be ours
	}
	if string(h[0:4]) != "RIFF" || string(h[8:16]) != "WAVEfmt " || string(h[36:40]) != "data" ||
		binary.LittleEndian.Uint16(h[20:]) != 1 || binary.LittleEndian.Uint16(h[34:]) != 16 {
		return false, nil
	}
	fm := Format{SampleRate: int(binary.LittleEndian.Uint32(h[24:])), Channels: int(binary.LittleEndian.Uint16(h[22:]))}
	if !fm.valid() {
		return false, nil
	}
	st, err := f.Stat()
	if err != nil {
		return false, err
	}
	data := st.Size() - wavHeaderLen
	data -= data % int64(fm.frameBytes())
	data = min(data, maxWAVData)
	if int64(binary.LittleEndian.Uint32(h[40:])) == data && binary.LittleEndian.Uint32(h[4:]) == uint32(36+data) && st.Size() == wavHeaderLen+data {
		return false, nil
	}
	if err := f.Truncate(wavHeaderLen + data); err != nil {
		return false, fmt.Errorf("repair %s: %w", path, err)
	}
	if _, err := f.WriteAt(wavHeader(fm, uint32(data)), 0); err != nil {
		return false, fmt.Errorf("repair %s: %w", path, err)
	}
	return true, f.Sync()
}

// WAVName is the file name of a call's recording beside the tape: the tape's name without
// its extension, then the call id (letters, digits and dashes only), then part (when a
// call's format changed mid-stream, or the name is taken).
func WAVName(tapePath, callID string, part int) string {
	base := strings.TrimSuffix(filepath.Base(tapePath), filepath.Ext(tapePath))
	id := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return -1
	}, callID)
	if len(id) > 64 {
		id = id[:64]
	}
	if id == "" {
		id = "call"
	}
	if part > 1 {
		return fmt.Sprintf("%s.%s.%d.wav", base, id, part)
	}
	return base + "." + id + ".wav"
}
