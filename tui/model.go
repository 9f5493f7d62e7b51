// Package tui is vapimon's terminal monitor: a bubbletea program showing calls,
// transcripts, tool calls and raw requests live, and letting a person type tool results
// before Vapi's deadline (see Operator).
//
// One root Model owns layout, focus and all state; panes are plain structs with SetSize and
// a View that draws only the visible rows. Everything from a webhook payload is sanitised
// once, when it enters the model (Sanitize).
package tui

import (
	"encoding/json"
	"time"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/relay/listen"
	"github.com/vapimon/vapimon/webhook"
)

// Options configure the monitor.
type Options struct {
	// Bus is subscribed to by Run: *webhook.Event, *webhook.Outcome, webhook.Notice,
	// webhook.Status, webhook.ForwardHealth and webhook.TapeHealth values are shown as they
	// arrive.
	Bus *webhook.Bus
	// Status is the initial status (listen URL, tunnel, auth, tape...).
	Status webhook.Status
	// Suggest returns the answers file's suggestions for a tool call, given its name and
	// arguments (templates such as {{orderId}} filled from args); may be nil. It is called
	// from the UI loop when a prompt opens and must return at once. Any {{name}} left in a
	// suggestion is filled from args by the monitor before it is shown.
	Suggest func(tool string, args json.RawMessage) []webhook.Suggestion
	// Assistants returns the assistants offered for an assistant-request; may be nil. Same
	// rule as Suggest.
	Assistants func() []Assistant
	// KeepCalls is how many calls stay in memory (default 500); older ones are only on
	// the tape.
	KeepCalls int
	// Now is the clock (default time.Now); tests fix it.
	Now func() time.Time
	// PromptGrace is how long a prompt that opens by itself ignores keys (default 300ms;
	// negative for none).
	PromptGrace time.Duration
	// Replay is set in offline replay mode: the play/pause, step and speed keys drive it.
	Replay *ReplayControl
	// Intercept is whether --intercept is on at start: replies from the developer's server
	// wait for the operator's review (Operator.Intercept).
	Intercept bool
	// Theme picks the colours for a light or dark terminal background; ThemeAuto (or "")
	// asks the terminal.
	Theme Theme
	// SetIntercept, set only when forwarding is configured, turns interception on or off
	// (the i key; the status bar and help mention it only when set). It is called from the
	// UI loop and must return at once, as (*relay.Forwarder).SetIntercept does.
	SetIntercept func(on bool)
	// Audio, when set, is live listening: the l, P, m, M, [ and ] keys, and the meter line
	// of the transcript pane (from the listen.Update values on the bus).
	Audio Audio
	// Control sends the operator's live-call controls (the a key on the calls and
	// transcript panes); nil turns the action menu off (offline replay).
	Control ControlFunc
	// CallIdle ends a call whose requests all came from vapimon (send, replay) once it
	// has had no event for this long (--call-idle; zero: such calls stay live).
	CallIdle time.Duration
	// Show is which message types the events pane lists (--only, --hide); the H key
	// toggles hiding --hide's types (the noisy ones when it names none).
	Show webhook.TypeFilter
	// Inspect lets R resend, E edit and resend, and C/S copy signed commands (copy.go);
	// nil in offline replay.
	Inspect *Inspect
}

// pane identifies one of the four panes, in focus order.
type pane int

const (
	paneCalls pane = iota
	paneTranscript
	paneTools
	paneEvents
	numPanes
)

var paneNames = [numPanes]string{"Calls", "Transcript", "Tool calls", "Events"}

// Messages the program receives.
type (
	// batchMsg carries bus values and operator requests coalesced by Run's forwarder,
	// with the bus's count of dropped updates.
	batchMsg struct {
		items   []any
		dropped uint64
	}
	tickMsg time.Time
)

// tickEvery is how often countdowns and durations are redrawn.
const tickEvery = 250 * time.Millisecond

