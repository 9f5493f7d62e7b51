package tui

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/vapimon/vapimon/tui/sanitize"
	"github.com/vapimon/vapimon/webhook"
)

// ControlFunc sends a live-call control to a call's control URL and returns the answer;
// relay.Session.Control is the real one (it also records the action on the tape). It is
// called off the UI loop and must return within a few seconds.
type ControlFunc func(ctx context.Context, callID, controlURL string, c webhook.Control) webhook.ControlResult

// controlStep is where the action menu is: the list of actions, a text form, or the
// confirmation of an action that cannot be undone.
type controlStep int

const (
	stepMenu controlStep = iota
	stepText
	stepConfirm
)

// A menu entry: its key, and the action it starts.
type controlItem struct {
	key, label, action string
}

// controlMenu is the action menu for one call (the a key on the calls and transcript
// panes). It takes every key while open.
type controlMenu struct {
	callID, short string
	url, host     string // raw control URL; its host, sanitised, to show where it goes
	step          controlStep
	sel           int
	action        string // say, add-message, transfer
	ed            editor
	interrupt     bool
	endAfter      bool
	role          int // index into webhook.AddMessageRoles
	silent        bool
	confirm       webhook.Control
	err           string // why the form's input was refused
}

// controlDoneMsg carries a control's answer back to the model.
type controlDoneMsg struct {
	callID string
	c      webhook.Control
	res    webhook.ControlResult
}

func (m *Model) controlItems(c *call) []controlItem {
	mute := func(side string, muted bool) controlItem {
		k := side[:1]
		if muted {
			return controlItem{k, "unmute the " + side, "unmute-" + side}
		}
		return controlItem{k, "mute the " + side, "mute-" + side}
	}
	return []controlItem{
		{"s", "say… (the assistant says your text)", "say"},
		{"m", "add a message… (system, user or assistant)", "add-message"},
		mute("assistant", c.mutedAssistant),
		mute("customer", c.mutedCustomer),
		{"e", "end the call…", "end-call"},
		{"t", "transfer… (number or SIP URI)", "transfer"},
	}
}

// openControl opens the action menu for the call the transcript shows, or says why not.
func (m *Model) openControl() {
	c := m.selectedCall()
	switch {
	case m.opts.Control == nil:
		m.setFlash("controls are not available here (offline replay)")
	case c == nil:
		m.setFlash("no call selected: pick one in the calls pane")
	case c.controlURL == "":
		m.setFlash("call " + c.short + " has no control URL: monitorPlan.controlEnabled is off for this assistant")
	case c.isEnded:
		m.setFlash("call " + c.short + " has ended: nothing to control")
	default:
		host := c.controlURL
		if u, err := url.Parse(c.controlURL); err == nil && u.Host != "" {
			host = u.Scheme + "://" + u.Host
		}
		m.ctl = &controlMenu{callID: c.id, short: c.short, url: c.controlURL, host: sanitize.Line(host, 80), ed: newEditor(false)}
	}
}

// controlKey handles a key while the action menu is open.
func (m *Model) controlKey(k tea.KeyPressMsg) tea.Cmd {
	cm := m.ctl
	c := m.calls.byID[cm.callID]
	if c == nil {
		m.ctl = nil
		return nil
	}
	s := k.String()
	switch cm.step {
	case stepMenu:
		items := m.controlItems(c)
		switch s {
		case "esc", "q":
			m.ctl = nil
		case "up", "k":
			cm.sel = (cm.sel + len(items) - 1) % len(items)
		case "down", "j":
			cm.sel = (cm.sel + 1) % len(items)
		case "enter":
			return m.startAction(c, items[cm.sel].action)
		default:
			for _, it := range items {
				if s == it.key {
					return m.startAction(c, it.action)
				}
			}
		}
	case stepText:
		cm.err = ""
		switch s {
		case "esc":
			cm.step = stepMenu
		case "enter":
			return m.submitControl()
		case "ctrl+t":
			cm.interrupt = !cm.interrupt
		case "ctrl+e":
			cm.endAfter = !cm.endAfter
		case "ctrl+r":
			cm.role = (cm.role + 1) % len(webhook.AddMessageRoles)
		case "ctrl+o":
			cm.silent = !cm.silent
		default:
			cm.ed.Update(k)
		}
	case stepConfirm:
		switch s {
		case "y":
			return m.sendControl(cm.confirm)
		case "n", "esc", "q":
			cm.step = stepMenu
		}
	}
	return nil
}

// startAction runs a menu entry: mute and unmute go at once, end asks first, the others
// open a text form.
func (m *Model) startAction(c *call, action string) tea.Cmd {
	cm := m.ctl
	switch action {
	case "say", "add-message", "transfer":
		cm.action, cm.step, cm.err = action, stepText, ""
		cm.ed.SetValue("")
		return nil
	case "end-call":
		cm.confirm, cm.step = webhook.EndCall(), stepConfirm
		return nil
	}
	side, mute := strings.TrimPrefix(strings.TrimPrefix(action, "un"), "mute-"), !strings.HasPrefix(action, "un")
	ctl, err := webhook.Mute(side, mute)
	if err != nil {
		cm.err = err.Error()
		return nil
	}
	return m.sendControl(ctl)
}

