package tui

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/vapimon/vapimon/webhook"
)

// Not committed: a manual driver for tmux.
func TestManualDemo(t *testing.T) {
	if os.Getenv("VAPIMON_TUI_DEMO") == "" {
		t.Skip()
	}
	bus := webhook.NewBus()
	op := NewOperator()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		time.Sleep(500 * time.Millisecond)
		start := time.Now()
		seq := uint64(0)
		bodies := append(callBodies(callID), endBodies(callID)...)
		inj := `{"message":{"type":"transcript","role":"user","transcriptType":"final","transcript":"evil \u001b]0;pwned\u0007 \u001b[2J text\rOVERWRITE \u202eright-to-left","call":{"id":"` + callID + `"}}}`
		bodies = append(bodies[:8], append([]struct {
			at   time.Duration
			body string
		}{{ms(5800), inj}}, bodies[8:]...)...)
		for _, b := range bodies {
			for time.Since(start) < b.at/4 {
				time.Sleep(10 * time.Millisecond)
			}
			seq++
			ev := event(t, seq, time.Now(), b.body)
			if ev.Msg.Kind == "end-of-call-report" || ev.Msg.Kind == "status-update" && ev.Msg.Status == "ended" {
				time.Sleep(15 * time.Second)
			}
			bus.Publish(ev)
			if ev.Msg.Kind == "tool-calls" || ev.Msg.Kind == "assistant-request" {
				go func(ev *webhook.Event) {
					c, cc := context.WithDeadline(ctx, ev.Deadline)
					defer cc()
					rep, err := op.Respond(c, ev)
					if err != nil {
						rep = webhook.ErrorReply(ev.Msg, "vapimon: nobody answered")
					}
					bus.Publish(&webhook.Outcome{Seq: ev.Seq, Reply: rep, Latency: time.Since(ev.Received)})
				}(ev)
			} else {
				bus.Publish(&webhook.Outcome{Seq: ev.Seq, Reply: webhook.Ack(), Latency: time.Millisecond})
			}
		}
		bus.Publish(rejected(seq+1, time.Now(), "x-vapi-secret does not match", 401))
	}()
	err := Run(ctx, Options{Bus: bus, Status: webhook.Status{ListenURL: "http://127.0.0.1:4242", Tunnel: "off", Auth: "x-vapi-secret", Tape: "t.jsonl", ToolTimeout: 20 * time.Second},
		Suggest:    func(string) []string { return []string{"Paris: 18C"} },
		Assistants: func() []Assistant { return []Assistant{{"5a6b", "Support"}} }}, op)
	if err != nil {
		t.Fatal(err)
	}
}
