package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/vapimon/vapimon/relay/listen"
	"github.com/vapimon/vapimon/tui/sanitize"
)

// Audio is the live listening behind the l, P, m, M, [ and ] keys (relay/listen.Manager).
// Every method is called from the UI loop and returns at once.
type Audio interface {
	// Toggle starts or stops listening to a call; it says whether the call is now listened.
	Toggle(callID string) bool
	// TogglePlay sends a call's audio to the player or stops it; why it cannot, if not.
	TogglePlay(callID string) (bool, string)
	// ToggleMute mutes a side of the playback; Volume changes it by delta percent.
	ToggleMute(side listen.Side) (muted bool, why string)
	Volume(delta int) (pct int, why string)
}

// maxAudioCalls bounds the listen updates kept (one per call).
const maxAudioCalls = 512

// noteAudio keeps the latest listen update of a call, its note sanitised.
func (m *Model) noteAudio(u listen.Update) {
	if m.audio == nil {
		m.audio = map[string]listen.Update{}
	}
	u.Note = sanitize.Line(u.Note, 300)
	u.RecordErr = sanitize.Line(u.RecordErr, 200)
	u.File = sanitize.Line(u.File, 300)
	u.PlayErr = sanitize.Line(u.PlayErr, 200)
	if _, ok := m.audio[u.CallID]; !ok && len(m.audio) >= maxAudioCalls {
		for id, old := range m.audio {
			if old.State != listen.StateLive && old.State != listen.StateConnecting {
				delete(m.audio, id)
				break
			}
		}
	}
	m.audio[u.CallID] = u
	if c := m.calls.byID[u.CallID]; c != nil {
		if u.File != "" {
			c.audio.file = u.File
		}
		c.audio.recordErr = u.RecordErr
		if n := len(u.Levels.Latencies); n > 0 {
			var sum time.Duration
			for _, d := range u.Levels.Latencies {
				sum += d
			}
			c.audio.turns, c.audio.avgGap = u.Levels.Turns, sum/time.Duration(n)
		}
		if u.Levels.OverlapTotal > 0 {
			c.audio.overlap = u.Levels.OverlapTotal
		}
	}
}

// audioKey handles the listening keys on the panes; it reports whether k was one.
func (m *Model) audioKey(k tea.KeyPressMsg) bool {
	keys := &m.keys
	a := m.opts.Audio
	if a == nil {
		return false
	}
	c := m.selectedCall()
	switch {
	case key.Matches(k, keys.Listen):
		if c == nil {
			m.setFlash("select a call to listen to")
			return true
		}
		if a.Toggle(c.id) {
			m.setFlash("listening to " + c.short)
		} else {
			m.setFlash("stopped listening to " + c.short)
		}
	case key.Matches(k, keys.Play):
		if c == nil {
			m.setFlash("select a call to play")
			return true
		}
		on, why := a.TogglePlay(c.id)
		switch {
		case why != "":
			m.setFlash(sanitize.Line(why, 300))
		case on:
			if u, ok := m.audio[c.id]; !ok || u.State == listen.StateOff {
				a.Toggle(c.id)
			}
			m.setFlash("playing " + c.short)
		default:
			m.setFlash("playback stopped")
		}
	case key.Matches(k, keys.MuteCaller), key.Matches(k, keys.MuteAssistant):
		side := listen.Customer
		if key.Matches(k, keys.MuteAssistant) {
			side = listen.Assistant
		}
		muted, why := a.ToggleMute(side)
		switch {
		case why != "":
			m.setFlash(sanitize.Line(why, 300))
		case muted:
			m.setFlash(side.String() + " muted")
		default:
			m.setFlash(side.String() + " unmuted")
		}
	case key.Matches(k, keys.VolumeDown), key.Matches(k, keys.VolumeUp):
		d := 10
		if key.Matches(k, keys.VolumeDown) {
			d = -10
		}
		pct, why := a.Volume(d)
		if why != "" {
			m.setFlash(sanitize.Line(why, 300))
		} else {
			m.setFlash(fmt.Sprintf("volume %d%%", pct))
		}
	default:
		return false
	}
	return true
}

