package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AuthMode is how incoming webhooks are authenticated.
type AuthMode string

// The authentication schemes Vapi can apply to a server URL (vapi-protocol.md §4).
const (
	// AuthNone accepts every request. It is Vapi's default until a credential is set.
	AuthNone AuthMode = "none"
	// AuthSecret expects the shared secret verbatim in a header (legacy X-Vapi-Secret).
	AuthSecret AuthMode = "secret"
	// AuthBearer expects a bearer token (Vapi's BearerAuthenticationPlan).
	AuthBearer AuthMode = "bearer"
	// AuthHMAC expects an HMAC signature of the raw body (Vapi's HMACAuthenticationPlan).
	AuthHMAC AuthMode = "hmac"
)

const (
	authDefaultSecretHeader   = "X-Vapi-Secret"
	authDefaultBearerHeader   = "Authorization"
	authDefaultBearerPrefix   = "Bearer "
	hmacDefaultAlgorithm      = "sha256"
	hmacDefaultSigHeader      = "x-signature"
	hmacDefaultTSHeader       = "x-timestamp"
	hmacDefaultEncoding       = "hex"
	hmacDefaultUnit           = "auto"
	hmacDefaultTolerance      = 5 * time.Minute
	hmacTimestampedFormat     = "{timestamp}.{body}"
	hmacBodyOnlyFormat        = "{body}"
	hmacMaxSignatures         = 16 // candidates tried per request; bounds work on hostile headers
	hmacMaxEchoedTimestamp    = 40 // bytes of a bad timestamp quoted back to the operator
	hmacAutoMillisecondsFrom  = 1e12
	hmacMaxTimestampMagnitude = 1e11 // seconds; beyond the year 5000 a number is not a clock
	authRedactedValue         = "[redacted]"
	authSecretHint            = "pass --secret or set VAPI_WEBHOOK_SECRET"
)

// AuthConfig says how incoming webhooks are authenticated and how outgoing ones
// (replay, send) are signed. The zero value verifies nothing. Normalize fills
// the defaults and validates; NewVerifier does so too.
type AuthConfig struct {
	// Mode selects the scheme. "" means AuthSecret when Secrets is set and
	// AuthNone otherwise.
	Mode AuthMode
	// Secrets are the shared secrets, bearer tokens or HMAC keys. Several may be
	// set while rotating: a request matching any one of them passes, and the
	// FIRST is used to sign.
	Secrets []string
	// Header carries the secret: default "X-Vapi-Secret" in secret mode and
	// "Authorization" in bearer mode.
	Header string
	// BearerPrefix precedes the token in bearer mode, default "Bearer ". It is
	// matched case-insensitively, as the auth scheme name is (RFC 9110 §11.1).
	BearerPrefix string
	// NoBearerPrefix sends and expects the bare token (Vapi's
	// bearerPrefixEnabled=false). Vapi's legacy X-Vapi-Secret support is a bearer
	// credential with Header "X-Vapi-Secret" and no prefix.
	NoBearerPrefix bool
	// HMAC configures AuthHMAC; other modes ignore it.
	HMAC HMACConfig
}

// HMACConfig mirrors Vapi's HMACAuthenticationPlan (OpenAPI schema of the same
// name). Empty fields take Vapi's defaults.
type HMACConfig struct {
	// Algorithm is sha256 (default), sha512 or sha1.
	Algorithm string
	// SignatureHeader carries the signature, default "x-signature".
	SignatureHeader string
	// TimestampHeader carries the timestamp, default "x-timestamp".
	TimestampHeader string
	// MessageIDHeader carries a unique message id (Svix style) for {svix-id}.
	MessageIDHeader string
	// Prefix precedes the encoded signature, e.g. "sha256="; none by default.
	Prefix string
	// PayloadFormat is the signed text, with placeholders {body}, {timestamp},
	// {method}, {url} and {svix-id}. The default is "{timestamp}.{body}", or
	// "{body}" when NoTimestamp is set. It must contain {body}.
	PayloadFormat string
	// Encoding of the signature: hex (default) or base64.
	Encoding string
	// NoTimestamp is Vapi's includeTimestamp=false: no timestamp is sent,
	// signed or checked, so a captured request can be replayed forever.
	NoTimestamp bool
	// SecretIsBase64 decodes each secret from standard base64 before use as the key.
	SecretIsBase64 bool
	// Tolerance is how far the timestamp may be from our clock, in the past
	// or in the future; default 5m.
	Tolerance time.Duration
	// TimestampUnit is "auto" (default: values >= 1e12 are milliseconds, smaller
	// ones seconds), "s" or "ms". Vapi does not document its unit.
	TimestampUnit string
}

