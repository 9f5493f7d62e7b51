package webhook

import (
	"strings"
	"testing"

	"github.com/vapimon/vapimon/webhook/webhooktest"
)

func TestAuthFlagsConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		flags   AuthFlags
		env     string
		mode    AuthMode
		secrets []string
		err     string
	}{
		{name: "nothing verifies nothing", mode: AuthNone},
		{name: "a secret means secret mode", flags: AuthFlags{Secrets: []string{"s1"}}, mode: AuthSecret, secrets: []string{"s1"}},
		{name: "env secrets when no flag", env: " a, ,b ", mode: AuthSecret, secrets: []string{"a", "b"}},
		{name: "the flag wins over env", flags: AuthFlags{Secrets: []string{"f"}}, env: "e", mode: AuthSecret, secrets: []string{"f"}},
		{name: "a preset means hmac", flags: AuthFlags{Secrets: []string{"k"}, HMACPreset: "x-vapi-signature"}, mode: AuthHMAC, secrets: []string{"k"}},
		{name: "empty secret", flags: AuthFlags{Secrets: []string{" "}}, err: "--secret is empty"},
		{name: "secret with none", flags: AuthFlags{Mode: "none", Secrets: []string{"s"}}, err: "--secret with --auth none"},
		{name: "hmac flag without hmac", flags: AuthFlags{Secrets: []string{"s"}, HMACEncoding: "base64"}, err: "--hmac-encoding needs --auth hmac (the mode is secret)"},
		{name: "unknown mode", flags: AuthFlags{Mode: "bogus", Secrets: []string{"s"}}, err: "auth: unknown auth mode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.flags.Config(tc.env)
			if webhooktest.WantErr(t, err, tc.err) {
				return
			}
			if c.Mode != tc.mode || strings.Join(c.Secrets, ",") != strings.Join(tc.secrets, ",") {
				t.Fatalf("mode %s secrets %q, want %s %q", c.Mode, c.Secrets, tc.mode, tc.secrets)
			}
		})
	}
}
