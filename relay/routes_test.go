package relay

import (
	"fmt"
	"testing"

	"github.com/vapimon/vapimon/webhook/webhooktest"
)

func TestParseRoutes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		specs   []string
		want    []Route
		wantErr string
	}{
		{"bare host gets http", []string{"localhost:3000"}, []Route{{"*", "http://localhost:3000"}}, ""},
		{"typed routes", []string{"tool-calls=http://localhost:3000/tools", "*=https://dev.example.com/webhook"},
			[]Route{{"tool-calls", "http://localhost:3000/tools"}, {"*", "https://dev.example.com/webhook"}}, ""},
		{"query with =", []string{"http://localhost:3000/hook?token=a=b"}, []Route{{"*", "http://localhost:3000/hook?token=a=b"}}, ""},
		{"typed, no scheme", []string{"status-update=127.0.0.1:8080/s"}, []Route{{"status-update", "http://127.0.0.1:8080/s"}}, ""},
		{"literal final transcript", []string{`transcript[transcriptType="final"]=localhost:9/t`}, []Route{{`transcript[transcriptType="final"]`, "http://localhost:9/t"}}, ""},
		{"fragment dropped", []string{"HTTP://localhost:3000/x#frag"}, []Route{{"*", "http://localhost:3000/x"}}, ""},
		{"typo in type", []string{"tool-call=http://localhost:3000"}, nil, `--forward-to "tool-call=http://localhost:3000": unknown message type "tool-call" (did you mean tool-calls?)`},
		{"unknown type", []string{"banana=http://localhost:3000"}, nil, `--forward-to "banana=http://localhost:3000": unknown message type "banana"`},
		{"scheme", []string{"ftp://localhost/x"}, nil, `--forward-to "ftp://localhost/x": scheme "ftp" is not supported: use http:// or https://`},
		{"empty", []string{"tool-calls="}, nil, `--forward-to "tool-calls=": the URL is empty`},
		{"no host", []string{"http://:3000/x"}, nil, `--forward-to "http://:3000/x": the URL has no host`},
		{"bad port", []string{"localhost:99999"}, nil, `--forward-to "localhost:99999": port "99999" is not a port number`},
		{"not a URL", []string{"http://local host/"}, nil, `--forward-to "http://local host/": not a URL: invalid character " " in host name`},
		{"two catch-alls", []string{"localhost:1", "localhost:2"}, nil, `--forward-to "localhost:2": every other message type (*) already goes to http://localhost:1`},
		{"same type twice", []string{"tool-calls=localhost:1", "tool-calls=localhost:2"}, nil, `--forward-to "tool-calls=localhost:2": message type tool-calls already goes to http://localhost:1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseRoutes(tt.specs)
			if webhooktest.WantErrExact(t, err, tt.wantErr) {
				return
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("routes = %v, want %v", got, tt.want)
			}
		})
	}
}
