package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vapimon/vapimon/webhook/webhooktest"
)

// Secrets are long and unusual so that finding one inside a reason can only
// mean it leaked.
const (
	vtSecret1 = "sk_vt_primary_Q7pX2mZr"
	vtSecret2 = "sk_vt_rotated_L9wK4dHs"
	vtURL     = "https://abc123.ngrok.app/webhook"
)

var (
	vtNow = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	// Raw bytes as Vapi might send them: spaces, unsorted keys, <>& unescaped,
	// a \u escape and a trailing newline. json.Marshal would change all of these.
	vtBody = []byte("{\"message\": {\"type\":\"tool-calls\",  \"zeta\":1, \"alpha\":\"a<b>&c \\u00e9\"}}\n")
	// vtKeyBytes is a binary HMAC key, configured as base64 with SecretIsBase64.
	vtKeyBytes = []byte("vt-binary-key\x00\xff\x10-Zq81")
)

// vtMAC computes an HMAC independently of verify.go.
func vtMAC(alg string, key []byte, payload string) []byte {
	newHash := map[string]func() hash.Hash{"sha1": sha1.New, "sha256": sha256.New, "sha512": sha512.New}[alg]
	m := hmac.New(newHash, key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

func vtHex(alg, key, payload string) string {
	return hex.EncodeToString(vtMAC(alg, []byte(key), payload))
}

// vtDefaultPayload is Vapi's default "{timestamp}.{body}".
func vtDefaultPayload(ts string, body []byte) string { return ts + "." + string(body) }

func vtMillis(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// vtHeader builds a header with Set, so keys are canonical as net/http makes them.
func vtHeader(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// vtHMACHeader is a default-config HMAC request for secret signed at ts.
func vtHMACHeader(secret, ts string) http.Header {
	return vtHeader("x-signature", vtHex("sha256", secret, vtDefaultPayload(ts, vtBody)), "x-timestamp", ts)
}

func vtMustVerifier(t *testing.T, c AuthConfig) *Verifier {
	t.Helper()
	v, err := NewVerifier(c)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

// vtCheck asserts that err is nil when want is "", else an *AuthError whose
// Reason is exactly want.
func vtCheck(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("Verify = %v, want nil", err)
		}
		return
	}
	var ae *AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("Verify = %v (%T), want *AuthError %q", err, err, want)
	}
	if ae.Reason != want {
		t.Fatalf("Reason = %q, want %q", ae.Reason, want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("Error() = %q lacks the reason %q", err.Error(), want)
	}
}

func TestVerifyModes(t *testing.T) {
	t.Parallel()
	ts := vtMillis(vtNow)
	secret := AuthConfig{Mode: AuthSecret, Secrets: []string{vtSecret1}}
	rotating := AuthConfig{Mode: AuthSecret, Secrets: []string{vtSecret1, vtSecret2}}
	bearer := AuthConfig{Mode: AuthBearer, Secrets: []string{vtSecret1, vtSecret2}}
	legacyBearer := AuthConfig{Mode: AuthBearer, Secrets: []string{vtSecret1}, Header: "X-Vapi-Secret", NoBearerPrefix: true}
	hmacCfg := AuthConfig{Mode: AuthHMAC, Secrets: []string{vtSecret1, vtSecret2}}
	good := vtHex("sha256", vtSecret1, vtDefaultPayload(ts, vtBody))

	tests := []struct {
		name string
		cfg  AuthConfig
		hdr  http.Header
		want string // "" means the request passes
	}{
		{"none/no headers", AuthConfig{}, nil, ""},
		{"none/explicit with junk", AuthConfig{Mode: AuthNone, Secrets: []string{vtSecret1}}, vtHeader("X-Vapi-Secret", "junk"), ""},

		{"secret/ok", secret, vtHeader("X-Vapi-Secret", vtSecret1), ""},
		{"secret/mode inferred from secrets", AuthConfig{Secrets: []string{vtSecret1}}, vtHeader("x-vapi-secret", vtSecret1), ""},
		{"secret/rotation first", rotating, vtHeader("X-Vapi-Secret", vtSecret1), ""},
		{"secret/rotation second", rotating, vtHeader("X-Vapi-Secret", vtSecret2), ""},
		{"secret/wrong", rotating, vtHeader("X-Vapi-Secret", "sk_vt_wrong"), "X-Vapi-Secret does not match any configured secret"},
		{"secret/truncated", secret, vtHeader("X-Vapi-Secret", vtSecret1[:len(vtSecret1)-1]), "X-Vapi-Secret does not match any configured secret"},
		{"secret/sent as bearer", secret, vtHeader("X-Vapi-Secret", "Bearer "+vtSecret1), "X-Vapi-Secret does not match any configured secret"},
		{"secret/missing", secret, vtHeader("Authorization", "Bearer "+vtSecret1), "no X-Vapi-Secret header"},
		{"secret/empty", secret, vtHeader("X-Vapi-Secret", ""), "empty X-Vapi-Secret header"},
		{"secret/custom header", AuthConfig{Secrets: []string{vtSecret1}, Header: "x-hook-token"}, vtHeader("X-Hook-Token", vtSecret1), ""},
		{"secret/custom header missing", AuthConfig{Secrets: []string{vtSecret1}, Header: "x-hook-token"}, vtHeader("X-Vapi-Secret", vtSecret1), "no X-Hook-Token header"},

		{"bearer/ok", bearer, vtHeader("Authorization", "Bearer "+vtSecret1), ""},
		{"bearer/rotation second", bearer, vtHeader("Authorization", "Bearer "+vtSecret2), ""},
		{"bearer/scheme case-insensitive", bearer, vtHeader("authorization", "BEARER "+vtSecret1), ""},
		{"bearer/no prefix sent", bearer, vtHeader("Authorization", vtSecret1), `Authorization lacks prefix "Bearer "`},
		{"bearer/wrong token", bearer, vtHeader("Authorization", "Bearer sk_vt_wrong"), "bearer token in Authorization does not match any configured secret"},
		{"bearer/token case matters", bearer, vtHeader("Authorization", "Bearer "+strings.ToUpper(vtSecret1)), "bearer token in Authorization does not match any configured secret"},
		{"bearer/missing", bearer, vtHeader("X-Vapi-Secret", vtSecret1), "no Authorization header"},
		{"bearer/custom header no prefix", legacyBearer, vtHeader("X-Vapi-Secret", vtSecret1), ""},
		{"bearer/custom header no prefix rejects prefix", legacyBearer, vtHeader("X-Vapi-Secret", "Bearer "+vtSecret1), "bearer token in X-Vapi-Secret does not match any configured secret"},
		{"bearer/custom header missing", legacyBearer, vtHeader("Authorization", vtSecret1), "no X-Vapi-Secret header"},
		{"bearer/custom prefix", AuthConfig{Mode: AuthBearer, Secrets: []string{vtSecret1}, BearerPrefix: "Token "}, vtHeader("Authorization", "Token "+vtSecret1), ""},

		{"hmac/ok", hmacCfg, vtHMACHeader(vtSecret1, ts), ""},
		{"hmac/rotation second", hmacCfg, vtHMACHeader(vtSecret2, ts), ""},
		{"hmac/upper-case hex", hmacCfg, vtHeader("X-Signature", strings.ToUpper(good), "X-Timestamp", ts), ""},
		{"hmac/wrong secret", hmacCfg, vtHMACHeader("sk_vt_wrong", ts), "signature mismatch"},
		{"hmac/timestamp swapped", hmacCfg, vtHeader("X-Signature", good, "X-Timestamp", vtMillis(vtNow.Add(-time.Second))), "signature mismatch"},
		{"hmac/missing signature", hmacCfg, vtHeader("X-Timestamp", ts), "no X-Signature header"},
		{"hmac/empty signature", hmacCfg, vtHeader("X-Signature", " ", "X-Timestamp", ts), "empty X-Signature header"},
		{"hmac/missing timestamp", hmacCfg, vtHeader("X-Signature", good), "no X-Timestamp header"},
		{"hmac/bad timestamp", hmacCfg, vtHeader("X-Signature", good, "X-Timestamp", "abc"), `bad timestamp "abc"`},
		{"hmac/not hex", hmacCfg, vtHeader("X-Signature", "zz"+good[2:], "X-Timestamp", ts), "signature is not valid hex"},
		{"hmac/unexpected prefix", hmacCfg, vtHeader("X-Signature", "sha256="+good, "X-Timestamp", ts), "signature is not valid hex"},
		{"hmac/wrong algorithm", hmacCfg, vtHeader("X-Signature", hex.EncodeToString(vtMAC("sha1", []byte(vtSecret1), vtDefaultPayload(ts, vtBody))), "X-Timestamp", ts), "signature is 20 bytes but sha256 gives 32: check the algorithm"},
		{"hmac/comma list", hmacCfg, vtHeader("X-Signature", strings.Repeat("00", 32)+","+good, "X-Timestamp", ts), ""},
		{"hmac/space list", hmacCfg, vtHeader("X-Signature", "nothex "+good, "X-Timestamp", ts), ""},
		{"hmac/second header value", hmacCfg, vtHeader("X-Signature", strings.Repeat("00", 32), "X-Signature", good, "X-Timestamp", ts), ""},
		{"hmac/list without match", hmacCfg, vtHeader("X-Signature", strings.Repeat("00", 32)+", "+strings.Repeat("11", 32), "X-Timestamp", ts), "signature mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := vtMustVerifier(t, tt.cfg)
			vtCheck(t, v.Verify(http.MethodPost, vtURL, tt.hdr, vtBody, vtNow), tt.want)
		})
	}
}

// TestVerifyHMACVariants checks each HMAC knob against a MAC computed
// independently, in both directions: Verify accepts it and Sign produces it.
func TestVerifyHMACVariants(t *testing.T) {
	t.Parallel()
	ms := vtMillis(vtNow)
	secs := strconv.FormatInt(vtNow.Unix(), 10)
	body := string(vtBody)
	xvs, err := HMACPreset("x-vapi-signature")
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString

	tests := []struct {
		name    string
		secrets []string
		hmac    HMACConfig
		alg     string
		key     []byte
		payload string
		encode  func([]byte) string // signature header value from the MAC
		hdr     []string            // other headers Vapi would send
	}{
		{"default sha256 hex", nil, HMACConfig{}, "sha256", nil, ms + "." + body, hex.EncodeToString, []string{"X-Timestamp", ms}},
		{"sha512 hex", nil, HMACConfig{Algorithm: "sha512"}, "sha512", nil, ms + "." + body, hex.EncodeToString, []string{"X-Timestamp", ms}},
		{"sha1 hex", nil, HMACConfig{Algorithm: "sha1"}, "sha1", nil, ms + "." + body, hex.EncodeToString, []string{"X-Timestamp", ms}},
		{"sha256 base64", nil, HMACConfig{Encoding: "base64"}, "sha256", nil, ms + "." + body, b64, []string{"X-Timestamp", ms}},
		{"sha1 base64", nil, HMACConfig{Algorithm: "sha1", Encoding: "base64"}, "sha1", nil, ms + "." + body, b64, []string{"X-Timestamp", ms}},
		{"sha512 base64 prefix", nil, HMACConfig{Algorithm: "sha512", Encoding: "base64", Prefix: "v1="}, "sha512", nil, ms + "." + body,
			func(m []byte) string { return "v1=" + b64(m) }, []string{"X-Timestamp", ms}},
		{"github style prefix", nil, HMACConfig{Prefix: "sha256="}, "sha256", nil, ms + "." + body,
			func(m []byte) string { return "sha256=" + hex.EncodeToString(m) }, []string{"X-Timestamp", ms}},
		{"template method url svix-id", nil,
			HMACConfig{PayloadFormat: "{method} {url} {svix-id} {timestamp} {body}", MessageIDHeader: "svix-id"}, "sha256", nil,
			"POST " + vtURL + " msg_vt123 " + ms + " " + body, hex.EncodeToString, []string{"X-Timestamp", ms, "Svix-Id", "msg_vt123"}},
		{"slack style template", nil, HMACConfig{PayloadFormat: "v0:{timestamp}:{body}", Prefix: "v0=", TimestampUnit: "s"}, "sha256", nil,
			"v0:" + secs + ":" + body, func(m []byte) string { return "v0=" + hex.EncodeToString(m) }, []string{"X-Timestamp", secs}},
		{"literal braces in template", nil, HMACConfig{PayloadFormat: "{ {timestamp} }{body}{}"}, "sha256", nil,
			"{ " + ms + " }" + body + "{}", hex.EncodeToString, []string{"X-Timestamp", ms}},
		{"secret is base64", []string{base64.StdEncoding.EncodeToString(vtKeyBytes)}, HMACConfig{SecretIsBase64: true}, "sha256", vtKeyBytes,
			ms + "." + body, hex.EncodeToString, []string{"X-Timestamp", ms}},
		{"no timestamp", nil, HMACConfig{NoTimestamp: true}, "sha256", nil, body, hex.EncodeToString, nil},
		{"x-vapi-signature preset", nil, xvs, "sha256", nil, body, hex.EncodeToString, nil},
		{"timestamps in seconds", nil, HMACConfig{TimestampUnit: "s"}, "sha256", nil, secs + "." + body, hex.EncodeToString, []string{"X-Timestamp", secs}},
		{"timestamps in ms", nil, HMACConfig{TimestampUnit: "ms"}, "sha256", nil, ms + "." + body, hex.EncodeToString, []string{"X-Timestamp", ms}},
		{"custom header names", nil, HMACConfig{SignatureHeader: "X-Hook-Sig", TimestampHeader: "x-hook-time"}, "sha256", nil,
			ms + "." + body, hex.EncodeToString, []string{"X-Hook-Time", ms}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			secrets, key := tt.secrets, tt.key
			if secrets == nil {
				secrets, key = []string{vtSecret1}, []byte(vtSecret1)
			}
			cfg := AuthConfig{Mode: AuthHMAC, Secrets: secrets, HMAC: tt.hmac}
			v := vtMustVerifier(t, cfg)
			sigHeader := v.Config().HMAC.SignatureHeader
			want := tt.encode(vtMAC(tt.alg, key, tt.payload))

			h := vtHeader(append([]string{sigHeader, want}, tt.hdr...)...)
			vtCheck(t, v.Verify(http.MethodPost, vtURL, h, vtBody, vtNow), "")

			tampered := append(bytes.Clone(vtBody), ' ')
			vtCheck(t, v.Verify(http.MethodPost, vtURL, h, tampered, vtNow), "signature mismatch")

			// Sign must write the same headers Vapi would.
			signed := http.Header{}
			if id := h.Get("Svix-Id"); id != "" {
				signed.Set("Svix-Id", id)
			}
			if err := Sign(cfg, http.MethodPost, vtURL, signed, vtBody, vtNow); err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if !reflect.DeepEqual(signed, h) {
				t.Fatalf("Sign wrote %v, want %v", signed, h)
			}
		})
	}
}

// TestHMACKnownAnswers pins the signed text to values computed outside Go
// (Python's hmac module), so a consistent mistake in both Sign and Verify
// cannot pass unnoticed.
func TestHMACKnownAnswers(t *testing.T) {
	t.Parallel()
	body := []byte(`{"message":{"type":"status-update","status":"in-progress"}}`)
	now := time.UnixMilli(1760000000000)
	xvs, _ := HMACPreset("x-vapi-signature")
	tests := []struct {
		name   string
		hmac   HMACConfig
		method string
		url    string
		hdr    http.Header
	}{
		{"vapi default", HMACConfig{}, "POST", vtURL, vtHeader("X-Signature", "8bb3c82d401a9f7a9ba2455b97574b416479a33690df781cec184517883c3582", "X-Timestamp", "1760000000000")},
		{"x-vapi-signature", xvs, "POST", vtURL, vtHeader("X-Vapi-Signature", "4a1aa49b156ec397662ed1511589715befe2e4ad5f4316898e3805da7da31640")},
		{"svix-like sha512 base64", HMACConfig{Algorithm: "sha512", Encoding: "base64", NoTimestamp: true, MessageIDHeader: "svix-id", PayloadFormat: "{method} {url} {svix-id} {body}"},
			"POST", "https://x.ngrok.app/hook",
			vtHeader("X-Signature", "KV7KgEFLNSiLp9/zLs7tiu1SkwQqQK3qOvZeHMFW9cUZda48YSBpi2e+DZSFHOIfNhUdOfu8vVn8HF87b6mLqA==", "Svix-Id", "msg_1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := AuthConfig{Mode: AuthHMAC, Secrets: []string{"vapimon-kat-secret"}, HMAC: tt.hmac}
			vtCheck(t, vtMustVerifier(t, cfg).Verify(tt.method, tt.url, tt.hdr, body, now), "")
			signed := http.Header{}
			if id := tt.hdr.Get("Svix-Id"); id != "" {
				signed.Set("Svix-Id", id)
			}
			if err := Sign(cfg, tt.method, tt.url, signed, body, now); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(signed, tt.hdr) {
				t.Fatalf("Sign wrote %v, want %v", signed, tt.hdr)
			}
		})
	}
}

func TestVerifyTimestamps(t *testing.T) {
	t.Parallel()
	secs := func(d time.Duration) string { return strconv.FormatInt(vtNow.Add(d).Unix(), 10) }
	ms := func(d time.Duration) string { return vtMillis(vtNow.Add(d)) }
	tests := []struct {
		name string
		hmac HMACConfig
		ts   string
		want string
	}{
		{"ms now", HMACConfig{}, ms(0), ""},
		{"seconds now (auto)", HMACConfig{}, secs(0), ""},
		{"ms 4m59s old", HMACConfig{}, ms(-4*time.Minute - 59*time.Second), ""},
		{"ms 4m59s ahead", HMACConfig{}, ms(4*time.Minute + 59*time.Second), ""},
		{"exactly tolerance old", HMACConfig{}, ms(-5 * time.Minute), ""},
		{"exactly tolerance ahead", HMACConfig{}, ms(5 * time.Minute), ""},
		{"ms 9m old", HMACConfig{}, ms(-9 * time.Minute), "timestamp 9m0s old (tolerance 5m0s)"},
		{"ms 6m ahead", HMACConfig{}, ms(6 * time.Minute), "timestamp 6m0s in the future"},
		{"seconds 9m old", HMACConfig{}, secs(-9 * time.Minute), "timestamp 9m0s old (tolerance 5m0s)"},
		{"seconds 6m ahead", HMACConfig{}, secs(6 * time.Minute), "timestamp 6m0s in the future"},
		{"just past tolerance keeps ms", HMACConfig{}, ms(-5*time.Minute - 400*time.Millisecond), "timestamp 5m0.4s old (tolerance 5m0s)"},
		{"a day old", HMACConfig{}, ms(-24 * time.Hour), "timestamp 24h0m0s old (tolerance 5m0s)"},
		{"custom tolerance ok", HMACConfig{Tolerance: 30 * time.Second}, ms(-29 * time.Second), ""},
		{"custom tolerance old", HMACConfig{Tolerance: 30 * time.Second}, ms(-45 * time.Second), "timestamp 45s old (tolerance 30s)"},
		{"unit s ok", HMACConfig{TimestampUnit: "s"}, secs(-time.Minute), ""},
		{"unit ms ok", HMACConfig{TimestampUnit: "ms"}, ms(time.Minute), ""},
		{"unit s given ms", HMACConfig{TimestampUnit: "s"}, ms(0), "timestamp 2562047h47m16s in the future"},
		{"unit ms given seconds", HMACConfig{TimestampUnit: "ms"}, secs(0), "timestamp 498377h7m26s old (tolerance 5m0s)"},
		{"decimal seconds", HMACConfig{}, secs(-time.Minute) + ".250", ""},
		{"rfc3339", HMACConfig{}, vtNow.Add(-time.Minute).Format(time.RFC3339), ""},
		{"surrounding spaces", HMACConfig{}, " " + ms(0) + " ", ""},
		{"epoch zero", HMACConfig{}, "0", "timestamp 498876h0m0s old (tolerance 5m0s)"},
		{"far future saturates", HMACConfig{}, "9223372036854775807", "timestamp 2562047h47m16s in the future"},
		{"letters", HMACConfig{}, "abc", `bad timestamp "abc"`},
		{"trailing junk", HMACConfig{}, ms(0) + "x", `bad timestamp "` + ms(0) + `x"`},
		{"NaN", HMACConfig{}, "NaN", `bad timestamp "NaN"`},
		{"huge float", HMACConfig{}, "1e300", `bad timestamp "1e300"`},
		{"control bytes are escaped", HMACConfig{}, "1\x1b[2J", `bad timestamp "1\x1b[2J"`},
		{"long junk is truncated", HMACConfig{}, strings.Repeat("9x", 50), `bad timestamp "` + strings.Repeat("9x", 20) + `"...`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := vtMustVerifier(t, AuthConfig{Mode: AuthHMAC, Secrets: []string{vtSecret1}, HMAC: tt.hmac})
			// Signed correctly, so only the timestamp can be the problem.
			vtCheck(t, v.Verify(http.MethodPost, vtURL, vtHMACHeader(vtSecret1, tt.ts), vtBody, vtNow), tt.want)
		})
	}
}

