package listen

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// knownPlayers are the players vapimon looks for on PATH, in order, with the arguments
// that make each read raw 16-bit PCM from standard input. afplay (macOS) reads files
// only, so it cannot play a live stream: sox's play can.
var knownPlayers = []struct {
	name string
	args []string
}{
	{"ffplay", []string{"-hide_banner", "-loglevel", "error", "-nodisp", "-autoexit", "-f", "s16le", "-ar", "{rate}", "-ch_layout", "{layout}", "-i", "-"}},
	{"paplay", []string{"--raw", "--format=s16le", "--rate={rate}", "--channels={channels}"}},
	{"aplay", []string{"-q", "-t", "raw", "-f", "S16_LE", "-r", "{rate}", "-c", "{channels}", "-"}},
	{"play", []string{"-q", "-t", "raw", "-e", "signed-integer", "-b", "16", "-L", "-r", "{rate}", "-c", "{channels}", "-"}},
}

// FindPlayer returns the command line of the first player found on PATH (lookPath is
// exec.LookPath outside tests), or an error saying what to install.
func FindPlayer(lookPath func(string) (string, error)) ([]string, error) {
	for _, p := range knownPlayers {
		if path, err := lookPath(p.name); err == nil {
			return append([]string{path}, p.args...), nil
		}
	}
	hint := "install ffmpeg (ffplay), sox (play), or pulseaudio-utils (paplay), or pass --player 'CMD'"
	if _, err := lookPath("afplay"); err == nil {
		hint = "afplay reads files only, not a live stream: brew install sox (for play) or ffmpeg (for ffplay), or pass --player 'CMD'"
	}
	return nil, errors.New("no audio player found on PATH (ffplay, paplay, aplay, play): " + hint + "; the audio is still recorded")
}

// PlayerCommand is --player: a shell command reading raw PCM on standard input, with
// {rate}, {channels} and {layout} replaced by the stream's format.
func PlayerCommand(cmd string) []string { return []string{"/bin/sh", "-c", cmd} }

// Player pipes one call's audio to a player process, with a volume and a mute per side.
// Feed never blocks: when the player falls behind, audio is dropped (and counted).
type Player struct {
	argv []string

	mu     sync.Mutex
	proc   *exec.Cmd
	stdin  io.WriteCloser
	queue  chan []byte
	done   chan struct{}
	callID string
	format Format
	err    string

	volume  atomic.Int32 // percent, 0-200
	muted   [2]atomic.Bool
	dropped atomic.Uint64
	written atomic.Int64
}

// NewPlayer returns a player running argv (FindPlayer or PlayerCommand) on demand.
func NewPlayer(argv []string) *Player {
	p := &Player{argv: argv}
	p.volume.Store(100)
	return p
}

// playerQueue is how many frames wait for the player (about 2.5 s of 20 ms frames).
const playerQueue = 128

// Feed queues pcm (interleaved, format f) of callID for the player, starting the player
// for a new call or format.
func (p *Player) Feed(callID string, f Format, pcm []byte) {
	p.mu.Lock()
	if p.proc == nil || p.callID != callID || p.format != f {
		p.stopLocked()
		if p.err != "" && p.callID == callID {
			p.mu.Unlock()
			return
		}
		p.startLocked(callID, f)
	}
	q := p.queue
	p.mu.Unlock()
	if q == nil {
		return
	}
	out := make([]byte, len(pcm))
	p.mix(out, pcm, f.Channels)
	select {
	case q <- out:
	default:
		p.dropped.Add(1)
	}
}

// mix applies the volume and the mutes.
func (p *Player) mix(dst, src []byte, channels int) {
	vol := p.volume.Load()
	gain := [2]int32{vol, vol}
	for s := 0; s < 2; s++ {
		if p.muted[s].Load() {
			gain[s] = 0
		}
	}
	if channels == 1 {
		gain[1] = gain[0]
	}
	for i := 0; i+1 < len(src); i += 2 {
		side := (i / 2) % channels
		v := int32(int16(uint16(src[i])|uint16(src[i+1])<<8)) * gain[side] / 100
		v = max(min(v, 32767), -32768)
		dst[i], dst[i+1] = byte(v), byte(v>>8)
	}
}

func expand(args []string, f Format) []string {
	layout := "stereo"
	if f.Channels == 1 {
		layout = "mono"
	}
	r := strings.NewReplacer("{rate}", strconv.Itoa(f.SampleRate), "{channels}", strconv.Itoa(f.Channels), "{layout}", layout)
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = r.Replace(a)
	}
	return out
}

func (p *Player) startLocked(callID string, f Format) {
	p.callID, p.format, p.err = callID, f, ""
	argv := expand(p.argv, f)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(cmd.Environ(), fmt.Sprintf("VAPIMON_RATE=%d", f.SampleRate), fmt.Sprintf("VAPIMON_CHANNELS=%d", f.Channels), "VAPIMON_CALL="+callID)
	stdin, err := cmd.StdinPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		p.err = fmt.Sprintf("cannot start the player %s: %v", argv[0], err)
		return
	}
	p.proc, p.stdin = cmd, stdin
	p.queue, p.done = make(chan []byte, playerQueue), make(chan struct{})
	go p.pump(cmd, stdin, p.queue, p.done)
}

// pump writes the queue to the player until the queue closes or the player exits.
func (p *Player) pump(cmd *exec.Cmd, w io.WriteCloser, q <-chan []byte, done chan struct{}) {
	defer close(done)
	for b := range q {
		if _, err := w.Write(b); err != nil {
			p.mu.Lock()
			if p.proc == cmd {
				p.err = "the player stopped: " + err.Error()
			}
			p.mu.Unlock()
			for range q { // drain until stopLocked closes it
			}
			break
		}
		p.written.Add(int64(len(b)))
	}
	_ = w.Close()
	_ = cmd.Wait()
}

func (p *Player) stopLocked() {
	if p.proc == nil {
		return
	}
	close(p.queue)
	done, proc := p.done, p.proc
	p.proc, p.stdin, p.queue, p.done = nil, nil, nil, nil
	p.mu.Unlock()
	select {
	case <-done:
	case <-time.After(time.Second): // a player that stopped reading: end it
		_ = proc.Process.Kill()
		<-done
	}
	p.mu.Lock()
}

// Stop ends the player process after the queued audio is written.
func (p *Player) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopLocked()
}

// SetVolume sets the volume in percent (0 to 200) and returns it.
func (p *Player) SetVolume(pct int) int {
	pct = max(0, min(pct, 200))
	p.volume.Store(int32(pct))
	return pct
}

// Volume is the volume in percent.
func (p *Player) Volume() int { return int(p.volume.Load()) }

// ToggleMute mutes or unmutes a side and says whether it is now muted.
func (p *Player) ToggleMute(s Side) bool {
	m := !p.muted[s].Load()
	p.muted[s].Store(m)
	return m
}

// Muted says whether a side is muted.
func (p *Player) Muted(s Side) bool { return p.muted[s].Load() }

// retry forgets the last failure, so that the next Feed starts the player again (P
// pressed again after fixing what was wrong).
func (p *Player) retry() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err = ""
}

// Err is why the player is not playing ("" when it is, or was not asked to).
func (p *Player) Err() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Dropped counts frames the player fell behind on.
func (p *Player) Dropped() uint64 { return p.dropped.Load() }
