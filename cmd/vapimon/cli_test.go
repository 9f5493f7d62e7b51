package main

// End-to-end tests of the command line itself: help, version, completion and the errors a
// person sees for bad flags. They run the real binary built by TestMain.

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// commandPaths lists every visible command as its arguments after "vapimon" (the root is
// the empty list), read from the same command tree the binary builds, so that a command
// added later is covered without editing this test. cobra adds help and completion only
// when it executes, so they are added here the same way.
func commandPaths() [][]string {
	root := newRootCmd()
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	var out [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		out = append(out, path)
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Deprecated != "" {
				continue
			}
			walk(sub, append(append([]string(nil), path...), sub.Name()))
		}
	}
	walk(root, nil)
	return out
}

func TestHelpEveryCommand(t *testing.T) {
	t.Parallel()
	paths := commandPaths()
	seen := map[string]bool{}
	for _, p := range paths {
		seen[strings.Join(p, " ")] = true
	}
	for _, want := range []string{"listen", "version", "completion", "completion bash", "help"} {
		if !seen[want] {
			t.Errorf("no %q command", want)
		}
	}
	for _, path := range paths {
		name := strings.Join(append([]string{"vapimon"}, path...), " ")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := runVapimon(t, append(append([]string(nil), path...), "--help")...)
			if r.code != 0 {
				t.Fatalf("%s --help: exit %d\nstderr:\n%s", name, r.code, r.stderr)
			}
			if !strings.Contains(r.stdout, "Usage:") || !strings.Contains(r.stdout, name) {
				t.Errorf("%s --help does not show its usage:\n%s", name, r.stdout)
			}
			if r.stderr != "" {
				t.Errorf("%s --help wrote to stderr:\n%s", name, r.stderr)
			}
		})
	}
}

func TestHelpListen(t *testing.T) {
	t.Parallel()
	r := runVapimon(t, "listen", "--help")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	// The flags the headless workflow depends on must be documented.
	for _, flag := range []string{"--addr", "--headless", "--answers", "--secret", "--auth", "--record", "--no-record", "--max-body", "--tool-timeout", "VAPI_WEBHOOK_SECRET"} {
		if !strings.Contains(r.stdout, flag) {
			t.Errorf("vapimon listen --help does not mention %s", flag)
		}
	}
	if h := runVapimon(t, "help", "listen"); h.code != 0 || h.stdout != r.stdout {
		t.Errorf("`vapimon help listen` (exit %d) differs from `vapimon listen --help`", h.code)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	r := runVapimon(t, "version")
	m := regexp.MustCompile(`^vapimon (\S+) .*go1\S+ \S+/\S+\n$`).FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil {
		t.Fatalf("vapimon version: exit %d, stdout %q: want \"vapimon VERSION (commit ...) GOVERSION OS/ARCH\\n\"", r.code, r.stdout)
	}
	if f := runVapimon(t, "--version"); f.code != 0 || !strings.Contains(f.stdout, m[1]) {
		t.Errorf("vapimon --version: exit %d, %q: want the version %q", f.code, f.stdout, m[1])
	}
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	for _, shell := range []string{"bash", "zsh", "fish"} {
		t.Run(shell, func(t *testing.T) {
			t.Parallel()
			r := runVapimon(t, "completion", shell)
			if r.code != 0 || len(r.stdout) < 200 || !strings.Contains(r.stdout, "vapimon") {
				t.Fatalf("vapimon completion %s: exit %d, %d bytes: want a script mentioning vapimon\nstderr:\n%s", shell, r.code, len(r.stdout), r.stderr)
			}
			// Check the script parses when that shell is here to ask (bash usually is).
			sh, err := exec.LookPath(shell)
			if err != nil {
				return
			}
			file := filepath.Join(t.TempDir(), "vapimon."+shell)
			if err := os.WriteFile(file, []byte(r.stdout), 0o600); err != nil {
				t.Fatal(err)
			}
			args := []string{"-n", file}
			if shell == "fish" {
				args = []string{"--no-execute", file}
			}
			if out, err := exec.Command(sh, args...).CombinedOutput(); err != nil {
				t.Errorf("%s rejects the completion script: %v\n%s", shell, err, out)
			}
		})
	}

	// The flags with a fixed set of values complete to those values.
	r := runVapimon(t, "__complete", "listen", "--auth", "")
	for _, mode := range []string{"none", "secret", "bearer", "hmac"} {
		if !regexp.MustCompile(`(?m)^` + mode + `$`).MatchString(r.stdout) {
			t.Errorf("completing --auth does not offer %s:\n%s", mode, r.stdout)
		}
	}
}

func TestCLIErrors(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() }) // not defer: the parallel subtests run after this function returns

	for _, tc := range []struct {
		name string
		args []string
		want []string // every one must appear on stderr
	}{
		{"unknown flag", []string{"listen", "--bogus-flag"}, []string{"unknown flag", "--bogus-flag"}},
		{"unknown root flag", []string{"--bogus-flag"}, []string{"unknown flag", "--bogus-flag"}},
		{"unknown command", []string{"lisen"}, []string{"unknown command", `"lisen"`, "listen"}},
		{"bad duration", []string{"listen", "--tool-timeout", "soon"}, []string{"--tool-timeout", "soon"}},
		{"unknown auth mode", []string{"listen", "--auth", "bogus", "--secret", "x"}, []string{"bogus", "none", "secret", "bearer", "hmac"}},
		{"hmac without a secret", []string{"listen", "--auth", "hmac"}, []string{"hmac", "--secret", "VAPI_WEBHOOK_SECRET"}},
		{"bearer without a secret", []string{"listen", "--auth", "bearer"}, []string{"bearer", "--secret", "VAPI_WEBHOOK_SECRET"}},
		{"unknown hmac preset", []string{"listen", "--hmac-preset", "nope", "--secret", "x"}, []string{"nope", "vapi", "x-vapi-signature"}},
		{"missing answers file", []string{"listen", "--answers", "/nonexistent/answers.yaml"}, []string{"/nonexistent/answers.yaml"}},
		{"busy address", []string{"listen", "--addr", busy.Addr().String()}, []string{busy.Addr().String(), "in use", "--addr"}},
		{"mistyped forward type", []string{"listen", "--forward-to", "tool-call=localhost:3000"}, []string{`vapimon: --forward-to "tool-call=localhost:3000": unknown message type "tool-call" (did you mean tool-calls?)`}},
		{"forward port", []string{"listen", "--forward-to", "localhost:99999"}, []string{`port "99999" is not a port number`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// --headless and --no-tunnel keep a run that wrongly starts from waiting on a TTY
			// or the network; runVapimon kills it after a timeout and fails.
			args := append([]string(nil), tc.args...)
			if args[0] == "listen" {
				args = append(args, "--headless", "--no-tunnel")
			}
			r := runVapimon(t, args...)
			if r.code == 0 {
				t.Fatalf("vapimon %s: exit 0, want a failure\nstderr:\n%s", strings.Join(args, " "), r.stderr)
			}
			if !strings.HasPrefix(r.stderr, "vapimon") && !strings.HasPrefix(r.stderr, "Error") {
				t.Errorf("stderr does not start with a clear error:\n%s", r.stderr)
			}
			for _, s := range tc.want {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr does not mention %q:\n%s", s, r.stderr)
				}
			}
			if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic") {
				t.Errorf("crashed:\n%s", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("a failure wrote to stdout (which scripts read as JSON lines):\n%s", r.stdout)
			}
		})
	}
}
