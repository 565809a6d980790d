// Package vrrp implements a VRRP router, VRRPv2 (RFC 3768) and VRRPv3 over IPv4 and IPv6
// (RFC 5798): the packet codec, a pure state machine driven by events and an injected
// clock, and the Linux effects (raw sockets, VIPs over netlink, gratuitous ARP and
// unsolicited neighbour advertisements over AF_PACKET, link watching) behind small
// interfaces.
package vrrp

import (
	"context"
	"net/netip"
)

// State is a VRRP router state.
type State int

const (
	StateInit State = iota
	StateBackup
	StateMaster
	StateFault
)

func (s State) String() string {
	switch s {
	case StateInit:
		return "INIT"
	case StateBackup:
		return "BACKUP"
	case StateMaster:
		return "MASTER"
	case StateFault:
		return "FAULT"
	}
	return "UNKNOWN"
}

// Packet is one received VRRP message with the IP header fields the receive checks of
// RFC 3768 / RFC 5798 section 7.1 need.
type Packet struct {
	Src, Dst netip.Addr
	TTL      uint8  // IPv4 TTL or IPv6 hop limit
	Payload  []byte // the VRRP message, IP header stripped
}

// Conn sends and receives VRRP messages on one interface.
type Conn interface {
	// Send transmits one VRRP message to dst (224.0.0.18, ff02::12 or a unicast peer)
	// with TTL (hop limit) 255 and TOS (traffic class) 0xc0.
	Send(payload []byte, dst netip.Addr) error
	// Recv blocks until a message arrives; it returns an error once the Conn is closed.
	Recv() (Packet, error)
	Close() error
}

// VIP is one virtual address as configured.
type VIP struct {
	Prefix netip.Prefix // the address with its prefix length (default /32)
	Dev    string       // interface; the instance's interface when empty
	Label  string       // optional, e.g. "eth0:0"
	// Excluded addresses (keepalived's virtual_ipaddress_excluded) follow the state but
	// are not advertised; they may be of either family.
	Excluded bool
}

// Addresses adds and removes VIPs. Both are idempotent: adding a present address or
// removing an absent one is not an error.
type Addresses interface {
	Add(vip VIP) error
	Remove(vip VIP) error
}

// Announcer tells the neighbours on dev that ip is here: one gratuitous ARP (request,
// sender IP = target IP = ip) for an IPv4 address, one unsolicited neighbour advertisement
// (Override flag set, to ff02::1) for an IPv6 address.
type Announcer interface {
	GratuitousARP(dev string, ip netip.Addr) error
	UnsolicitedNA(dev string, ip netip.Addr) error
}

// LinkEvent reports an interface's operational state.
type LinkEvent struct {
	Name string
	Up   bool
}

// LinkWatcher reports the state of the named links: first the current state of each,
// then every change, until ctx ends (then the channel is closed).
type LinkWatcher interface {
	Watch(ctx context.Context, names []string) (<-chan LinkEvent, error)
}

// Notifier is told of every state transition, in order. Implementations run the user's
// hooks (notify_master and friends) and the daemon's own reactions (localnode, LVS sync).
type Notifier interface {
	Notify(instance string, state State, priority uint8)
}
