package webhook

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The small text helpers every room needs when it tells a person about a message: one copy
// each, here, in the lowest package, so that send, replay, the relay and the monitor count,
// cut and suggest alike.

// Plural is "1 entry" or "3 entries": n with the word for one or for many.
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// ClipRunes returns s cut to at most n bytes, on a rune boundary so that the cut never
// makes invalid UTF-8; the caller marks the cut ("…") in its own way.
func ClipRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// EditDistance is the Levenshtein distance between a and b, counted in runes: how many
// runes to insert, delete or change to turn one into the other. It is what "did you mean"
// suggestions for a mistyped flag, fixture or message type measure.
func EditDistance(a, b string) int {
	d := prefixDistances(a, b)
	return d[len(d)-1]
}

// PrefixEditDistance is the smallest Levenshtein distance between a and any prefix of b,
// so that a short, mistyped start of a long name ("tol-calls" for tool-calls-flat) is
// still close.
func PrefixEditDistance(a, b string) int {
	return slices.Min(prefixDistances(a, b))
}

// prefixDistances returns the Levenshtein distances between a and each prefix of b,
// shortest prefix first (the last row of the usual table).
func prefixDistances(a, b string) []int {
	ar, br := []rune(a), []rune(b)
	prev := make([]int, len(br)+1)
	cur := make([]int, len(br)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ar); i++ {
		cur[0] = i
		for j := 1; j <= len(br); j++ {
			cost := 1
			if ar[i-1] == br[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev
}

// SingleLine returns s with every line break (\r\n, \n, \r) turned into a space: Vapi
// reads a tool result or an error that holds one as a broken reply, so every text vapimon
// puts in a reply, the operator's included, goes through here.
func SingleLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return lineBreaks.Replace(s)
}

var lineBreaks = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

// Quote returns s in Go quotes, with every control, bidi and other unprintable rune
// escaped, cut to at most max bytes on a rune boundary (the cut marked "…" after the
// closing quote): how a value from a payload is named inside a sentence.
func Quote(s string, max int) string {
	if len(s) > max {
		return strconv.Quote(ClipRunes(s, max)) + "…"
	}
	return strconv.Quote(s)
}

// ByteSize is a size as a limit is stated: "64 KiB", "1 MiB", else "1500 bytes".
func ByteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// RoundDuration rounds d to what a person reads in a sentence: tenths of a second from a
// second up, milliseconds from a millisecond up, else microseconds.
func RoundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond)
}

// Thousands formats n with comma separators: 1588 → "1,588".
func Thousands(n uint64) string {
	s := strconv.FormatUint(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Latency is how long a reply took, as every front end shows it: precise for a local
// server ("312µs", "3.2ms"), rounded for a slow one ("184ms", "1.25s").
func Latency(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= 10*time.Millisecond:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// Count is "1 request", "2,000 requests": n and a word made plural with an s.
func Count(n uint64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return Thousands(n) + " " + what + "s"
}

// IsUUID reports whether s is a UUID in its usual text form (8-4-4-4-12 hex digits), as
// Vapi's ids are (an assistantId that is not one names no assistant).
func IsUUID[T ~string | ~[]byte](s T) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
