package doctor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/lvsd/lvsd/internal/daemon"
)

// Host is the real System and Prober: files, commands, netlink and an AF_PACKET socket, in
// the network namespace of the calling thread.
type Host struct{}

var (
	_ System = Host{}
	_ Prober = Host{}
)

// ReadFile reads a file.
func (Host) ReadFile(path string) ([]byte, error) { return os.ReadFile(path) }

// Output runs a command and returns its standard output.
func (Host) Output(ctx context.Context, name string, args ...string) ([]byte, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %s", name, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, nil
}

// Links lists the interfaces with their up flag and addresses.
func (Host) Links() (map[string]Link, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	out := map[string]Link{}
	for _, l := range links {
		a := l.Attrs()
		addrs, err := netlink.AddrList(l, netlink.FAMILY_ALL)
		if err != nil {
			return nil, fmt.Errorf("list addresses of %s: %w", a.Name, err)
		}
		ln := Link{Up: a.Flags&net.FlagUp != 0}
		for _, x := range addrs {
			if ip, ok := netip.AddrFromSlice(x.IP); ok {
				ln.Addrs = append(ln.Addrs, ip.Unmap())
			}
		}
		out[a.Name] = ln
	}
	return out, nil
}

// ProbeARP sends RFC 5227 ARP probes (sender address 0.0.0.0, so no neighbour cache
// learns anything from them) for ip on dev and returns the first MAC that answers.
func (Host) ProbeARP(ctx context.Context, dev string, ip netip.Addr, timeout time.Duration) (net.HardwareAddr, error) {
	ifi, err := net.InterfaceByName(dev)
	if err != nil {
		return nil, fmt.Errorf("ARP probe on %s: %w", dev, err)
	}
	if len(ifi.HardwareAddr) != 6 {
		return nil, nil // not Ethernet: no ARP
	}
	proto := int(htons(unix.ETH_P_ARP))
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return nil, fmt.Errorf("ARP probe on %s: AF_PACKET socket: %w", dev, err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: ifi.Index}); err != nil {
		return nil, fmt.Errorf("ARP probe on %s: bind: %w", dev, err)
	}
	frame, err := probeFrame(ifi.HardwareAddr, ip)
	if err != nil {
		return nil, err
	}
	to := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: ifi.Index, Halen: 6}
	copy(to.Addr[:], layers.EthernetBroadcast)
	end := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(end) {
		end = d
	}
	buf := make([]byte, 1500)
	next := time.Now()
	for time.Now().Before(end) {
		if !time.Now().Before(next) { // a probe every 100 ms
			if err := unix.Sendto(fd, frame, 0, to); err != nil {
				return nil, fmt.Errorf("ARP probe on %s: send: %w", dev, err)
			}
			next = time.Now().Add(100 * time.Millisecond)
		}
		wait := min(time.Until(next), time.Until(end))
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if n, err := unix.Poll(pfd, int(wait/time.Millisecond)+1); err != nil && !errors.Is(err, unix.EINTR) {
			return nil, fmt.Errorf("ARP probe on %s: %w", dev, err)
		} else if n <= 0 {
			continue
		}
		n, _, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT)
		if err != nil {
			continue
		}
		if mac := arpReplyFrom(buf[:n], ip, ifi.HardwareAddr); mac != nil {
			return mac, nil
		}
	}
	return nil, nil
}

func probeFrame(mac net.HardwareAddr, ip netip.Addr) ([]byte, error) {
	dst := ip.As4()
	eth := &layers.Ethernet{SrcMAC: mac, DstMAC: layers.EthernetBroadcast, EthernetType: layers.EthernetTypeARP}
	arp := &layers.ARP{
		AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: layers.ARPRequest, SourceHwAddress: mac, SourceProtAddress: []byte{0, 0, 0, 0},
		DstHwAddress: make([]byte, 6), DstProtAddress: dst[:],
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{}, eth, arp); err != nil {
		return nil, fmt.Errorf("ARP probe for %v: %w", ip, err)
	}
	return buf.Bytes(), nil
}

// arpReplyFrom returns the sender MAC of an ARP reply for ip not sent by us.
func arpReplyFrom(frame []byte, ip netip.Addr, self net.HardwareAddr) net.HardwareAddr {
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.NoCopy)
	l, ok := p.Layer(layers.LayerTypeARP).(*layers.ARP)
	if !ok || l.Operation != layers.ARPReply || len(l.SourceProtAddress) != 4 || len(l.SourceHwAddress) != 6 {
		return nil
	}
	if a, _ := netip.AddrFromSlice(l.SourceProtAddress); a != ip || bytes.Equal(l.SourceHwAddress, self) {
		return nil
	}
	return net.HardwareAddr(bytes.Clone(l.SourceHwAddress))
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Socket is the running daemon behind a control socket.
type Socket string

// Status asks the daemon for its status.
func (s Socket) Status(ctx context.Context) (*daemon.Status, error) {
	return daemon.FetchStatus(ctx, string(s))
}
