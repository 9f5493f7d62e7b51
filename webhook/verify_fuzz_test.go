package webhook

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"testing"
	"time"
)

// vtFuzzConfigs cover every mode and the HMAC knobs that change parsing.
var vtFuzzConfigs = func() []AuthConfig {
	xvs, err := HMACPreset("x-vapi-signature")
	if err != nil {
		panic(err)
	}
	two := []string{vtSecret1, vtSecret2}
	return []AuthConfig{
		{},
		{Mode: AuthSecret, Secrets: two},
		{Mode: AuthBearer, Secrets: two},
		{Mode: AuthBearer, Secrets: two, Header: "X-Vapi-Secret", NoBearerPrefix: true},
		{Mode: AuthHMAC, Secrets: two},
		{Mode: AuthHMAC, Secrets: two, HMAC: xvs},
		{Mode: AuthHMAC, Secrets: two, HMAC: HMACConfig{Algorithm: "sha512", Encoding: "base64", Prefix: "v1,",
			MessageIDHeader: "svix-id", PayloadFormat: "{svix-id}.{timestamp}.{method}.{url}.{body}", TimestampUnit: "s"}},
		{Mode: AuthHMAC, Secrets: []string{base64.StdEncoding.EncodeToString(vtKeyBytes)},
			HMAC: HMACConfig{Algorithm: "sha1", Prefix: "sha1=", SecretIsBase64: true, TimestampUnit: "ms", Tolerance: time.Second}},
	}
}()

// FuzzVerify feeds hostile header values and bodies to every mode. Verify must
// never panic and must fail only with *AuthError; a request made by Sign must
// always verify; and for HMAC, changing one byte of the body must not.
func FuzzVerify(f *testing.F) {
	f.Add(uint8(4), "abc", "1795953600000", "msg_1", "POST", vtURL, vtBody)
	f.Add(uint8(1), vtSecret1, "", "", "POST", vtURL, []byte{})
	f.Add(uint8(2), "Bearer "+vtSecret2, "x", "", "GET", "", []byte("{}"))
	f.Add(uint8(6), "v1,AAAA v1,"+vtSecret1, "1e300", "msg_\x00", "POST", "http://[::1]:4242/{body}", []byte("{timestamp}"))
	f.Add(uint8(7), "sha1=zz,sha1=", "-9223372036854775808", "", "", "", []byte("\xff\xfe"))
	f.Add(uint8(5), ", , ,", "NaN", "", "PUT", vtURL, []byte("\x1b[2J"))
	f.Add(uint8(4), "", " 1795953600 ", "", "POST", vtURL, []byte(nil))

	verifiers := make([]*Verifier, len(vtFuzzConfigs))
	for i, c := range vtFuzzConfigs {
		v, err := NewVerifier(c)
		if err != nil {
			f.Fatalf("config %d: %v", i, err)
		}
		verifiers[i] = v
	}

	f.Fuzz(func(t *testing.T, which uint8, sig, ts, msgID, method, url string, body []byte) {
		i := int(which) % len(vtFuzzConfigs)
		cfg, v := vtFuzzConfigs[i], verifiers[i]
		n := v.Config()

		// Hostile request: every header anyone might read holds fuzzed text.
		h := http.Header{}
		for _, name := range []string{"X-Vapi-Secret", "Authorization", "X-Signature", "X-Vapi-Signature"} {
			h.Set(name, sig)
		}
		h.Add("X-Signature", ts)
		h.Set("X-Timestamp", ts)
		h.Set("Svix-Id", msgID)
		if err := v.Verify(method, url, h, body, vtNow); err != nil {
			var ae *AuthError
			if !errors.As(err, &ae) || ae.Reason == "" {
				t.Fatalf("Verify returned %#v, want *AuthError with a reason", err)
			}
		}

		// Honest request: what Sign writes must verify.
		signed := http.Header{}
		if msgID != "" {
			signed.Set("Svix-Id", msgID)
		}
		if err := Sign(cfg, method, url, signed, body, vtNow); err != nil {
			t.Fatalf("Sign: %v", err)
		}
		if err := v.Verify(method, url, signed, body, vtNow); err != nil {
			t.Fatalf("Sign then Verify (config %d, %s): %v; headers %q", i, n.Describe(), err, signed)
		}
		if n.Mode != AuthHMAC {
			return
		}
		tampered := append(bytes.Clone(body), 'x')
		if err := v.Verify(method, url, signed, tampered, vtNow); err == nil {
			t.Fatalf("config %d: body with a byte appended still verified", i)
		}
		if len(body) > 0 {
			tampered = bytes.Clone(body)
			tampered[0] ^= 1
			if err := v.Verify(method, url, signed, tampered, vtNow); err == nil {
				t.Fatalf("config %d: body with a flipped bit still verified", i)
			}
		}
	})
}