// TestVerifyZeroNowUsesClock covers the time.Now() fallback for a zero now.
func TestVerifyZeroNowUsesClock(t *testing.T) {
	t.Parallel()
	cfg := AuthConfig{Mode: AuthHMAC, Secrets: []string{vtSecret1}}
	h := http.Header{}
	if err := Sign(cfg, http.MethodPost, vtURL, h, vtBody, time.Time{}); err != nil {
		t.Fatal(err)
	}
	vtCheck(t, vtMustVerifier(t, cfg).Verify(http.MethodPost, vtURL, h, vtBody, time.Time{}), "")
}

// TestVerifyRejectsReserialisedBody: a verifier must see the raw bytes. Any
// re-encoding (sorted keys, compacted whitespace, <>& escaped) breaks the MAC.
func TestVerifyRejectsReserialisedBody(t *testing.T) {
	t.Parallel()
	var decoded any
	if err := json.Unmarshal(vtBody, &decoded); err != nil {
		t.Fatal(err)
	}
	marshalled, err := json.Marshal(decoded)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(json.RawMessage(vtBody))
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, vtBody); err != nil {
		t.Fatal(err)
	}
	var noEscape bytes.Buffer
	enc := json.NewEncoder(&noEscape)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(decoded); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(marshalled, []byte(`\u003c`)) {
		t.Fatalf("json.Marshal did not escape <: %s", marshalled)
	}
	variants := map[string][]byte{
		"json.Marshal of decoded": marshalled,
		"json.RawMessage":         raw,
		"json.Compact":            compact.Bytes(),
		"Encoder without escape":  noEscape.Bytes(),
	}
	xvs, _ := HMACPreset("x-vapi-signature")
	configs := map[string]AuthConfig{
		"vapi default":     {Mode: AuthHMAC, Secrets: []string{vtSecret1}},
		"x-vapi-signature": {Mode: AuthHMAC, Secrets: []string{vtSecret1}, HMAC: xvs},
		"sha512 base64":    {Mode: AuthHMAC, Secrets: []string{vtSecret1}, HMAC: HMACConfig{Algorithm: "sha512", Encoding: "base64"}},
	}
	for cname, cfg := range configs {
		t.Run(cname, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if err := Sign(cfg, http.MethodPost, vtURL, h, vtBody, vtNow); err != nil {
				t.Fatal(err)
			}
			v := vtMustVerifier(t, cfg)
			vtCheck(t, v.Verify(http.MethodPost, vtURL, h, vtBody, vtNow), "")
			for vname, b := range variants {
				if bytes.Equal(b, vtBody) {
					t.Fatalf("%s: re-serialised body equals the raw bytes; the test body is too tidy", vname)
				}
				if err := v.Verify(http.MethodPost, vtURL, h, b, vtNow); err == nil {
					t.Errorf("%s: re-serialised body %q verified; only the raw bytes may", vname, b)
				}
			}
		})
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	xvs, _ := HMACPreset("x-vapi-signature")
	two := []string{vtSecret1, vtSecret2}
	tests := []struct {
		name string
		cfg  AuthConfig
		want http.Header // exact headers Sign writes; "*" matches any value
	}{
		{"none", AuthConfig{}, http.Header{}},
		{"secret", AuthConfig{Secrets: two}, vtHeader("X-Vapi-Secret", vtSecret1)},
		{"secret custom header", AuthConfig{Mode: AuthSecret, Secrets: two, Header: "x-hook-token"}, vtHeader("X-Hook-Token", vtSecret1)},
		{"bearer", AuthConfig{Mode: AuthBearer, Secrets: two}, vtHeader("Authorization", "Bearer "+vtSecret1)},
		{"bearer legacy x-vapi-secret", AuthConfig{Mode: AuthBearer, Secrets: two, Header: "X-Vapi-Secret", NoBearerPrefix: true}, vtHeader("X-Vapi-Secret", vtSecret1)},
		{"bearer custom prefix", AuthConfig{Mode: AuthBearer, Secrets: two, BearerPrefix: "Token "}, vtHeader("Authorization", "Token "+vtSecret1)},
		{"hmac default", AuthConfig{Mode: AuthHMAC, Secrets: two}, vtHeader("X-Signature", "*", "X-Timestamp", vtMillis(vtNow))},
		{"hmac seconds", AuthConfig{Mode: AuthHMAC, Secrets: two, HMAC: HMACConfig{TimestampUnit: "s"}}, vtHeader("X-Signature", "*", "X-Timestamp", strconv.FormatInt(vtNow.Unix(), 10))},
		{"hmac x-vapi-signature", AuthConfig{Mode: AuthHMAC, Secrets: two, HMAC: xvs}, vtHeader("X-Vapi-Signature", "*")},
		{"hmac svix", AuthConfig{Mode: AuthHMAC, Secrets: two, HMAC: HMACConfig{MessageIDHeader: "svix-id", PayloadFormat: "{svix-id}.{timestamp}.{body}", Encoding: "base64", Prefix: "v1,"}},
			vtHeader("X-Signature", "*", "X-Timestamp", vtMillis(vtNow), "Svix-Id", "*")},
		{"hmac base64 secret", AuthConfig{Mode: AuthHMAC, Secrets: []string{base64.StdEncoding.EncodeToString(vtKeyBytes)}, HMAC: HMACConfig{SecretIsBase64: true, Algorithm: "sha512"}},
			vtHeader("X-Signature", "*", "X-Timestamp", vtMillis(vtNow))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if err := Sign(tt.cfg, http.MethodPost, vtURL, h, vtBody, vtNow); err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if len(h) != len(tt.want) {
				t.Fatalf("Sign wrote %v, want %v", h, tt.want)
			}
			for k, want := range tt.want {
				if got := h.Values(k); len(got) != 1 || (want[0] != "*" && got[0] != want[0]) {
					t.Fatalf("Sign wrote %s=%q, want %q", k, got, want)
				}
			}
			if id := h.Get("Svix-Id"); id != "" && !strings.HasPrefix(id, "msg_") {
				t.Errorf("generated message id %q lacks msg_", id)
			}
			v := vtMustVerifier(t, tt.cfg)
			vtCheck(t, v.Verify(http.MethodPost, vtURL, h, vtBody, vtNow), "")
			if tt.cfg.Mode == "" && len(tt.cfg.Secrets) == 0 {
				return // none: nothing more to check
			}
			if err := v.Verify(http.MethodPost, vtURL, http.Header{}, vtBody, vtNow); err == nil {
				t.Error("a request with no headers verified")
			}
			// Sign used Secrets[0]: a verifier knowing only the second secret rejects it.
			onlySecond := tt.cfg
			onlySecond.Secrets = []string{vtSecret2}
			if tt.cfg.HMAC.SecretIsBase64 {
				onlySecond.Secrets = []string{base64.StdEncoding.EncodeToString([]byte(vtSecret2))}
			}
			if err := vtMustVerifier(t, onlySecond).Verify(http.MethodPost, vtURL, h, vtBody, vtNow); err == nil {
				t.Error("signature made with Secrets[0] verified against Secrets[1] alone")
			}
		})
	}
}

