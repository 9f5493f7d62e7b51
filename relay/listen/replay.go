package listen

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Recording is a call's audio recorded beside a tape (fixtures.AudioRef), to play in step
// with the tape's events in the offline monitor.
type Recording struct {
	CallID string
	File   string
	// Start is when the recording started, in the tape's recorded time.
	Start time.Time
}

// ReplayClock says where a replay is in recorded time (fixtures.Player.Clock).
type ReplayClock func() (at time.Time, paused bool, speed float64)

// maxSkip is how far ahead of the audio the replay may jump (a step, a gap the replay
// shortened) before the audio skips to it instead of catching up.
const maxSkip = 2 * time.Second

// Replay plays recordings in step with clock until ctx ends: each call's meter moves as
// its audio is reached, the turn gaps are measured again from the audio, and the played
// call (P, or --play) goes to the player while the replay runs at 1×. It returns when
// every recording has been played or ctx ends.
func (m *Manager) Replay(ctx context.Context, recs []Recording, clock ReplayClock) {
	type replaying struct {
		rec   Recording
		c     *call
		s     *session
		f     *os.File
		fed   int64 // bytes of audio fed (after the header)
		size  int64
		ended bool
	}
	var all []*replaying
	for _, r := range recs {
		f, format, size, err := openWAV(r.File)
		m.mu.Lock()
		c := m.callLocked(r.CallID)
		c.wanted = true
		m.mu.Unlock()
		if err != nil {
			m.set(c, func(u *Update) { u.State, u.Note = StateFailed, err.Error() })
			continue
		}
		s := &session{m: m, c: c, format: format, an: newAnalyzer(format)}
		all = append(all, &replaying{rec: r, c: c, s: s, f: f, size: size})
		m.set(c, func(u *Update) {
			u.State, u.Format, u.File, u.Replayed = StateWaiting, format, r.File, true
			u.Note = "recorded audio: plays when the replay reaches " + r.Start.Format("15:04:05")
		})
	}
	defer func() {
		for _, r := range all {
			_ = r.f.Close()
		}
		if m.cfg.Player != nil {
			m.cfg.Player.Stop()
		}
	}()
	tick := time.NewTicker(blockDuration)
	defer tick.Stop()
	buf := make([]byte, 64<<10)
	for left := len(all); left > 0; {
		select {
		case <-ctx.Done():
			return
		case <-m.ctx.Done():
			return
		case <-tick.C:
		}
		now, paused, speed := clock()
		for _, r := range all {
			if r.ended || now.IsZero() || now.Before(r.rec.Start) {
				continue
			}
			bps := int64(r.s.format.bytesPerSecond())
			target := int64(now.Sub(r.rec.Start).Seconds()*float64(bps)) / int64(r.s.format.frameBytes()) * int64(r.s.format.frameBytes())
			target = min(target, r.size)
			if target-r.fed > int64(maxSkip.Seconds()*float64(bps)) {
				// The replay jumped ahead: skip to it (the analysis resumes there).
				r.fed = target - int64(blockDuration.Seconds()*float64(bps))/int64(r.s.format.frameBytes())*int64(r.s.format.frameBytes())
			}
			if r.fed == 0 && m.cfg.PlayAll && m.cfg.Player != nil {
				m.mu.Lock()
				if m.playing == "" {
					m.playing = r.c.id
				}
				m.mu.Unlock()
			}
			m.mu.Lock()
			wanted := r.c.wanted
			m.mu.Unlock()
			play := !paused && speed == 1 && wanted
			for r.fed < target {
				n := min(int64(len(buf)), target-r.fed)
				k, err := r.f.ReadAt(buf[:n], wavHeaderLen+r.fed)
				if k > 0 {
					pcm := buf[:k-k%r.s.format.frameBytes()]
					r.s.an.write(pcm)
					r.s.bytes += int64(len(pcm))
					r.s.frames++
					if p := m.cfg.Player; p != nil && play && r.s.isPlaying() {
						p.Feed(r.c.id, r.s.format, pcm)
					}
				}
				r.fed += int64(k)
				if err != nil {
					r.fed = target // a short file: stop where it ends
					break
				}
			}
			r.s.notes = "recorded audio"
			if !play && speed != 1 {
				r.s.notes = fmt.Sprintf("recorded audio (heard at 1× only; the replay runs at %g×)", speed)
			}
			if wanted { // l hides a call's meter
				r.s.publish()
			}
			if r.fed >= r.size {
				r.ended, left = true, left-1
				m.set(r.c, func(u *Update) { u.State, u.Note = StateEnded, "end of the recorded audio" })
			}
		}
	}
}

// openWAV opens a 16-bit PCM WAV written by vapimon (or any canonical one) and returns
// its format and the size of its audio.
func openWAV(path string) (*os.File, Format, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Format{}, 0, fmt.Errorf("recorded audio: %w", err)
	}
	h := make([]byte, wavHeaderLen)
	if _, err := io.ReadFull(f, h); err != nil || string(h[0:4]) != "RIFF" || string(h[8:12]) != "WAVE" || string(h[36:40]) != "data" ||
		binary.LittleEndian.Uint16(h[20:]) != 1 || binary.LittleEndian.Uint16(h[34:]) != 16 {
		_ = f.Close()
		return nil, Format{}, 0, errors.New("recorded audio " + path + ": not a 16-bit PCM WAV file written by vapimon")
	}
	fm := Format{SampleRate: int(binary.LittleEndian.Uint32(h[24:])), Channels: int(binary.LittleEndian.Uint16(h[22:]))}
	if !fm.valid() {
		_ = f.Close()
		return nil, Format{}, 0, fmt.Errorf("recorded audio %s: %s is not a format vapimon plays", path, fm)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, Format{}, 0, err
	}
	size := min(int64(binary.LittleEndian.Uint32(h[40:])), st.Size()-wavHeaderLen)
	if size <= 0 { // a recording never closed: its header says 0
		size = st.Size() - wavHeaderLen
	}
	size -= size % int64(fm.frameBytes())
	return f, fm, size, nil
}
