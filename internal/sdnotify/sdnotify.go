// Package sdnotify tells systemd about the daemon's state (sd_notify(3)): a datagram of
// newline-separated VAR=VALUE assignments sent to the unix socket named in $NOTIFY_SOCKET.
// A unit with Type=notify (or notify-reload) waits for READY=1 before it counts lvsd as
// started, and shows RELOADING=1 / STOPPING=1 while lvsd reloads or stops.
package sdnotify

import (
	"fmt"
	"net"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Notifier sends to one socket. The zero Notifier (no socket) sends nothing.
type Notifier struct {
	addr string // "" when not run by a service manager
}

// FromEnv returns a Notifier for $NOTIFY_SOCKET and unsets the variable, so that the
// scripts lvsd runs do not talk to systemd in its name.
func FromEnv() *Notifier {
	n := &Notifier{addr: os.Getenv("NOTIFY_SOCKET")}
	os.Unsetenv("NOTIFY_SOCKET")
	return n
}

// New returns a Notifier for the socket at addr: a path, or an abstract socket name
// starting with '@'.
func New(addr string) *Notifier { return &Notifier{addr: addr} }

// Enabled reports whether there is somebody to tell.
func (n *Notifier) Enabled() bool { return n != nil && n.addr != "" }

// Notify sends the states (e.g. "READY=1", "STATUS=running") in one datagram.
func (n *Notifier) Notify(states ...string) error {
	if !n.Enabled() || len(states) == 0 {
		return nil
	}
	for _, s := range states {
		if !strings.Contains(s, "=") || strings.Contains(s, "\n") {
			return fmt.Errorf("sd_notify: %q is not one VAR=VALUE line", s)
		}
	}
	name := n.addr
	if name[0] == '@' {
		name = "\x00" + name[1:] // abstract namespace
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("sd_notify %s: %w", n.addr, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(strings.Join(states, "\n") + "\n")); err != nil {
		return fmt.Errorf("sd_notify %s: %w", n.addr, err)
	}
	return nil
}

// MonotonicMicros is CLOCK_MONOTONIC in microseconds, the clock of MONOTONIC_USEC (sent
// with RELOADING=1 so that systemd knows which reload the next READY=1 completes).
func MonotonicMicros() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return ts.Nano() / 1000
}
