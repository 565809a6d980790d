package daemon

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// serveTest serves h with limits on a fresh control socket and returns its path.
func serveTest(t *testing.T, l controlLimits, h http.Handler) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sock", "lvsd.sock")
	ln, err := ListenControl(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := l.server(h)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l.listener(ln))
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		srv.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("server did not stop")
		}
	})
	return path
}

// echo answers with the number of body bytes it could read, or 413 past the body limit.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	n, err := io.Copy(io.Discard, r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		return
	}
	fmt.Fprintf(w, "%d", n)
})

func get(t *testing.T, socket string, method string, body io.Reader) (int, string) {
	t.Helper()
	code, b, err := fetch(socket, method, body)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	return code, b
}

func fetch(socket string, method string, body io.Reader) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://lvsd/x", body)
	if err != nil {
		return 0, "", err
	}
	resp, err := controlTestClient(socket).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func controlTestClient(socket string) *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", socket)
	}}}
}

func TestControlSocketPrivate(t *testing.T) {
	path := serveTest(t, defaultControlLimits, echo)
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", p, got, want)
		}
	}
}

func TestControlRequestSizeBounded(t *testing.T) {
	path := serveTest(t, defaultControlLimits, echo)
	if code, body := get(t, path, "POST", strings.NewReader(strings.Repeat("x", 1000))); code != 200 || body != "1000" {
		t.Errorf("small body: %d %q", code, body)
	}
	if code, _ := get(t, path, "POST", io.LimitReader(rand.Reader, 5<<20)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("5 MiB body: status %d, want 413", code)
	}
	req, _ := http.NewRequest("GET", "http://lvsd/x", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 64<<10))
	resp, err := controlTestClient(path).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("64 KiB header: status %d, want 431", resp.StatusCode)
	}
}

// TestControlSlowAndGarbageClients: a client that stalls in the middle of its headers and
// one that sends random bytes do not keep others from being answered, and the stalled
// connection is closed once the header timeout passes.
func TestControlSlowAndGarbageClients(t *testing.T) {
	lim := defaultControlLimits
	lim.header, lim.read = 300*time.Millisecond, 300*time.Millisecond
	path := serveTest(t, lim, echo)

	slow, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if _, err := io.WriteString(slow, "GET /x HTTP/1.1\r\nHost: lvsd\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	garbage, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer garbage.Close()
	junk := make([]byte, 64<<10)
	rand.Read(junk)
	go garbage.Write(junk) // may fail once the server has answered 400 and closed

	if code, body := get(t, path, "GET", nil); code != 200 || body != "0" {
		t.Errorf("with a slow and a garbage client connected: %d %q", code, body)
	}
	line, err := bufio.NewReader(garbage).ReadString('\n')
	if !strings.HasPrefix(line, "HTTP/1.1 400") {
		t.Errorf("garbage client: answer %q (err %v), want 400", line, err)
	}
	slow.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(slow); err != nil {
		t.Errorf("stalled client: connection not closed by the server: %v", err)
	}
}

// TestControlConcurrentClients: clients beyond the connection limit wait in the backlog and
// are all answered; the limit frees slots when connections close.
func TestControlConcurrentClients(t *testing.T) {
	lim := defaultControlLimits
	lim.maxConns = 4
	var mu sync.Mutex
	inFlight, peak := 0, 0
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		inFlight--
		mu.Unlock()
		w.Header().Set("Connection", "close")
		io.WriteString(w, "ok")
	})
	path := serveTest(t, lim, h)
	var wg sync.WaitGroup
	errs := make(chan string, 40)
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, body, err := fetch(path, "GET", nil); err != nil || code != 200 || body != "ok" {
				errs <- fmt.Sprintf("%d %q %v", code, body, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if peak > lim.maxConns || peak < 2 {
		t.Errorf("peak of %d requests at once, want 2..%d", peak, lim.maxConns)
	}
}
