package tui

import "charm.land/bubbles/v2/key"

// KeyMap is every key binding of the monitor. Help is generated from it, filtered by what
// has focus (see helpKeys), so the help screen never lists a key that does nothing.
type KeyMap struct {
	// Global.
	Help      key.Binding
	Quit      key.Binding
	NextPane  key.Binding
	PrevPane  key.Binding
	FocusPane key.Binding
	Filter    key.Binding
	Follow    key.Binding
	Intercept key.Binding
	Act       key.Binding
	Hide      key.Binding

	// Lists and scrolling.
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Top      key.Binding
	Bottom   key.Binding
	Open     key.Binding

	// Inspecting requests: the events pane and the request detail (copy.go, resend.go,
	// editjson.go).
	Resend     key.Binding
	ResendKeep key.Binding
	EditSend   key.Binding
	CopyCurl   key.Binding
	CopySend   key.Binding

	// Detail and report views.
	CopyJSON    key.Binding
	CopyCallID  key.Binding
	Close       key.Binding
	JumpHeaders key.Binding
	JumpRequest key.Binding
	JumpServer  key.Binding
	JumpReply   key.Binding

	// The answer prompt.
	Send      key.Binding
	Newline   key.Binding
	SendError key.Binding
	Suggest   key.Binding
	Defer     key.Binding

	// Reviewing a reply from the developer's server (--intercept).
	SendAsIs key.Binding
	Edit     key.Binding
	Replace  key.Binding
	Back     key.Binding

	// The quit confirmation.
	Yes key.Binding
	No  key.Binding

	// Listening to a call's audio (Options.Audio).
	Listen        key.Binding
	Play          key.Binding
	MuteCaller    key.Binding
	MuteAssistant key.Binding
	VolumeDown    key.Binding
	VolumeUp      key.Binding

	// Offline replay.
	PlayPause key.Binding
	Step      key.Binding
	Faster    key.Binding
	Slower    key.Binding
}

// DefaultKeyMap returns the monitor's key bindings.
func DefaultKeyMap() KeyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return KeyMap{
		Help:      b([]string{"?"}, "?", "help"),
		Quit:      b([]string{"q", "ctrl+c"}, "q", "quit"),
		NextPane:  b([]string{"tab"}, "tab", "next pane"),
		PrevPane:  b([]string{"shift+tab"}, "shift+tab", "previous pane"),
		FocusPane: b([]string{"1", "2", "3", "4"}, "1-4", "calls/transcript/tools/events"),
		Filter:    b([]string{"/"}, "/", "filter"),
		Follow:    b([]string{"f"}, "f", "follow"),
		Intercept: b([]string{"i"}, "i", "intercept on/off"),
		Act:       b([]string{"a"}, "a", "act on call"),
		Hide:      b([]string{"H"}, "H", "hide/show noisy event types"),

		Up:       b([]string{"up", "k"}, "↑/k", "up"),
		Down:     b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:   b([]string{"pgup", "ctrl+u"}, "pgup", "page up"),
		PageDown: b([]string{"pgdown", "ctrl+d", "space"}, "pgdn", "page down"),
		Top:      b([]string{"home", "g"}, "g", "top"),
		Bottom:   b([]string{"end", "G"}, "G", "bottom"),
		Open:     b([]string{"enter"}, "enter", "open"),

		Resend:     b([]string{"R"}, "R", "resend (fresh ids)"),
		ResendKeep: b([]string{"ctrl+r"}, "ctrl+r", "resend as recorded"),
		EditSend:   b([]string{"E"}, "E", "edit and resend"),
		CopyCurl:   b([]string{"C"}, "C", "copy as curl"),
		CopySend:   b([]string{"S"}, "S", "copy as vapimon send"),

		CopyJSON:   b([]string{"y"}, "y", "copy JSON"),
		CopyCallID: b([]string{"c"}, "c", "copy call id"),
		Close:      b([]string{"esc", "q"}, "esc", "close"),

		JumpHeaders: b([]string{"h"}, "h", "headers"),
		JumpRequest: b([]string{"r"}, "r", "request body"),
		JumpServer:  b([]string{"s"}, "s", "your server"),
		JumpReply:   b([]string{"a"}, "a", "reply (answer sent)"),

		Send:      b([]string{"enter"}, "enter", "send"),
		Newline:   b([]string{"alt+enter", "ctrl+j"}, "alt+enter", "new line"),
		SendError: b([]string{"ctrl+e"}, "ctrl+e", "send as error"),
		Suggest:   b([]string{"tab"}, "tab", "suggestion"),
		Defer:     b([]string{"esc"}, "esc", "answer later"),

		SendAsIs: b([]string{"enter"}, "enter", "send as is"),
		Edit:     b([]string{"e"}, "e", "edit JSON"),
		Replace:  b([]string{"r"}, "r", "replace (type an answer)"),
		Back:     b([]string{"esc"}, "esc", "back to your server's reply"),

		Yes: b([]string{"y", "enter", "q", "ctrl+c"}, "y", "quit"),
		No:  b([]string{"n", "esc"}, "n", "stay"),

		Listen:        b([]string{"l"}, "l", "listen to the call's audio on/off"),
		Play:          b([]string{"P"}, "P", "play the call's audio on/off"),
		MuteCaller:    b([]string{"m"}, "m", "mute the caller"),
		MuteAssistant: b([]string{"M"}, "M", "mute the assistant"),
		VolumeDown:    b([]string{"["}, "[", "volume down"),
		VolumeUp:      b([]string{"]"}, "]", "volume up"),

		PlayPause: b([]string{"p"}, "p", "play/pause"),
		Step:      b([]string{"n"}, "n", "step"),
		Faster:    b([]string{"+", "="}, "+", "faster"),
		Slower:    b([]string{"-"}, "-", "slower"),
	}
}

