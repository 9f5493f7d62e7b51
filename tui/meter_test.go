package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/vapimon/vapimon/relay/listen"
)

// fakeAudio records what the keys asked of the listening.
type fakeAudio struct {
	calls []string
	muted [2]bool
	vol   int
	noPl  string
}

func (f *fakeAudio) Toggle(id string) bool { f.calls = append(f.calls, "toggle "+id); return true }
func (f *fakeAudio) TogglePlay(id string) (bool, string) {
	f.calls = append(f.calls, "play "+id)
	return f.noPl == "", f.noPl
}
func (f *fakeAudio) ToggleMute(s listen.Side) (bool, string) {
	f.muted[s] = !f.muted[s]
	f.calls = append(f.calls, "mute "+s.String())
	return f.muted[s], f.noPl
}
func (f *fakeAudio) Volume(d int) (int, string) {
	f.vol += d
	f.calls = append(f.calls, "volume")
	return f.vol, f.noPl
}

// The meter line: levels per side, who speaks, overlap, the last turn gap and its average,
// recording; the state and its note while connecting or after a failure, sanitised.
func TestMeterGolden(t *testing.T) {
	for _, sc := range []struct {
		name string
		u    listen.Update
	}{
		{"live_overlap", listen.Update{State: listen.StateLive, File: "/t/x.wav", Playing: true, Levels: listen.Levels{
			DB: [2]float64{-12, -20}, Speaking: [2]bool{true, true}, Overlap: true, OverlapTotal: 1400 * time.Millisecond,
			Latencies: []time.Duration{740 * time.Millisecond, 1260 * time.Millisecond}, Turns: 2}}},
		{"live_silence", listen.Update{State: listen.StateLive, File: "/t/x.wav", Levels: listen.Levels{
			DB: [2]float64{-90, -90}, Silence: 3200 * time.Millisecond}}},
		{"failed", listen.Update{State: listen.StateFailed, Note: "listen URL needs authentication (HTTP 401): \x1b[31mset VAPI_PUBLIC_KEY"}},
		{"disk_full", listen.Update{State: listen.StateLive, RecordErr: "recording stopped: no space left on device", Levels: listen.Levels{DB: [2]float64{-30, -90}, Speaking: [2]bool{true, false}}}},
	} {
		t.Run(sc.name, func(t *testing.T) {
			clk := newClock(base)
			m := newTestModel(clk, nil)
			m.opts.Audio = &fakeAudio{}
			m.restyle(initialLook(ThemeDark))
			m.Update(tea.WindowSizeMsg{Width: 160, Height: 24})
			feed(t, m, 1, base, callBodies(callID)[:5])
			u := sc.u
			u.CallID = callID
			m.Update(batchMsg{items: []any{u}})
			got := screen(m)
			checkScreen(t, got, 160, 24)
			if strings.Contains(got, "\x1b") {
				t.Error("an escape sequence from a note reached the screen")
			}
			golden.RequireEqual(t, got)
		})
	}
}

// The keys reach the listening for the call shown, and say what happened; without a
// player they say why.
func TestAudioKeys(t *testing.T) {
	t.Parallel()
	clk := newClock(base)
	m := newTestModel(clk, nil)
	a := &fakeAudio{}
	m.opts.Audio = a
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	feed(t, m, 1, base, callBodies(callID)[:5])
	for _, k := range []tea.KeyPressMsg{{Code: 'l', Text: "l"}, {Code: 'P', Text: "P"}, {Code: 'm', Text: "m"}, {Code: 'M', Text: "M"}, {Code: ']', Text: "]"}} {
		m.Update(k)
	}
	want := "toggle " + callID + ",play " + callID + ",toggle " + callID + ",mute caller,mute assistant,volume"
	if got := strings.Join(a.calls, ","); got != want {
		t.Errorf("asked %s\nwant  %s", got, want)
	}
	if m.flash != "volume 10%" {
		t.Errorf("flash %q", m.flash)
	}
	a.noPl = "no audio player found on PATH"
	m.Update(tea.KeyPressMsg{Code: 'P', Text: "P"})
	if !strings.Contains(m.flash, "no audio player") {
		t.Errorf("flash %q", m.flash)
	}
}

// The end-of-call view names the recording and the turn gaps measured.
func TestReportNamesTheRecording(t *testing.T) {
	t.Parallel()
	clk := newClock(base)
	m := newTestModel(clk, nil)
	m.opts.Audio = &fakeAudio{}
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	feed(t, m, 1, base, callBodies(callID))
	m.Update(batchMsg{items: []any{listen.Update{CallID: callID, State: listen.StateEnded, File: "/tapes/t.abc.wav",
		Levels: listen.Levels{Latencies: []time.Duration{time.Second, 500 * time.Millisecond}, Turns: 2, OverlapTotal: 300 * time.Millisecond}}}})
	feed(t, m, 11, base, endBodies(callID))
	got := screen(m)
	for _, want := range []string{"audio     /tapes/t.abc.wav", "turn gaps 2 measured, avg 0.75s"} {
		if !strings.Contains(got, want) {
			t.Errorf("the report lacks %q:\n%s", want, got)
		}
	}
}
