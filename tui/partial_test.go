package tui

import (
	"context"
	"errors"
	"testing"

	"github.com/vapimon/vapimon/webhook"
)

func TestLateRequestKeepsTypedAnswers(t *testing.T) {
	t.Parallel()
	r := &opRequest{reply: make(chan webhook.Reply, 1)}
	if err := r.late(context.DeadlineExceeded); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("nothing typed: got %v, want the deadline error", err)
	}
	r.addPartial(webhook.ToolResult{ToolCallID: "a", Name: "f", Result: "one"})
	r.addPartial(webhook.ToolResult{ToolCallID: "a", Name: "f", Result: "one, corrected"})
	var pa *webhook.PartialAnswer
	if err := r.late(context.DeadlineExceeded); !errors.As(err, &pa) || len(pa.Results) != 1 || pa.Results[0].Result != "one, corrected" {
		t.Fatalf("got %v, want the typed answer kept", err)
	}
}