// HMACPreset returns a named HMAC configuration:
//
//   - "vapi": Vapi's defaults: hex HMAC-SHA256 of "{timestamp}.{body}" in
//     x-signature, timestamp in x-timestamp, ±5m.
//   - "x-vapi-signature": hex HMAC-SHA256 of the raw body, no timestamp, in
//     x-vapi-signature with no prefix: what most "x-vapi-signature" setups
//     turn out to be (an HMAC credential with that header name).
//
// PayloadFormat is left empty in "vapi" so that it follows NoTimestamp.
func HMACPreset(name string) (HMACConfig, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "vapi":
		return HMACConfig{
			Algorithm:       hmacDefaultAlgorithm,
			SignatureHeader: hmacDefaultSigHeader,
			TimestampHeader: hmacDefaultTSHeader,
			Encoding:        hmacDefaultEncoding,
			Tolerance:       hmacDefaultTolerance,
			TimestampUnit:   hmacDefaultUnit,
		}, nil
	case "x-vapi-signature":
		return HMACConfig{
			Algorithm:       hmacDefaultAlgorithm,
			SignatureHeader: "x-vapi-signature",
			PayloadFormat:   hmacBodyOnlyFormat,
			Encoding:        hmacDefaultEncoding,
			NoTimestamp:     true,
		}, nil
	}
	return HMACConfig{}, fmt.Errorf("unknown HMAC preset %q: want vapi or x-vapi-signature", name)
}

// withDefaults resolves the mode and fills defaults without validating, so that
// Describe, SensitiveHeaders and Redact behave the same before and after Normalize.
// Defaults are filled only for the selected mode.
func (c AuthConfig) withDefaults() AuthConfig {
	n := c
	n.Secrets = nil
	for _, s := range c.Secrets {
		if s != "" { // an empty entry (e.g. "a,,b" split) is never a usable secret
			n.Secrets = append(n.Secrets, s)
		}
	}
	n.Mode = AuthMode(strings.ToLower(strings.TrimSpace(string(c.Mode))))
	if n.Mode == "" {
		n.Mode = AuthNone
		if len(n.Secrets) > 0 {
			n.Mode = AuthSecret
		}
	}
	switch n.Mode {
	case AuthSecret:
		if n.Header == "" {
			n.Header = authDefaultSecretHeader
		}
	case AuthBearer:
		if n.Header == "" {
			n.Header = authDefaultBearerHeader
		}
		if n.NoBearerPrefix {
			n.BearerPrefix = ""
		} else if n.BearerPrefix == "" {
			n.BearerPrefix = authDefaultBearerPrefix
		}
	case AuthHMAC:
		n.HMAC = n.HMAC.withDefaults()
	}
	return n
}

