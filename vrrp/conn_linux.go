package vrrp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

const (
	ipProtoVRRP = 112
	vrrpTTL     = 255  // RFC 3768 5.2.3: sent with TTL 255, received ones must have 255
	vrrpTOS     = 0xc0 // DSCP CS6 "internetwork control", as keepalived sends
	// recvBufSize holds any VRRP message (at most 8 + 16*255 bytes, VRRPv3 over IPv6)
	// with room to spare; a larger datagram is truncated and then rejected by the codec.
	recvBufSize = 8192
)

// rawConn is the Linux Conn: a raw ip4:112 socket bound to one interface. The kernel
// builds the IP header (TTL and TOS are socket options) and hands only protocol 112 to
// this socket, so nothing of another protocol is ever read.
type rawConn struct {
	ifname string
	ifi    *net.Interface
	pc     *ipv4.PacketConn
	src    netip.Addr // source address put on every advert; invalid = kernel's choice
	peers  []netip.Addr
	closer
}

// closer closes a socket once, however often Close is called.
type closer struct {
	raw       net.PacketConn
	closeOnce sync.Once
	closeErr  error
}

// Close releases the socket and unblocks a pending Recv. It may be called more than once.
func (c *closer) Close() error {
	c.closeOnce.Do(func() { c.closeErr = c.raw.Close() })
	return c.closeErr
}

var _ Conn = (*rawConn)(nil)

// NewConn opens the VRRP transport on ifname. With no peers it joins 224.0.0.18 on the
// interface and sends adverts there (from unicastSrc if valid, else from the interface's
// primary IPv4 address). With peers it is keepalived's unicast mode: the socket is bound to
// unicastSrc (so it only receives adverts addressed to us) and Send to the group address
// goes to each peer instead. Recv returns every VRRP packet, including those from
// addresses that are not peers: the state machine decides and counts drops.
func NewConn(ifname string, unicastSrc netip.Addr, peers []netip.Addr) (Conn, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("vrrp socket on %s: %w", ifname, err)
	}
	unicast := len(peers) > 0
	if unicast && !unicastSrc.Is4() {
		return nil, fmt.Errorf("vrrp socket on %s: unicast peers need an IPv4 unicast_src_ip, got %v", ifname, unicastSrc)
	}
	for _, p := range peers {
		if !p.Is4() {
			return nil, fmt.Errorf("vrrp socket on %s: unicast peer %v is not IPv4", ifname, p)
		}
	}
	src := unicastSrc
	if !src.Is4() {
		// The RFC wants the primary address as the advert's source; pin it rather than
		// let the kernel choose, which may pick a VIP once VIPs are on the interface.
		if p, err := PrimaryIPv4(ifname); err == nil {
			src = p
		} else {
			src = netip.Addr{}
		}
	}

	lc := bindToDevice(ifname)
	laddr := "0.0.0.0"
	if unicast {
		laddr = unicastSrc.String()
	}
	raw, err := lc.ListenPacket(context.Background(), "ip4:112", laddr)
	if err != nil {
		return nil, fmt.Errorf("vrrp socket on %s (bind %s): %w", ifname, laddr, err)
	}
	c := &rawConn{ifname: ifname, ifi: ifi, closer: closer{raw: raw}, pc: ipv4.NewPacketConn(raw), src: src, peers: append([]netip.Addr(nil), peers...)}
	if err := c.setup(unicast); err != nil {
		raw.Close()
		return nil, fmt.Errorf("vrrp socket on %s: %w", ifname, err)
	}
	return c, nil
}

// bindToDevice is a ListenConfig whose sockets only see ifname's packets.
func bindToDevice(ifname string) net.ListenConfig {
	return net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, ifname)
		})
		if err != nil {
			return err
		}
		if serr != nil {
			return fmt.Errorf("SO_BINDTODEVICE %s: %w", ifname, serr)
		}
		return nil
	}}
}