// helpKeys is the help.KeyMap for one context: short help for the footer, full help for
// the ? screen.
type helpKeys struct {
	short []key.Binding
	full  [][]key.Binding
}

// ShortHelp implements help.KeyMap.
func (h helpKeys) ShortHelp() []key.Binding { return h.short }

// FullHelp implements help.KeyMap.
func (h helpKeys) FullHelp() [][]key.Binding { return h.full }

// helpFor returns the bindings that apply in the current context.
func (m *Model) helpFor() helpKeys {
	k := &m.keys
	switch m.layer() {
	case layerQuit:
		return helpKeys{short: []key.Binding{k.Yes, k.No}, full: [][]key.Binding{{k.Yes, k.No}}}
	case layerControl:
		return m.controlHelp()
	case layerPrompt:
		// In a prompt q is a letter of the answer: ctrl+c is the way out.
		quit := k.Quit
		quit.SetHelp("ctrl+c", "quit")
		later := k.Defer
		if p := m.prompt.p; p.server != nil || p.jsonAnswer() {
			if p.mode != modeAnswer || p.jsonAnswer() {
				short := append(m.interceptHelp(p), quit)
				return helpKeys{short: short, full: [][]key.Binding{short}}
			}
			later = k.Back
			later.SetHelp("esc", "back")
		}
		if m.prompt.isAssistant() {
			short := []key.Binding{k.Send, k.SendError, later, quit}
			if len(m.prompt.assistants) > 0 { // ↑/↓ only move through a list there is
				pick := key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "pick assistant"))
				short = []key.Binding{k.Send, pick, k.SendError, later, quit}
			}
			return helpKeys{short: short, full: [][]key.Binding{short}}
		}
		// tab is left to the hint line above, which says what it would fill in.
		short := []key.Binding{k.Send, k.Newline, k.SendError, later, quit}
		return helpKeys{short: short, full: [][]key.Binding{short}}
	case layerDetail:
		if m.editing != nil {
			save := key.NewBinding(key.WithKeys("ctrl+s"), key.WithHelp("ctrl+s", "check and resend"))
			keep := key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "keep for later"))
			short := []key.Binding{save, keep}
			return helpKeys{short: short, full: [][]key.Binding{short}}
		}
		inspect := []key.Binding{k.Resend, k.ResendKeep, k.EditSend, k.CopyCurl, k.CopySend}
		if m.detail.marks == nil {
			short := []key.Binding{k.Up, k.Down, k.PageDown, k.CopyJSON, k.CopyCallID, k.Close}
			return helpKeys{short: short, full: [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}, {k.CopyJSON, k.CopyCallID, k.Close}}}
		}
		// s only where there was an exchange with your server (forwarding).
		jumps := []key.Binding{k.JumpRequest, k.JumpReply, k.JumpHeaders}
		if _, ok := m.detail.marks[secServer]; ok {
			jumps = []key.Binding{k.JumpRequest, k.JumpServer, k.JumpReply, k.JumpHeaders}
		}
		short := append(append([]key.Binding{k.Down}, jumps...), k.Resend, k.EditSend, k.CopyJSON, k.CopyCurl, k.Close)
		return helpKeys{short: short, full: [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}, jumps, {k.CopyJSON, k.CopyCallID, k.Close}, inspect}}
	}
	// The panes, and the help screen or the filter over them: the panes' keys.
	global := []key.Binding{k.NextPane, k.PrevPane, k.FocusPane, k.Filter, k.Follow, k.Hide, k.Help, k.Quit}
	if m.opts.SetIntercept != nil {
		global = append(global, k.Intercept)
	}
	nav := []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}
	open := k.Open
	switch m.focus {
	case paneCalls:
		open.SetHelp("enter", "transcript / report")
	case paneTranscript:
		open.SetEnabled(false)
	case paneTools:
		open.SetHelp("enter", "answer / show args")
	case paneEvents:
		open.SetHelp("enter", "request detail")
	}
	short := []key.Binding{k.NextPane, k.Up, k.Down}
	if open.Enabled() {
		short = append(short, open)
	}
	if m.focus == paneEvents {
		short = append(short, k.Resend, k.EditSend, k.CopyCurl)
	}
	short = append(short, k.Filter, k.Follow, k.Help, k.Quit)
	full := [][]key.Binding{nav, global}
	if open.Enabled() {
		full = [][]key.Binding{append(nav, open), global}
	}
	if m.opts.Audio != nil {
		full = append(full, []key.Binding{k.Listen, k.Play, k.MuteCaller, k.MuteAssistant, k.VolumeDown, k.VolumeUp})
	}
	if m.opts.Control != nil && (m.focus == paneCalls || m.focus == paneTranscript) {
		short = append(short[:len(short)-2:len(short)-2], k.Act, k.Help, k.Quit)
		full = append(full, []key.Binding{k.Act})
	}
	if m.focus == paneEvents {
		full = append(full, []key.Binding{k.Resend, k.ResendKeep, k.EditSend, k.CopyJSON, k.CopyCurl, k.CopySend})
	}
	if m.opts.Replay != nil {
		short = append(short, k.PlayPause)
		full = append(full, []key.Binding{k.PlayPause, k.Step, k.Faster, k.Slower})
	}
	return helpKeys{short: short, full: full}
}