func (h HMACConfig) withDefaults() HMACConfig {
	h.Algorithm = strings.ToLower(strings.TrimSpace(h.Algorithm))
	h.Encoding = strings.ToLower(strings.TrimSpace(h.Encoding))
	h.TimestampUnit = strings.ToLower(strings.TrimSpace(h.TimestampUnit))
	if h.Algorithm == "" {
		h.Algorithm = hmacDefaultAlgorithm
	}
	if h.SignatureHeader == "" {
		h.SignatureHeader = hmacDefaultSigHeader
	}
	if h.TimestampHeader == "" {
		h.TimestampHeader = hmacDefaultTSHeader
	}
	if h.Encoding == "" {
		h.Encoding = hmacDefaultEncoding
	}
	if h.TimestampUnit == "" {
		h.TimestampUnit = hmacDefaultUnit
	}
	if h.Tolerance == 0 {
		h.Tolerance = hmacDefaultTolerance
	}
	if h.PayloadFormat == "" {
		h.PayloadFormat = hmacTimestampedFormat
		if h.NoTimestamp {
			h.PayloadFormat = hmacBodyOnlyFormat
		}
	}
	return h
}

// Normalize fills defaults and validates. Errors name the allowed values or
// the next step, and never contain a secret. Empty entries in Secrets are
// dropped; the returned config never shares Secrets with c.
func (c AuthConfig) Normalize() (AuthConfig, error) {
	n := c.withDefaults()
	switch n.Mode {
	case AuthNone:
		return n, nil
	case AuthSecret, AuthBearer, AuthHMAC:
	default:
		return AuthConfig{}, fmt.Errorf("unknown auth mode %q: want none, secret, bearer or hmac", c.Mode)
	}
	if len(n.Secrets) == 0 {
		return AuthConfig{}, fmt.Errorf("auth mode %s needs a secret: %s", n.Mode, authSecretHint)
	}
	if n.Mode == AuthSecret || n.Mode == AuthBearer {
		if !ValidHeaderName(n.Header) {
			return AuthConfig{}, fmt.Errorf("invalid %s header name %q", n.Mode, n.Header)
		}
		for i, s := range n.Secrets {
			// HTTP strips surrounding whitespace from header values, so such a
			// secret could never match; usually a newline read from a file.
			if strings.TrimSpace(s) != s {
				return AuthConfig{}, fmt.Errorf("secret %d of %d has leading or trailing whitespace, which a header cannot carry (a newline from a file?)", i+1, len(n.Secrets))
			}
		}
		return n, nil
	}
	if _, err := n.HMAC.validate(); err != nil {
		return AuthConfig{}, err
	}
	if _, err := n.hmacKeys(); err != nil {
		return AuthConfig{}, err
	}
	return n, nil
}

// validate checks an HMACConfig that has been through withDefaults and returns
// its parsed payload format.
func (h HMACConfig) validate() ([]hmacPart, error) {
	if hmacNewHash(h.Algorithm) == nil {
		return nil, fmt.Errorf("unknown HMAC algorithm %q: want sha256, sha512 or sha1", h.Algorithm)
	}
	if h.Encoding != "hex" && h.Encoding != "base64" {
		return nil, fmt.Errorf("unknown HMAC signature encoding %q: want hex or base64", h.Encoding)
	}
	if h.TimestampUnit != "auto" && h.TimestampUnit != "s" && h.TimestampUnit != "ms" {
		return nil, fmt.Errorf("unknown HMAC timestamp unit %q: want auto, s or ms", h.TimestampUnit)
	}
	if h.Tolerance < 0 {
		return nil, fmt.Errorf("HMAC timestamp tolerance %s is negative: want a positive duration such as 5m", h.Tolerance)
	}
	headers := []struct{ what, name string }{{"signature", h.SignatureHeader}}
	if !h.NoTimestamp {
		headers = append(headers, struct{ what, name string }{"timestamp", h.TimestampHeader})
	}
	if h.MessageIDHeader != "" {
		headers = append(headers, struct{ what, name string }{"message id", h.MessageIDHeader})
	}
	for i, hd := range headers {
		if !ValidHeaderName(hd.name) {
			return nil, fmt.Errorf("invalid HMAC %s header name %q", hd.what, hd.name)
		}
		for _, prev := range headers[:i] {
			if strings.EqualFold(prev.name, hd.name) {
				return nil, fmt.Errorf("HMAC %s and %s headers are both %q: they must differ", prev.what, hd.what, hd.name)
			}
		}
	}
	parts, err := hmacParseFormat(h.PayloadFormat)
	if err != nil {
		return nil, err
	}
	uses := map[hmacField]bool{}
	for _, p := range parts {
		uses[p.field] = true
	}
	switch {
	case !uses[hmacFieldBody]:
		return nil, fmt.Errorf("HMAC payload format %q lacks {body}: the body would not be authenticated", h.PayloadFormat)
	case uses[hmacFieldTimestamp] && h.NoTimestamp:
		return nil, fmt.Errorf("HMAC payload format %q uses {timestamp} but timestamps are off", h.PayloadFormat)
	case uses[hmacFieldMessageID] && h.MessageIDHeader == "":
		return nil, fmt.Errorf("HMAC payload format %q uses {svix-id}: set the message id header (e.g. svix-id)", h.PayloadFormat)
	}
	return parts, nil
}

