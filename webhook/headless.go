package webhook

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"time"
)

// HeadlessLine is one line of headless output. Kind is "event", "reply", "rejected",
// "status" or "notice"; the other fields are set according to Kind.
type HeadlessLine struct {
	Kind string    `json:"kind"`
	Time time.Time `json:"time"`
	Seq  uint64    `json:"seq,omitempty"`
	// event; Payload with --headless-payload, and Body (the request) with --headless-body
	Payload  *HeadlessPayload `json:"payload,omitempty"`
	Type     string           `json:"type,omitempty"`
	CallID   string           `json:"callId,omitempty"`
	Path     string           `json:"path,omitempty"`
	Verified *bool            `json:"verified,omitempty"`
	AuthMode string           `json:"authMode,omitempty"`
	Known    *bool            `json:"known,omitempty"`
	// reply, rejected
	Status    int             `json:"status,omitempty"`
	Source    string          `json:"source,omitempty"`
	LatencyMs *float64        `json:"latencyMs,omitempty"`
	Body      json.RawMessage `json:"body,omitempty"`
	Attempts  []string        `json:"attempts,omitempty"`
	Note      string          `json:"note,omitempty"`
	Reason    string          `json:"reason,omitempty"`
	// reply: Substituted is true when your server was asked and failed, and another source
	// answered in its place; ForwardFailed says why ("HTTP 500", "timeout"...).
	Substituted   bool   `json:"substituted,omitempty"`
	ForwardFailed string `json:"forwardFailed,omitempty"`
	// status
	Listen      string `json:"listen,omitempty"`
	PublicURL   string `json:"publicUrl,omitempty"`
	Tunnel      string `json:"tunnel,omitempty"`
	TunnelNote  string `json:"tunnelNote,omitempty"`
	Auth        string `json:"auth,omitempty"`
	Tape        string `json:"tape,omitempty"`
	Forward     string `json:"forward,omitempty"`
	ToolTimeout string `json:"toolTimeout,omitempty"`
	// Mode is "demo" or "offline" (omitted for a live listener); Warnings are what a person
	// should know before trusting the listener (also printed on stderr); the status line's
	// AuthMode is the verification in force.
	Mode     string   `json:"mode,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	// status, when recording fails: failed tape writes so far, and the last error.
	TapeFailed *uint64 `json:"tapeFailed,omitempty"`
	TapeError  string  `json:"tapeError,omitempty"`
	// notice
	Level string `json:"level,omitempty"`
	Text  string `json:"text,omitempty"`
	// forward health
	Target string `json:"target,omitempty"`
	Error  string `json:"error,omitempty"`
}

// HeadlessLines converts one bus value into the lines it prints (none for values it does
// not know). A rejected request prints only a "rejected" line.
func HeadlessLines(v any) []HeadlessLine {
	if l, ok := headlessLine(v); ok {
		return []HeadlessLine{l}
	}
	return nil
}

// headlessLine is the line one bus value prints, if any: every value prints at most one,
// and the writer takes it by value, so printing allocates no slice per value.
func headlessLine(v any) (HeadlessLine, bool) {
	switch x := v.(type) {
	case *Event:
		if x.Rejected != "" {
			return HeadlessLine{Kind: "rejected", Time: x.Received, Seq: x.Seq, Path: x.Path, Status: x.Status, Reason: x.Rejected}, true
		}
		v, k := x.Verified, x.Msg != nil && x.Msg.Known
		return HeadlessLine{Kind: "event", Time: x.Received, Seq: x.Seq, Type: x.Type(), CallID: x.CallID(), Path: x.Path, Verified: &v, AuthMode: string(x.AuthMode), Known: &k}, true
	case *Outcome:
		if x.Reply.Source == SourceReject {
			return HeadlessLine{}, false // the rejected line already said it
		}
		ms := float64(x.Latency.Microseconds()) / 1000
		return HeadlessLine{Kind: "reply", Time: time.Now(), Seq: x.Seq, Status: x.Reply.Status, Source: x.Reply.Source, LatencyMs: &ms, Body: headlessBody(x.Reply.Body), Attempts: x.Attempts, Note: x.Reply.Note,
			Substituted: x.Reply.ForwardFailed != "", ForwardFailed: x.Reply.ForwardFailed}, true
	case TapeHealth:
		n := x.Failed
		return HeadlessLine{Kind: "status", Time: time.Now(), TapeFailed: &n, TapeError: x.Err}, true
	case Status:
		l := HeadlessLine{Kind: "status", Time: time.Now(), Listen: x.ListenURL, PublicURL: x.PublicURL, Tunnel: string(x.Tunnel), TunnelNote: x.TunnelNote,
			AuthMode: string(x.AuthMode), Auth: x.Auth, Tape: x.Tape, Forward: x.Forward, Mode: string(x.Mode), Warnings: x.Warnings}
		if x.ToolTimeout > 0 {
			l.ToolTimeout = x.ToolTimeout.String()
		}
		return l, true
	case Notice:
		return HeadlessLine{Kind: "notice", Time: x.Time, Level: x.Level, Text: x.Text}, true
	case ForwardHealth:
		ms := float64(x.Latency.Microseconds()) / 1000
		return HeadlessLine{Kind: "forward", Time: x.At, Seq: x.Seq, Target: x.Target, Status: x.Status, LatencyMs: &ms, Error: x.Err}, true
	}
	return HeadlessLine{}, false
}

// headlessBody is a body as a headless line carries it: left out when empty, else
// JSONOrString, so every line stays one line of valid JSON and no byte is lost.
func headlessBody(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return JSONOrString(b)
}

// WriteHeadless prints every value received from sub as JSON lines on w until sub is closed
// or ctx ends, flushing after each burst. It reports how many bus values were dropped. Tape
// health is printed once per burst, with the latest count: a full disk fails every write,
// and one status line per failed write would bury the requests.
func WriteHeadless(ctx context.Context, w io.Writer, sub <-chan any, bus *Bus) error {
	return writeHeadless(ctx, w, sub, bus, headlessLine)
}

// writeHeadless is WriteHeadless with the function that turns a bus value into its line.
func writeHeadless(ctx context.Context, w io.Writer, sub <-chan any, bus *Bus, toLine func(any) (HeadlessLine, bool)) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	var lastDropped uint64
	var tape *TapeHealth // the latest, not yet printed
	var line []byte
	emit := func(v any) error {
		l, ok := toLine(v)
		if !ok {
			return nil
		}
		if line, ok = appendHeadlessLine(line[:0], &l); !ok {
			slow := l
			return enc.Encode(&slow)
		}
		line = append(line, '\n')
		_, err := bw.Write(line)
		return err
	}
	flushTape := func() error {
		if tape == nil {
			return nil
		}
		t := *tape
		tape = nil
		return emit(t)
	}
	write := func(v any) error {
		if th, ok := v.(TapeHealth); ok {
			tape = &th
			return nil
		}
		return emit(v)
	}
	done := func() error {
		if err := flushTape(); err != nil {
			return err
		}
		return bw.Flush()
	}
	// After each flush the writer rests for headlessPause, while the bus queues what comes:
	// under load it then wakes and writes a few hundred times a second, not twice a
	// request, and a lone request still prints at once.
	pause := time.NewTimer(time.Hour)
	pause.Stop()
	rest := func() {
		pause.Reset(headlessPause)
		select {
		case <-ctx.Done():
			pause.Stop()
		case <-pause.C:
		}
	}
	for {
		select {
		case <-ctx.Done():
			// Drain what is already queued so nothing received is lost from the output.
			for {
				select {
				case v, ok := <-sub:
					if !ok {
						return done()
					}
					if err := write(v); err != nil {
						return err
					}
				default:
					return done()
				}
			}
		case v, ok := <-sub:
			if !ok {
				return done()
			}
			if err := write(v); err != nil {
				return err
			}
			if len(sub) == 0 {
				if d := bus.DroppedFor(sub); d != lastDropped {
					lastDropped = d
					if err := write(Notice{Time: time.Now(), Level: "warn", Text: "output fell behind: some lines were dropped (the tape has every request)"}); err != nil {
						return err
					}
				}
				if err := done(); err != nil {
					return err
				}
				rest()
			}
		}
	}
}

// headlessPause is how long the headless writer rests after a flush.
const headlessPause = 5 * time.Millisecond