// meterBarWidth is the cells of one side's level bar.
const meterBarWidth = 8

// levelBar draws a dBFS level from -60 (empty) to 0 (full).
func levelBar(db float64) string {
	n := int((db + 60) / 60 * meterBarWidth)
	n = max(0, min(n, meterBarWidth))
	return strings.Repeat("█", n) + strings.Repeat("░", meterBarWidth-n)
}

// silenceMark is how long a silence must last to be marked.
const silenceMark = 2 * time.Second

// meterLine is the transcript pane's audio line for c: the state while connecting or
// after it ended, else both sides' levels, who speaks, silence and overlap, the last turn
// gap and the recording. "" when the call is not listened.
func (m *Model) meterLine(id string, w int) string {
	u, ok := m.audio[id]
	if !ok || u.State == listen.StateOff || w <= 0 {
		return ""
	}
	st := &m.styles
	var b strings.Builder
	switch u.State {
	case listen.StateWaiting, listen.StateConnecting:
		b.WriteString(st.Dim.Render("audio · " + u.Note))
		return ansi.Truncate(b.String(), w, "…")
	case listen.StateFailed:
		b.WriteString(st.Err.Render("audio · " + u.Note))
		return ansi.Truncate(b.String(), w, "…")
	}
	lv := u.Levels
	if u.State == listen.StateEnded { // nobody speaks on a stream that ended
		lv.Speaking, lv.Overlap, lv.DB = [2]bool{}, false, [2]float64{-90, -90}
	}
	side := func(label string, s int, style func(...string) string) {
		b.WriteString(style(label + " " + levelBar(lv.DB[s])))
		if lv.Speaking[s] {
			b.WriteString(style(" ●"))
		} else {
			b.WriteString("  ")
		}
	}
	side("caller", 0, st.User.Render)
	b.WriteString(" ")
	side("asst", 1, st.Assistant.Render)
	var tail []string
	switch {
	case lv.Overlap:
		tail = append(tail, st.Warn.Render(fmt.Sprintf("⚠ overlap %.1fs", lv.OverlapTotal.Seconds())))
	case lv.Silence >= silenceMark && u.State == listen.StateLive:
		tail = append(tail, st.Warn.Render(fmt.Sprintf("silence %.1fs", lv.Silence.Seconds())))
	}
	if n := len(lv.Latencies); n > 0 {
		var sum time.Duration
		for _, d := range lv.Latencies {
			sum += d
		}
		g := fmt.Sprintf("gap %.2fs", lv.Latencies[n-1].Seconds())
		if n > 1 {
			g += fmt.Sprintf(" avg %.2fs", (sum / time.Duration(n)).Seconds())
		}
		tail = append(tail, g)
	}
	if lv.OverlapTotal > 0 && !lv.Overlap {
		tail = append(tail, st.Dim.Render(fmt.Sprintf("overlap %.1fs", lv.OverlapTotal.Seconds())))
	}
	if u.NoAudio > 0 {
		tail = append(tail, st.Warn.Render(fmt.Sprintf("no audio %s", u.NoAudio)))
	}
	switch {
	case u.Replayed:
		tail = append(tail, st.Dim.Render("▷ recorded audio"))
	case u.RecordErr != "":
		tail = append(tail, st.Err.Render("not recording"))
	case u.File != "":
		tail = append(tail, st.Err.Render("● rec"))
	}
	switch {
	case u.Playing && u.PlayErr != "":
		tail = append(tail, st.Err.Render("▶ "+u.PlayErr))
	case u.Playing:
		tail = append(tail, "▶ playing")
	}
	if u.State == listen.StateEnded {
		tail = append(tail, st.Dim.Render(u.Note))
	}
	if len(tail) > 0 {
		b.WriteString(" · " + strings.Join(tail, " · "))
	}
	return ansi.Truncate(b.String(), w, "…")
}