func TestSignMessageID(t *testing.T) {
	t.Parallel()
	cfg := AuthConfig{Mode: AuthHMAC, Secrets: []string{vtSecret1}, HMAC: HMACConfig{MessageIDHeader: "svix-id", PayloadFormat: "{svix-id}.{timestamp}.{body}"}}
	a, b := http.Header{}, http.Header{}
	for _, h := range []http.Header{a, b} {
		if err := Sign(cfg, http.MethodPost, vtURL, h, vtBody, vtNow); err != nil {
			t.Fatal(err)
		}
	}
	if a.Get("Svix-Id") == b.Get("Svix-Id") {
		t.Errorf("two Signs generated the same message id %q", a.Get("Svix-Id"))
	}
	kept := vtHeader("Svix-Id", "msg_existing")
	if err := Sign(cfg, http.MethodPost, vtURL, kept, vtBody, vtNow); err != nil {
		t.Fatal(err)
	}
	if got := kept.Get("Svix-Id"); got != "msg_existing" {
		t.Errorf("Sign replaced an existing message id with %q", got)
	}
	vtCheck(t, vtMustVerifier(t, cfg).Verify(http.MethodPost, vtURL, kept, vtBody, vtNow), "")
	kept.Set("Svix-Id", "msg_other")
	vtCheck(t, vtMustVerifier(t, cfg).Verify(http.MethodPost, vtURL, kept, vtBody, vtNow), "signature mismatch")
	kept.Del("Svix-Id")
	vtCheck(t, vtMustVerifier(t, cfg).Verify(http.MethodPost, vtURL, kept, vtBody, vtNow), "no Svix-Id header")

	// Sign replaces stale auth headers (replay re-signs with the current secret).
	stale := vtHeader("X-Signature", "[redacted]", "X-Timestamp", "1")
	if err := Sign(AuthConfig{Mode: AuthHMAC, Secrets: []string{vtSecret1}}, http.MethodPost, vtURL, stale, vtBody, vtNow); err != nil {
		t.Fatal(err)
	}
	if len(stale.Values("X-Signature")) != 1 || stale.Get("X-Signature") == "[redacted]" || stale.Get("X-Timestamp") == "1" {
		t.Errorf("Sign kept stale headers: %v", stale)
	}
}

