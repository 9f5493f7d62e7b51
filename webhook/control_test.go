package webhook

import (
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/vapimon/vapimon/webhook/vapischema"
)

// controlCases are the bodies vapimon POSTs, each with the body Vapi's Live Call Control
// docs show for it and the ClientInboundMessage* schema it must satisfy.
func controlCases(t *testing.T) []struct {
	name, schema, want string
	c                  Control
} {
	say, err := Say("Welcome to Vapi", false, false)
	sayEnd, err2 := Say("Goodbye", true, true)
	add, err3 := AddMessage("system", "New message added to conversation", true)
	mute, err4 := Mute("assistant", true)
	unmute, err5 := Mute("caller", false)
	num, err6 := Transfer("+1234567890", "Transferring your call now")
	sip, err7 := Transfer("sip:+15555550100@sip.telnyx.com", "")
	for _, e := range []error{err, err2, err3, err4, err5, err6, err7} {
		if e != nil {
			t.Fatal(e)
		}
	}
	return []struct {
		name, schema, want string
		c                  Control
	}{
		{"say", "ClientInboundMessageSay", `{"type":"say","content":"Welcome to Vapi","interruptAssistantEnabled":false,"endCallAfterSpoken":false}`, say},
		{"say interrupt end", "ClientInboundMessageSay", `{"type":"say","content":"Goodbye","interruptAssistantEnabled":true,"endCallAfterSpoken":true}`, sayEnd},
		{"add-message", "ClientInboundMessageAddMessage", `{"type":"add-message","message":{"role":"system","content":"New message added to conversation"},"triggerResponseEnabled":true}`, add},
		{"mute", "ClientInboundMessageControl", `{"type":"control","control":"mute-assistant"}`, mute},
		{"unmute customer", "ClientInboundMessageControl", `{"type":"control","control":"unmute-customer"}`, unmute},
		{"end-call", "ClientInboundMessageEndCall", `{"type":"end-call"}`, EndCall()},
		{"transfer number", "ClientInboundMessageTransfer", `{"type":"transfer","content":"Transferring your call now","destination":{"type":"number","number":"+1234567890"}}`, num},
		{"transfer sip", "ClientInboundMessageTransfer", `{"type":"transfer","destination":{"type":"sip","sipUri":"sip:+15555550100@sip.telnyx.com"}}`, sip},
	}
}

// TestControlBodies checks each body byte for byte against the docs' shape, against its
// ClientInboundMessage* schema, and that every key is one the schema names (the schemas
// allow unknown keys, which Vapi would ignore silently).
func TestControlBodies(t *testing.T) {
	t.Parallel()
	schemas := vapischema.SkipIfMissing(t)
	raw, err := os.ReadFile(schemas.Path())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, tc := range controlCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.c)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("body\n got %s\nwant %s", b, tc.want)
			}
			if err := schemas.Validate(tc.schema, b); err != nil {
				t.Errorf("%s: %v", tc.schema, err)
			}
			var keys map[string]json.RawMessage
			_ = json.Unmarshal(b, &keys)
			props := doc.Components.Schemas[tc.schema].Properties
			if len(props) == 0 {
				t.Fatalf("schema %s has no properties", tc.schema)
			}
			for k := range keys {
				if _, ok := props[k]; !ok {
					t.Errorf("key %q is not in %s", k, tc.schema)
				}
			}
			if _, err := ParseControl(b); err != nil {
				t.Errorf("ParseControl refuses our own body: %v", err)
			}
		})
	}
	// The check can fail: a control value Vapi does not know is refused by the schema.
	if err := schemas.Validate("ClientInboundMessageControl", []byte(`{"type":"control","control":"mute-everyone"}`)); err == nil {
		t.Error("schema accepted control mute-everyone")
	}
}

func TestControlInputErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"empty say", second(Say("  ", false, false)), "empty"},
		{"bad role", second(AddMessage("tool", "x", true)), "use system, user or assistant"},
		{"bad side", second(Mute("everyone", true)), "use assistant or customer"},
		{"bad number", second(Transfer("4155550123", "")), "neither an E.164 number"},
		{"bad sip", second(Transfer("sip:", "")), "not a SIP URI"},
		{"long say", second(Say(strings.Repeat("a", maxControlText+1), false, false)), "more than"},
	}
	for _, tc := range tests {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, tc.err, tc.want)
		}
	}
}

func second(_ Control, err error) error { return err }

func TestParseControlRefuses(t *testing.T) {
	t.Parallel()
	bad := map[string]string{
		`{"type":"shout"}`: "unknown control message type",
		`{}`:               "no type",
		`{"type":"say"}`:   "empty",
		`{"type":"control","control":"mute-everyone"}`:        "is not one of",
		`{"type":"transfer"}`:                                 "needs a destination",
		`{"type":"transfer","destination":{"type":"number"}}`: "destination must be",
		`{"type":"add-message"}`:                              "needs a message",
		`not json`:                                            "not a control message",
	}
	var got []string
	for body, want := range bad {
		if _, err := ParseControl([]byte(body)); err == nil || !strings.Contains(err.Error(), want) {
			got = append(got, body+": "+errString(err))
		}
	}
	sort.Strings(got)
	for _, g := range got {
		t.Error(g)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestControlDescribe(t *testing.T) {
	t.Parallel()
	say, err := Say("We'll call you back", true, true)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := say.Describe(), `say "We'll call you back" (interrupting, then end the call)`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	add, err := AddMessage("system", "be brief", false)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := add.Describe(), `add-message system "be brief" (silently)`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
