package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/x/ansi"
)

// helpLines is the full help screen for the current focus.
func (m *Model) helpLines(w int) []string {
	st := &m.styles
	hm := m.help
	hm.ShowAll = true
	var out []string
	out = append(out, st.TitleFocus.Render("Keys ("+paneNames[m.focus]+" pane)"), "")
	out = append(out, strings.Split(hm.View(m.helpFor()), "\n")...)
	k := &m.keys
	out = append(out, "", st.TitleFocus.Render("Answering a tool call"), "")
	out = append(out, strings.Split(hm.FullHelpView([][]key.Binding{{k.Send, k.Newline, k.SendError}, {k.Suggest, k.Defer}}), "\n")...)
	out = append(out, "")
	paragraphs := []string{
		"The filter (/) narrows the three lists, calls, tool calls and events, to the rows whose text " +
			"contains what you type: a message type, a call id, a caller's number, a tool's name, arguments " +
			"or result. The transcript shows the selected call whole. enter keeps the filter, esc clears it.",
		"When a tool call arrives and no answers-file entry or forward target answers it, a prompt opens " +
			"with the arguments and the last words of the call. Type the result and press enter (alt+enter " +
			"or ctrl+j for a new line, sent as a space), ctrl+e to send it as an error, tab for earlier " +
			"answers, esc to answer later from the tool calls pane.",
		"Vapi waits the tool's server.timeoutSeconds (else the assistant's, else the phone number's; " +
			"20 s by default, at most 300 s) and then gives up; vapimon reads that number from each message " +
			"and sends its fallback just before. The prompt and the tool calls pane say where the number came " +
			"from; --tool-timeout is used only when the message names none. To get more time, raise " +
			"server.timeoutSeconds on the tool in Vapi. assistant-request has a fixed 7.5 s limit.",
	}
	for i, p := range paragraphs {
		if i > 0 {
			out = append(out, "")
		}
		out = append(out, strings.Split(ansi.Wrap(p, max(w, 20), " "), "\n")...)
	}
	out = append(out, "", st.TitleFocus.Render("Request detail and end-of-call report (enter on an event or ended call)"), "")
	server := k.JumpServer
	server.SetHelp("s", "your server (when forwarded)")
	out = append(out, strings.Split(hm.FullHelpView([][]key.Binding{{k.JumpHeaders, k.JumpRequest, server, k.JumpReply}, {k.CopyJSON, k.CopyCallID, k.Close}, {k.Up, k.Down, k.Top, k.Bottom}}), "\n")...)
	out = append(out, "")
	out = append(out, strings.Split(ansi.Wrap("y copies the JSON of the section shown, as it was sent: the request, your server's reply, "+
		"or the reply to Vapi (at the end of the view, the last section on screen); the flash says which.", max(w, 20), " "), "\n")...)
	if m.opts.Control != nil {
		out = append(out, "", st.TitleFocus.Render("Controlling a live call (a, on the calls and transcript panes)"), "")
		p := "a opens the action menu for the call the transcript shows, when its messages carry " +
			"call.monitor.controlUrl (the assistant's monitorPlan.controlEnabled): s say (ctrl+t interrupts the " +
			"assistant, ctrl+e ends the call once said), m add a message (ctrl+r role system/user/assistant, " +
			"ctrl+o whether the assistant responds), a / c mute or unmute the assistant / the customer, e end the " +
			"call and t transfer it to a number or SIP URI (both ask y/n first). Each action shows in the " +
			"transcript as an op line with Vapi's answer (status, latency, error) and goes on the tape. When the " +
			"control URL wants authentication (monitorPlan.controlAuthenticationEnabled), set VAPI_PUBLIC_KEY " +
			"to your org's public API key before starting vapimon."
		out = append(out, strings.Split(ansi.Wrap(p, max(w, 20), " "), "\n")...)
	}
	out = append(out, "", st.TitleFocus.Render("Inspect and resend (events pane, request detail)"), "")
	out = append(out, strings.Split(hm.FullHelpView([][]key.Binding{{k.Resend, k.ResendKeep, k.EditSend}, {k.CopyJSON, k.CopyCurl, k.CopySend}}), "\n")...)
	out = append(out, "")
	out = append(out, strings.Split(ansi.Wrap("R sends the request again through vapimon, with fresh ids and times (ctrl+r: as recorded), "+
		"signed for the current secret: the events pane shows it as a new event \"resent from #N\", your server gets it when "+
		"forwarding, the tape records it; its reply then shows beside the original one, with their differences. E opens it in "+
		"$VISUAL or $EDITOR (the built-in editor when neither is set; ctrl+s sends): it must parse and be a Vapi message, "+
		"and the edited body is what is sent and recorded. C copies it as a curl command (signed now, body in a here-doc; "+
		"a shared secret is read from $VAPI_WEBHOOK_SECRET, never written out), S as a vapimon send command with the body in "+
		"a temporary file, y as raw JSON. Copies go through OSC 52 and to copied.txt in the state directory, for terminals "+
		"that ignore OSC 52.", max(w, 20), " "), "\n")...)
	if m.opts.SetIntercept != nil {
		out = append(out, "", st.TitleFocus.Render("Reviewing your server's replies (intercept)"), "")
		defer_ := k.Defer
		defer_.SetHelp("esc", "review later")
		out = append(out, strings.Split(hm.FullHelpView([][]key.Binding{{k.Intercept, k.SendAsIs, k.Edit}, {k.Replace, k.Back, defer_}}), "\n")...)
		out = append(out, "")
		p := "With intercept on (i, or --intercept), a reply your server gives to a message that expects one " +
			"waits for you before it goes to Vapi: enter sends it as is, e edits the JSON (enter sends it; problems " +
			"Vapi would have with it are listed first, and enter again sends it anyway), r replaces it with a typed " +
			"answer. When the deadline passes first, your server's reply is sent unchanged."
		out = append(out, strings.Split(ansi.Wrap(p, max(w, 20), " "), "\n")...)
	}
	return out
}

// helpScroll is the help screen's first line for n lines of help: helpTop kept within them.
func (m *Model) helpScroll(n int) int {
	return min(max(m.helpTop, 0), max(n-(m.bodyHeight()-2), 0))
}