func TestSignErrors(t *testing.T) {
	t.Parallel()
	if err := Sign(AuthConfig{Mode: AuthHMAC}, http.MethodPost, vtURL, http.Header{}, vtBody, vtNow); err == nil || !strings.Contains(err.Error(), "VAPI_WEBHOOK_SECRET") {
		t.Errorf("Sign with no secret = %v, want the Normalize error", err)
	}
	if err := Sign(AuthConfig{Secrets: []string{vtSecret1}}, http.MethodPost, vtURL, nil, vtBody, vtNow); err == nil {
		t.Error("Sign into a nil header succeeded")
	}
	if err := Sign(AuthConfig{}, http.MethodPost, vtURL, nil, vtBody, vtNow); err != nil {
		t.Errorf("Sign mode none into nil header = %v, want nil", err)
	}
}

// TestAuthTextNeverLeaksSecrets collects every operator-facing string for many
// failing requests and checks that none contains a configured secret or the
// MAC the verifier expected.
func TestAuthTextNeverLeaksSecrets(t *testing.T) {
	t.Parallel()
	secretB64 := base64.StdEncoding.EncodeToString([]byte(vtSecret2))
	ts := vtMillis(vtNow)
	stale := vtMillis(vtNow.Add(-time.Hour))
	xvs, _ := HMACPreset("x-vapi-signature")
	configs := []AuthConfig{
		{Mode: AuthSecret, Secrets: []string{vtSecret1, vtSecret2}},
		{Mode: AuthBearer, Secrets: []string{vtSecret1, vtSecret2}},
		{Mode: AuthBearer, Secrets: []string{vtSecret1}, Header: "X-Vapi-Secret", NoBearerPrefix: true},
		{Mode: AuthHMAC, Secrets: []string{vtSecret1, vtSecret2}},
		{Mode: AuthHMAC, Secrets: []string{vtSecret1}, HMAC: HMACConfig{Algorithm: "sha512", Encoding: "base64", Prefix: "sha512="}},
		{Mode: AuthHMAC, Secrets: []string{vtSecret1}, HMAC: xvs},
		{Mode: AuthHMAC, Secrets: []string{secretB64}, HMAC: HMACConfig{SecretIsBase64: true, Algorithm: "sha1"}},
	}
	// Requests that come close: wrong secrets, right secret wrong place, right
	// MAC over other bytes, right MAC but stale, and so on.
	requests := func(c AuthConfig) []http.Header {
		good := http.Header{}
		if err := Sign(c, http.MethodPost, vtURL, good, vtBody, vtNow); err != nil {
			t.Fatal(err)
		}
		// Authentic but stale or early: the reason is computed after the MAC matched.
		old, early := http.Header{}, http.Header{}
		if err := Sign(c, http.MethodPost, vtURL, old, vtBody, vtNow.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := Sign(c, http.MethodPost, vtURL, early, vtBody, vtNow.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		var hs []http.Header
		for _, name := range []string{"X-Vapi-Secret", "Authorization", "X-Signature", "X-Vapi-Signature"} {
			for _, val := range []string{vtSecret1, "Bearer " + vtSecret2, vtSecret1 + "x", "sha256=" + vtSecret1, "", "zz"} {
				hs = append(hs, vtHeader(name, val, "X-Timestamp", ts), vtHeader(name, val, "X-Timestamp", stale), vtHeader(name, val, "X-Timestamp", "abc"))
			}
		}
		hs = append(hs, old, early, vtHeader("X-Timestamp", vtMillis(vtNow.Add(time.Hour))))
		for k := range good {
			moved := good.Clone()
			moved.Del(k)
			hs = append(hs, moved)
		}
		return hs
	}
	bodies := [][]byte{vtBody, append(bytes.Clone(vtBody), '\n'), []byte(vtSecret1)}

	for _, c := range configs {
		v := vtMustVerifier(t, c)
		forbidden := []string{vtSecret1, vtSecret2, string(vtKeyBytes)}
		keys := [][]byte{[]byte(vtSecret1), []byte(vtSecret2)}
		if c.HMAC.SecretIsBase64 {
			forbidden = append(forbidden, secretB64)
			keys = [][]byte{[]byte(vtSecret2)}
		}
		texts := []string{c.Describe(), v.Config().Describe(), strings.Join(c.SensitiveHeaders(), " ")}
		nc := v.Config()
		failures := 0
		for _, h := range requests(c) {
			for _, body := range bodies {
				err := v.Verify(http.MethodPost, vtURL, h, body, vtNow)
				if err == nil {
					continue // the body does not matter in secret and bearer modes
				}
				failures++
				var ae *AuthError
				if !errors.As(err, &ae) {
					t.Fatalf("%s: Verify returned %T, want *AuthError", c.Describe(), err)
				}
				texts = append(texts, ae.Reason, err.Error())
				if nc.Mode != AuthHMAC {
					continue
				}
				// The MAC the verifier computed, for every key and for the
				// request's own timestamp and for now.
				for _, key := range keys {
					for _, stamp := range []string{h.Get(nc.HMAC.TimestampHeader), ts, stale, vtMillis(vtNow.Add(time.Hour))} {
						payload := string(body)
						if !nc.HMAC.NoTimestamp {
							payload = stamp + "." + payload
						}
						mac := vtMAC(nc.HMAC.Algorithm, key, payload)
						forbidden = append(forbidden,
							hex.EncodeToString(mac), strings.ToUpper(hex.EncodeToString(mac)),
							base64.StdEncoding.EncodeToString(mac), base64.RawStdEncoding.EncodeToString(mac),
							base64.RawURLEncoding.EncodeToString(mac), hex.EncodeToString(mac)[:16])
					}
				}
			}
		}
		if failures < 50 {
			t.Fatalf("%s: only %d failing requests; the test lost its teeth", c.Describe(), failures)
		}
		for _, text := range texts {
			for _, f := range forbidden {
				if strings.Contains(text, f) {
					t.Errorf("%q contains a secret or expected MAC (%q)", text, f)
				}
			}
		}
	}

	// Configuration errors mention secrets by position, never by value.
	for _, c := range []AuthConfig{
		{Mode: AuthHMAC, Secrets: []string{vtSecret1, "%%" + vtSecret2}, HMAC: HMACConfig{SecretIsBase64: true}},
		{Mode: AuthSecret, Secrets: []string{vtSecret1 + "\n"}},
		{Mode: AuthHMAC, Secrets: []string{vtSecret1}, HMAC: HMACConfig{Algorithm: "md5"}},
		{Mode: "basic", Secrets: []string{vtSecret1}},
	} {
		_, err := c.Normalize()
		if err == nil {
			t.Fatalf("Normalize(%s) succeeded", c.Describe())
		}
		for _, text := range []string{err.Error(), c.Describe()} {
			if strings.Contains(text, vtSecret1) || strings.Contains(text, vtSecret2) {
				t.Errorf("%q contains a secret", text)
			}
		}
	}
}

func TestNormalizeDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   AuthConfig
		want AuthConfig
	}{
		{"zero is none", AuthConfig{}, AuthConfig{Mode: AuthNone}},
		{"empty secrets dropped", AuthConfig{Secrets: []string{""}}, AuthConfig{Mode: AuthNone}},
		{"secrets imply secret", AuthConfig{Secrets: []string{vtSecret1, "", vtSecret2}},
			AuthConfig{Mode: AuthSecret, Secrets: []string{vtSecret1, vtSecret2}, Header: "X-Vapi-Secret"}},
		{"mode is case-insensitive", AuthConfig{Mode: " Bearer ", Secrets: []string{vtSecret1}},
			AuthConfig{Mode: AuthBearer, Secrets: []string{vtSecret1}, Header: "Authorization", BearerPrefix: "Bearer "}},
		{"no bearer prefix wins", AuthConfig{Mode: AuthBearer, Secrets: []string{vtSecret1}, BearerPrefix: "Token ", NoBearerPrefix: true},
			AuthConfig{Mode: AuthBearer, Secrets: []string{vtSecret1}, Header: "Authorization", NoBearerPrefix: true}},
		{"hmac defaults", AuthConfig{Mode: AuthHMAC, Secrets: []string{vtSecret1}},
			AuthConfig{Mode: AuthHMAC, Secrets: []string{vtSecret1}, HMAC: HMACConfig{Algorithm: "sha256", SignatureHeader: "x-signature",
				TimestampHeader: "x-timestamp", PayloadFormat: "{timestamp}.{body}", Encoding: "hex", Tolerance: 5 * time.Minute, TimestampUnit: "auto"}}},
		{"hmac no timestamp", AuthConfig{Mode: AuthHMAC, Secrets: []string{vtSecret1}, HMAC: HMACConfig{NoTimestamp: true, Algorithm: "SHA512", Encoding: "Base64"}},
			AuthConfig{Mode: AuthHMAC, Secrets: []string{vtSecret1}, HMAC: HMACConfig{Algorithm: "sha512", SignatureHeader: "x-signature",
				TimestampHeader: "x-timestamp", PayloadFormat: "{body}", Encoding: "base64", NoTimestamp: true, Tolerance: 5 * time.Minute, TimestampUnit: "auto"}}},
		{"none ignores bad hmac settings", AuthConfig{Mode: AuthNone, HMAC: HMACConfig{Algorithm: "md5"}},
			AuthConfig{Mode: AuthNone, HMAC: HMACConfig{Algorithm: "md5"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.in.Normalize()
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Normalize =\n%#v\nwant\n%#v", got, tt.want)
			}
			again, err := got.Normalize()
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("Normalize is not idempotent: %#v, %v", again, err)
			}
		})
	}
}

