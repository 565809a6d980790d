package realserver

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// Listener is one listening TCP socket.
type Listener struct {
	Addr netip.AddrPort
}

// tcpListen is the st column of a listening socket in /proc/net/tcp.
const tcpListen = "0A"

// ParseProcNetTCP reads /proc/net/tcp or /proc/net/tcp6 and returns the listening sockets.
func ParseProcNetTCP(r io.Reader) ([]Listener, error) {
	var out []Listener
	sc := bufio.NewScanner(r)
	first := true
	for sc.Scan() {
		if first { // header
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			continue
		}
		if f[3] != tcpListen {
			continue
		}
		ap, err := parseHexAddrPort(f[1])
		if err != nil {
			return nil, err
		}
		out = append(out, Listener{Addr: ap})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read listeners: %w", err)
	}
	return out, nil
}

// parseHexAddrPort decodes "0100007F:0050": the address as 32-bit words in the kernel's
// (host) byte order, the port in hex.
func parseHexAddrPort(s string) (netip.AddrPort, error) {
	h, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("listener address %q: no port", s)
	}
	raw, err := hex.DecodeString(h)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("listener address %q: bad address", s)
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("listener address %q: bad port", s)
	}
	b := make([]byte, len(raw))
	for i := 0; i < len(raw); i += 4 {
		binary.BigEndian.PutUint32(b[i:], binary.NativeEndian.Uint32(raw[i:]))
	}
	a, _ := netip.AddrFromSlice(b)
	return netip.AddrPortFrom(a, uint16(port)), nil
}

// ListenerVerdict says whether connections to vip:port would be accepted by a listener,
// and if not, why, in words for the operator.
func ListenerVerdict(vip netip.Addr, port uint16, ls []Listener) (ok bool, why string) {
	var others []string
	for _, l := range ls {
		if l.Addr.Port() != port {
			continue
		}
		a := l.Addr.Addr()
		switch {
		case a.Unmap() == vip:
			return true, fmt.Sprintf("listening on %v", l.Addr)
		case a.IsUnspecified() && (a.Is4() == vip.Is4() || a.Is6()):
			// A [::] socket takes IPv4 too unless it is IPV6_V6ONLY (the default
			// net.ipv6.bindv6only=0 lets it).
			return true, fmt.Sprintf("listening on all addresses (%v)", l.Addr)
		default:
			others = append(others, l.Addr.String())
		}
	}
	if len(others) == 0 {
		return false, fmt.Sprintf("nothing listens on TCP port %d: start the service, listening on 0.0.0.0:%d or %v", port, port, netip.AddrPortFrom(vip, port))
	}
	return false, fmt.Sprintf("port %d listens on %s only, not on the VIP %v: the director sends clients' packets for %v here, and no socket accepts them (connections fail or hang half-open); make the service listen on all addresses (0.0.0.0:%d) or also on %v",
		port, strings.Join(others, ", "), vip, netip.AddrPortFrom(vip, port), port, netip.AddrPortFrom(vip, port))
}
