package tui

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vapimon/vapimon/webhook"
	"github.com/vapimon/vapimon/webhook/webhooktest"
)

// TestTypeColumn checks that every known message type fits the events pane's type column,
// whole or by its deliberate short name, at both widths.
func TestTypeColumn(t *testing.T) {
	t.Parallel()
	types := []string{
		webhook.TypeConversationUpdate, webhook.TypeEndOfCallReport, webhook.TypeTransferDestinationRequest,
		webhook.TypeAssistantRequest, webhook.TypeStatusUpdate, webhook.TypeToolCalls,
	}
	for k := range typeAbbrev {
		types = append(types, k)
	}
	for _, typ := range types {
		for _, w := range []int{typeWidth, typeWidthNarrow} {
			got := abbrevType(typ, w)
			if len(got) > w {
				t.Errorf("abbrevType(%q, %d) = %q: %d wide", typ, w, got, len(got))
			}
			if len(typ) <= w && got != typ {
				t.Errorf("abbrevType(%q, %d) = %q, want it whole", typ, w, got)
			}
		}
	}
	if got := abbrevType(webhook.TypeConversationUpdate, typeWidth); got != "conversation-update" {
		t.Errorf("conversation-update is shown as %q on a wide pane", got)
	}
}

// TestHelpAndEmptyState checks that ? lists the detail view's keys (y, c, jumps) and that
// the empty transcript suggests a local test when the URL is local only (or while ngrok
// connects).
func TestHelpAndEmptyState(t *testing.T) {
	t.Parallel()
	m, _ := sized(t, 160, 48)
	m.Update(webhook.Status{ListenURL: "http://127.0.0.1:4242"})
	flat := func() string { return strings.Join(strings.Fields(strings.ReplaceAll(screen(m), "│", " ")), " ") }
	if s := flat(); !strings.Contains(s, "run in another terminal: vapimon send tool-calls Or") || !strings.Contains(s, "--public-url") {
		t.Errorf("empty state without a public URL does not suggest a local test:\n%s", screen(m))
	}
	m.Update(webhook.Status{ListenURL: "http://127.0.0.1:4242", Tunnel: webhook.TunnelConnecting})
	if s := flat(); !strings.Contains(s, "ngrok is connecting") || !strings.Contains(s, "run in another terminal: vapimon send tool-calls") || strings.Contains(s, "local only") {
		t.Errorf("empty state while ngrok connects:\n%s", screen(m))
	}
	m.Update(webhook.Status{ListenURL: "http://127.0.0.1:4242", PublicURL: "https://abc.ngrok.app"})
	if s := flat(); !strings.Contains(s, "Point a Vapi assistant's Server URL at the URL above") {
		t.Errorf("empty state with a public URL:\n%s", screen(m))
	}
	m.Update(press("?"))
	s := screen(m)
	webhooktest.Holds(t, "help", s, "y   copy JSON", "c   copy call id", "r request body", "a reply", "resend (fresh ids)", "copy as curl", "s your server", "h headers")
}

// TestSeqIndexIsAMap: the event log's index answers as a map from number to row would,
// under pushes and evictions of numbers that share slots, repeat, or are zero.
func TestSeqIndexIsAMap(t *testing.T) {
	t.Parallel()
	x := newSeqIndex(4) // 8 slots
	want := map[uint64]*eventRow{}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		seq := uint64(rng.IntN(40)) // many numbers per slot
		if rng.IntN(3) == 0 {
			x.del(seq)
			delete(want, seq)
		} else {
			r := &eventRow{seq: seq}
			x.set(r)
			want[seq] = r
		}
		for s := uint64(0); s < 40; s++ {
			if got := x.get(s); got != want[s] {
				t.Fatalf("step %d: get(%d) = %p, a map gives %p", i, s, got, want[s])
			}
		}
	}
}

// TestDroppedBodyKeepsText: a row whose body goes to stay within the budget keeps the text
// the events pane and the filter show, made from its event before the event goes.
func TestDroppedBodyKeepsText(t *testing.T) {
	t.Parallel()
	l := newEventLog(4)
	var rows []*eventRow
	for i := 1; i <= 4; i++ {
		ev := &webhook.Event{Seq: uint64(i), Msg: &webhook.Message{Type: "status-update", Kind: webhook.TypeStatusUpdate, Known: true,
			Status: "in-progress", Call: webhook.Call{ID: "call-abcdefgh-1234"}}}
		r := newEventRow(ev)
		r.size = bodyBudget / 3
		l.push(r)
		rows = append(rows, r)
	}
	old := rows[0]
	if old.ev != nil {
		t.Fatal("the oldest body was kept over budget")
	}
	if tx := old.text(); tx.typ != "status-update" || tx.short != "call-abc" || tx.summary != "in-progress" {
		t.Errorf("the dropped row shows %q %q %q, want status-update call-abc in-progress", tx.typ, tx.short, tx.summary)
	}
	if !old.matches("in-progress") {
		t.Error("the filter does not find the dropped row by its summary")
	}
}
