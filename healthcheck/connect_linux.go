package healthcheck

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// connectOnly opens a TCP connection to the target and closes it: the whole of a
// tcp_check. It uses raw non-blocking sockets instead of net.Dialer because a checker does
// tens of thousands of these a second and needs none of net.Conn's set-up (getpeername,
// getsockname, TCP_NODELAY, ...): the fast path, taken when the handshake is already done
// when connect returns (loopback, very near servers), is three syscalls plus close; other
// connections wait in Go's netpoller like any socket.
func (o ConnOpts) connectOnly(ctx context.Context) error {
	timeout := o.timeout()
	fail := func(err error) error {
		return fmt.Errorf("connect %s: %s", o.Target, terse(err, timeout))
	}
	family, sa := sockaddr(o.Target)
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fail(os.NewSyscallError("socket", err))
	}
	if o.BindTo.IsValid() {
		_, bsa := sockaddr(netip.AddrPortFrom(o.BindTo, 0))
		if err := unix.Bind(fd, bsa); err != nil {
			unix.Close(fd)
			return fail(err)
		}
	}
	err = unix.Connect(fd, sa)
	if (err == unix.EINPROGRESS || err == unix.EINTR) && !slowPathOnly {
		// A second connect reports the state: done (EISCONN), pending (EALREADY), failed.
		err = unix.Connect(fd, sa)
		if err == unix.EISCONN {
			err = nil
		}
	}
	if err == nil || (err != unix.EALREADY && err != unix.EINPROGRESS && err != unix.EINTR) {
		unix.Close(fd)
		if err != nil {
			return fail(err)
		}
		return nil
	}

	// Slow path: wait for the handshake in the netpoller.
	f := os.NewFile(uintptr(fd), "tcp_check")
	defer f.Close()
	_ = f.SetWriteDeadline(time.Now().Add(timeout))
	stop := context.AfterFunc(ctx, func() { _ = f.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	rc, err := f.SyscallConn()
	if err != nil {
		return fail(err)
	}
	// The state is probed with connect() itself, also on the first call: RawWrite resets
	// the poller's write readiness before calling us, so an edge that came between
	// registration and that reset is lost; probing after the reset closes the gap.
	var soErr error
	werr := rc.Write(func(fd uintptr) bool {
		switch err := unix.Connect(int(fd), sa); err {
		case nil, unix.EISCONN:
		case unix.EALREADY, unix.EINPROGRESS, unix.EINTR:
			return false
		default:
			soErr = err
		}
		return true
	})
	if werr != nil {
		if ctx.Err() != nil {
			return fail(ctx.Err())
		}
		return fail(werr)
	}
	if soErr != nil {
		return fail(soErr)
	}
	return nil
}

// slowPathOnly makes connectOnly always wait in the netpoller (tests of that path: on
// loopback the fast path nearly always wins).
var slowPathOnly = false

func sockaddr(ap netip.AddrPort) (int, unix.Sockaddr) {
	a := ap.Addr()
	if a.Is4() || a.Is4In6() {
		return unix.AF_INET, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.Unmap().As4()}
	}
	sa := &unix.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16()}
	if z := a.Zone(); z != "" {
		if ifi, err := netInterfaceIndex(z); err == nil {
			sa.ZoneId = uint32(ifi)
		}
	}
	return unix.AF_INET6, sa
}
