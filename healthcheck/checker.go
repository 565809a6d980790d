// Package healthcheck decides which real servers of each virtual server get traffic, the way
// keepalived's checker does: checkers (TCP, HTTP, HTTPS, MISC) report results; a per-real-
// server state machine turns results into up/down with keepalived's retry semantics; pool
// logic turns up/down, weights, quorum and the sorry server into the desired destination
// list; a scheduler runs every check on time with one timer and a bounded worker pool.
// Nothing here touches the kernel: the daemon hands the destination lists to the LVS
// reconciler.
package healthcheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
)

// DefaultConnectTimeout bounds a connection whose ConnOpts leave ConnectTimeout 0 (the
// config layer always sets it; this only protects direct users of the checkers).
const DefaultConnectTimeout = 5 * time.Second

// Checker runs one check of one real server. Implementations are safe for concurrent use
// by different goroutines only if documented; the scheduler never runs one Checker twice
// at the same time.
type Checker interface {
	Check(ctx context.Context) Result
}

// Result is what one check found.
type Result struct {
	Up bool
	// Why says what happened, e.g. "connect 10.0.0.5:80: connection refused".
	Why     string
	Latency time.Duration
	// Weight is set by a misc_dynamic check that exited 2-255: the real server's weight
	// becomes *Weight (exit status - 2). nil: the configured weight.
	Weight *int
}

// ConnOpts are the connection options shared by the TCP and HTTP checkers (keepalived's
// connect_ip, connect_port, bindto, connect_timeout).
type ConnOpts struct {
	// Target is connect_ip:connect_port; use WithDefaults to fill it from the real server.
	Target netip.AddrPort
	// BindTo is the local source address (zero: chosen by the kernel).
	BindTo netip.Addr
	// ConnectTimeout bounds the connection (and, for HTTP, the whole request); 0 means
	// DefaultConnectTimeout.
	ConnectTimeout time.Duration
}

// WithDefaults fills what is unset from the real server's address: connect_ip defaults to
// the real server's IP, connect_port to its port, as in keepalived.
func (o ConnOpts) WithDefaults(rs netip.AddrPort) ConnOpts {
	ip, port := o.Target.Addr(), o.Target.Port()
	if !ip.IsValid() {
		ip = rs.Addr()
	}
	if port == 0 {
		port = rs.Port()
	}
	o.Target = netip.AddrPortFrom(ip, port)
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	return o
}

func (o ConnOpts) timeout() time.Duration {
	if o.ConnectTimeout <= 0 {
		return DefaultConnectTimeout
	}
	return o.ConnectTimeout
}

func (o ConnOpts) dialer() *net.Dialer {
	d := &net.Dialer{Timeout: o.timeout(), KeepAlive: -1}
	if o.BindTo.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: o.BindTo.AsSlice(), Zone: o.BindTo.Zone()}
	}
	return d
}

// dial connects to the target and returns a terse error such as
// "connect 10.0.0.5:80: connection refused" or "connect 10.0.0.5:80: timeout after 5s".
func (o ConnOpts) dial(ctx context.Context) (net.Conn, error) {
	c, err := o.dialer().DialContext(ctx, "tcp", o.Target.String())
	if err != nil {
		return nil, fmt.Errorf("connect %s: %s", o.Target, terse(err, o.timeout()))
	}
	return c, nil
}

// terse reduces a net error to its cause: errno text, or "timeout after D".
func terse(err error, timeout time.Duration) string {
	var errno syscall.Errno
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("timeout after %v", timeout)
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &errno):
		return errno.Error()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Sprintf("timeout after %v", timeout)
	}
	return err.Error()
}
