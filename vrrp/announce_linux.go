package vrrp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// packetAnnouncer is the Linux Announcer: gratuitous ARPs and unsolicited neighbour
// advertisements written as whole Ethernet frames on an AF_PACKET socket, one socket per
// interface, opened on first use.
type packetAnnouncer struct {
	h     *netlink.Handle
	ns    netns.NsHandle // where sockets are opened; -1: the calling thread's
	mu    sync.Mutex
	socks map[string]*arpSocket
}

type arpSocket struct {
	fd      int
	ifindex int
}

var _ Announcer = (*packetAnnouncer)(nil)

// NewAnnouncer returns the AF_PACKET implementation of Announcer. It works in the network
// namespace of the thread that called NewAnnouncer, whichever thread later sends. The
// returned value is also an io.Closer.
func NewAnnouncer() Announcer {
	ns, err := netns.Get()
	if err != nil {
		ns = netns.None()
	}
	return &packetAnnouncer{h: currentNSHandle(), ns: ns, socks: map[string]*arpSocket{}}
}

var (
	broadcastMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	// allNodesMAC is the Ethernet address of ff02::1 (RFC 2464 section 7).
	allNodesMAC   = net.HardwareAddr{0x33, 0x33, 0, 0, 0, 1}
	allNodesGroup = netip.MustParseAddr("ff02::1")
)

const (
	icmpv6Proto          = 58
	icmpv6NeighborAdvert = 136
	naFlagOverride       = 0x20 // in the first byte of the flags word (RFC 4861 4.4)
	ndOptTargetLLAddr    = 2
)

// NAFrame builds the unsolicited neighbour advertisement keepalived sends for an IPv6
// VIP (RFC 4861 section 7.2.6): from ip to ff02::1 with hop limit 255, Override flag set
// (Solicited and Router clear), target ip, and a target link-layer address option
// carrying mac.
func NAFrame(mac net.HardwareAddr, ip netip.Addr) ([]byte, error) {
	if !ip.Is6() || ip.Is4In6() {
		return nil, fmt.Errorf("neighbour advertisement for %v: not an IPv6 address", ip)
	}
	if len(mac) != 6 {
		return nil, fmt.Errorf("neighbour advertisement for %v: hardware address %v is not Ethernet", ip, mac)
	}
	icmp := []byte{icmpv6NeighborAdvert, 0, 0, 0, naFlagOverride, 0, 0, 0}
	icmp = append(icmp, ip.AsSlice()...)
	icmp = append(icmp, ndOptTargetLLAddr, 1)
	icmp = append(icmp, mac...)
	c := pseudoChecksum(ip, allNodesGroup, icmpv6Proto, icmp)
	icmp[2], icmp[3] = byte(c>>8), byte(c)

	f := make([]byte, 0, 14+40+len(icmp))
	f = append(f, allNodesMAC...)
	f = append(f, mac...)
	f = append(f, 0x86, 0xdd)
	f = append(f, 0x60, 0, 0, 0, 0, byte(len(icmp)), icmpv6Proto, 255)
	f = append(f, ip.AsSlice()...)
	f = append(f, allNodesGroup.AsSlice()...)
	return append(f, icmp...), nil
}

// GARPFrame builds the gratuitous ARP keepalived sends: an ARP request from mac with
// sender IP = target IP = ip, target MAC zero, to the Ethernet broadcast address.
func GARPFrame(mac net.HardwareAddr, ip netip.Addr) ([]byte, error) {
	if !ip.Is4() {
		return nil, fmt.Errorf("gratuitous ARP for %v: not an IPv4 address", ip)
	}
	if len(mac) != 6 {
		return nil, fmt.Errorf("gratuitous ARP for %v: hardware address %v is not Ethernet", ip, mac)
	}
	ip4 := ip.As4()
	eth := &layers.Ethernet{SrcMAC: mac, DstMAC: broadcastMAC, EthernetType: layers.EthernetTypeARP}
	arp := &layers.ARP{
		AddrType:          layers.LinkTypeEthernet,
		Protocol:          layers.EthernetTypeIPv4,
		HwAddressSize:     6,
		ProtAddressSize:   4,
		Operation:         layers.ARPRequest,
		SourceHwAddress:   mac,
		SourceProtAddress: ip4[:],
		DstHwAddress:      make([]byte, 6),
		DstProtAddress:    ip4[:],
	}
	buf := gopacket.NewSerializeBuffer()
	// Pad to the 60-byte Ethernet minimum ourselves rather than rely on the driver.
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{}, eth, arp, gopacket.Payload(make([]byte, 18))); err != nil {
		return nil, fmt.Errorf("gratuitous ARP for %v: %w", ip, err)
	}
	return buf.Bytes(), nil
}

