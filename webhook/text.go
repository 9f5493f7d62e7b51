package webhook

import (
	"slices"
	"strconv"
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
