package webhook

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// AuthFlags are the verification settings as a person gives them on the command line:
// listen verifies with them, send, replay and simulate sign with them. Config turns them
// into a validated AuthConfig and refuses combinations that would do nothing.
type AuthFlags struct {
	Mode            string
	Secrets         []string
	Header          string
	NoBearerPrefix  bool
	HMACPreset      string
	HMACAlgorithm   string
	HMACSigHeader   string
	HMACTSHeader    string
	HMACPrefix      string
	HMACPayload     string
	HMACEncoding    string
	HMACNoTimestamp bool
	HMACSecretB64   bool
	HMACTolerance   time.Duration
	HMACUnit        string
}

// Config turns the flags into a validated AuthConfig. envSecrets (VAPI_WEBHOOK_SECRET,
// comma-separated) is used only when no --secret is given.
func (a *AuthFlags) Config(envSecrets string) (AuthConfig, error) {
	c := AuthConfig{Mode: AuthMode(a.Mode), Header: a.Header, NoBearerPrefix: a.NoBearerPrefix}
	for _, s := range a.Secrets {
		if strings.TrimSpace(s) == "" {
			// `--secret "$VAPI_SECRET"` with the variable unset must not mean "verify nothing".
			return c, fmt.Errorf("--secret is empty (is the variable you passed set?)")
		}
	}
	c.Secrets = append(c.Secrets, a.Secrets...)
	if len(c.Secrets) == 0 {
		for _, s := range strings.Split(envSecrets, ",") {
			if s = strings.TrimSpace(s); s != "" {
				c.Secrets = append(c.Secrets, s)
			}
		}
	}
	if a.HMACPreset != "" {
		p, err := HMACPreset(a.HMACPreset)
		if err != nil {
			return c, err
		}
		c.HMAC = p
		if c.Mode == "" {
			c.Mode = AuthHMAC
		}
	}
	h := &c.HMAC
	setIf(&h.Algorithm, a.HMACAlgorithm)
	setIf(&h.SignatureHeader, a.HMACSigHeader)
	setIf(&h.TimestampHeader, a.HMACTSHeader)
	setIf(&h.Prefix, a.HMACPrefix)
	setIf(&h.PayloadFormat, a.HMACPayload)
	setIf(&h.Encoding, a.HMACEncoding)
	setIf(&h.TimestampUnit, a.HMACUnit)
	if a.HMACNoTimestamp {
		h.NoTimestamp = true
	}
	if a.HMACSecretB64 {
		h.SecretIsBase64 = true
	}
	if a.HMACTolerance > 0 {
		h.Tolerance = a.HMACTolerance
	}
	n, err := c.Normalize()
	if err != nil {
		return c, fmt.Errorf("auth: %w", err)
	}
	return n, a.unused(n.Mode)
}

// unused refuses flags that would do nothing in the chosen mode: a --secret nobody
// checks, HMAC settings without HMAC.
func (a *AuthFlags) unused(mode AuthMode) error {
	if mode == AuthNone && len(a.Secrets) > 0 {
		return errors.New("--secret with --auth none: nothing would check it; drop --auth none (--secret alone means --auth secret) or drop --secret")
	}
	if mode == AuthHMAC {
		return nil
	}
	for name, set := range map[string]bool{
		"--hmac-preset": a.HMACPreset != "", "--hmac-algorithm": a.HMACAlgorithm != "", "--hmac-signature-header": a.HMACSigHeader != "",
		"--hmac-timestamp-header": a.HMACTSHeader != "", "--hmac-prefix": a.HMACPrefix != "", "--hmac-payload": a.HMACPayload != "",
		"--hmac-encoding": a.HMACEncoding != "", "--hmac-no-timestamp": a.HMACNoTimestamp, "--hmac-secret-base64": a.HMACSecretB64,
		"--hmac-tolerance": a.HMACTolerance != 0, "--hmac-timestamp-unit": a.HMACUnit != "",
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
