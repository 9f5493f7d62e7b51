package tui

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/charmbracelet/colorprofile"
	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/webhook"
)

// TestCompactEventKeepsEveryField: a compacted row's copy of the event has every field of
// the event the handler made but the parsed message and the headers as sent, and parsing
// its body again gives the same message. A field added to webhook.Event and not copied
// fails here.
func TestCompactEventKeepsEveryField(t *testing.T) {
	body := []byte(weatherBody)
	msg, err := webhook.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	ev := &webhook.Event{Msg: msg, Body: body}
	v := reflect.ValueOf(ev).Elem()
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Name
		switch {
		case name == "Msg" || name == "Body":
		case f.Kind() == reflect.String:
			f.SetString("value of " + name)
		case f.Kind() == reflect.Bool:
			f.SetBool(true)
		case f.CanInt():
			f.SetInt(int64(i + 1))
		case f.CanUint():
			f.SetUint(uint64(i + 1))
		case f.Type() == reflect.TypeOf(time.Time{}):
			f.Set(reflect.ValueOf(time.Date(2026, 12, 3, 15, 0, i, 0, time.UTC)))
		case f.Type() == reflect.TypeOf(http.Header{}):
			f.Set(reflect.ValueOf(http.Header{name: {"v"}}))
		default:
			t.Fatalf("webhook.Event.%s (%s): teach this test to fill it, and compactEvent to copy it", name, f.Type())
		}
	}
	r := newEventRow(ev)
	r.out = &webhook.Outcome{Seq: ev.Seq}
	r.compactEvent()
	if !r.compact || r.ev == ev {
		t.Fatal("the row was not compacted")
	}
	got := reflect.ValueOf(r.ev).Elem()
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		switch name {
		case "Msg", "WireHeader":
			if !got.Field(i).IsZero() {
				t.Errorf("the compacted event keeps %s", name)
			}
		default:
			if !reflect.DeepEqual(got.Field(i).Interface(), v.Field(i).Interface()) {
				t.Errorf("the compacted event's %s is %v, want %v", name, got.Field(i), v.Field(i))
			}
		}
	}
	if again := r.message(); !reflect.DeepEqual(again, msg) {
		t.Errorf("the body parsed again gives %+v, want %+v", again, msg)
	}
	if whole := r.event(); whole.Msg == nil || whole.Seq != ev.Seq || r.ev.Msg != nil {
		t.Errorf("event() = %+v; the row's copy must keep no message (%v)", whole, r.ev.Msg)
	}
}

// TestCompactedRowsShowTheSame: past compactAge newer rows, a row keeps its request but not
// its parsed message; its line, filter text, detail view and resend record are what they
// were before. A row still waiting for its reply is not compacted.
func TestCompactedRowsShowTheSame(t *testing.T) {
	clk := newClock(base)
	m := NewModel(Options{Now: clk.Now}, nil)
	st := NewStyles(true, colorprofile.TrueColor)
	type shown struct {
		line, search string
		detail       []string
		rec          fixtures.Record
	}
	show := func(r *eventRow) shown {
		r.txt = nil // made again, from the message the row has now
		r.matches("x")
		d := newDetail(&st, r, clk.Now(), 120)
		rec, _ := m.resendRecord(r, true)
		return shown{r.text().typ + " " + r.text().summary, r.text().search, d.lines, rec}
	}
	const n = compactAge + 50
	var before []shown
	for i := 1; i <= n; i++ {
		body := fmt.Sprintf(`{"message":{"type":"transcript","role":"user","transcriptType":"final","transcript":"utterance %d","call":{"id":"c-%d"}}}`, i, i%3)
		msg, err := webhook.Parse([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		ev := &webhook.Event{Seq: uint64(i), Received: base.Add(time.Duration(i) * time.Millisecond), Method: "POST", Path: "/vapi",
			Header: http.Header{"Content-Type": {"application/json"}, "X-Vapi-Secret": {"[redacted]"}}, Body: []byte(body), Msg: msg, Verified: true, AuthMode: webhook.AuthSecret}
		if i == 2 {
			ev.Deadline = base.Add(time.Hour) // waits for a reply that has not come
		}
		m.addEvent(ev)
		r := m.events.at(m.events.len() - 1)
		if i != 2 {
			r.out = &webhook.Outcome{Seq: ev.Seq, Reply: webhook.Ack(), Latency: time.Millisecond}
		}
		before = append(before, show(r))
	}
	for i := range n {
		r := m.events.at(i)
		if want := i < n-compactAge && i != 1; r.compact != want {
			t.Fatalf("row #%d compact = %v, want %v", r.seq, r.compact, want)
		}
		if got := show(r); !reflect.DeepEqual(got, before[i]) {
			t.Errorf("row #%d (compact %v) shows\n%+v\nwant\n%+v", r.seq, r.compact, got, before[i])
		}
	}
	if !slices.ContainsFunc(before[0].detail, func(l string) bool { return len(l) > 0 }) {
		t.Fatal("the detail view is empty: the comparison proves nothing")
	}
}
