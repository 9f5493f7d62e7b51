package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vapimon/vapimon/fixtures"
)

// TestTUIResendAndEditInTmux drives the inspector in a real terminal: R resends a tool
// call and the view compares the replies; E suspends the monitor for $EDITOR (a script
// changing the city), the monitor comes back, and the edited request is resent and
// recorded; E works again after that (the terminal is the editor's, and then the
// monitor's again).
func TestTUIResendAndEditInTmux(t *testing.T) {
	home := t.TempDir()
	state := filepath.Join(home, "state")
	answers := filepath.Join(home, "answers.yaml")
	editor := filepath.Join(home, "editor.sh")
	tape := filepath.Join(home, "tape.jsonl")
	if err := os.WriteFile(answers, []byte("tools:\n  get_weather: \"Sunny in {{location}}\"\n  lookup_order: \"Order {{orderId}} shipped\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(editor, []byte("#!/bin/sh\nsed -i 's/Paris/Berlin/g' \"$1\"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	s := newTmux(t, 160, 48, tmuxEnv(home, "EDITOR="+editor, "VISUAL="), vapimonBin+" listen --addr 127.0.0.1:0 --secret s3cret --record "+tape+" --answers "+answers)
	url := s.listenURL()
	s.waitFor("the events pane", regexp.MustCompile(`Events`))
	send := exec.Command(vapimonBin, "send", "tool-calls", "--to", url+"/vapi/webhook", "--secret", "s3cret")
	send.Env = testEnv(home, state)
	if out, err := send.CombinedOutput(); err != nil {
		t.Fatalf("send: %v\n%s", err, out)
	}
	s.waitFor("the tool call answered", regexp.MustCompile(`Sunny in Paris`))
	s.keys("4")
	s.keys("R")
	s.waitFor("the resend compared", regexp.MustCompile(`Same reply as the original`))
	s.keys("Escape")
	s.waitFor("the resent event in the events pane", regexp.MustCompile(`↻ resent from #1`))

	for i := 0; i < 2; i++ {
		s.keys("g") // the first request, whose city is Paris
		s.keys("E")
		s.waitFor("the edited resend compared", regexp.MustCompile(`Differences from the original reply`))
		s.waitFor("the edited reply", regexp.MustCompile(`Sunny in Berlin`))
		s.keys("Escape")
		s.waitFor("the panes again", regexp.MustCompile(`4 Events`))
	}
	s.keys("q")
	s.waitFor("the exit", regexp.MustCompile(`tape saved: 4 requests`))
	recs, _, err := fixtures.ReadTapeFile(tape)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || !strings.Contains(string(recs[3].Body), "Berlin") || recs[3].Header.Get(fixtures.HeaderResentFrom) != "1" || !recs[3].Verified {
		t.Errorf("tape: %d records; last verified %v, header %v", len(recs), recs[len(recs)-1].Verified, recs[len(recs)-1].Header)
	}
}
