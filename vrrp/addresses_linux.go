package vrrp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// infinityLifetime is INFINITY_LIFE_TIME of an address's valid_lft: forever.
const infinityLifetime = 0xffffffff

// netlinkAddresses is the Linux Addresses: VIPs are added and removed over rtnetlink.
type netlinkAddresses struct {
	h *netlink.Handle
}

var _ Addresses = netlinkAddresses{}

// NewAddresses returns the netlink implementation of Addresses. It works in the network
// namespace of the thread that called NewAddresses, whichever thread later calls Add or
// Remove (tests run instances in lab namespaces from one process).
func NewAddresses() Addresses { return netlinkAddresses{h: currentNSHandle()} }

// currentNSHandle returns a netlink handle bound to the calling thread's network
// namespace, or the package's default handle (the thread's namespace at each call) if
// the namespace cannot be opened.
func currentNSHandle() *netlink.Handle {
	ns, err := netns.Get()
	if err != nil {
		return &netlink.Handle{}
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return &netlink.Handle{}
	}
	return h
}

func vipAddr(vip VIP) (*netlink.Addr, error) {
	if !vip.Prefix.IsValid() {
		return nil, fmt.Errorf("invalid prefix %v", vip.Prefix)
	}
	a := vip.Prefix.Addr().Unmap()
	bits := vip.Prefix.Bits()
	ipn := &net.IPNet{IP: net.IP(a.AsSlice()), Mask: net.CIDRMask(bits, a.BitLen())}
	// Like keepalived: a VIP is a global-scope address; the label (eth0:0) must begin with
	// the device name, the kernel refuses it otherwise. An IPv6 VIP skips duplicate
	// address detection (nodad): the new master must answer for it at once, and the old
	// master may still hold it for a moment. It is also deprecated (preferred_lft 0, valid
	// forever): it receives and answers as usual, but the kernel never picks it as the
	// source of a new connection. Otherwise a /128 VIP beats the interface's /64 address in
	// source selection (longest match), and the director's health checks to LVS-DR real
	// servers, which hold the VIP themselves, would never get their answers back.
	addr := &netlink.Addr{IPNet: ipn, Label: vip.Label, Scope: int(netlink.SCOPE_UNIVERSE)}
	if a.Is6() {
		addr.Flags = unix.IFA_F_NODAD
		addr.ValidLft, addr.PreferedLft = infinityLifetime, 0
	}
	return addr, nil
}

// Add puts vip on its device; an address already present is success.
func (a netlinkAddresses) Add(vip VIP) error {
	addr, err := vipAddr(vip)
	if err != nil {
		return fmt.Errorf("add VIP on %s: %w", vip.Dev, err)
	}
	link, err := a.h.LinkByName(vip.Dev)
	if err != nil {
		return fmt.Errorf("add VIP %s on %s: %w", vip.Prefix, vip.Dev, err)
	}
	if err := a.h.AddrAdd(link, addr); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add VIP %s on %s: %w", vip.Prefix, vip.Dev, err)
	}
	return nil
}

// Remove takes vip off its device; an absent address (or an absent device, which holds
// no address) is success.
func (a netlinkAddresses) Remove(vip VIP) error {
	addr, err := vipAddr(vip)
	if err != nil {
		return fmt.Errorf("remove VIP on %s: %w", vip.Dev, err)
	}
	link, err := a.h.LinkByName(vip.Dev)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil
		}
		return fmt.Errorf("remove VIP %s from %s: %w", vip.Prefix, vip.Dev, err)
	}
	if err := a.h.AddrDel(link, addr); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
		return fmt.Errorf("remove VIP %s from %s: %w", vip.Prefix, vip.Dev, err)
	}
	return nil
}

// PrimaryIPv4 returns ifname's primary IPv4 address: the first global-scope address that
// is not a secondary (IFA_F_SECONDARY). VRRPv2 adverts carry it as their source and the
// election tie-break compares it.
func PrimaryIPv4(ifname string) (netip.Addr, error) {
	link, err := netlink.LinkByName(ifname)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("primary IPv4 of %s: %w", ifname, err)
	}
	addrs, err := netlink.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("primary IPv4 of %s: %w", ifname, err)
	}
	for _, a := range addrs {
		if a.Flags&unix.IFA_F_SECONDARY != 0 || a.Scope != int(netlink.SCOPE_UNIVERSE) {
			continue
		}
		if ip, ok := netip.AddrFromSlice(a.IP.To4()); ok {
			return ip, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("primary IPv4 of %s: the interface has no IPv4 address", ifname)
}

// LinkLocalIPv6 returns ifname's IPv6 link-local address, the source of VRRPv3 IPv6
// adverts (RFC 5798 section 5.1.2.1). One that finished duplicate address detection is
// preferred.
func LinkLocalIPv6(ifname string) (netip.Addr, error) {
	link, err := netlink.LinkByName(ifname)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("link-local IPv6 address of %s: %w", ifname, err)
	}
	addrs, err := netlink.AddrList(link, netlink.FAMILY_V6)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("link-local IPv6 address of %s: %w", ifname, err)
	}
	var tentative netip.Addr
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok || !ip.IsLinkLocalUnicast() {
			continue
		}
		if a.Flags&(unix.IFA_F_TENTATIVE|unix.IFA_F_DADFAILED) == 0 {
			return ip, nil
		}
		if !tentative.IsValid() {
			tentative = ip
		}
	}
	if tentative.IsValid() {
		return tentative, nil
	}
	return netip.Addr{}, fmt.Errorf("link-local IPv6 address of %s: the interface has none (IPv6 disabled?)", ifname)
}
