package vrrp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/net/ipv6"
)

// vrrpChecksumOffset is where the checksum sits in a VRRP message: IPV6_CHECKSUM makes the
// kernel fill it in over the IPv6 pseudo-header on send and verify it on receipt.
const vrrpChecksumOffset = 6

// rawConn6 is the Linux Conn of a VRRPv3 IPv6 instance: a raw ip6:112 socket bound to
// one interface, sending from the interface's link-local address to ff02::12 (RFC 5798
// section 5.1.2) or to the unicast peers, with hop limit 255.
type rawConn6 struct {
	ifname string
	ifi    *net.Interface
	pc     *ipv6.PacketConn
	src    netip.Addr
	peers  []netip.Addr
	closer
}

var _ Conn = (*rawConn6)(nil)

// NewConn6 opens the IPv6 VRRP transport on ifname. src is the advert's source: the
// interface's link-local address (LinkLocalIPv6), or unicast_src_ip. With no peers it
// joins ff02::12 on the interface; with peers (keepalived's unicast mode) a send to the
// group goes to each peer instead.
func NewConn6(ifname string, src netip.Addr, peers []netip.Addr) (Conn, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("vrrp IPv6 socket on %s: %w", ifname, err)
	}
	if !src.Is6() || src.Is4In6() {
		return nil, fmt.Errorf("vrrp IPv6 socket on %s: source %v is not IPv6", ifname, src)
	}
	for _, p := range peers {
		if !p.Is6() || p.Is4In6() {
			return nil, fmt.Errorf("vrrp IPv6 socket on %s: unicast peer %v is not IPv6", ifname, p)
		}
	}
	lc := bindToDevice(ifname)
	raw, err := lc.ListenPacket(context.Background(), "ip6:112", "::")
	if err != nil {
		return nil, fmt.Errorf("vrrp IPv6 socket on %s: %w", ifname, err)
	}
	c := &rawConn6{ifname: ifname, ifi: ifi, closer: closer{raw: raw}, pc: ipv6.NewPacketConn(raw), src: src.WithZone(""),
		peers: append([]netip.Addr(nil), peers...)}
	if err := c.setup(len(peers) > 0); err != nil {
		raw.Close()
		return nil, fmt.Errorf("vrrp IPv6 socket on %s: %w", ifname, err)
	}
	return c, nil
}

func (c *rawConn6) setup(unicast bool) error {
	if err := c.pc.SetChecksum(true, vrrpChecksumOffset); err != nil {
		return fmt.Errorf("set IPV6_CHECKSUM: %w", err)
	}
	if err := c.pc.SetHopLimit(vrrpTTL); err != nil {
		return fmt.Errorf("set hop limit: %w", err)
	}
	if err := c.pc.SetTrafficClass(vrrpTOS); err != nil {
		return fmt.Errorf("set traffic class: %w", err)
	}
	if err := c.pc.SetControlMessage(ipv6.FlagHopLimit|ipv6.FlagDst|ipv6.FlagInterface, true); err != nil {
		return fmt.Errorf("enable IPV6_RECVHOPLIMIT/IPV6_RECVPKTINFO: %w", err)
	}
	if unicast {
		return nil
	}
	if err := c.pc.SetMulticastHopLimit(vrrpTTL); err != nil {
		return fmt.Errorf("set multicast hop limit: %w", err)
	}
	return joinGroup(c.pc, c.ifi, MulticastGroup6)
}

// Send transmits payload to dst; in unicast mode a send to ff02::12 goes to every peer.
func (c *rawConn6) Send(payload []byte, dst netip.Addr) error {
	return fanOut(payload, dst, MulticastGroup6, c.peers, c.sendTo)
}

func (c *rawConn6) sendTo(payload []byte, dst netip.Addr) error {
	if !dst.Is6() || dst.Is4In6() {
		return fmt.Errorf("send advert on %s: destination %v is not IPv6", c.ifname, dst)
	}
	cm := &ipv6.ControlMessage{IfIndex: c.ifi.Index, Src: net.IP(c.src.AsSlice()), HopLimit: vrrpTTL}
	to := &net.IPAddr{IP: net.IP(dst.AsSlice())}
	if dst.IsLinkLocalUnicast() || dst.IsLinkLocalMulticast() {
		to.Zone = c.ifname
	}
	if _, err := c.pc.WriteTo(payload, cm, to); err != nil {
		return fmt.Errorf("send advert on %s to %s: %w", c.ifname, dst, err)
	}
	return nil
}

// Recv returns the next VRRP packet with its IPv6 source, destination and hop limit.
func (c *rawConn6) Recv() (Packet, error) {
	buf := make([]byte, recvBufSize)
	for {
		n, cm, src, err := c.pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return Packet{}, fmt.Errorf("vrrp IPv6 socket on %s: %w", c.ifname, net.ErrClosed)
			}
			return Packet{}, fmt.Errorf("receive on %s: %w", c.ifname, err)
		}
		if cm == nil {
			continue // without the hop limit the packet cannot be checked
		}
		p := Packet{TTL: uint8(cm.HopLimit), Payload: append([]byte(nil), buf[:n]...)}
		if a, ok := src.(*net.IPAddr); ok {
			p.Src = ipToAddr(a.IP)
		}
		p.Dst = ipToAddr(cm.Dst)
		return p, nil
	}
}