// hmacKeys returns the HMAC key of each secret, decoding base64 when asked.
func (c AuthConfig) hmacKeys() ([][]byte, error) {
	keys := make([][]byte, 0, len(c.Secrets))
	for i, s := range c.Secrets {
		if !c.HMAC.SecretIsBase64 {
			keys = append(keys, []byte(s))
			continue
		}
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
		if err != nil {
			// base64 errors give only a byte offset, never the input.
			return nil, fmt.Errorf("secret %d of %d is not valid base64, but secret-is-base64 is on: %w", i+1, len(c.Secrets), err)
		}
		if len(k) == 0 {
			return nil, fmt.Errorf("secret %d of %d decodes from base64 to nothing", i+1, len(c.Secrets))
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// Describe returns a short line for status bars. It never contains a secret.
func (c AuthConfig) Describe() string {
	n := c.withDefaults()
	var notes []string
	switch len(n.Secrets) {
	case 0:
		if n.Mode != AuthNone {
			notes = append(notes, "no secret set")
		}
	case 1:
	default:
		notes = append(notes, fmt.Sprintf("%d secrets", len(n.Secrets)))
	}
	withNotes := func(s string, extra ...string) string {
		all := append(extra, notes...)
		if len(all) == 0 {
			return s
		}
		return s + " (" + strings.Join(all, ", ") + ")"
	}
	switch n.Mode {
	case AuthNone:
		return "none: requests are NOT verified"
	case AuthSecret:
		return withNotes(strings.ToLower(n.Header))
	case AuthBearer:
		if n.BearerPrefix == "" {
			return withNotes("bearer "+n.Header, "no prefix")
		}
		return withNotes("bearer " + n.Header)
	case AuthHMAC:
		alg := n.HMAC.Algorithm
		if n.HMAC.Encoding != hmacDefaultEncoding {
			alg += "/" + n.HMAC.Encoding
		}
		window := "no timestamp"
		if !n.HMAC.NoTimestamp {
			window = "±" + authShortDuration(n.HMAC.Tolerance)
		}
		return withNotes("hmac "+alg+" "+n.HMAC.SignatureHeader, window)
	}
	return fmt.Sprintf("unknown auth mode %q", n.Mode)
}

// authShortDuration prints 5m rather than 5m0s and 1h rather than 1h0m0s.
func authShortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// AuthError is a verification failure. Reason is for the operator's screen and
// logs only; the sender gets one generic 401 whatever the reason. Reason never
// contains a configured secret or the expected MAC, and any text it quotes from
// the request is escaped with %q.
type AuthError struct{ Reason string }

// Error implements error.
func (e *AuthError) Error() string { return "webhook not authenticated: " + e.Reason }

func authFail(format string, args ...any) error {
	return &AuthError{Reason: fmt.Sprintf(format, args...)}
}

// Verifier checks incoming requests against one normalized AuthConfig. It is
// safe for concurrent use. A nil or zero Verifier rejects every request.
type Verifier struct {
	cfg     AuthConfig
	digests [][sha256.Size]byte // secret and bearer modes: SHA-256 of each secret
	keys    [][]byte            // hmac mode: one key per secret
	parts   []hmacPart          // hmac mode: parsed PayloadFormat
	newHash func() hash.Hash
	macs    []sync.Pool // hmac mode: reusable hash.Hash per key (keyed HMAC state is costly to build)
}

// NewVerifier normalizes c and prepares a Verifier for it.
func NewVerifier(c AuthConfig) (*Verifier, error) {
	n, err := c.Normalize()
	if err != nil {
		return nil, err
	}
	v := &Verifier{cfg: n}
	switch n.Mode {
	case AuthSecret, AuthBearer:
		for _, s := range n.Secrets {
			v.digests = append(v.digests, sha256.Sum256([]byte(s)))
		}
	case AuthHMAC:
		if v.parts, err = n.HMAC.validate(); err != nil {
			return nil, err
		}
		if v.keys, err = n.hmacKeys(); err != nil {
			return nil, err
		}
		v.newHash = hmacNewHash(n.HMAC.Algorithm)
		v.macs = make([]sync.Pool, len(v.keys))
		for i, key := range v.keys {
			v.macs[i].New = func() any { return hmac.New(v.newHash, key) }
		}
	}
	return v, nil
}

// Config returns the normalized configuration (a copy).
func (v *Verifier) Config() AuthConfig {
	c := v.cfg
	c.Secrets = slices.Clone(c.Secrets)
	return c
}

// Verify checks one request. body must be the RAW bytes as received: a
// re-serialised body has different bytes and fails. url is the full URL Vapi
// posted to, used for {url}. A zero now means time.Now(). It returns nil or an
// *AuthError; mode none always returns nil.
func (v *Verifier) Verify(method, url string, h http.Header, body []byte, now time.Time) error {
	if v == nil {
		return authFail("no verifier configured")
	}
	switch v.cfg.Mode {
	case AuthNone:
		return nil
	case AuthSecret:
		return v.verifyToken(h, "")
	case AuthBearer:
		return v.verifyToken(h, v.cfg.BearerPrefix)
	case AuthHMAC:
		if now.IsZero() {
			now = time.Now()
		}
		return v.verifyHMAC(method, url, h, body, now)
	}
	return authFail("verifier not configured (create it with NewVerifier)")
}

// verifyToken handles secret and bearer modes: the header must hold prefix+secret.
func (v *Verifier) verifyToken(h http.Header, prefix string) error {
	name := http.CanonicalHeaderKey(v.cfg.Header)
	vals := h.Values(name)
	if len(vals) == 0 {
		return authFail("no %s header", name)
	}
	got := vals[0]
	if got == "" {
		return authFail("empty %s header", name)
	}
	if prefix != "" {
		if len(got) < len(prefix) || !strings.EqualFold(got[:len(prefix)], prefix) {
			return authFail("%s lacks prefix %q", name, prefix)
		}
		got = got[len(prefix):]
	}
	if !v.matchSecret(got) {
		if v.cfg.Mode == AuthBearer {
			return authFail("bearer token in %s does not match any configured secret", name)
		}
		return authFail("%s does not match any configured secret", name)
	}
	return nil
}

// matchSecret compares got with every secret in constant time. Hashing first
// makes the comparison length-independent, and every secret is always tried so
// timing does not reveal which one matched.
func (v *Verifier) matchSecret(got string) bool {
	g := sha256.Sum256([]byte(got))
	ok := 0
	for i := range v.digests {
		ok |= subtle.ConstantTimeCompare(g[:], v.digests[i][:])
	}
	return ok == 1
}

func (v *Verifier) verifyHMAC(method, url string, h http.Header, body []byte, now time.Time) error {
	hc := v.cfg.HMAC
	sigName := http.CanonicalHeaderKey(hc.SignatureHeader)
	sigVals := h.Values(sigName)
	if len(sigVals) == 0 {
		return authFail("no %s header", sigName)
	}
	var ts string
	var tsTime time.Time
	if !hc.NoTimestamp {
		tsName := http.CanonicalHeaderKey(hc.TimestampHeader)
		tsVals := h.Values(tsName)
		if len(tsVals) == 0 || strings.TrimSpace(tsVals[0]) == "" {
			return authFail("no %s header", tsName)
		}
		ts = tsVals[0]
		var ok bool
		if tsTime, ok = hmacParseTimestamp(ts, hc.TimestampUnit); !ok {
			if len(ts) > hmacMaxEchoedTimestamp {
				return authFail("bad timestamp %q...", ts[:hmacMaxEchoedTimestamp])
			}
			return authFail("bad timestamp %q", ts)
		}
	}
	var msgID string
	if v.usesField(hmacFieldMessageID) {
		idName := http.CanonicalHeaderKey(hc.MessageIDHeader)
		if msgID = h.Get(idName); msgID == "" {
			return authFail("no %s header", idName)
		}
	}
	sigs, reason := v.signatureCandidates(sigName, sigVals)
	if len(sigs) == 0 {
		return &AuthError{Reason: reason}
	}
	matched := false
	for i := range v.keys {
		mac := v.pooledMAC(i, method, url, ts, msgID, body)
		for _, sig := range sigs {
			if hmac.Equal(mac, sig) {
				matched = true
			}
		}
	}
	if !matched {
		size := v.newHash().Size()
		for _, sig := range sigs {
			if len(sig) == size {
				return authFail("signature mismatch")
			}
		}
		return authFail("signature is %d bytes but %s gives %d: check the algorithm", len(sigs[0]), hc.Algorithm, size)
	}
	if !hc.NoTimestamp {
		// Checked after the MAC so that "too old" only ever describes an
		// authentic request: a replay, or a clock that is off.
		if age := now.Sub(tsTime); age > hc.Tolerance {
			return authFail("timestamp %s old (tolerance %s)", hmacRoundAge(age, hc.Tolerance), hc.Tolerance)
		}
		if ahead := tsTime.Sub(now); ahead > hc.Tolerance {
			return authFail("timestamp %s in the future", hmacRoundAge(ahead, hc.Tolerance))
		}
	}
	return nil
}

// hmacRoundAge drops sub-second digits unless that would hide why d exceeds tol.
func hmacRoundAge(d, tol time.Duration) time.Duration {
	if r := d.Truncate(time.Second); r > tol {
		return r
	}
	return d.Round(time.Millisecond)
}

// signatureCandidates splits the signature header values into signatures
// (space- or comma-separated; commas only when the prefix has none), strips the
// prefix and decodes them. With none usable it returns the first problem.
func (v *Verifier) signatureCandidates(sigName string, vals []string) ([][]byte, string) {
	hc := v.cfg.HMAC
	splitComma := !strings.Contains(hc.Prefix, ",")
	sep := func(r rune) bool { return r == ' ' || r == '\t' || (splitComma && r == ',') }
	var sigs [][]byte
	reason := ""
	tried := 0
	for _, val := range vals {
		for _, field := range strings.FieldsFunc(val, sep) {
			if tried == hmacMaxSignatures {
				break
			}
			tried++
			if p := hc.Prefix; p != "" {
				if len(field) < len(p) || !strings.EqualFold(field[:len(p)], p) {
					if reason == "" {
						reason = fmt.Sprintf("signature lacks prefix %q", p)
					}
					continue
				}
				field = field[len(p):]
			}
			sig, err := hmacDecode(hc.Encoding, field)
			if err != nil || len(sig) == 0 {
				if reason == "" {
					reason = "signature is not valid " + hc.Encoding
				}
				continue
			}
			sigs = append(sigs, sig)
		}
	}
	if tried == 0 {
		reason = fmt.Sprintf("empty %s header", sigName)
	}
	return sigs, reason
}

func hmacDecode(encoding, s string) ([]byte, error) {
	if encoding == "hex" {
		return hex.DecodeString(s)
	}
	// Senders disagree on padding and alphabet; the MAC comparison is what counts.
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		var b []byte
		if b, err = enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, err
}

func hmacEncode(encoding string, mac []byte) string {
	if encoding == "base64" {
		return base64.StdEncoding.EncodeToString(mac)
	}
	return hex.EncodeToString(mac)
}

// mac computes the HMAC of the payload template, streaming the body into the
// hash so that no copy of it is made.
func (v *Verifier) mac(key []byte, method, url, ts, msgID string, body []byte) []byte {
	return v.writeMAC(hmac.New(v.newHash, key), method, url, ts, msgID, body)
}

// pooledMAC is mac for the i-th key, with a reused HMAC state.
func (v *Verifier) pooledMAC(i int, method, url, ts, msgID string, body []byte) []byte {
	m := v.macs[i].Get().(hash.Hash)
	m.Reset()
	sum := v.writeMAC(m, method, url, ts, msgID, body)
	v.macs[i].Put(m)
	return sum
}

func (v *Verifier) writeMAC(m hash.Hash, method, url, ts, msgID string, body []byte) []byte {
	for _, p := range v.parts {
		switch p.field {
		case hmacFieldLiteral:
			io.WriteString(m, p.lit)
		case hmacFieldBody:
			m.Write(body)
		case hmacFieldTimestamp:
			io.WriteString(m, ts)
		case hmacFieldMethod:
			io.WriteString(m, method)
		case hmacFieldURL:
			io.WriteString(m, url)
		case hmacFieldMessageID:
			io.WriteString(m, msgID)
		}
	}
	return m.Sum(nil)
}

func (v *Verifier) usesField(f hmacField) bool {
	return slices.ContainsFunc(v.parts, func(p hmacPart) bool { return p.field == f })
}

func hmacNewHash(algorithm string) func() hash.Hash {
	switch algorithm {
	case "sha256":
		return sha256.New
	case "sha512":
		return sha512.New
	case "sha1":
		return sha1.New
	}
	return nil
}

// hmacParseTimestamp reads an integer or decimal number in the given unit, or
// an RFC 3339 time.
func hmacParseTimestamp(raw, unit string) (time.Time, bool) {
	s := strings.TrimSpace(raw)
	isMS := func(f float64) bool { return unit == "ms" || (unit == "auto" && f >= hmacAutoMillisecondsFrom) }
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		if isMS(float64(i)) {
			return time.UnixMilli(i), true
		}
		return time.Unix(i, 0), true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		if isMS(f) {
			f /= 1000
		}
		if math.Abs(f) > hmacMaxTimestampMagnitude {
			return time.Time{}, false
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)), true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// Sign sets on h exactly the headers Vapi would send for c, using Secrets[0]:
// the secret header, the bearer header, or the HMAC signature and timestamp
// (plus a random "msg_..." id when MessageIDHeader is set and h lacks one).
// Timestamps are written in the configured unit; auto means milliseconds, the
// unit Vapi uses elsewhere. A zero now means time.Now(). Mode none sets nothing.
func Sign(c AuthConfig, method, url string, h http.Header, body []byte, now time.Time) error {
	v, err := NewVerifier(c)
	if err != nil {
		return fmt.Errorf("sign webhook: %w", err)
	}
	n := v.cfg
	if n.Mode == AuthNone {
		return nil
	}
	if h == nil {
		return errors.New("sign webhook: nil header map")
	}
	switch n.Mode {
	case AuthSecret:
		h.Set(n.Header, n.Secrets[0])
	case AuthBearer:
		h.Set(n.Header, n.BearerPrefix+n.Secrets[0])
	case AuthHMAC:
		if now.IsZero() {
			now = time.Now()
		}
		hc := n.HMAC
		var ts string
		if !hc.NoTimestamp {
			if hc.TimestampUnit == "s" {
				ts = strconv.FormatInt(now.Unix(), 10)
			} else {
				ts = strconv.FormatInt(now.UnixMilli(), 10)
			}
			h.Set(hc.TimestampHeader, ts)
		}
		if hc.MessageIDHeader != "" && h.Get(hc.MessageIDHeader) == "" {
			h.Set(hc.MessageIDHeader, "msg_"+rand.Text())
		}
		mac := v.mac(v.keys[0], method, url, ts, h.Get(hc.MessageIDHeader), body)
		h.Set(hc.SignatureHeader, hc.Prefix+hmacEncode(hc.Encoding, mac))
	}
	return nil
}

// SensitiveHeaders lists, in canonical form, the headers whose values must
// never be recorded or displayed: Authorization and X-Vapi-Secret always, plus
// the configured secret or bearer header and the HMAC signature header.
func (c AuthConfig) SensitiveHeaders() []string {
	n := c.withDefaults()
	// Signature headers are redacted whatever the mode: vapimon does not check them with
	// auth none, but they are still credentials to whoever reads the tape.
	names := []string{"Authorization", "X-Vapi-Secret", "X-Signature", "X-Vapi-Signature"}
	for _, name := range []string{n.Header, n.HMAC.SignatureHeader} {
		name = http.CanonicalHeaderKey(strings.TrimSpace(name))
		if name != "" && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}

// Redact returns a deep copy of h in which every value of every sensitive
// header is "[redacted]". Keys are matched case-insensitively, so
// non-canonical keys (from a tape, say) are redacted too. h is not modified.
func (c AuthConfig) Redact(h http.Header) http.Header {
	out := h.Clone()
	sensitive := c.SensitiveHeaders()
	for k, vals := range out {
		if !slices.ContainsFunc(sensitive, func(s string) bool { return strings.EqualFold(s, k) }) {
			continue
		}
		red := make([]string, len(vals))
		for i := range red {
			red[i] = authRedactedValue
		}
		out[k] = red
	}
	return out
}

// ValidHeaderName reports whether s is an HTTP field name (RFC 9110 token): the HMAC
// options' header names, and the relay's check of the headers it writes itself.
func ValidHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0:
		default:
			return false
		}
	}
	return true
}

// hmacField is one kind of piece in a payload format.
type hmacField int

const (
	hmacFieldLiteral hmacField = iota
	hmacFieldBody
	hmacFieldTimestamp
	hmacFieldMethod
	hmacFieldURL
	hmacFieldMessageID
)

var hmacPlaceholders = map[string]hmacField{
	"body":      hmacFieldBody,
	"timestamp": hmacFieldTimestamp,
	"method":    hmacFieldMethod,
	"url":       hmacFieldURL,
	"svix-id":   hmacFieldMessageID,
}

// hmacPart is a literal or a placeholder of a parsed payload format.
type hmacPart struct {
	field hmacField
	lit   string
}

// hmacParseFormat splits a payload format into literals and placeholders in a
// single pass, so text substituted from the request (the body, say) is never
// itself scanned for placeholders. A {name} that is not a known placeholder is
// an error, to catch typos such as {timestmap}; other braces are literal.
func hmacParseFormat(format string) ([]hmacPart, error) {
	var parts []hmacPart
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, hmacPart{lit: lit.String()})
			lit.Reset()
		}
	}
	rest := format
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			break
		}
		closeAt := strings.IndexByte(rest[open:], '}')
		if closeAt < 0 {
			break
		}
		name := rest[open+1 : open+closeAt]
		field, known := hmacPlaceholders[name]
		if !known {
			if hmacLooksLikePlaceholder(name) {
				return nil, fmt.Errorf("unknown placeholder {%s} in HMAC payload format %q: want {body}, {timestamp}, {method}, {url} or {svix-id}", name, format)
			}
			lit.WriteString(rest[:open+1])
			rest = rest[open+1:]
			continue
		}
		lit.WriteString(rest[:open])
		flush()
		parts = append(parts, hmacPart{field: field})
		rest = rest[open+closeAt+1:]
	}
	lit.WriteString(rest)
	flush()
	return parts, nil
}

func hmacLooksLikePlaceholder(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if !(r == '-' || r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}