func TestNormalizeDoesNotAlias(t *testing.T) {
	t.Parallel()
	secrets := []string{vtSecret1}
	v := vtMustVerifier(t, AuthConfig{Secrets: secrets})
	secrets[0] = "changed"
	c := v.Config()
	c.Secrets[0] = "changed too"
	vtCheck(t, v.Verify(http.MethodPost, vtURL, vtHeader("X-Vapi-Secret", vtSecret1), vtBody, vtNow), "")
	if v.Config().Secrets[0] != vtSecret1 {
		t.Error("Config() exposes the verifier's Secrets slice")
	}
}

func TestNormalizeErrors(t *testing.T) {
	t.Parallel()
	one := []string{vtSecret1}
	tests := []struct {
		name string
		in   AuthConfig
		want []string // substrings of the error
	}{
		{"unknown mode", AuthConfig{Mode: "basic", Secrets: one}, []string{`unknown auth mode "basic"`, "none, secret, bearer or hmac"}},
		{"secret without secret", AuthConfig{Mode: AuthSecret}, []string{"secret", "--secret", "VAPI_WEBHOOK_SECRET"}},
		{"bearer without secret", AuthConfig{Mode: AuthBearer, Secrets: []string{""}}, []string{"bearer", "--secret", "VAPI_WEBHOOK_SECRET"}},
		{"hmac without secret", AuthConfig{Mode: AuthHMAC}, []string{"hmac", "--secret", "VAPI_WEBHOOK_SECRET"}},
		{"unknown algorithm", AuthConfig{Mode: AuthHMAC, Secrets: one, HMAC: HMACConfig{Algorithm: "md5"}}, []string{`"md5"`, "sha256, sha512 or sha1"}},
		{"unknown encoding", AuthConfig{Mode: AuthHMAC, Secrets: one, HMAC: HMACConfig{Encoding: "base32"}}, []string{`"base32"`, "hex or base64"}},
		{"unknown unit", AuthConfig{Mode: AuthHMAC, Secrets: one, HMAC: HMACConfig{TimestampUnit: "us"}}, []string{`"us"`, "auto, s or ms"}},
		{"secret not base64", AuthConfig{Mode: AuthHMAC, Secrets: []string{"c2VjcmV0", "not base64!"}, HMAC: HMACConfig{SecretIsBase64: true}}, []string{"secret 2 of 2", "not valid base64"}},
		{"secret base64 empty", AuthConfig{Mode: AuthHMAC, Secrets: []string{"===="}, HMAC: HMACConfig{SecretIsBase64: true}}, []string{"secret 1 of 1"}},
		{"negative tolerance", AuthConfig{Mode: AuthHMAC, Secrets: one, HMAC: HMACConfig{Tolerance: -time.Minute}}, []string{"negative"}},
		{"svix-id without header", AuthConfig{Mode: AuthHMAC, Secrets: one, HMAC: HMACConfig{PayloadFormat: "{svix-id}.{body}"}}, []string{"{svix-id}", "message id header"}},
		{"typo placeholder", AuthConfig{Mode: AuthHMAC, Secrets: one, HMAC: HMACConfig{PayloadFormat: "{timestmap}.{body}"}}, []string{"unknown placeholder {timestmap}", "{body}, {timestamp}, {method}, {url} or {svix-id}"}},
		{"no body", AuthConfig{Mode: AuthHMAC, Secrets: one, HMAC: HMACConfig{PayloadFormat: "{timestamp}"}}, []string{"lacks {body}"}},
		{"timestamp placeholder but timestamps off", AuthConfig{Mode: AuthHMAC, Secrets: one, HMAC: HMACConfig{NoTimestamp: true, PayloadFormat: "{timestamp}.{body}"}}, []string{"timestamps are off"}},
		{"same signature and timestamp header", AuthConfig{Mode: AuthHMAC, Secrets: one, HMAC: HMACConfig{SignatureHeader: "X-Sig", TimestampHeader: "x-sig"}}, []string{"must differ"}},
		{"bad hmac header name", AuthConfig{Mode: AuthHMAC, Secrets: one, HMAC: HMACConfig{SignatureHeader: "x signature"}}, []string{`invalid HMAC signature header name "x signature"`}},
		{"bad secret header name", AuthConfig{Mode: AuthSecret, Secrets: one, Header: "x-secret:"}, []string{"invalid secret header name"}},
		{"secret with newline", AuthConfig{Mode: AuthBearer, Secrets: []string{vtSecret1, vtSecret2 + "\n"}}, []string{"secret 2 of 2", "whitespace"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.in.Normalize()
			if err == nil {
				t.Fatal("Normalize succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if v, err := NewVerifier(tt.in); err == nil || v != nil {
				t.Errorf("NewVerifier = %v, %v; want nil and an error", v, err)
			}
		})
	}
}

func TestHMACPreset(t *testing.T) {
	t.Parallel()
	vapi, err := HMACPreset("vapi")
	if err != nil {
		t.Fatal(err)
	}
	fromPreset, err := AuthConfig{Mode: AuthHMAC, Secrets: []string{vtSecret1}, HMAC: vapi}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	fromDefaults, _ := AuthConfig{Mode: AuthHMAC, Secrets: []string{vtSecret1}}.Normalize()
	if !reflect.DeepEqual(fromPreset, fromDefaults) {
		t.Errorf("vapi preset %#v differs from the defaults %#v", fromPreset.HMAC, fromDefaults.HMAC)
	}
	vapi.NoTimestamp = true // the preset must still let timestamps be switched off
	if n, err := (AuthConfig{Mode: AuthHMAC, Secrets: []string{vtSecret1}, HMAC: vapi}).Normalize(); err != nil || n.HMAC.PayloadFormat != "{body}" {
		t.Errorf("vapi preset with NoTimestamp: %q, %v", n.HMAC.PayloadFormat, err)
	}

	xvs, err := HMACPreset("X-Vapi-Signature")
	if err != nil {
		t.Fatal(err)
	}
	want := HMACConfig{Algorithm: "sha256", SignatureHeader: "x-vapi-signature", PayloadFormat: "{body}", Encoding: "hex", NoTimestamp: true}
	if xvs != want {
		t.Errorf("x-vapi-signature preset = %#v, want %#v", xvs, want)
	}

	if _, err := HMACPreset("stripe"); err == nil || !strings.Contains(err.Error(), "vapi or x-vapi-signature") {
		t.Errorf("unknown preset error = %v", err)
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	xvs, _ := HMACPreset("x-vapi-signature")
	tests := []struct {
		in   AuthConfig
		want string
	}{
		{AuthConfig{}, "none: requests are NOT verified"},
		{AuthConfig{Mode: AuthNone, Secrets: []string{vtSecret1}}, "none: requests are NOT verified"},
		{AuthConfig{Secrets: []string{vtSecret1}}, "x-vapi-secret"},
		{AuthConfig{Secrets: []string{vtSecret1, vtSecret2}}, "x-vapi-secret (2 secrets)"},
		{AuthConfig{Mode: AuthSecret}, "x-vapi-secret (no secret set)"},
		{AuthConfig{Mode: AuthBearer, Secrets: []string{vtSecret1}}, "bearer Authorization"},
		{AuthConfig{Mode: AuthBearer, Secrets: []string{vtSecret1, vtSecret2}, Header: "X-Vapi-Secret", NoBearerPrefix: true}, "bearer X-Vapi-Secret (no prefix, 2 secrets)"},
		{AuthConfig{Mode: AuthHMAC, Secrets: []string{vtSecret1}}, "hmac sha256 x-signature (±5m)"},
		{AuthConfig{Mode: AuthHMAC, Secrets: []string{vtSecret1, vtSecret2}, HMAC: HMACConfig{Algorithm: "sha512", Encoding: "base64", Tolerance: 90 * time.Second}}, "hmac sha512/base64 x-signature (±1m30s, 2 secrets)"},
		{AuthConfig{Mode: AuthHMAC, Secrets: []string{vtSecret1}, HMAC: HMACConfig{Tolerance: time.Hour}}, "hmac sha256 x-signature (±1h)"},
		{AuthConfig{Mode: AuthHMAC, Secrets: []string{vtSecret1}, HMAC: xvs}, "hmac sha256 x-vapi-signature (no timestamp)"},
		{AuthConfig{Mode: "basic"}, `unknown auth mode "basic"`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := tt.in.Describe(); got != tt.want {
				t.Errorf("Describe = %q, want %q", got, tt.want)
			}
			if n, err := tt.in.Normalize(); err == nil && n.Describe() != tt.want {
				t.Errorf("Describe after Normalize = %q, want %q", n.Describe(), tt.want)
			}
		})
	}
}

func TestSensitiveHeaders(t *testing.T) {
	t.Parallel()
	xvs, _ := HMACPreset("x-vapi-signature")
	tests := []struct {
		name string
		in   AuthConfig
		want []string
	}{
		{"none", AuthConfig{}, []string{"Authorization", "X-Vapi-Secret", "X-Signature", "X-Vapi-Signature"}},
		{"secret default", AuthConfig{Secrets: []string{vtSecret1}}, []string{"Authorization", "X-Vapi-Secret", "X-Signature", "X-Vapi-Signature"}},
		{"secret custom", AuthConfig{Secrets: []string{vtSecret1}, Header: "x-hook-token"}, []string{"Authorization", "X-Vapi-Secret", "X-Signature", "X-Vapi-Signature", "X-Hook-Token"}},
		{"bearer custom", AuthConfig{Mode: AuthBearer, Header: "X-API-KEY"}, []string{"Authorization", "X-Vapi-Secret", "X-Signature", "X-Vapi-Signature", "X-Api-Key"}},
		{"hmac default", AuthConfig{Mode: AuthHMAC}, []string{"Authorization", "X-Vapi-Secret", "X-Signature", "X-Vapi-Signature"}},
		{"hmac preset", AuthConfig{Mode: AuthHMAC, HMAC: xvs}, []string{"Authorization", "X-Vapi-Secret", "X-Signature", "X-Vapi-Signature"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.in.SensitiveHeaders(); !slices.Equal(got, tt.want) {
				t.Errorf("SensitiveHeaders = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	c := AuthConfig{Mode: AuthHMAC, Secrets: []string{vtSecret1}, HMAC: HMACConfig{SignatureHeader: "x-vapi-signature"}}
	h := vtHeader(
		"Authorization", "Bearer "+vtSecret1, "Authorization", "Basic "+vtSecret2,
		"X-Vapi-Secret", vtSecret1,
		"X-Vapi-Signature", "abc",
		"X-Timestamp", "1764417600000",
		"Content-Type", "application/json",
	)
	h["x-vapi-secret"] = []string{vtSecret2} // non-canonical, as a hand-edited tape might hold
	orig := h.Clone()

	got := c.Redact(h)
	want := http.Header{
		"Authorization":    {"[redacted]", "[redacted]"},
		"X-Vapi-Secret":    {"[redacted]"},
		"x-vapi-secret":    {"[redacted]"},
		"X-Vapi-Signature": {"[redacted]"},
		"X-Timestamp":      {"1764417600000"},
		"Content-Type":     {"application/json"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Redact = %v, want %v", got, want)
	}
	if !reflect.DeepEqual(h, orig) {
		t.Fatalf("Redact modified its input: %v", h)
	}
	got["Content-Type"][0] = "changed"
	if h.Get("Content-Type") != "application/json" {
		t.Fatal("Redact's copy shares value slices with its input")
	}
	if c.Redact(nil) != nil {
		t.Error("Redact(nil) != nil")
	}
}

func TestVerifyFailsClosed(t *testing.T) {
	t.Parallel()
	var nilV *Verifier
	if err := nilV.Verify(http.MethodPost, vtURL, nil, vtBody, vtNow); err == nil {
		t.Error("nil Verifier accepted a request")
	}
	if err := new(Verifier).Verify(http.MethodPost, vtURL, nil, vtBody, vtNow); err == nil {
		t.Error("zero Verifier accepted a request")
	}
}

// TestVerifyConcurrent lets -race check that a Verifier is safe to share.
func TestVerifyConcurrent(t *testing.T) {
	t.Parallel()
	cfg := AuthConfig{Mode: AuthHMAC, Secrets: []string{vtSecret1, vtSecret2}}
	v := vtMustVerifier(t, cfg)
	h := http.Header{}
	if err := Sign(cfg, http.MethodPost, vtURL, h, vtBody, vtNow); err != nil {
		t.Fatal(err)
	}
	webhooktest.Concurrently(t, 8, 50, func(_, _ int) error {
		return v.Verify(http.MethodPost, vtURL, h, vtBody, vtNow)
	})
}
