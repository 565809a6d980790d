package netns

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// ARPSocket sends ARP requests and reads ARP frames on one interface of a namespace (the
// lab has no ping or arping: it does not depend on them).
type ARPSocket struct {
	fd      int
	ifindex int
	mac     net.HardwareAddr
	src     netip.Addr
}

// ARP is one received ARP frame.
type ARP struct {
	Op                   uint16 // 1 request, 2 reply
	SenderMAC, TargetMAC net.HardwareAddr
	SenderIP, TargetIP   netip.Addr
	EthSrc, EthDst       net.HardwareAddr
}

// OpenARP opens an ARP socket on the host's eth0; src is the sender IP of its requests.
func (h *Host) OpenARP(src netip.Addr) (*ARPSocket, error) {
	var s *ARPSocket
	err := h.Do(func() error {
		ifi, err := net.InterfaceByName(h.If)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ARP)))
		if err != nil {
			return fmt.Errorf("AF_PACKET socket: %w", err)
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: ifi.Index}); err != nil {
			unix.Close(fd)
			return fmt.Errorf("bind AF_PACKET: %w", err)
		}
		s = &ARPSocket{fd: fd, ifindex: ifi.Index, mac: ifi.HardwareAddr, src: src}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ARP socket in %s: %w", h.NS, err)
	}
	return s, nil
}

// Close closes the socket.
func (s *ARPSocket) Close() error { return unix.Close(s.fd) }

// Request broadcasts an ARP request for ip.
func (s *ARPSocket) Request(ip netip.Addr) error {
	f := make([]byte, 60)
	copy(f[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(f[6:12], s.mac)
	binary.BigEndian.PutUint16(f[12:], unix.ETH_P_ARP)
	a := f[14:]
	binary.BigEndian.PutUint16(a[0:], 1)      // Ethernet
	binary.BigEndian.PutUint16(a[2:], 0x0800) // IPv4
	a[4], a[5] = 6, 4
	binary.BigEndian.PutUint16(a[6:], 1) // request
	copy(a[8:14], s.mac)
	src, dst := s.src.As4(), ip.As4()
	copy(a[14:18], src[:])
	copy(a[24:28], dst[:])
	to := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: s.ifindex, Halen: 6}
	copy(to.Addr[:], f[0:6])
	return unix.Sendto(s.fd, f, 0, to)
}

// Read returns the next ARP frame, or an error once deadline passes.
func (s *ARPSocket) Read(deadline time.Time) (ARP, error) {
	buf := make([]byte, 1500)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return ARP{}, fmt.Errorf("no ARP frame before the deadline")
		}
		pfd := []unix.PollFd{{Fd: int32(s.fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, int(left/time.Millisecond)+1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return ARP{}, err
		}
		if n == 0 {
			continue
		}
		n, _, err = unix.Recvfrom(s.fd, buf, unix.MSG_DONTWAIT)
		if err == unix.EAGAIN || err == unix.EINTR {
			continue
		}
		if err != nil {
			return ARP{}, err
		}
		if p, ok := parseARP(buf[:n]); ok {
			return p, nil
		}
	}
}

// Resolve sends requests for ip (every 100 ms) until a reply arrives or timeout passes and
// returns the replying MAC.
func (s *ARPSocket) Resolve(ip netip.Addr, timeout time.Duration) (net.HardwareAddr, error) {
	end := time.Now().Add(timeout)
	for time.Now().Before(end) {
		if err := s.Request(ip); err != nil {
			return nil, fmt.Errorf("ARP request for %v: %w", ip, err)
		}
		wait := time.Now().Add(100 * time.Millisecond)
		if wait.After(end) {
			wait = end
		}
		for {
			p, err := s.Read(wait)
			if err != nil {
				break
			}
			if p.Op == 2 && p.SenderIP == ip && !bytes.Equal(p.SenderMAC, s.mac) {
				return p.SenderMAC, nil
			}
		}
	}
	return nil, fmt.Errorf("no ARP reply for %v within %v", ip, timeout)
}

func parseARP(f []byte) (ARP, bool) {
	if len(f) < 42 || binary.BigEndian.Uint16(f[12:]) != unix.ETH_P_ARP {
		return ARP{}, false
	}
	a := f[14:]
	if binary.BigEndian.Uint16(a[0:]) != 1 || binary.BigEndian.Uint16(a[2:]) != 0x0800 || a[4] != 6 || a[5] != 4 {
		return ARP{}, false
	}
	return ARP{
		Op:        binary.BigEndian.Uint16(a[6:]),
		SenderMAC: net.HardwareAddr(append([]byte(nil), a[8:14]...)),
		SenderIP:  netip.AddrFrom4([4]byte(a[14:18])),
		TargetMAC: net.HardwareAddr(append([]byte(nil), a[18:24]...)),
		TargetIP:  netip.AddrFrom4([4]byte(a[24:28])),
		EthDst:    net.HardwareAddr(append([]byte(nil), f[0:6]...)),
		EthSrc:    net.HardwareAddr(append([]byte(nil), f[6:12]...)),
	}, true
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
