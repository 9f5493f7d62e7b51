package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vapimon/vapimon/fixtures/audiosim"
)

// The whole listen path through the real binary: `vapimon listen --listen` connects to the
// call's monitor.listenUrl (the simulated listen server, which requires the public key as
// the assistant's monitor plan says), records the call's audio to a WAV beside the tape,
// says so in its notices, and `vapimon fixtures show` names the recording. A second call
// whose listen URL accepts TCP but never answers changes nothing for the webhooks. The
// public key is nowhere in the output, the tape or the log.
func TestListenRecordsTheCallsAudio(t *testing.T) {
	t.Parallel()
	sim, err := audiosim.New(audiosim.Options{Key: "pk-e2e-secret"})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	stall, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stall.Close()
	go func() {
		for {
			c, err := stall.Accept()
			if err != nil {
				return
			}
			defer c.Close() // accept, read nothing, answer nothing
		}
	}()

	dir := t.TempDir()
	tape := filepath.Join(dir, "call.jsonl")
	p := startVapimon(t, procOpts{args: []string{"--headless", "--listen", "--record", tape}, env: []string{"VAPI_PUBLIC_KEY=pk-e2e-secret"}})
	id := "7420f27a-30fd-4f49-a995-5549ae7cc00d"
	body := func(typ, callID, listenURL, extra string) []byte {
		return []byte(`{"message":{"type":"` + typ + `",` + extra + `"assistant":{"monitorPlan":{"listenAuthenticationEnabled":true}},"call":{"id":"` + callID + `","monitor":{"listenUrl":"` + listenURL + `"}}}}`)
	}
	if code, b, _, _ := p.post("/", body("status-update", id, sim.ListenURL(id), `"status":"in-progress",`)); code != 200 {
		t.Fatalf("status-update: %d %s", code, b)
	}
	from := 0
	_, from = mustNotice(p, from, "listening to its audio")
	for i := 0; i < 3; i++ {
		if code, b, _, _ := p.post("/", body("status-update", "stalled-call", "ws://"+stall.Addr().String()+"/x/listen", `"status":"in-progress",`)); code != 200 {
			t.Fatalf("a call with a stalled listen URL: %d %s", code, b)
		}
	}
	t0 := time.Now()
	sim.SpeakAt(id, "customer", t0, 400*time.Millisecond)
	sim.SpeakAt(id, "assistant", t0.Add(900*time.Millisecond), 300*time.Millisecond)
	// The audio is real time: wait until the recording holds the whole script (polling the
	// file, as a person would watch it grow), then end the call.
	wav := filepath.Join(dir, "call."+id+".wav")
	deadline := time.Now().Add(20 * time.Second)
	for {
		if st, err := os.Stat(wav); err == nil && st.Size() >= 44+2*64000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the recording did not reach 2 s of audio\nstdout:\n%s", p.stdoutText())
		}
		time.Sleep(50 * time.Millisecond)
	}
	sim.End(id)
	l, _ := mustNotice(p, from, "listen stream ended")
	if !strings.Contains(l.Text, "1 turn gaps") {
		t.Errorf("end notice %q: want the turn gap measured", l.Text)
	}
	if code, _, _, _ := p.post("/", body("end-of-call-report", id, sim.ListenURL(id), `"endedReason":"customer-ended-call",`)); code != 200 {
		t.Fatal("end-of-call-report refused")
	}
	p.stop()

	st, err := os.Stat(wav)
	if err != nil || st.Mode().Perm() != 0o600 || st.Size() < 44+32000 {
		t.Fatalf("recording %s: %v, %v", wav, st, err)
	}
	if py, err := exec.LookPath("python3"); err == nil {
		out, err := exec.Command(py, "-c", "import sys,wave; w=wave.open(sys.argv[1]); print(w.getnchannels(), w.getframerate(), w.getsampwidth(), w.getnframes()*4+44 == "+itoa(int(st.Size()))+")", wav).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "2 16000 2 True" {
			t.Errorf("python wave: %s %v", out, err)
		}
	}
	r := runVapimon(t, "fixtures", "show", tape)
	if r.code != 0 || !strings.Contains(r.stderr, "recording of call "+id+": "+wav+" (16000 Hz, 2 channels, ") {
		t.Errorf("fixtures show: exit %d\nstderr: %s", r.code, r.stderr)
	}
	for name, text := range map[string]string{"stdout": p.stdoutText(), "stderr": p.stderrText(), "fixtures show": r.stdout + r.stderr} {
		if strings.Contains(text, "pk-e2e-secret") {
			t.Errorf("the public key is in %s", name)
		}
	}
	for _, f := range []string{tape, filepath.Join(p.state, "vapimon", "vapimon.log")} {
		if b, _ := os.ReadFile(f); strings.Contains(string(b), "pk-e2e-secret") {
			t.Errorf("the public key is in %s", f)
		}
	}
}

// mustNotice waits for a notice line containing text.
func mustNotice(p *vapimonProc, from int, text string) (line, int) {
	p.t.Helper()
	l, n, err := p.waitLine(from, func(l line) bool { return l.Kind == "notice" && strings.Contains(l.Text, text) })
	if err != nil {
		p.t.Fatalf("no notice %q: %v\nstdout:\n%s\nstderr:\n%s", text, err, p.stdoutText(), p.stderrText())
	}
	return l, n
}
