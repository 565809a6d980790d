package daemon

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzControlRequest writes arbitrary bytes to a live control socket (the daemon's own
// handlers and transport limits) as one client, then closes its side. The server must
// answer with nothing or with a well-formed HTTP response, and must go on answering a
// well-formed status request afterwards.
func FuzzControlRequest(f *testing.F) {
	f.Add([]byte("GET /status HTTP/1.1\r\nHost: lvsd\r\n\r\n"))
	f.Add([]byte("GET /status HTTP/1.1\r\nHost: lvsd\r\n\r\nGET /status HTTP/1.0\r\n\r\n"))
	f.Add([]byte("POST /reload HTTP/1.1\r\nHost: lvsd\r\nContent-Length: 5\r\n\r\nhello"))
	f.Add([]byte("POST /plan HTTP/1.1\r\nHost: lvsd\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\n"))
	f.Add([]byte("GET /../../etc/passwd HTTP/1.1\r\nHost: lvsd\r\n\r\n"))
	f.Add([]byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: lvsd\r\nX: " + strings.Repeat("a", 20000) + "\r\n\r\n"))
	path := filepath.Join(f.TempDir(), "lvsd.sock")
	ln, err := ListenControl(path)
	if err != nil {
		f.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- ServeControl(ctx, ln, &fakeController{status: Status{RouterID: "fuzz"}}, slog.New(slog.DiscardHandler))
	}()
	f.Cleanup(func() {
		cancel()
		<-done
	})
	client := controlTestClient(path)
	f.Fuzz(func(t *testing.T, req []byte) {
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		go func() {
			c.Write(req) // fails when the server has answered and closed first
			c.(*net.UnixConn).CloseWrite()
		}()
		answer, err := io.ReadAll(c)
		if err != nil && !strings.Contains(err.Error(), "reset by peer") {
			t.Fatalf("reading the answer: %v", err)
		}
		if len(answer) > 0 {
			if _, err := http.ReadResponse(bufio.NewReader(strings.NewReader(string(answer))), nil); err != nil {
				t.Fatalf("malformed answer %q: %v", answer, err)
			}
		}
		resp, err := client.Get("http://lvsd/status")
		if err != nil {
			t.Fatalf("status after the fuzzed request: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status after the fuzzed request: %s", resp.Status)
		}
	})
}
