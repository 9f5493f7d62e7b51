package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestListenCountsWhatNetHTTPRefuses: a request net/http refuses before vapimon's handler
// (headers over the cap) is not silent: headless mode prints a rejected line for it.
func TestListenCountsWhatNetHTTPRefuses(t *testing.T) {
	t.Parallel()
	p := startVapimon(t, procOpts{args: []string{"--headless", "--no-tunnel"}})
	from := p.nlines()
	c, err := net.Dial("tcp", strings.TrimPrefix(p.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "POST /vapi/webhook HTTP/1.1\r\nHost: x\r\nX-Pad: "+strings.Repeat("a", 100<<10)+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("HTTP %d, want 431", resp.StatusCode)
	}
	l := p.mustLine(from, "a rejected line for the 431", func(l line) bool { return l.Kind == "rejected" && l.Status == 431 })
	if l.Path != "/vapi/webhook" || !strings.Contains(l.Reason, "headers larger than 64 KiB") {
		t.Errorf("rejected line %+v", l)
	}
}
