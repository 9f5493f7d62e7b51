package tui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/vapimon/vapimon/tui/sanitize"
	"github.com/vapimon/vapimon/webhook"
)

// report is the sanitised content of a call's end-of-call-report.
type report struct {
	reason    string
	summary   string
	started   string
	ended     string
	duration  time.Duration
	cost      float64
	breakdown []costItem
	recording string
	stereo    string
	callLog   []string // artifact.transcript, sanitised, one entry per line
}

type costItem struct {
	name  string
	value float64
}

// costOrder lists the breakdown keys that are amounts, in display order; other numeric keys
// (token and character counts) follow as plain numbers.
var costOrder = []string{"transport", "stt", "llm", "tts", "vapi", "chat", "total"}

func newReport(msg *webhook.Message) *report {
	r := &report{
		reason:    sanitize.Line(msg.EndedReason, 120),
		summary:   sanitize.Text(msg.Summary, 4000),
		started:   sanitize.Line(msg.StartedAt, 40),
		ended:     sanitize.Line(msg.EndedAt, 40),
		cost:      msg.Cost,
		recording: sanitize.Line(msg.RecordingURL, 500),
		stereo:    sanitize.Line(msg.StereoURL, 500),
	}
	if log := sanitize.Text(msg.CallLog, 64<<10); log != "" {
		r.callLog = strings.Split(strings.TrimRight(log, "\n"), "\n")
	}
	if a, err := time.Parse(time.RFC3339Nano, msg.StartedAt); err == nil {
		if b, err := time.Parse(time.RFC3339Nano, msg.EndedAt); err == nil && b.After(a) {
			r.duration = b.Sub(a)
		}
	}
	seen := map[string]bool{}
	for _, k := range costOrder {
		if v, ok := msg.Call.CostBreakdown[k]; ok {
			r.breakdown = append(r.breakdown, costItem{k, v})
			seen[k] = true
		}
	}
	var rest []string
	for k := range msg.Call.CostBreakdown {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		r.breakdown = append(r.breakdown, costItem{sanitize.Line(k, 40), msg.Call.CostBreakdown[k]})
	}
	return r
}

// lines renders the report as a block of rows of width w.
// rule starts the block with a separator line (in the transcript).
func (r *report) lines(st *Styles, c *call, w int, rule bool) []string {
	var out []string
	add := func(s string) { out = append(out, s) }
	if rule {
		const r = "── end of call "
		add(st.Dim.Render(r + strings.Repeat("─", max(w-ansi.StringWidth(r), 0))))
	}
	kv := func(k, v string) {
		if v == "" {
			return
		}
		prefix := fit(k, 10)
		for i, seg := range strings.Split(ansi.Wrap(v, max(w-10, 8), " -/"), "\n") {
			if i > 0 {
				prefix = strings.Repeat(" ", 10)
			}
			add(st.StatusKey.Render(prefix) + seg)
		}
	}
	kv("reason", r.reason)
	d := r.duration
	if d == 0 {
		d = c.duration(c.ended)
	}
	kv("duration", fmtClock(d))
	if r.cost > 0 {
		kv("cost", fmt.Sprintf("$%.4f", r.cost))
	}
	if len(r.breakdown) > 0 {
		var parts []string
		for _, it := range r.breakdown {
			if isCost(it.name) {
				parts = append(parts, fmt.Sprintf("%s $%.4f", it.name, it.value))
			} else {
				parts = append(parts, fmt.Sprintf("%s %g", it.name, it.value))
			}
		}
		kv("breakdown", strings.Join(parts, " · "))
	}
	kv("summary", strings.ReplaceAll(r.summary, "\n", " "))
	kv("recording", r.recording)
	kv("stereo", r.stereo)
	if a := c.audio; a.file != "" || a.recordErr != "" {
		v := a.file
		if a.recordErr != "" {
			v = strings.TrimSpace(v + " (" + a.recordErr + ")")
		}
		kv("audio", v)
		if a.turns > 0 {
			kv("turn gaps", fmt.Sprintf("%d measured, avg %.2fs from the caller's last word to the assistant's first; overlap %.1fs", a.turns, a.avgGap.Seconds(), a.overlap.Seconds()))
		}
	}
	return out
}

func isCost(k string) bool {
	for _, c := range costOrder {
		if c == k {
			return true
		}
	}
	return false
}