func tick() tea.Cmd {
	return tea.Tick(tickEvery, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// rect is a screen area.
type rect struct{ x, y, w, h int }

func (r rect) contains(x, y int) bool {
	return x >= r.x && x < r.x+r.w && y >= r.y && y < r.y+r.h
}

// Model is the monitor's root model. Create it with NewModel; Run drives it.
type Model struct {
	opts Options
	// resultsBuf is reused to read the replies to tool calls (addOutcome).
	resultsBuf resultsBuf
	// shortHelp is the last short help drawn (shortHelpView).
	shortHelp shortHelpMemo
	op        *Operator
	// frames, when set (the running program), lets a stream of bus values redraw the
	// screen at most every streamFrame (see holdFrame); nil draws every frame.
	frames *frameMemo
	now    func() time.Time
	grace  time.Duration
	keys   KeyMap
	look   look // what styles are for: the terminal's background and colour profile
	styles Styles
	help   help.Model

	width, height int
	panes         [numPanes]rect

	status webhook.Status
	health webhook.ForwardHealth
	// fwdRepeat is how many forwards in a row failed the same way (status bar "3×").
	fwdRepeat int
	notice    webhook.Notice
	// tapeFailed counts failed tape writes (webhook.TapeHealth); tapeErr is the last error.
	tapeFailed uint64
	tapeErr    string
	flash      string
	flashAt    time.Time
	dropped    uint64

	calls      *callStore
	events     *eventLog
	toolsBySeq map[uint64][]*toolRow // rows still waiting for an outcome
	toolLog    []*toolRow            // every call's tool rows, for "all calls"
	eventCount uint64
	rejected   uint64

	queue   []*pendingReq // operator requests not yet done
	prompt  *prompt
	history map[string][]pastAnswer

	focus       pane
	callsP      callsPane
	transP      transcriptPane
	toolsP      toolsPane
	eventsP     eventsPane
	selCall     string // raw id of the selected call, "" for all calls
	shownCall   string // raw id of the call the transcript shows under "all calls"
	detail      *detailView
	ctl         *controlMenu // the action menu for a live call, when open
	showHelp    bool
	helpTop     int
	filter      string // lower case
	filtering   bool
	filterEd    editor
	confirmQuit bool
	quitAsked   time.Time // when ctrl+c in an answer prompt asked to quit (quit.go); zero otherwise
	quitting    bool
	intercept   bool // --intercept is on (meaningful when opts.SetIntercept is set)
	hiding      bool // the events pane hides hideSet (H; on at start with --hide)

	// editing is the built-in editor of E, open over the detail layer; drafts keep the
	// edits a refused save (or esc) left, with the freshened record they were made from
	// and why they were refused (editjson.go).
	editing   *jsonEdit
	drafts    map[uint64][]byte
	draftRecs map[uint64]fixtures.Record
	draftErr  map[uint64]string

	// audio is the latest listen update of each listened call, by raw call id.
	audio map[string]listen.Update

	// applied, when set, is called once a batch from the bus has been taken in (tests
	// measure how far the screen lags behind the bus).
	applied func(items []any)
}

// Per-call and global caps on tool rows.
const (
	maxToolsPerCall = 200
	maxToolLog      = 1000
)

// NewModel returns the monitor's model. op may be nil (nothing is answered by hand).
func NewModel(opts Options, op *Operator) *Model {
	if opts.KeepCalls <= 0 {
		opts.KeepCalls = 500
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	grace := opts.PromptGrace
	switch {
	case grace == 0:
		grace = defaultGrace
	case grace < 0:
		grace = 0
	}
	m := &Model{
		opts:       opts,
		op:         op,
		now:        opts.Now,
		grace:      grace,
		keys:       DefaultKeyMap(),
		help:       help.New(),
		status:     opts.Status,
		calls:      newCallStore(opts.KeepCalls),
		events:     newEventLog(defaultKeepEvents),
		toolsBySeq: make(map[uint64][]*toolRow),
		history:    make(map[string][]pastAnswer),
		drafts:     make(map[uint64][]byte),
		draftRecs:  make(map[uint64]fixtures.Record),
		draftErr:   make(map[uint64]string),
		filterEd:   newEditor(false),
		intercept:  opts.Intercept && opts.SetIntercept != nil,
	}
	m.hiding = len(opts.Show.Hide) > 0
	m.applyTypeFilter()
	m.transP.follow = true
	m.toolsP.follow = true
	m.eventsP.follow = true
	m.look = initialLook(opts.Theme)
	m.styles = NewStyles(m.look.dark, m.look.profile)
	m.help.Styles = m.styles.Help
	return m
}

// Init implements tea.Model: it starts the clock that redraws countdowns and, unless the
// theme says, asks the terminal for its background colour.
func (m *Model) Init() tea.Cmd { return tea.Batch(tick(), m.lookCmd()) }

// Update implements tea.Model. It does no I/O: answers go to waiting handlers through
// buffered channels that never block. Whatever the message, it ends with settle, so that
// View only draws the state it is given.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	before := m.layer()
	cmd := m.update(msg)
	m.settle(before)
	if hold := m.holdFrame(msg, before); hold != nil {
		cmd = tea.Batch(cmd, hold)
	}
	return m, cmd
}

// streamFrame is how often the screen is redrawn while only bus values (events, replies)
// change it: drawing is most of the monitor's cost under load, and a list scrolling by at
// 10 frames a second reads as well as at 30. Keys, the mouse, a prompt opening and every
// other message draw at once.
const streamFrame = 100 * time.Millisecond

// frameMemo is the last frame drawn, which View shows again while a frame is held.
type frameMemo struct {
	content    string
	at         time.Time // when Update last let a frame be drawn
	hold       bool      // View shows content instead of drawing
	refreshing bool      // a frameRefreshMsg is on its way
}

// frameRefreshMsg ends a held frame.
type frameRefreshMsg struct{}

// holdFrame decides, at the end of Update, whether the next View draws or shows the last
// frame again: it holds only for a batch of bus values that opened no prompt or dialog,
// within streamFrame of the last drawn frame, and then makes sure a refresh comes.
func (m *Model) holdFrame(msg tea.Msg, before layer) tea.Cmd {
	f := m.frames
	if f == nil {
		return nil
	}
	now := time.Now() // real time: the frame rate is the terminal's, whatever m.now says
	_, isBatch := msg.(batchMsg)
	if !isBatch || m.layer() != before || f.content == "" || now.Sub(f.at) >= streamFrame || batchAsks(msg.(batchMsg)) {
		f.hold, f.at = false, now
		return nil
	}
	f.hold = true
	if f.refreshing {
		return nil
	}
	f.refreshing = true
	return tea.Tick(streamFrame-now.Sub(f.at), func(time.Time) tea.Msg { return frameRefreshMsg{} })
}

// batchAsks says the batch holds a request for the operator (a prompt to show at once).
func batchAsks(b batchMsg) bool {
	for _, it := range b.items {
		if _, ok := it.(*opRequest); ok {
			return true
		}
	}
	return false
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.resize(msg.Width, msg.Height)
	case batchMsg:
		for _, it := range msg.items {
			m.ingest(it)
		}
		m.dropped = msg.dropped
		if m.applied != nil {
			m.applied(msg.items)
		}
	case tickMsg:
		m.expire()
		return tick()
	case stopMsg:
		return m.quit()
	case frameRefreshMsg:
		if m.frames != nil {
			m.frames.refreshing = false
		}
	case tea.BackgroundColorMsg:
		if m.opts.Theme.auto() {
			m.restyle(look{dark: msg.IsDark(), profile: m.look.profile})
		}
	case tea.ColorProfileMsg:
		m.restyle(look{dark: m.look.dark, profile: msg.Profile})
	case tea.KeyPressMsg:
		return m.key(msg)
	case tea.PasteMsg:
		m.paste(msg.Content)
	case tea.MouseWheelMsg:
		m.wheel(tea.Mouse(msg))
	case tea.MouseClickMsg:
		m.click(tea.Mouse(msg))
	case resendDoneMsg:
		m.editing = nil
		m.detail = resendDetail(&m.styles, msg, max(m.width-2, 20))
		m.setFlash(resendFlash(msg))
	case editDoneMsg:
		if msg.err != nil {
			m.setFlash("editor: " + msg.err.Error())
			return nil
		}
		return m.saveEdit(msg.row, msg.rec, msg.text)
	case copiedMsg:
		m.noteCopied(msg)
	case sendCopyMsg:
		return m.noteSendCopy(msg)
	default:
		m.ingest(msg)
	}
	return nil
}

// selectedCall returns the call whose transcript is shown: the selected one or, when "all
// calls" is selected, the call shown there (see noteNewCall and showCall).
func (m *Model) selectedCall() *call {
	if c := m.calls.byID[m.selCall]; c != nil {
		return c
	}
	return m.calls.byID[m.shownCall]
}

// callsSel is the calls pane's selected row for the selected call, among calls as listed:
// 0 for "all calls", and the row where the selected call is now (rows reorder as calls
// start and end).
func (m *Model) callsSel(calls []*call) int {
	if m.selCall == "" {
		return 0
	}
	for i, c := range calls {
		if c.id == m.selCall {
			return i + 1
		}
	}
	return m.callsP.sel
}

// settle makes the state consistent at the end of Update, so that View draws it without
// changing anything. A prompt that has just come to the top (it opened, or the dialog above
// it closed) gets a fresh grace period: the operator was looking at something else, and
// keys already on their way must not answer it. References to calls that are gone are
// dropped; selections and scroll positions follow what moved (new rows, a resize, a
// filter) and stay within their lists; help and detail views stay within their text.
func (m *Model) settle(before layer) {
	if before != layerPrompt && m.layer() == layerPrompt {
		m.prompt.opened = m.now()
	}
	if m.calls.byID[m.selCall] == nil {
		m.selCall = ""
	}
	if m.calls.byID[m.shownCall] == nil {
		m.shownCall = ""
		if l := m.calls.list(); len(l) > 0 {
			m.shownCall = l[0].id
		}
	}
	if m.width < minWidth || m.height < minHeight {
		return // nothing is laid out
	}
	st := &m.styles
	calls := m.visibleCalls()
	m.callsP.sel, m.callsP.top = m.callsP.layout(m.callsSel(calls), len(calls)+1)
	m.transP.settle(st, m.selectedCall())
	rows, _ := m.toolRows()
	m.toolsP.sel, m.toolsP.top = m.toolsP.layout(st, rows)
	n, _ := m.eventsP.visible(m.events, m.filter)
	m.eventsP.sel, m.eventsP.top = m.eventsP.layout(n)
	m.eventsP.hidden = 0
	if m.filter == "" && m.eventsP.types.Active() {
		m.eventsP.hidden = m.events.len() - n
	}
	if m.isOpen(layerHelp) {
		m.helpTop = m.helpScroll(len(m.helpLines(m.width - 2)))
	}
	if d := m.detail; d != nil {
		d.SetSize(m.width-2, m.bodyHeight()-2)
		d.scroll(0)
	}
}

// showCall makes the transcript show call id under "all calls" (the operator must answer
// something in it).
func (m *Model) showCall(id string) {
	if id != "" && m.calls.byID[id] != nil {
		m.shownCall = id
	}
}
