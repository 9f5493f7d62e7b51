package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/vapimon/vapimon/webhook"
)

func fmtSeconds(d time.Duration) string {
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", d.Seconds()), "0"), ".") + "s"
}

// fmtLatency is webhook.Latency, and nothing for a reply that took no time (none seen).
func fmtLatency(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return webhook.Latency(d)
}

// fmtClock formats a duration as m:ss (or h:mm:ss).
func fmtClock(d time.Duration) string {
	s := int(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func padRight(s string, n int) string { return fit(s, n) }

func padLeft(s string, n int) string {
	w := len([]rune(s))
	if w >= n {
		return s
	}
	return strings.Repeat(" ", n-w) + s
}
