package main

import (
	"os"

	"github.com/spf13/cobra"
	"github.com/vapimon/vapimon/webhook"
)

// authFlags are the verification flags shared by listen (which verifies) and send/replay
// (which sign as Vapi would); webhook.AuthFlags checks and maps them.
type authFlags struct{ f webhook.AuthFlags }

func (a *authFlags) register(cmd *cobra.Command) {
	fs, f := cmd.Flags(), &a.f
	fs.StringVar(&f.Mode, "auth", "", "how Vapi authenticates: none|secret|bearer|hmac (default: secret when --secret is given, else none)")
	fs.StringArrayVar(&f.Secrets, "secret", nil, "shared secret, bearer token or HMAC key; repeat for rotation (env VAPI_WEBHOOK_SECRET, comma-separated)")
	fs.StringVar(&f.Header, "auth-header", "", "header carrying the secret (secret: X-Vapi-Secret; bearer: Authorization)")
	fs.BoolVar(&f.NoBearerPrefix, "no-bearer-prefix", false, "bearer: the header holds the bare token, without \"Bearer \"")
	fs.StringVar(&f.HMACPreset, "hmac-preset", "", "HMAC preset: vapi (x-signature over {timestamp}.{body}) or x-vapi-signature (hex HMAC-SHA256 of the body, no timestamp)")
	fs.StringVar(&f.HMACAlgorithm, "hmac-algorithm", "", "HMAC algorithm: sha256|sha512|sha1 (default sha256)")
	fs.StringVar(&f.HMACSigHeader, "hmac-signature-header", "", "HMAC signature header (default x-signature)")
	fs.StringVar(&f.HMACTSHeader, "hmac-timestamp-header", "", "HMAC timestamp header (default x-timestamp)")
	fs.StringVar(&f.HMACPrefix, "hmac-prefix", "", "prefix before the signature, e.g. sha256=")
	fs.StringVar(&f.HMACPayload, "hmac-payload", "", "signed payload template: {timestamp} {body} {method} {url} {svix-id} (default {timestamp}.{body})")
	fs.StringVar(&f.HMACEncoding, "hmac-encoding", "", "signature encoding: hex|base64 (default hex)")
	fs.BoolVar(&f.HMACNoTimestamp, "hmac-no-timestamp", false, "HMAC without a timestamp (Vapi's includeTimestamp=false)")
	fs.BoolVar(&f.HMACSecretB64, "hmac-secret-base64", false, "the HMAC key is base64-encoded")
	fs.DurationVar(&f.HMACTolerance, "hmac-tolerance", 0, "accepted clock skew for HMAC timestamps, both ways (default 5m)")
	fs.StringVar(&f.HMACUnit, "hmac-timestamp-unit", "", "HMAC timestamp unit: auto|s|ms (default auto)")
	_ = cmd.RegisterFlagCompletionFunc("auth", fixedCompletion("none", "secret", "bearer", "hmac"))
	_ = cmd.RegisterFlagCompletionFunc("hmac-preset", fixedCompletion("vapi", "x-vapi-signature"))
	_ = cmd.RegisterFlagCompletionFunc("hmac-algorithm", fixedCompletion("sha256", "sha512", "sha1"))
	_ = cmd.RegisterFlagCompletionFunc("hmac-encoding", fixedCompletion("hex", "base64"))
	_ = cmd.RegisterFlagCompletionFunc("hmac-timestamp-unit", fixedCompletion("auto", "s", "ms"))
}

// config turns the flags (and VAPI_WEBHOOK_SECRET) into a validated AuthConfig.
func (a *authFlags) config() (webhook.AuthConfig, error) {
	return a.f.Config(os.Getenv("VAPI_WEBHOOK_SECRET"))
}