func (c *rawConn) setup(unicast bool) error {
	if err := c.pc.SetTTL(vrrpTTL); err != nil {
		return fmt.Errorf("set TTL: %w", err)
	}
	if err := c.pc.SetTOS(vrrpTOS); err != nil {
		return fmt.Errorf("set TOS: %w", err)
	}
	if err := c.pc.SetControlMessage(ipv4.FlagTTL|ipv4.FlagDst|ipv4.FlagInterface, true); err != nil {
		return fmt.Errorf("enable IP_RECVTTL/IP_PKTINFO: %w", err)
	}
	if unicast {
		return nil
	}
	if err := c.pc.SetMulticastTTL(vrrpTTL); err != nil {
		return fmt.Errorf("set multicast TTL: %w", err)
	}
	return joinGroup(c.pc, c.ifi, MulticastGroup)
}

// multicastConn is what ipv4.PacketConn and ipv6.PacketConn share for multicast.
type multicastConn interface {
	SetMulticastLoopback(on bool) error
	SetMulticastInterface(ifi *net.Interface) error
	JoinGroup(ifi *net.Interface, group net.Addr) error
}

// joinGroup sends to and receives from group on ifi.
func joinGroup(pc multicastConn, ifi *net.Interface, group netip.Addr) error {
	// Our own adverts must not come back to us: the state machine would see a peer with
	// our own priority and address.
	if err := pc.SetMulticastLoopback(false); err != nil {
		return fmt.Errorf("disable multicast loopback: %w", err)
	}
	if err := pc.SetMulticastInterface(ifi); err != nil {
		return fmt.Errorf("set multicast interface: %w", err)
	}
	if err := pc.JoinGroup(ifi, &net.IPAddr{IP: net.IP(group.AsSlice())}); err != nil {
		return fmt.Errorf("join %s: %w", group, err)
	}
	return nil
}

// Send transmits payload to dst. In unicast mode a send to the VRRP group goes to every
// configured peer instead (the state machine need not know the mode); the first error is
// returned after trying all peers.
func (c *rawConn) Send(payload []byte, dst netip.Addr) error {
	return fanOut(payload, dst, MulticastGroup, c.peers, c.sendTo)
}

// fanOut sends a message for group to every peer instead when there are peers.
func fanOut(payload []byte, dst, group netip.Addr, peers []netip.Addr, sendTo func([]byte, netip.Addr) error) error {
	if dst == group && len(peers) > 0 {
		var first error
		for _, p := range peers {
			if err := sendTo(payload, p); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	return sendTo(payload, dst)
}

func (c *rawConn) sendTo(payload []byte, dst netip.Addr) error {
	if !dst.Is4() {
		return fmt.Errorf("send advert on %s: destination %v is not IPv4", c.ifname, dst)
	}
	cm := &ipv4.ControlMessage{IfIndex: c.ifi.Index}
	if c.src.IsValid() {
		cm.Src = net.IP(c.src.AsSlice())
	}
	if _, err := c.pc.WriteTo(payload, cm, &net.IPAddr{IP: net.IP(dst.AsSlice())}); err != nil {
		return fmt.Errorf("send advert on %s to %s: %w", c.ifname, dst, err)
	}
	return nil
}

// Recv returns the next VRRP packet with its IP source, destination and received TTL.
func (c *rawConn) Recv() (Packet, error) {
	buf := make([]byte, recvBufSize)
	for {
		n, cm, src, err := c.pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return Packet{}, fmt.Errorf("vrrp socket on %s: %w", c.ifname, net.ErrClosed)
			}
			return Packet{}, fmt.Errorf("receive on %s: %w", c.ifname, err)
		}
		if cm == nil {
			// Without the control message we cannot check the TTL: never pass such a
			// packet on (it cannot happen once IP_RECVTTL is set).
			continue
		}
		p := Packet{TTL: uint8(cm.TTL), Payload: append([]byte(nil), buf[:n]...)}
		if a, ok := src.(*net.IPAddr); ok {
			p.Src = ipToAddr(a.IP)
		}
		p.Dst = ipToAddr(cm.Dst)
		return p, nil
	}
}

func ipToAddr(ip net.IP) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	return a.Unmap()
}
