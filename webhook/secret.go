package webhook

import (
	"crypto/rand"
	"encoding/base64"
)

// NewSecret returns a new random secret for a webhook credential: 32 bytes from
// crypto/rand (256 bits), URL-safe base64 without padding, so that it pastes into a shell,
// a YAML file or Vapi's dashboard without quoting.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand.Read panics rather than return an error)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Defaults returns h with every setting it leaves empty filled with its default (sha256,
// x-signature, x-timestamp, {timestamp}.{body}, hex, auto), to tell a chosen setting from
// a default one.
func (h HMACConfig) Defaults() HMACConfig { return h.withDefaults() }
