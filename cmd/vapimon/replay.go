package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/tui"
)

// replayFlags are the flags of `vapimon replay`.
type replayFlags struct {
	auth    authFlags
	to      string
	speed   float64
	instant bool
	keep    bool
	compare bool
	timeout time.Duration
	json    bool
	strict  bool
	// includeRejected sends the requests that were rejected when recorded.
	includeRejected bool
}

func newReplayCmd() *cobra.Command {
	f := &replayFlags{}
	cmd := &cobra.Command{
		Use:   "replay TAPE|SCENARIO",
		Short: "Replay a recorded tape or a built-in scenario to a server",
		Long: `Send every request of a tape (a recording made by "vapimon listen") or of a built-in
scenario to --to, in order and at the recorded pacing (--speed 4 is four times faster,
--instant does not wait), signed as Vapi would sign them for --auth. A progress bar shows
while it runs; then a summary: requests sent, 2xx replies, failures, and replies Vapi would
not accept (Vapi's response schemas and vapimon's own rules, as in "vapimon send").
--compare also compares each reply with the recorded one. A reply Vapi can use that is
still worth a look (HTTP 201, every tool result an error, an assistant-request or transfer
answered with an error...) is marked ⚠; --strict fails on it.

Each request waits its recorded gap after the previous reply came in, so a slow reply
delays the rest of the call instead of causing a burst. Requests that were rejected when
recorded (a bad signature, a body that was not JSON) are skipped; --include-rejected sends
them, and one that gets its recorded status again counts as "as recorded".

Call ids, tool-call ids and timestamps are made fresh unless --keep is given; with --keep
every body is sent byte for byte as recorded. The exit status is 1 when anything failed,
so a replay can run in CI.`,
		Example: `  vapimon replay inbound-call --to http://localhost:3000/vapi
  vapimon replay ~/.local/state/vapimon/tapes/2026-11-29T14-33-27.jsonl --to http://localhost:3000/vapi --instant --compare
  vapimon replay transfer --to https://example.com/vapi --secret "$VAPI_SECRET" --speed 4`,
		Args:              oneFixtureArg("replay needs a tape, scenario or fixture name, e.g. vapimon replay inbound-call --to URL (vapimon fixtures lists them)"),
		ValidArgsFunction: completeFixtureNames,
		RunE:              func(cmd *cobra.Command, args []string) error { return runReplay(cmd, f, args[0]) },
	}
	fs := cmd.Flags()
	fs.StringVar(&f.to, "to", "", "URL to send every request to, used as given (http:// is added when there is no scheme)")
	fs.Float64Var(&f.speed, "speed", 1, "pacing: 1 keeps the recorded gaps, 4 is four times faster")
	fs.BoolVar(&f.instant, "instant", false, "send each request as soon as the previous reply is in")
	fs.BoolVar(&f.keep, "keep", false, "send bodies byte for byte as recorded: no fresh ids or timestamps")
	fs.BoolVar(&f.compare, "compare", false, "compare each reply with the recorded one and show the differences")
	fs.DurationVar(&f.timeout, "timeout", fixtures.DefaultSendTimeout, "give up on each reply after this long")
	fs.BoolVar(&f.json, "json", false, "print one JSON line per request and a summary line")
	fs.BoolVar(&f.strict, "strict", false, "fail also on replies Vapi can use that have a warning (⚠)")
	fs.BoolVar(&f.includeRejected, "include-rejected", false, "also send the requests that were rejected when recorded")
	f.auth.register(cmd)
	return cmd
}

