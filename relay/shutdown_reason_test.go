package relay

import (
	"context"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vapimon/vapimon/webhook"
	"github.com/vapimon/vapimon/webhook/webhooktest"
)

// TestShutdownDuringRestoreSaysClosed: vapimon shuts down (hurried: a second ctrl+c)
// while it puts Vapi's settings back; the request still waiting gets a fallback that says
// vapimon was closed (found in review: it said the request "was cancelled", as if its
// sender had hung up, because the listener closes only after the restore).
func TestShutdownDuringRestoreSaysClosed(t *testing.T) {
	api := newFakeVapi(t)
	seed(api)
	release := make(chan struct{})
	var patches atomic.Int32
	api.onPatch = func(string) {
		if patches.Add(1) > 1 { // the restore
			<-release
		}
	}
	asked := make(chan struct{}, 1)
	cfg := testConfig(t)
	cfg.Tunnel.PublicURL = publicURL
	cfg.Vapi = VapiConfig{Targets: []Target{{KindAssistant, "asst-1"}}, APIKey: testKey, BaseURL: api.srv.URL, StatePath: filepath.Join(t.TempDir(), "pointed.json")}
	cfg.Operator = webhook.ResponderFunc{N: "slow", F: func(ctx context.Context, ev *webhook.Event) (webhook.Reply, error) {
		asked <- struct{}{}
		<-ctx.Done()
		return webhook.Reply{}, ctx.Err()
	}}
	s := NewSession(cfg)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	type res struct {
		code int
		body string
	}
	got := make(chan res, 1)
	go func() {
		code, body := webhooktest.Post(t, s.Status().ListenURL+"/vapi", toolCallsBody)
		got <- res{code, body}
	}()
	<-asked
	hurry := make(chan struct{})
	close(hurry) // asked twice: the fallbacks go at once
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(hurry) }()
	r := <-got
	close(release)
	<-done
	if r.code != 200 || !strings.Contains(r.body, "vapimon was closed") {
		t.Errorf("fallback while vapimon shuts down: HTTP %d %s", r.code, r.body)
	}
}
