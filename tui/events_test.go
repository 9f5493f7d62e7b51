package tui

import (
	"testing"

	"github.com/vapimon/vapimon/webhook"
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