func runReplay(cmd *cobra.Command, f *replayFlags, arg string) error {
	if err := fixtures.CheckSpeed(f.speed); err != nil {
		return err
	}
	stream, err := loadStream(cmd, arg)
	if err != nil {
		return err
	}
	if f.to == "" {
		return replayInTUI(cmd, stream, arg)
	}
	to, err := fixtures.NormalizeTarget(f.to)
	if err != nil {
		return err
	}
	auth, err := f.auth.config()
	if err != nil {
		return err
	}
	// The tape is read as it is sent: memory stays flat whatever its size.
	src, closeTape, err := stream.Open()
	if err != nil {
		return err
	}
	defer closeTape()
	if !f.keep {
		src = fixtures.FreshenSource(src, time.Now())
	}
	out, errw := cmd.OutOrStdout(), cmd.ErrOrStderr()
	warmReplyChecks(errw) // the reply schemas compile while the first requests go out
	p := newReplayProgress(out, errw, f.json, to)
	p.compare = f.compare
	src = &progressSource{src: src, p: p, includeRejected: f.includeRejected}
	r := &fixtures.Replayer{
		Sender:          fixtures.Sender{To: to, Auth: auth, Timeout: f.timeout, UserAgent: userAgent()},
		Speed:           f.speed,
		Instant:         f.instant,
		Compare:         f.compare,
		IncludeRejected: f.includeRejected,
		Progress:        p.update,
	}
	sum, runErr := r.RunStream(cmd.Context(), src, stream.Counts)
	p.finish()
	if runErr != nil && sum.Sent == 0 {
		return runErr
	}
	if f.json {
		if err := writeJSON(out, replaySummaryJSON(to, sum, runErr, f.strict)); err != nil {
			return err
		}
	} else {
		printReplaySummary(out, to, sum, runErr, f.strict)
	}
	if runErr != nil || failing(sum, f.strict) {
		return exitError{code: 1}
	}
	return nil
}

// failing is Summary.Failing (a request with no reply, a non-2xx, a reply Vapi cannot
// use), and with --strict the replies with a warning count too (webhook.JudgeReply's
// Warnings: a 2xx other than 200, a tolerated shape, an answer that is an error, a reply
// vapimon sent in place of the server).
func failing(sum fixtures.Summary, strict bool) bool {
	return sum.Failing() || (strict && sum.Warned > 0)
}

// progressSource passes records on to the replayer, noting for the progress lines what
// only the record knows (why it was rejected when recorded, whether its reply is missing
// from the tape), by tape position. The progress consumes each note, so nothing piles up.
type progressSource struct {
	src             fixtures.RecordSource
	p               *replayProgress
	includeRejected bool
	i               int
}

func (s *progressSource) Next() (fixtures.Record, error) {
	rec, err := s.src.Next()
	if err != nil {
		return rec, err
	}
	i := s.i
	s.i++
	if rec.Rejected != "" && !s.includeRejected {
		return rec, nil // skipped: no progress line
	}
	if rec.Rejected != "" {
		if s.p.rejected == nil {
			s.p.rejected = map[int]string{}
		}
		s.p.rejected[i] = rec.Rejected
	}
	if rec.NoReply {
		if s.p.noReply == nil {
			s.p.noReply = map[int]bool{}
		}
		s.p.noReply[i] = true
	}
	return rec, nil
}

// replayProgress shows a replay as it runs: a bar redrawn in place on a terminal, plain
// lines otherwise, JSON lines with --json. Failures are always printed as they happen.
type replayProgress struct {
	out, errw io.Writer
	json      bool
	bar       bool
	to        string
	ok, fail  int
	wrong     int
	warned    int
	// rejected holds why requests were rejected when recorded, noReply the requests whose
	// reply is not on the tape, by tape position, until their line is printed.
	rejected map[int]string
	noReply  map[int]bool
	// curRejected and curNoReply are the notes of the request being printed.
	curRejected string
	curNoReply  bool
	compare     bool
	drawn       time.Time
	shown       bool
}

