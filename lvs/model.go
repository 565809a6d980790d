package lvs

import (
	"fmt"
	"net/netip"
	"strconv"
)

// Family is the address family of a virtual service.
type Family uint8

const (
	IPv4 Family = 4
	IPv6 Family = 6
)

func (f Family) String() string {
	switch f {
	case IPv4:
		return "IPv4"
	case IPv6:
		return "IPv6"
	}
	return "family(" + strconv.Itoa(int(f)) + ")"
}

// FamilyOf returns the family of a (possibly IPv4-mapped) address.
func FamilyOf(a netip.Addr) Family {
	if a.Unmap().Is4() {
		return IPv4
	}
	return IPv6
}

// Protocol is an IP protocol number as IPVS uses it.
type Protocol uint16

const (
	TCP  Protocol = 6
	UDP  Protocol = 17
	SCTP Protocol = 132
)

func (p Protocol) String() string {
	switch p {
	case TCP:
		return "TCP"
	case UDP:
		return "UDP"
	case SCTP:
		return "SCTP"
	}
	return "proto(" + strconv.Itoa(int(p)) + ")"
}

// Forward is a destination's forwarding method, numbered as the kernel's
// IP_VS_CONN_F_FWD_MASK values.
type Forward uint8

const (
	NAT   Forward = 0 // IP_VS_CONN_F_MASQ
	Local Forward = 1 // IP_VS_CONN_F_LOCALNODE
	TUN   Forward = 2 // IP_VS_CONN_F_TUNNEL
	DR    Forward = 3 // IP_VS_CONN_F_DROUTE
)

func (f Forward) String() string {
	switch f {
	case NAT:
		return "NAT"
	case Local:
		return "Local"
	case TUN:
		return "TUN"
	case DR:
		return "DR"
	}
	return "fwd(" + strconv.Itoa(int(f)) + ")"
}

// Service flags as in the kernel's include/uapi/linux/ip_vs.h (IP_VS_SVC_F_*). moby/ipvs does
// not export them.
const (
	FlagPersistent uint32 = 0x0001 // persistent port
	FlagHashed     uint32 = 0x0002 // hashed entry (kernel-internal, set on every service)
	FlagOnePacket  uint32 = 0x0004 // one-packet scheduling
	FlagSched1     uint32 = 0x0008 // scheduler flag 1 (sh-fallback, mh-fallback)
	FlagSched2     uint32 = 0x0010 // scheduler flag 2 (sh-port, mh-port)
	FlagSched3     uint32 = 0x0020 // scheduler flag 3
)

// userFlags are the flags a Service's Flags field may carry: persistence is expressed by
// Service.Persistence and HASHED belongs to the kernel.
const userFlags = FlagOnePacket | FlagSched1 | FlagSched2 | FlagSched3

// Key identifies a virtual service the way the kernel does: (family, fwmark) for firewall
// mark services, (protocol, address, port) otherwise. Use AddrKey / FWMarkKey to build one.
type Key struct {
	FWMark   uint32
	Family   Family // for address services always FamilyOf(Addr)
	Protocol Protocol
	Addr     netip.Addr
	Port     uint16
}

// AddrKey is the key of an address:port service.
func AddrKey(p Protocol, a netip.Addr, port uint16) Key {
	a = a.Unmap()
	return Key{Family: FamilyOf(a), Protocol: p, Addr: a, Port: port}
}

// FWMarkKey is the key of a firewall-mark service.
func FWMarkKey(f Family, mark uint32) Key {
	return Key{FWMark: mark, Family: f}
}

// Normalize makes equal services have equal keys: the family follows the address, and a
// fwmark service has no protocol, address or port (the kernel reports TCP and zeros).
func (k Key) Normalize() Key {
	if k.FWMark != 0 {
		if k.Family == 0 {
			k.Family = IPv4
		}
		return Key{FWMark: k.FWMark, Family: k.Family}
	}
	k.Addr = k.Addr.Unmap()
	k.Family = FamilyOf(k.Addr)
	return k
}

// String is "10.0.0.1:80 TCP", "[2001:db8::1]:80 UDP", "fwmark 3" or "fwmark 3 IPv6".
func (k Key) String() string {
	if k.FWMark != 0 {
		if k.Family == IPv6 {
			return "fwmark " + strconv.FormatUint(uint64(k.FWMark), 10) + " IPv6"
		}
		return "fwmark " + strconv.FormatUint(uint64(k.FWMark), 10)
	}
	return netip.AddrPortFrom(k.Addr, k.Port).String() + " " + k.Protocol.String()
}

// Stats are IPVS counters and rate estimates of a service or destination.
type Stats struct {
	Conns, InPkts, OutPkts, InBytes, OutBytes uint64
	CPS, InPPS, OutPPS, InBPS, OutBPS         uint64
}

