package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/tui"
)

func newFixturesCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "fixtures",
		Short: "List the built-in Vapi events and call scenarios",
		Long: `List the built-in fixtures: one realistic event for every Vapi message type (send one
with "vapimon send NAME") and whole-call scenarios (replay one with "vapimon replay NAME
--to URL"). "vapimon fixtures show NAME" prints one as JSON.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON {
				list := fixtures.List()
				if list == nil {
					list = []fixtures.Fixture{}
				}
				return writeJSON(cmd.OutOrStdout(), list)
			}
			out := cmd.OutOrStdout()
			return printFixtureList(out, fixtures.List(), listWidth(out))
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the list as JSON")
	cmd.AddCommand(newFixturesShowCmd())
	return cmd
}

func newFixturesShowCmd() *cobra.Command {
	var asTape bool
	cmd := &cobra.Command{
		Use:   "show NAME|FILE",
		Short: "Print a fixture, scenario or tape as pretty JSON",
		Long: `Print the body of a built-in event as indented JSON; for a scenario or a tape, a JSON list
of its bodies. With --json, print the records themselves as tape lines (JSON Lines), which
"vapimon replay FILE" reads back. A request the tape holds without its reply (vapimon
stopped before answering it) is named on standard error: "no reply recorded". A tape is
read as it is printed, so any size works.`,
		Example: `  vapimon fixtures show tool-calls
  vapimon fixtures show inbound-call --json > call.jsonl`,
		Args:              oneFixtureArg("show needs a fixture name or file, e.g. vapimon fixtures show tool-calls (vapimon fixtures lists them)"),
		ValidArgsFunction: completeFixtureNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			stream, err := loadStream(cmd, args[0])
			if err != nil {
				return err
			}
			src, closeTape, err := stream.Open()
			if err != nil {
				return err
			}
			defer closeTape()
			out := cmd.OutOrStdout()
			notes := &noReplyNotes{w: cmd.ErrOrStderr()}
			src = notes.watch(src)
			if asTape {
				err = writeTapeLines(out, src)
			} else {
				err = writePrettyBodies(out, src, stream.Counts.Records == 1, isTerminal(out))
			}
			notes.finish()
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asTape, "json", false, "print the records as tape lines (JSON Lines)")
	return cmd
}

// loadStream resolves a fixture name, scenario name or tape/JSON file for reading record
// by record (fixtures.ResolveStream), printing the warnings on standard error.
func loadStream(cmd *cobra.Command, arg string) (*fixtures.Stream, error) {
	stream, warnings, err := fixtures.ResolveStream(arg)
	for _, w := range warnings {
		fmt.Fprintln(cmd.ErrOrStderr(), "warning:", tui.SanitizeLine(w))
	}
	if err != nil {
		return nil, err
	}
	if stream.Counts.Records == 0 {
		return nil, fmt.Errorf("%s holds no events", arg)
	}
	return stream, nil
}

// writeTapeLines prints each record as one whole tape line.
func writeTapeLines(w io.Writer, src fixtures.RecordSource) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	for {
		rec, err := src.Next()
		if errors.Is(err, io.EOF) {
			return bw.Flush()
		}
		if err != nil {
			return err
		}
		line, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		bw.Write(line)
		if err := bw.WriteByte('\n'); err != nil {
			return err
		}
	}
}

// writePrettyBodies indents one body (single), or a list of bodies, written as they are
// read: the output is what json.Indent makes of the whole list. A body that is not JSON (a
// tape keeps the requests it rejected byte for byte) is shown as a JSON string, base64
// when it is not UTF-8, so the output stays one JSON document. On a terminal the text is
// sanitised (bodies from a tape file are untrusted).
func writePrettyBodies(w io.Writer, src fixtures.RecordSource, single, terminal bool) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var buf bytes.Buffer
	emit := func(s string) {
		if terminal {
			s = tui.Sanitize(s)
		}
		bw.WriteString(s)
	}
	prefix := "  "
	if single {
		prefix = ""
	}
	for n := 0; ; n++ {
		rec, err := src.Next()
		if errors.Is(err, io.EOF) {
			switch {
			case single:
				emit("\n")
			case n == 0:
				emit("[]\n")
			default:
				emit("\n]\n")
			}
			return bw.Flush()
		}
		if err != nil {
			bw.Flush()
			return err
		}
		buf.Reset()
		if err := json.Indent(&buf, jsonOrString(rec.Body), prefix, "  "); err != nil {
			bw.Flush()
			return fmt.Errorf("indent the bodies: %w", err)
		}
		switch {
		case single:
		case n == 0:
			emit("[\n  ")
		default:
			emit(",\n  ")
		}
		emit(buf.String())
	}
}

// maxNoReplyNotes caps the requests named one by one as having no reply recorded.
const maxNoReplyNotes = 20

// noReplyNotes names, on standard error, the requests a tape holds without their reply.
type noReplyNotes struct {
	w    io.Writer
	i, n int
}

func (n *noReplyNotes) watch(src fixtures.RecordSource) fixtures.RecordSource {
	return recordFunc(func() (fixtures.Record, error) {
		rec, err := src.Next()
		if err != nil {
			return rec, err
		}
		n.i++
		if rec.NoReply {
			n.n++
			if n.n <= maxNoReplyNotes {
				typ := tui.SanitizeLine(rec.Type)
				if typ == "" {
					typ = "request"
				}
				fmt.Fprintf(n.w, "note: #%d %s (seq %d): %s\n", n.i, typ, rec.Seq, fixtures.NoReplyText)
			}
		}
		return rec, nil
	})
}

func (n *noReplyNotes) finish() {
	if n.n > maxNoReplyNotes {
		fmt.Fprintf(n.w, "note: %d requests in all have no reply recorded\n", n.n)
	}
}

// recordFunc adapts a function to fixtures.RecordSource.
type recordFunc func() (fixtures.Record, error)

func (f recordFunc) Next() (fixtures.Record, error) { return f() }

// listWidth is the width `vapimon fixtures` wraps at: the terminal's, else $COLUMNS when
// set (vapimon fixtures | less), else 80.
func listWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok && term.IsTerminal(f.Fd()) {
		if cols, _, err := term.GetSize(f.Fd()); err == nil && cols > 0 {
			return cols
		}
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n >= 20 {
		return n
	}
	return 80
}

// minDescWidth is the narrowest description column; below it descriptions go under the
// names. maxLabelWidth caps the name column: a longer label has its description start on
// the next line, so one long type does not push every description right.
const (
	minDescWidth  = 30
	maxLabelWidth = 30
)

// printFixtureList prints the fixtures grouped by kind, in catalog order, wrapped at width.
// An event's message type is shown only when it differs from its name
// ("tool-calls-flat → tool-calls").
func printFixtureList(w io.Writer, list []fixtures.Fixture, width int) error {
	var kinds []string
	byKind := map[string][]fixtures.Fixture{}
	label := func(fx fixtures.Fixture) string {
		if fx.Type != "" && fx.Type != fx.Name {
			return fx.Name + " → " + fx.Type
		}
		return fx.Name
	}
	col := 0
	for _, fx := range list {
		if _, ok := byKind[fx.Kind]; !ok {
			kinds = append(kinds, fx.Kind)
		}
		byKind[fx.Kind] = append(byKind[fx.Kind], fx)
		if lw := ansi.StringWidth(label(fx)); lw <= maxLabelWidth {
			col = max(col, lw)
		}
	}
	const indent = "  "
	descCol := len(indent) + col + 2
	under := width-descCol < minDescWidth // too narrow: each description under its name
	var b strings.Builder
	for i, k := range kinds {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(kindHeading(k) + "\n")
		for _, fx := range byKind[k] {
			l := label(fx)
			if under {
				b.WriteString(indent + l + "\n")
				for _, line := range wrapWords(fx.Description, width-2*len(indent)) {
					b.WriteString(indent + indent + line + "\n")
				}
				continue
			}
			if pad := descCol - len(indent) - ansi.StringWidth(l); pad >= 2 {
				b.WriteString(indent + l + strings.Repeat(" ", pad))
			} else {
				b.WriteString(indent + l + "\n" + strings.Repeat(" ", descCol))
			}
			for j, line := range wrapWords(fx.Description, width-descCol) {
				if j > 0 {
					b.WriteString(strings.Repeat(" ", descCol))
				}
				b.WriteString(line + "\n")
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// wrapWords breaks s into lines at most width cells wide, at spaces; a longer word gets a
// line of its own.
func wrapWords(s string, width int) []string {
	var lines []string
	var cur strings.Builder
	curW := 0
	for _, word := range strings.Fields(s) {
		ww := ansi.StringWidth(word)
		if curW > 0 && curW+1+ww > width {
			lines = append(lines, cur.String())
			cur.Reset()
			curW = 0
		}
		if curW > 0 {
			cur.WriteByte(' ')
			curW++
		}
		cur.WriteString(word)
		curW += ww
	}
	if curW > 0 || len(lines) == 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

func kindHeading(kind string) string {
	switch kind {
	case "event":
		return "EVENTS (vapimon send NAME)"
	case "scenario":
		return "SCENARIOS (vapimon replay NAME --to URL)"
	}
	return kind
}
