package tui

import (
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/webhook"
)

// Inspect is what the monitor needs to resend and copy requests (Options.Inspect): where
// vapimon listens and how Vapi signs for it. Nil in offline replay: resending needs a
// listener, and copies target the default address.
type Inspect struct {
	// URL is vapimon's own listen URL (http://127.0.0.1:4242): resends go through its
	// handler, so that the monitor, your server (--forward-to) and the tape all see them.
	URL string
	// Auth is the listener's verification: resends and copied commands are signed for it.
	Auth webhook.AuthConfig
	// UserAgent is sent with resends ("vapimon/VERSION"): calls made of them end when idle
	// (Options.CallIdle).
	UserAgent string
	// Editor is the command E opens the request in ($VISUAL, else $EDITOR); "" uses the
	// built-in editor.
	Editor string
	// Now is the clock for fresh ids and signatures (default time.Now).
	Now func() time.Time
	// CopiedFile is where copies are also written, for a terminal that ignores OSC 52
	// (default: copied.txt in the state directory).
	CopiedFile string
}

// defaultInspectURL is where copies point without a listener (offline replay): a local
// `vapimon listen`.
const defaultInspectURL = "http://127.0.0.1:4242"

// inspect returns Options.Inspect, or the defaults for copies when there is none.
func (m *Model) inspect() Inspect {
	in := Inspect{URL: defaultInspectURL, Now: m.now}
	if m.opts.Inspect != nil {
		in = *m.opts.Inspect
		if in.Now == nil {
			in.Now = m.now
		}
	}
	return in
}

// targetURL is the URL a request of this path goes to on vapimon.
func (in Inspect) targetURL(path string) string {
	if path == "" {
		path = fixtures.DefaultPath
	}
	return strings.TrimRight(in.URL, "/") + path
}

// copiedMsg says the copied text was also written to a file, for the flash.
type copiedMsg struct {
	what, path string
	size       int
	err        error
}

// copyText puts text on the clipboard (OSC 52) and writes it to copied.txt in the state
// directory, for a terminal that ignores OSC 52; the flash names the file.
func (m *Model) copyText(what, text string) tea.Cmd {
	m.setFlash(fmt.Sprintf("copied %s: %d bytes (OSC 52)", what, len(text)))
	file := m.inspect().CopiedFile
	return tea.Batch(tea.SetClipboard(text), func() tea.Msg {
		p, err := fixtures.WriteCopied(file, text)
		return copiedMsg{what: what, path: p, size: len(text), err: err}
	})
}

// noteCopied flashes where the copied text was written.
func (m *Model) noteCopied(c copiedMsg) {
	if c.err != nil {
		m.setFlash(fmt.Sprintf("copied %s (OSC 52); writing it to a file failed: %v", c.what, c.err))
		return
	}
	m.setFlash(fmt.Sprintf("copied %s: %d bytes (OSC 52; if your terminal ignores it: %s)", c.what, c.size, c.path))
}

// copyRequest copies row r's request as curl, as raw JSON or as a vapimon send command.
func (m *Model) copyRequest(r *eventRow, as string) tea.Cmd {
	if r == nil {
		m.setFlash("no request selected")
		return nil
	}
	if r.ev == nil || len(r.ev.Body) == 0 {
		m.setFlash("this request's body is not in memory any more: the tape has it")
		return nil
	}
	in := m.inspect()
	body, url := r.ev.Body, in.targetURL(r.ev.Path)
	switch as {
	case "json":
		return m.copyText(fmt.Sprintf("request #%d's JSON", r.seq), string(body))
	case "curl":
		text, err := fixtures.Curl(url, in.Auth, body, in.Now())
		if err != nil {
			m.setFlash("cannot sign: " + err.Error())
			return nil
		}
		return m.copyText(fmt.Sprintf("request #%d as curl (signed now)", r.seq), text)
	case "send":
		auth, file := in.Auth, in.CopiedFile
		seq := r.seq
		return func() tea.Msg {
			p, err := fixtures.WriteTempBody(body)
			if err != nil {
				return sendCopyMsg{seq: seq, err: err}
			}
			text := fixtures.SendCommand(p, url, auth)
			wrote, werr := fixtures.WriteCopied(file, text)
			return sendCopyMsg{seq: seq, text: text, body: p, path: wrote, err: werr}
		}
	}
	return nil
}

// sendCopyMsg is the `vapimon send` command built with its temp file, to be copied.
type sendCopyMsg struct {
	seq              uint64
	text, body, path string
	err              error
}

func (m *Model) noteSendCopy(c sendCopyMsg) tea.Cmd {
	if c.body == "" {
		m.setFlash(fmt.Sprintf("not copied: %v", c.err))
		return nil
	}
	msg := fmt.Sprintf("copied request #%d as vapimon send (body in %s)", c.seq, c.body)
	if c.err == nil {
		msg += "; if your terminal ignores OSC 52: " + c.path
	}
	m.setFlash(msg)
	return tea.SetClipboard(c.text)
}