// submitControl checks the form and sends it (a transfer asks first).
func (m *Model) submitControl() tea.Cmd {
	cm := m.ctl
	text := strings.TrimSpace(cm.ed.Value())
	var ctl webhook.Control
	var err error
	switch cm.action {
	case "say":
		ctl, err = webhook.Say(text, cm.interrupt, cm.endAfter)
	case "add-message":
		ctl, err = webhook.AddMessage(webhook.AddMessageRoles[cm.role], text, !cm.silent)
	case "transfer":
		if ctl, err = webhook.Transfer(text, ""); err == nil {
			cm.confirm, cm.step = ctl, stepConfirm
			return nil
		}
	}
	if err != nil {
		cm.err = sanitize.Line(err.Error(), 200)
		return nil
	}
	return m.sendControl(ctl)
}

// sendControl closes the menu and sends ctl off the UI loop; the answer comes back as a
// controlDoneMsg.
func (m *Model) sendControl(ctl webhook.Control) tea.Cmd {
	cm := m.ctl
	m.ctl = nil
	send, id, u := m.opts.Control, cm.callID, cm.url
	m.setFlash(sanitize.Line("sending "+ctl.Describe()+" to call "+cm.short+"…", 200))
	return func() tea.Msg {
		return controlDoneMsg{callID: id, c: ctl, res: send(context.Background(), id, u, ctl)}
	}
}

// controlDone shows a control's answer as an operator line in the call's transcript.
func (m *Model) controlDone(d controlDoneMsg) {
	c := m.calls.byID[d.callID]
	line := sanitize.Line(d.c.Describe()+" → "+d.res.Summary(), maxLineBytes)
	if d.res.OK() && d.res.Body != "" && d.res.Body != "{}" {
		line += sanitize.Line(" · Vapi: "+d.res.Body, 300)
	}
	if d.res.OK() {
		m.setFlash("call " + shortOf(c) + ": " + sanitize.Line(d.c.Action()+" "+d.res.Summary(), 100))
	} else {
		m.setFlash("call " + shortOf(c) + ": " + sanitize.Line(d.c.Action()+" failed", 100))
	}
	if c == nil {
		return
	}
	kind := lineOperator
	if !d.res.OK() {
		kind = lineOperatorFailed
	}
	if d.res.OK() && d.c.Type == webhook.ControlControl {
		switch d.c.Control {
		case webhook.ControlMuteAssistant, webhook.ControlUnmuteAssistant:
			c.mutedAssistant = d.c.Control == webhook.ControlMuteAssistant
		case webhook.ControlMuteCustomer, webhook.ControlUnmuteCustomer:
			c.mutedCustomer = d.c.Control == webhook.ControlMuteCustomer
		}
	}
	c.transcript.note(kind, m.now(), line)
}

func shortOf(c *call) string {
	if c == nil {
		return "(gone)"
	}
	return c.short
}

// controlView draws the action menu, its form or its confirmation.
func (m *Model) controlView(w int) []string {
	st := &m.styles
	cm := m.ctl
	c := m.calls.byID[cm.callID]
	if c == nil {
		return nil
	}
	title := "Control call " + cm.short + " · " + c.who()
	body := []string{st.Dim.Render(ansi.Truncate("POST to "+cm.host, max(w-4, 10), "…"))}
	hint := func(parts ...string) string { return st.Footer.Render(strings.Join(parts, " · ")) }
	box := func(on bool) string {
		if on {
			return "[x]"
		}
		return "[ ]"
	}
	switch cm.step {
	case stepMenu:
		for i, it := range m.controlItems(c) {
			row := fmt.Sprintf(" %s  %s", it.key, it.label)
			if i == cm.sel {
				row = st.Selected.Render(fit(row, max(w-4, 10)))
			}
			body = append(body, row)
		}
		body = append(body, "", hint("letter or enter: choose", "esc close"))
	case stepText:
		what := map[string]string{"say": "The assistant says:", "add-message": "Message to add to the conversation:", "transfer": "Transfer to (+14155550123 or sip:user@host):"}[cm.action]
		body = append(body, what)
		body = append(body, cm.ed.View(st, max(w-6, 10), 1, true)...)
		switch cm.action {
		case "say":
			body = append(body, hint("ctrl+t "+box(cm.interrupt)+" interrupt the assistant", "ctrl+e "+box(cm.endAfter)+" end the call after"))
		case "add-message":
			body = append(body, hint("ctrl+r role: "+webhook.AddMessageRoles[cm.role], "ctrl+o "+box(!cm.silent)+" the assistant responds"))
		}
		if cm.err != "" {
			body = append(body, st.Err.Render(ansi.Truncate(cm.err, max(w-4, 10), "…")))
		}
		body = append(body, "", hint("enter send", "esc back"))
	case stepConfirm:
		q := "End call " + cm.short + " now? The caller is hung up on."
		if cm.confirm.Type == webhook.ControlTransfer {
			q = sanitize.Line("Transfer call "+cm.short+" "+strings.TrimPrefix(cm.confirm.Describe(), "transfer ")+"?", 200)
		}
		body = append(body, st.Warn.Render(q), "", hint("y yes", "n no"))
	}
	return modalBox(st, title, body, w)
}

// controlHelp is the footer's help while the menu is open.
func (m *Model) controlHelp() helpKeys {
	b := func(k, d string) key.Binding { return key.NewBinding(key.WithKeys(k), key.WithHelp(k, d)) }
	var short []key.Binding
	switch m.ctl.step {
	case stepMenu:
		short = []key.Binding{b("s", "say"), b("m", "message"), b("a/c", "mute"), b("e", "end"), b("t", "transfer"), b("esc", "close")}
	case stepText:
		short = []key.Binding{b("enter", "send"), b("esc", "back")}
	case stepConfirm:
		short = []key.Binding{b("y", "yes"), b("n", "no")}
	}
	return helpKeys{short: short, full: [][]key.Binding{short}}
}
