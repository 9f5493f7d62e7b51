package tui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"

	tea "charm.land/bubbletea/v2"
	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/tui/sanitize"
)

// E opens the selected request's JSON (with fresh ids and times, as it will be sent) in
// $VISUAL or $EDITOR, suspending the monitor as git and lazygit do, or in the built-in
// editor when neither is set. What is saved must parse and be a Vapi message (what
// `vapimon send` checks); then it is resent as edited (see resend.go). A body that does
// not pass is kept: E again reopens it with the problem named.

// maxEditRunes bounds the built-in editor: the handler's default body cap.
const maxEditRunes = 8 << 20

// jsonEdit is the built-in editor open over the detail layer.
type jsonEdit struct {
	row *eventRow
	rec fixtures.Record
	ed  editor
	err string // why the last save was refused
}

// editDoneMsg is the external editor's result.
type editDoneMsg struct {
	row  *eventRow
	rec  fixtures.Record
	text []byte
	err  error
}

// editText is the text E starts from: the draft a refused save left, else the request
// (freshened) indented.
func (m *Model) editText(r *eventRow, rec fixtures.Record) []byte {
	if d, ok := m.drafts[r.seq]; ok {
		return d
	}
	var buf bytes.Buffer
	if json.Indent(&buf, rec.Body, "", "  ") != nil {
		return rec.Body
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// editRequest opens row r's request for editing.
func (m *Model) editRequest(r *eventRow) tea.Cmd {
	if m.opts.Inspect == nil {
		m.setFlash("edit and resend needs a listening vapimon (offline replay only shows the tape)")
		return nil
	}
	rec, ok := m.resendRecord(r, false)
	if !ok {
		m.setFlash("this request's body is not in memory any more: the tape has it")
		return nil
	}
	if d, ok := m.draftRecs[r.seq]; ok {
		rec = d // keep the ids the draft was made with
	}
	text := m.editText(r, rec)
	editor := m.opts.Inspect.Editor
	if editor == "" {
		ed := newEditor(true)
		ed.limit = maxEditRunes // a whole request, not a typed answer
		ed.SetValue(string(text))
		ed.Home()
		m.editing = &jsonEdit{row: r, rec: rec, ed: ed, err: m.draftErr[r.seq]}
		if m.detail == nil {
			m.detail = &detailView{title: "Edit"}
		}
		return nil
	}
	x := &editorExec{editor: editor, text: text}
	return tea.Exec(x, func(err error) tea.Msg {
		if err == nil {
			err = x.err
		}
		return editDoneMsg{row: r, rec: rec, text: x.out, err: err}
	})
}

// editorExec runs the editor on a temporary file holding text, and reads it back (in the
// program's exec, not in Update).
type editorExec struct {
	editor        string
	text, out     []byte
	err           error
	stdin         io.Reader
	stdout, stder io.Writer
}

func (x *editorExec) SetStdin(r io.Reader)  { x.stdin = r }
func (x *editorExec) SetStdout(w io.Writer) { x.stdout = w }
func (x *editorExec) SetStderr(w io.Writer) { x.stder = w }

// Run writes the file, runs the editor through sh (so "code -w" works) and reads the file
// back; the file is removed.
func (x *editorExec) Run() error {
	f, err := os.CreateTemp("", "vapimon-edit-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(x.text); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	cmd := exec.Command("sh", "-c", x.editor+` "$1"`, "vapimon-edit", f.Name())
	// The editor gets the terminal itself: through the program's reader (a wrapper)
	// exec would copy keys in a goroutine that outlives the editor, blocked on a read,
	// and the monitor would never come back.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = fileOf(x.stdin), x.stdout, x.stder
	if f, ok := x.stdout.(*os.File); ok {
		cmd.Stdout = f
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", x.editor, err)
	}
	x.out, x.err = os.ReadFile(f.Name())
	return nil
}

// saveEdit checks an edited body and resends it, or keeps it as a draft and says why not.
func (m *Model) saveEdit(r *eventRow, rec fixtures.Record, text []byte) tea.Cmd {
	var probe any
	if err := json.Unmarshal(text, &probe); err != nil {
		return m.refuseEdit(r, rec, text, jsonErrorAt(string(text), err))
	}
	if err := fixtures.CheckMessage(text); err != nil {
		return m.refuseEdit(r, rec, text, err.Error())
	}
	delete(m.drafts, r.seq)
	delete(m.draftRecs, r.seq)
	delete(m.draftErr, r.seq)
	m.editing = nil
	return m.resend(r, false, bytes.TrimRight(text, "\n"), &rec)
}

func (m *Model) refuseEdit(r *eventRow, rec fixtures.Record, text []byte, why string) tea.Cmd {
	why = sanitize.Line(why, 300)
	m.drafts[r.seq], m.draftRecs[r.seq], m.draftErr[r.seq] = text, rec, why
	if m.editing != nil {
		m.editing.err = why
		return nil
	}
	m.setFlash(fmt.Sprintf("not sent: %s (E edits it again)", why))
	return nil
}

// editKey handles a key in the built-in editor: ctrl+s checks and sends, esc leaves
// (keeping what was typed as a draft), enter is a new line.
func (m *Model) editKey(k tea.KeyPressMsg) tea.Cmd {
	e := m.editing
	switch k.String() {
	case "esc":
		m.drafts[e.row.seq], m.draftRecs[e.row.seq] = []byte(e.ed.Value()), e.rec
		m.editing = nil
		if m.detail != nil && m.detail.title == "Edit" {
			m.detail = nil
		}
		m.setFlash("edit kept: E goes on with it")
		return nil
	case "ctrl+s":
		return m.saveEdit(e.row, e.rec, []byte(e.ed.Value()))
	case "enter":
		e.ed.Newline()
		return nil
	case "tab":
		e.ed.Insert("  ")
		return nil
	}
	e.ed.Update(k)
	return nil
}

// editView draws the built-in editor in the body.
func (m *Model) editView(w, h int) []string {
	st, e := &m.styles, m.editing
	var lines []string
	lines = append(lines, st.Dim.Render(fmt.Sprintf("request #%d (%s) with fresh ids and times, as it will be resent", e.row.seq, e.row.text().typ)))
	if e.err != "" {
		lines = append(lines, st.Err.Render("not sent: "+e.err))
	}
	lines = append(lines, st.Dim.Render("ctrl+s resends it · esc keeps it for later · set $VISUAL or $EDITOR to use your own editor"))
	lines = append(lines, e.ed.View(st, w, max(h-len(lines), 1), true)...)
	return box(st, fmt.Sprintf("Edit and resend #%d", e.row.seq), lines, m.width, m.bodyHeight(), true)
}

// fileOf returns the terminal file behind r (the monitor's watchedInput, or a plain
// *os.File), else nil: no input rather than a copy that cannot end.
func fileOf(r any) io.Reader {
	switch f := r.(type) {
	case *os.File:
		return f
	case *watchedInput:
		return f.File
	}
	return nil
}
