package relay_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/relay"
	"github.com/vapimon/vapimon/webhook"
)

// The relay benchmark sends the same tool-calls webhook, one request at a time, to the
// developer's server three ways in the same run:
//
//	direct        client → server
//	vapimon       client → webhook.Handler (parse, forward, record to a tape, bus) → server
//	reverseproxy  client → httputil.ReverseProxy → server
//
// plus forwarder-only (Forwarder.Respond → server, no inbound hop). The -http.Transport
// variants send through http.Transport instead of the forwarder's own client for plain
// http (h1client.go): its baseline in the same run. Each reports ns/op
// (the mean) and p50-ns / p99-ns per request. Compare ratios, not absolute numbers:
//
//	go test -run '^$' -bench BenchmarkRelay -benchtime 3000x ./relay/

const benchBody = `{"message":{"type":"tool-calls","timestamp":1760000006200,"call":{"id":"7420f27a-30fd-4f49-a995-5549ae7cc00d","orgId":"0b1c9e2a-1111-4000-8000-000000000000","type":"inboundPhoneCall","customer":{"number":"+14155550123"}},"toolCallList":[{"id":"call_VaJOd8ZeZgWCEHDYomyCPfwN","type":"function","function":{"name":"get_weather","arguments":{"location":"Paris"}}}],"toolWithToolCallList":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}},"server":{"url":"https://abc.ngrok.app/vapi"},"messages":[],"async":false,"toolCall":{"id":"call_VaJOd8ZeZgWCEHDYomyCPfwN","type":"function","function":{"name":"get_weather","arguments":{"location":"Paris"}}}}]}}`

const benchReply = `{"results":[{"toolCallId":"call_VaJOd8ZeZgWCEHDYomyCPfwN","name":"get_weather","result":"Paris: 18C, light rain"}]}`

// devServer stands for the developer's server: read the body, answer the tool call.
func devServer(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, benchReply)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// vapimonServer is the relay path as vapimon runs it with --forward-to and a tape.
func vapimonServer(b *testing.B, target string, client ...*http.Client) *httptest.Server {
	routes, err := relay.ParseRoutes([]string{target})
	if err != nil {
		b.Fatal(err)
	}
	bus := webhook.NewBus()
	sub := bus.Subscribe(4096)
	drained := make(chan struct{})
	go func() {
		for range sub {
		}
		close(drained)
	}()
	tape, err := fixtures.OpenTape(filepath.Join(b.TempDir(), "bench.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	o := relay.ForwardOptions{Bus: bus}
	if len(client) > 0 {
		o.Client = client[0]
	}
	fwd := relay.NewForwarder(routes, o)
	h := webhook.NewHandler(webhook.Config{Responders: []webhook.Responder{fwd}, Recorder: tape, Bus: bus})
	srv := httptest.NewServer(h)
	b.Cleanup(func() {
		srv.Close()
		bus.Close()
		<-drained
		_ = tape.Close()
	})
	return srv
}

func reverseProxyServer(b *testing.B, target string) *httptest.Server {
	u, err := url.Parse(target)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(httputil.NewSingleHostReverseProxy(u))
	b.Cleanup(srv.Close)
	return srv
}

func BenchmarkRelay(b *testing.B) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true}}
	b.Cleanup(client.CloseIdleConnections)
	post := func(b *testing.B, url string) {
		req, _ := http.NewRequest(http.MethodPost, url+"/vapi", bytes.NewReader([]byte(benchBody)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Vapi-Secret", "bench-secret")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != benchReply {
			b.Fatalf("HTTP %d %q", resp.StatusCode, body)
		}
	}

	b.Run("direct", func(b *testing.B) {
		dev := devServer(b)
		measure(b, func() { post(b, dev.URL) })
	})
	b.Run("vapimon", func(b *testing.B) {
		dev := devServer(b)
		vm := vapimonServer(b, dev.URL)
		measure(b, func() { post(b, vm.URL) })
	})
	b.Run("vapimon-http.Transport", func(b *testing.B) {
		dev := devServer(b)
		vm := vapimonServer(b, dev.URL, stdClient())
		measure(b, func() { post(b, vm.URL) })
	})
	b.Run("reverseproxy", func(b *testing.B) {
		dev := devServer(b)
		rp := reverseProxyServer(b, dev.URL)
		measure(b, func() { post(b, rp.URL) })
	})
	forwarderOnly := func(b *testing.B, o relay.ForwardOptions) {
		dev := devServer(b)
		routes, _ := relay.ParseRoutes([]string{dev.URL})
		fwd := relay.NewForwarder(routes, o)
		msg, err := webhook.Parse([]byte(benchBody))
		if err != nil {
			b.Fatal(err)
		}
		ev := &webhook.Event{Method: http.MethodPost, Path: "/vapi", Body: []byte(benchBody),
			WireHeader: http.Header{"Content-Type": {"application/json"}, "X-Vapi-Secret": {"bench-secret"}},
			RemoteAddr: "127.0.0.1:5555", Host: "127.0.0.1", Proto: "http", Msg: msg}
		measure(b, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 18*time.Second)
			defer cancel()
			if _, err := fwd.Respond(ctx, ev); err != nil {
				b.Fatal(err)
			}
		})
	}
	b.Run("forwarder-only", func(b *testing.B) { forwarderOnly(b, relay.ForwardOptions{}) })
	b.Run("forwarder-only-http.Transport", func(b *testing.B) { forwarderOnly(b, relay.ForwardOptions{Client: stdClient()}) })
}

// stdClient is a client of the caller's own, so that the forwarder sends through
// http.Transport (configured as the default one) rather than its own HTTP/1.1 client:
// the baseline of the fast path, in the same run.
func stdClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: 128, MaxIdleConnsPerHost: 128, IdleConnTimeout: 90 * time.Second, DisableCompression: true}}
}

// measure runs one request per iteration and reports the median and p99 latency.
func measure(b *testing.B, once func()) {
	for range 50 { // warm connections and pools
		once()
	}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		once()
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}