// Service is one IPVS virtual service and its destinations.
type Service struct {
	Key
	Scheduler string // rr, wrr, lc, wlc, ...; empty means wlc (keepalived's default)
	// Flags holds FlagOnePacket and the scheduler flags FlagSched1..3; persistence is
	// Persistence, and HASHED is the kernel's.
	Flags uint32
	// Persistence is the persistence timeout in seconds; 0 means not persistent.
	Persistence uint32
	// NetmaskBits is the persistence granularity as a prefix length (keepalived's
	// persistence_granularity, ipvsadm -M); 0 means one client address (/32 or /128).
	NetmaskBits uint8
	PEName      string // persistence engine (e.g. "sip"); usually empty

	Destinations []Destination

	Stats Stats // read from the kernel; ignored by Diff
}

// Destination is a real server of a Service.
type Destination struct {
	Addr           netip.Addr
	Port           uint16
	Weight         int
	Forward        Forward
	UpperThreshold uint32
	LowerThreshold uint32

	// Read from the kernel; ignored by Diff.
	ActiveConns   uint32
	InactiveConns uint32
	Stats         Stats
}

// DestKey identifies a destination within a service.
type DestKey struct {
	Addr netip.Addr
	Port uint16
}

func (d Destination) key() DestKey { return DestKey{d.Addr.Unmap(), d.Port} }

func (d Destination) String() string { return netip.AddrPortFrom(d.Addr, d.Port).String() }

// Table is the desired (or current) set of virtual services.
type Table []Service

// Clone returns a deep copy of t with normalized keys, so that changing the copy's
// destinations leaves t as it was.
func (t Table) Clone() Table {
	out := make(Table, len(t))
	for i, s := range t {
		s.Key = s.Key.Normalize()
		s.Destinations = append([]Destination(nil), s.Destinations...)
		out[i] = s
	}
	return out
}

// DefaultScheduler is used when Service.Scheduler is empty, as in keepalived.
const DefaultScheduler = "wlc"

func (s *Service) scheduler() string {
	if s.Scheduler == "" {
		return DefaultScheduler
	}
	return s.Scheduler
}

// fullBits is the prefix length of one address of the family.
func fullBits(f Family) uint8 {
	if f == IPv6 {
		return 128
	}
	return 32
}

// netmaskBits is the effective persistence prefix length (0 means full).
func (s *Service) netmaskBits() uint8 {
	if s.NetmaskBits == 0 || s.NetmaskBits > fullBits(s.Family) {
		return fullBits(s.Family)
	}
	return s.NetmaskBits
}

// Validate reports the first problem that would make the kernel refuse the table or make
// Diff ambiguous: duplicate services or destinations, a destination of another family.
func (t Table) Validate() error {
	seen := make(map[Key]bool, len(t))
	for i := range t {
		s := &t[i]
		k := s.Key.Normalize()
		if k.FWMark == 0 && !k.Addr.IsValid() {
			return fmt.Errorf("virtual service %d: no address and no fwmark", i)
		}
		if k.FWMark == 0 && k.Protocol != TCP && k.Protocol != UDP && k.Protocol != SCTP {
			return fmt.Errorf("virtual service %s: unknown protocol %d", k, k.Protocol)
		}
		if seen[k] {
			return fmt.Errorf("virtual service %s listed twice", k)
		}
		seen[k] = true
		if s.Flags&^userFlags != 0 {
			return fmt.Errorf("virtual service %s: flags %#x not settable (persistence is Persistence)", k, s.Flags&^userFlags)
		}
		if s.NetmaskBits > fullBits(k.Family) {
			return fmt.Errorf("virtual service %s: netmask /%d too long", k, s.NetmaskBits)
		}
		// Small services are checked pairwise: no map per service on every reconcile.
		var dseen map[DestKey]bool
		if len(s.Destinations) > 32 {
			dseen = make(map[DestKey]bool, len(s.Destinations))
		}
		for j, d := range s.Destinations {
			if !d.Addr.IsValid() {
				return fmt.Errorf("virtual service %s: real server without address", k)
			}
			if FamilyOf(d.Addr) != k.Family && d.Forward != TUN {
				return fmt.Errorf("virtual service %s: real server %s of another address family", k, d)
			}
			dup := false
			if dseen != nil {
				dup = dseen[d.key()]
				dseen[d.key()] = true
			} else {
				dup = findDest(s.Destinations[:j], d.key()) >= 0
			}
			if dup {
				return fmt.Errorf("virtual service %s: real server %s listed twice", k, d)
			}
			if d.LowerThreshold > d.UpperThreshold {
				// The kernel refuses it (ERANGE); an upper threshold of 0 means none.
				return fmt.Errorf("virtual service %s: real server %s: lower threshold %d above upper threshold %d", k, d, d.LowerThreshold, d.UpperThreshold)
			}
			if d.Weight < 0 || d.Weight > 65535 {
				return fmt.Errorf("virtual service %s: real server %s: weight %d out of range 0-65535", k, d, d.Weight)
			}
		}
	}
	return nil
}