// GratuitousARP sends one gratuitous ARP for ip on dev.
func (a *packetAnnouncer) GratuitousARP(dev string, ip netip.Addr) error {
	return a.send(dev, ip, "gratuitous ARP", GARPFrame, unix.ETH_P_ARP, broadcastMAC)
}

// UnsolicitedNA sends one unsolicited neighbour advertisement for ip on dev.
func (a *packetAnnouncer) UnsolicitedNA(dev string, ip netip.Addr) error {
	return a.send(dev, ip, "unsolicited neighbour advertisement", NAFrame, unix.ETH_P_IPV6, allNodesMAC)
}

// send writes the frame build makes for dev's hardware address and ip to dst on dev.
func (a *packetAnnouncer) send(dev string, ip netip.Addr, what string,
	build func(net.HardwareAddr, netip.Addr) ([]byte, error), proto uint16, dst net.HardwareAddr) error {
	link, err := a.h.LinkByName(dev)
	if err != nil {
		return fmt.Errorf("%s for %v on %s: %w", what, ip, dev, err)
	}
	frame, err := build(link.Attrs().HardwareAddr, ip)
	if err != nil {
		return fmt.Errorf("%w (on %s)", err, dev)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	s, err := a.socket(dev, link.Attrs().Index)
	if err != nil {
		return fmt.Errorf("%s for %v on %s: %w", what, ip, dev, err)
	}
	to := &unix.SockaddrLinklayer{Protocol: htons(proto), Ifindex: s.ifindex, Halen: 6}
	copy(to.Addr[:], dst)
	if err := unix.Sendto(s.fd, frame, 0, to); err != nil {
		// The interface may be down (ENETDOWN) or gone; drop the socket so that the next
		// call starts afresh.
		a.drop(dev)
		return fmt.Errorf("%s for %v on %s: %w", what, ip, dev, err)
	}
	return nil
}

// socket returns the cached socket for dev, reopening it when the interface was
// re-created with another index. Called with a.mu held.
func (a *packetAnnouncer) socket(dev string, ifindex int) (*arpSocket, error) {
	if s, ok := a.socks[dev]; ok {
		if s.ifindex == ifindex {
			return s, nil
		}
		a.drop(dev)
	}
	// Protocol 0: the socket only sends, so the kernel queues no received frames on it.
	fd, err := socketIn(a.ns, unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("AF_PACKET socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifindex}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind AF_PACKET socket: %w", err)
	}
	s := &arpSocket{fd: fd, ifindex: ifindex}
	a.socks[dev] = s
	return s, nil
}

func (a *packetAnnouncer) drop(dev string) {
	if s, ok := a.socks[dev]; ok {
		unix.Close(s.fd)
		delete(a.socks, dev)
	}
}

// Close closes every cached socket; the Announcer is not usable afterwards.
func (a *packetAnnouncer) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var errs []error
	a.h.Close()
	if a.ns.IsOpen() {
		a.ns.Close()
	}
	for dev, s := range a.socks {
		if err := unix.Close(s.fd); err != nil {
			errs = append(errs, fmt.Errorf("close AF_PACKET socket of %s: %w", dev, err))
		}
		delete(a.socks, dev)
	}
	return errors.Join(errs...)
}

// socketIn opens a socket in network namespace ns (the calling thread's when ns is not
// open). A socket stays in the namespace it was created in.
func socketIn(ns netns.NsHandle, domain, typ, proto int) (int, error) {
	if !ns.IsOpen() {
		return unix.Socket(domain, typ, proto)
	}
	type result struct {
		fd  int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{-1, err}
			return
		}
		defer orig.Close()
		if orig.Equal(ns) {
			runtime.UnlockOSThread()
			fd, err := unix.Socket(domain, typ, proto)
			ch <- result{fd, err}
			return
		}
		if err := netns.Set(ns); err != nil {
			runtime.UnlockOSThread()
			ch <- result{-1, err}
			return
		}
		fd, err := unix.Socket(domain, typ, proto)
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		} // else: the thread stays locked and ends with this goroutine
		ch <- result{fd, err}
	}()
	r := <-ch
	return r.fd, r.err
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