func newReplayProgress(out, errw io.Writer, asJSON bool, to string) *replayProgress {
	return &replayProgress{out: out, errw: errw, json: asJSON, bar: !asJSON && isTerminal(errw), to: to}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

// barRedraw caps how often the bar is redrawn, so fast replays are not slowed by output.
const barRedraw = 50 * time.Millisecond

func (p *replayProgress) update(done, total int, last fixtures.Result) {
	p.curRejected, p.curNoReply = p.rejected[last.Index], p.noReply[last.Index]
	delete(p.rejected, last.Index)
	delete(p.noReply, last.Index)
	failed := !last.AsRecorded && (last.Err != nil || last.Status < 200 || last.Status > 299)
	switch {
	case last.AsRecorded:
	case failed:
		p.fail++
	case len(last.Problems) > 0:
		p.ok++
		p.wrong++
	case last.Warned():
		p.ok++
		p.warned++
	default:
		p.ok++
	}
	if p.json {
		l := replayLineJSON(last)
		l.NoReplyRecorded = p.curNoReply
		_ = writeJSON(p.out, l)
		return
	}
	line := p.line(done, total, last)
	notes := p.notes(last)
	if !p.bar {
		fmt.Fprintln(p.out, line)
		for _, n := range notes {
			fmt.Fprintln(p.out, n)
		}
		return
	}
	if failed || len(notes) > 0 {
		p.clear()
		fmt.Fprintln(p.errw, line)
		for _, n := range notes {
			fmt.Fprintln(p.errw, n)
		}
	}
	if now := time.Now(); done == total || failed || now.Sub(p.drawn) >= barRedraw {
		p.drawn = now
		p.draw(done, total, last)
	}
}

// line describes one request: "[ 3/14] tool-calls → 200 in 3ms".
func (p *replayProgress) line(done, total int, last fixtures.Result) string {
	w := len(fmt.Sprint(total))
	typ := "request"
	if last.Type != "" {
		typ = tui.SanitizeLine(last.Type)
	}
	head := fmt.Sprintf("[%*d/%d] %s", w, done, total, typ)
	if last.Err != nil {
		return head + " ✗ " + describeSendError(last.Err, p.to)
	}
	mark := "✓"
	switch {
	case last.AsRecorded:
		mark = "= as recorded"
	case last.Status < 200 || last.Status > 299 || len(last.Problems) > 0:
		mark = "✗"
	case last.Warned():
		mark = "⚠"
	}
	return fmt.Sprintf("%s → %d in %s %s", head, last.Status, fmtLatency(last.Latency), mark)
}

// notes are the indented lines under a request's line: the problems (✗), the warnings (⚠),
// or why a request replayed as recorded was rejected then.
func (p *replayProgress) notes(last fixtures.Result) []string {
	if last.AsRecorded {
		return []string{"    rejected when recorded: " + tui.SanitizeLine(p.curRejected)}
	}
	var out []string
	if p.curNoReply {
		n := "    " + fixtures.NoReplyText
		if p.compare {
			n += ": nothing to compare"
		}
		out = append(out, n)
	}
	for _, pr := range last.Problems {
		out = append(out, "    ✗ "+tui.SanitizeLine(pr))
	}
	if len(last.Problems) == 0 {
		for _, w := range last.Warnings {
			out = append(out, "    ⚠ "+tui.SanitizeLine(w))
		}
	}
	return out
}

const barWidth = 24

func (p *replayProgress) draw(done, total int, last fixtures.Result) {
	filled := 0
	if total > 0 {
		filled = done * barWidth / total
	}
	bar := strings.Repeat("█", filled) + strings.Repeat("░", barWidth-filled)
	typ := tui.SanitizeLine(last.Type)
	if len(typ) > 28 {
		typ = typ[:28]
	}
	warned := ""
	if p.warned > 0 {
		warned = fmt.Sprintf("  ⚠ %d", p.warned)
	}
	fmt.Fprintf(p.errw, "\r\x1b[2K%s %d/%d  2xx %d  failed %d  wrong shape %d%s  %s", bar, done, total, p.ok, p.fail, p.wrong, warned, typ)
	p.shown = true
}

func (p *replayProgress) clear() {
	if p.shown {
		fmt.Fprint(p.errw, "\r\x1b[2K")
		p.shown = false
	}
}

// finish ends the bar's line.
func (p *replayProgress) finish() {
	if p.shown {
		fmt.Fprintln(p.errw)
		p.shown = false
	}
}

func printReplaySummary(out io.Writer, to string, sum fixtures.Summary, runErr error, strict bool) {
	fmt.Fprintf(out, "\nreplayed %d requests to %s in %s\n", sum.Sent, to, sum.Elapsed.Round(time.Millisecond))
	counts := fmt.Sprintf("  sent %d · 2xx %d · failed %d · wrong shape %d", sum.Sent, sum.OK2xx, sum.Failed, sum.WrongShape)
	if sum.Warned > 0 {
		counts += fmt.Sprintf(" · ⚠ %d", sum.Warned)
	}
	if sum.AsRecorded > 0 {
		counts += fmt.Sprintf(" · as recorded %d", sum.AsRecorded)
	}
	fmt.Fprintln(out, counts)
	if sum.Skipped > 0 {
		fmt.Fprintf(out, "  skipped %s rejected when recorded; --include-rejected sends them\n", plural(sum.Skipped, "request"))
	}
	switch {
	case errors.Is(runErr, context.Canceled):
		fmt.Fprintln(out, "  interrupted: the rest of the tape was not sent")
	case runErr != nil:
		fmt.Fprintf(out, "  stopped early: %v\n", runErr)
	}
	if sum.NoReply > 0 {
		fmt.Fprintf(out, "  %s had no reply recorded (vapimon stopped before answering): sent, nothing to compare\n", plural(sum.NoReply, "request"))
	}
	if len(sum.Diffs) > 0 {
		if sum.MoreDiffs > 0 {
			fmt.Fprintf(out, "\n%d replies differ from the recording (the first %d shown):\n", len(sum.Diffs)+sum.MoreDiffs, len(sum.Diffs))
		} else {
			fmt.Fprintf(out, "\n%d replies differ from the recording:\n", len(sum.Diffs))
		}
		for _, d := range sum.Diffs {
			fmt.Fprintf(out, "  #%d %s (recorded seq %d)\n", d.Index+1, tui.SanitizeLine(d.Type), d.Seq)
			for _, l := range d.Lines {
				fmt.Fprintln(out, "    ", l)
			}
		}
	}
	switch {
	case failing(sum, strict):
		fmt.Fprintln(out, "✗ replay failed")
	case runErr != nil:
	case sum.Warned > 0:
		have := "have"
		if sum.Warned == 1 {
			have = "has"
		}
		fmt.Fprintf(out, "⚠ Vapi can use every reply, but %s %s a warning (--strict fails the run on this)\n", plural(sum.Warned, "reply"), have)
	case sum.AsRecorded > 0:
		fmt.Fprintln(out, "✓ every reply came back 2xx with the shape Vapi expects, or as it was recorded")
	case sum.Sent == 0:
		fmt.Fprintln(out, "nothing was sent")
	default:
		fmt.Fprintln(out, "✓ every reply came back 2xx with the shape Vapi expects")
	}
}

// plural is "1 request", "3 requests"; "reply" becomes "replies".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(word, "y"))
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// replayLine is the --json form of one request.
type replayLine struct {
	Kind string `json:"kind"`
	// Index is the request's position in the tape, from 0 (as in Diff.Index).
	Index     int      `json:"index"`
	Type      string   `json:"type,omitempty"`
	Status    int      `json:"status,omitempty"`
	LatencyMs float64  `json:"latencyMs"`
	Problems  []string `json:"problems,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
	// AsRecorded: rejected when recorded, and the same status now (--include-rejected).
	AsRecorded bool `json:"asRecorded,omitempty"`
	// NoReplyRecorded: the tape holds this request without its reply.
	NoReplyRecorded bool   `json:"noReplyRecorded,omitempty"`
	Error           string `json:"error,omitempty"`
	OK              bool   `json:"ok"`
}

func replayLineJSON(r fixtures.Result) replayLine {
	l := replayLine{Kind: "result", Index: r.Index, Type: r.Type, Status: r.Status,
		LatencyMs: float64(r.Latency.Microseconds()) / 1000, Problems: r.Problems, Warnings: r.Warnings,
		AsRecorded: r.AsRecorded, OK: r.OK() || r.AsRecorded}
	if r.Err != nil {
		l.Error = r.Err.Error()
	}
	return l
}

// replaySummary is the --json summary line.
type replaySummary struct {
	Kind       string          `json:"kind"`
	To         string          `json:"to"`
	Sent       int             `json:"sent"`
	OK2xx      int             `json:"ok2xx"`
	Failed     int             `json:"failed"`
	WrongShape int             `json:"wrongShape"`
	Warned     int             `json:"warned"`
	AsRecorded int             `json:"asRecorded"`
	Skipped    int             `json:"skipped"`
	NoReply    int             `json:"noReply,omitempty"`
	MoreDiffs  int             `json:"moreDiffs,omitempty"`
	ElapsedMs  int64           `json:"elapsedMs"`
	Diffs      []fixtures.Diff `json:"diffs,omitempty"`
	Error      string          `json:"error,omitempty"`
	OK         bool            `json:"ok"`
}

func replaySummaryJSON(to string, sum fixtures.Summary, runErr error, strict bool) replaySummary {
	s := replaySummary{Kind: "summary", To: to, Sent: sum.Sent, OK2xx: sum.OK2xx, Failed: sum.Failed,
		WrongShape: sum.WrongShape, Warned: sum.Warned, AsRecorded: sum.AsRecorded, Skipped: sum.Skipped,
		NoReply: sum.NoReply, MoreDiffs: sum.MoreDiffs, ElapsedMs: sum.Elapsed.Milliseconds(), Diffs: sum.Diffs, OK: runErr == nil && !failing(sum, strict)}
	if runErr != nil {
		s.Error = runErr.Error()
	}
	return s
}
