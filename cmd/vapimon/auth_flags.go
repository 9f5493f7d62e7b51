package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/vapimon/vapimon/webhook"
)

// authFlags are the verification flags shared by listen (which verifies) and send/replay
// (which sign as Vapi would).
type authFlags struct {
	mode            string
	secrets         []string
	header          string
	noBearerPrefix  bool
	hmacPreset      string
	hmacAlgorithm   string
	hmacSigHeader   string
	hmacTSHeader    string
	hmacPrefix      string
	hmacPayload     string
	hmacEncoding    string
	hmacNoTimestamp bool
	hmacSecretB64   bool
	hmacTolerance   time.Duration
	hmacUnit        string
}

func (a *authFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&a.mode, "auth", "", "how Vapi authenticates: none|secret|bearer|hmac (default: secret when --secret is given, else none)")
	fs.StringArrayVar(&a.secrets, "secret", nil, "shared secret, bearer token or HMAC key; repeat for rotation (env VAPI_WEBHOOK_SECRET, comma-separated)")
	fs.StringVar(&a.header, "auth-header", "", "header carrying the secret (secret: X-Vapi-Secret; bearer: Authorization)")
	fs.BoolVar(&a.noBearerPrefix, "no-bearer-prefix", false, "bearer: the header holds the bare token, without \"Bearer \"")
	fs.StringVar(&a.hmacPreset, "hmac-preset", "", "HMAC preset: vapi (x-signature over {timestamp}.{body}) or x-vapi-signature (hex HMAC-SHA256 of the body, no timestamp)")
	fs.StringVar(&a.hmacAlgorithm, "hmac-algorithm", "", "HMAC algorithm: sha256|sha512|sha1 (default sha256)")
	fs.StringVar(&a.hmacSigHeader, "hmac-signature-header", "", "HMAC signature header (default x-signature)")
	fs.StringVar(&a.hmacTSHeader, "hmac-timestamp-header", "", "HMAC timestamp header (default x-timestamp)")
	fs.StringVar(&a.hmacPrefix, "hmac-prefix", "", "prefix before the signature, e.g. sha256=")
	fs.StringVar(&a.hmacPayload, "hmac-payload", "", "signed payload template: {timestamp} {body} {method} {url} {svix-id} (default {timestamp}.{body})")
	fs.StringVar(&a.hmacEncoding, "hmac-encoding", "", "signature encoding: hex|base64 (default hex)")
	fs.BoolVar(&a.hmacNoTimestamp, "hmac-no-timestamp", false, "HMAC without a timestamp (Vapi's includeTimestamp=false)")
	fs.BoolVar(&a.hmacSecretB64, "hmac-secret-base64", false, "the HMAC key is base64-encoded")
	fs.DurationVar(&a.hmacTolerance, "hmac-tolerance", 0, "accepted clock skew for HMAC timestamps, both ways (default 5m)")
	fs.StringVar(&a.hmacUnit, "hmac-timestamp-unit", "", "HMAC timestamp unit: auto|s|ms (default auto)")
	_ = cmd.RegisterFlagCompletionFunc("auth", fixedCompletion("none", "secret", "bearer", "hmac"))
	_ = cmd.RegisterFlagCompletionFunc("hmac-preset", fixedCompletion("vapi", "x-vapi-signature"))
	_ = cmd.RegisterFlagCompletionFunc("hmac-algorithm", fixedCompletion("sha256", "sha512", "sha1"))
	_ = cmd.RegisterFlagCompletionFunc("hmac-encoding", fixedCompletion("hex", "base64"))
	_ = cmd.RegisterFlagCompletionFunc("hmac-timestamp-unit", fixedCompletion("auto", "s", "ms"))
}

// config turns the flags (and VAPI_WEBHOOK_SECRET) into a validated AuthConfig.
func (a *authFlags) config() (webhook.AuthConfig, error) {
	c := webhook.AuthConfig{Mode: webhook.AuthMode(a.mode), Header: a.header, NoBearerPrefix: a.noBearerPrefix}
	for _, s := range a.secrets {
		if strings.TrimSpace(s) == "" {
			// `--secret "$VAPI_SECRET"` with the variable unset must not mean "verify nothing".
			return c, fmt.Errorf("--secret is empty (is the variable you passed set?)")
		}
	}
	c.Secrets = append(c.Secrets, a.secrets...)
	if len(c.Secrets) == 0 {
		for _, s := range strings.Split(os.Getenv("VAPI_WEBHOOK_SECRET"), ",") {
			if s = strings.TrimSpace(s); s != "" {
				c.Secrets = append(c.Secrets, s)
			}
		}
	}
	if a.hmacPreset != "" {
		p, err := webhook.HMACPreset(a.hmacPreset)
		if err != nil {
			return c, err
		}
		c.HMAC = p
		if c.Mode == "" {
			c.Mode = webhook.AuthHMAC
		}
	}
	h := &c.HMAC
	setIf(&h.Algorithm, a.hmacAlgorithm)
	setIf(&h.SignatureHeader, a.hmacSigHeader)
	setIf(&h.TimestampHeader, a.hmacTSHeader)
	setIf(&h.Prefix, a.hmacPrefix)
	setIf(&h.PayloadFormat, a.hmacPayload)
	setIf(&h.Encoding, a.hmacEncoding)
	setIf(&h.TimestampUnit, a.hmacUnit)
	if a.hmacNoTimestamp {
		h.NoTimestamp = true
	}
	if a.hmacSecretB64 {
		h.SecretIsBase64 = true
	}
	if a.hmacTolerance > 0 {
		h.Tolerance = a.hmacTolerance
	}
	n, err := c.Normalize()
	if err != nil {
		return c, fmt.Errorf("auth: %w", err)
	}
	return n, a.unused(n.Mode)
}

// unused refuses flags that would do nothing in the chosen mode: a --secret nobody
// checks, HMAC settings without HMAC.
func (a *authFlags) unused(mode webhook.AuthMode) error {
	if mode == webhook.AuthNone && len(a.secrets) > 0 {
		return errors.New("--secret with --auth none: nothing would check it; drop --auth none (--secret alone means --auth secret) or drop --secret")
	}
	if mode == webhook.AuthHMAC {
		return nil
	}
	for name, set := range map[string]bool{
		"--hmac-preset": a.hmacPreset != "", "--hmac-algorithm": a.hmacAlgorithm != "", "--hmac-signature-header": a.hmacSigHeader != "",
		"--hmac-timestamp-header": a.hmacTSHeader != "", "--hmac-prefix": a.hmacPrefix != "", "--hmac-payload": a.hmacPayload != "",
		"--hmac-encoding": a.hmacEncoding != "", "--hmac-no-timestamp": a.hmacNoTimestamp, "--hmac-secret-base64": a.hmacSecretB64,
		"--hmac-tolerance": a.hmacTolerance != 0, "--hmac-timestamp-unit": a.hmacUnit != "",
	} {
		if set {
			return fmt.Errorf("%s needs --auth hmac (the mode is %s): drop it, or add --auth hmac", name, mode)
		}
	}
	return nil
}

func setIf(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}
