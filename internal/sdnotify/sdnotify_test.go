package sdnotify

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func listen(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func read(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

func TestNotifyPathAndAbstract(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	abstract := fmt.Sprintf("lvsd-sdnotify-test-%d", os.Getpid())
	for _, tc := range []struct{ addr, listen string }{{path, path}, {"@" + abstract, "\x00" + abstract}} {
		c := listen(t, tc.listen)
		n := New(tc.addr)
		if err := n.Notify("RELOADING=1", "MONOTONIC_USEC=42"); err != nil {
			t.Fatal(err)
		}
		if got := read(t, c); got != "RELOADING=1\nMONOTONIC_USEC=42\n" {
			t.Errorf("%s: got %q", tc.addr, got)
		}
		if err := n.Notify("READY=1"); err != nil {
			t.Fatal(err)
		}
		if got := read(t, c); got != "READY=1\n" {
			t.Errorf("%s: got %q", tc.addr, got)
		}
	}
}

func TestNotifyDisabledAndBadInput(t *testing.T) {
	var zero *Notifier
	if zero.Enabled() || zero.Notify("READY=1") != nil {
		t.Error("a nil Notifier must be a silent no-op")
	}
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "x"))
	n := FromEnv()
	if !n.Enabled() || os.Getenv("NOTIFY_SOCKET") != "" {
		t.Errorf("FromEnv: enabled %v, NOTIFY_SOCKET left %q", n.Enabled(), os.Getenv("NOTIFY_SOCKET"))
	}
	if err := n.Notify("READY=1"); err == nil || !strings.Contains(err.Error(), "sd_notify") {
		t.Errorf("send to a missing socket: err %v", err)
	}
	if err := New("/x").Notify("READY=1\nSTOPPING=1"); err == nil {
		t.Error("a state with a newline was accepted")
	}
}

func TestMonotonicMicros(t *testing.T) {
	a := MonotonicMicros()
	time.Sleep(2 * time.Millisecond)
	if b := MonotonicMicros(); a <= 0 || b <= a {
		t.Errorf("MonotonicMicros %d then %d", a, b)
	}
}
