package vrrp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"golang.org/x/sys/unix"
)

// packetAnnouncer is the Linux Announcer: gratuitous ARPs written as whole Ethernet
// frames on an AF_PACKET socket, one socket per interface, opened on first use.
type packetAnnouncer struct {
	mu    sync.Mutex
	socks map[string]*arpSocket
}

type arpSocket struct {
	fd      int
	ifindex int
}

var _ Announcer = (*packetAnnouncer)(nil)

// NewAnnouncer returns the AF_PACKET implementation of Announcer. Sockets are opened in
// the network namespace of the calling thread; the returned value is also an io.Closer.
func NewAnnouncer() Announcer { return &packetAnnouncer{socks: map[string]*arpSocket{}} }

var broadcastMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

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
	ifi, err := net.InterfaceByName(dev)
	if err != nil {
		return fmt.Errorf("gratuitous ARP for %v on %s: %w", ip, dev, err)
	}
	frame, err := GARPFrame(ifi.HardwareAddr, ip)
	if err != nil {
		return fmt.Errorf("%w (on %s)", err, dev)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	s, err := a.socket(dev, ifi.Index)
	if err != nil {
		return fmt.Errorf("gratuitous ARP for %v on %s: %w", ip, dev, err)
	}
	to := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: s.ifindex, Halen: 6}
	copy(to.Addr[:], broadcastMAC)
	if err := unix.Sendto(s.fd, frame, 0, to); err != nil {
		// The interface may be down (ENETDOWN) or gone; drop the socket so that the next
		// call starts afresh.
		a.drop(dev)
		return fmt.Errorf("gratuitous ARP for %v on %s: %w", ip, dev, err)
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
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
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

// Close closes every cached socket.
func (a *packetAnnouncer) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var errs []error
	for dev, s := range a.socks {
		if err := unix.Close(s.fd); err != nil {
			errs = append(errs, fmt.Errorf("close AF_PACKET socket of %s: %w", dev, err))
		}
		delete(a.socks, dev)
	}
	return errors.Join(errs...)
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
