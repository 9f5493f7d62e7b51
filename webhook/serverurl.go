package webhook

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// ParseServerURL reads the URL of a server that vapimon posts webhooks to (a --forward-to
// target, the --to of send and replay), the one rule for both: surrounding space is
// trimmed, "http://" is added when there is no scheme (so "localhost:3000/hook" works),
// the scheme must be http or https, and there must be a host and, when given, a port
// number. It returns the URL as written with the scheme added (what send signs and
// posts) and the parsed URL (which the forwarder puts in canonical form). The error says
// what is wrong without naming the flag, for the caller to prefix.
func ParseServerURL(raw string) (string, *url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil, errors.New("the URL is empty")
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", nil, fmt.Errorf("not a URL: %v", err)
	}
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return "", nil, fmt.Errorf("scheme %q is not supported: use http:// or https://", u.Scheme)
	}
	if u.Hostname() == "" {
		return "", nil, errors.New("the URL has no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", nil, fmt.Errorf("port %q is not a port number", p)
		}
	}
	return raw, u, nil
}
