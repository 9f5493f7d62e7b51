// Package listen streams a live call's audio from Vapi's call.monitor.listenUrl: it
// connects (with the public key when the assistant's monitor plan asks for it), records
// the audio to a WAV file beside the tape, measures who speaks and how loud, the silences,
// the overlaps and the time from the end of the caller's speech to the start of the
// assistant's, and can pipe the audio to a player. It never touches the webhook path: a
// listen URL that refuses, drops, stalls or sends garbage changes nothing in how the call's
// events are answered.
//
// What Vapi sends (see the README, "Listening to a call", for the sources): binary frames
// of raw PCM, signed 16-bit little-endian, 16 kHz, two interleaved channels: channel 0 the
// customer, channel 1 the assistant. Text frames carry JSON: a {"type":"start",
// "sampleRate":…,"channels":…} frame (as Vapi's custom-transcriber socket sends) sets the
// format; other JSON messages (transcripts and other call events) are counted, not
// recorded.
package listen

import (
	"encoding/json"
	"fmt"
)

// Format is the PCM layout of a listen stream: signed 16-bit little-endian samples,
// Channels interleaved, SampleRate frames per second.
type Format struct {
	SampleRate int
	Channels   int
}

// DefaultFormat is what Vapi's listen URL streams when no start frame says otherwise.
var DefaultFormat = Format{SampleRate: 16000, Channels: 2}

// Side is who speaks on a channel.
type Side int

// The two sides of a call, in channel order.
const (
	Customer  Side = 0
	Assistant Side = 1
)

func (s Side) String() string {
	if s == Assistant {
		return "assistant"
	}
	return "caller"
}

// frameBytes is the size of one sample frame (one sample of every channel).
func (f Format) frameBytes() int { return 2 * f.Channels }

// bytesPerSecond is the stream's data rate.
func (f Format) bytesPerSecond() int { return f.SampleRate * f.frameBytes() }

func (f Format) String() string {
	ch := "stereo"
	if f.Channels == 1 {
		ch = "mono"
	}
	return fmt.Sprintf("%d Hz %s s16le", f.SampleRate, ch)
}

// valid reports whether f is a format vapimon can record and measure.
func (f Format) valid() bool {
	return f.SampleRate >= 8000 && f.SampleRate <= 48000 && (f.Channels == 1 || f.Channels == 2)
}

// textFrame is the part of a JSON text frame vapimon reads.
type textFrame struct {
	Type       string `json:"type"`
	Encoding   string `json:"encoding"`
	Container  string `json:"container"`
	SampleRate int    `json:"sampleRate"`
	Channels   int    `json:"channels"`
}

// parseText reads a text frame. It returns the new format when the frame is a start frame,
// the message type otherwise, and an error when the frame is not a JSON object or its
// start frame names a format vapimon cannot use.
func parseText(b []byte) (f Format, isStart bool, typ string, err error) {
	var t textFrame
	if err := json.Unmarshal(b, &t); err != nil {
		return Format{}, false, "", fmt.Errorf("text frame is not JSON (%d bytes)", len(b))
	}
	if t.Type != "start" {
		return Format{}, false, t.Type, nil
	}
	f = DefaultFormat
	if t.SampleRate != 0 {
		f.SampleRate = t.SampleRate
	}
	if t.Channels != 0 {
		f.Channels = t.Channels
	}
	if t.Encoding != "" && t.Encoding != "linear16" && t.Encoding != "pcm_s16le" {
		return Format{}, true, "start", fmt.Errorf("start frame says encoding %q: only 16-bit PCM (linear16) is understood", t.Encoding)
	}
	if !f.valid() {
		return Format{}, true, "start", fmt.Errorf("start frame says %d Hz, %d channels: expected 8000-48000 Hz, 1 or 2 channels", f.SampleRate, f.Channels)
	}
	return f, true, "start", nil
}
