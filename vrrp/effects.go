// Package vrrp implements a VRRPv2 router (RFC 3768): the packet codec, a pure state
// machine driven by events and an injected clock, and the Linux effects (raw socket,
// VIPs over netlink, gratuitous ARP over AF_PACKET, link watching) behind small interfaces.
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
// RFC 3768 section 7.1 need.
type Packet struct {
	Src, Dst netip.Addr
	TTL      uint8
	Payload  []byte // the VRRP message, IP header stripped
}

// Conn sends and receives VRRP messages on one interface.
type Conn interface {
	// Send transmits one VRRP message to dst (224.0.0.18 or a unicast peer) with
	// TTL 255 and TOS 0xc0.
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
}

// Addresses adds and removes VIPs. Both are idempotent: adding a present address or
// removing an absent one is not an error.
type Addresses interface {
	Add(vip VIP) error
	Remove(vip VIP) error
}

// Announcer sends one gratuitous ARP (request, sender IP = target IP = ip) on dev.
type Announcer interface {
	GratuitousARP(dev string, ip netip.Addr) error
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
