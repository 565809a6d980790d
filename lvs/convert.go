package lvs

import (
	"encoding/binary"
	"math/bits"
	"net"
	"net/netip"
	"syscall"

	"github.com/moby/ipvs"
)

// Conversions between this package's model and github.com/moby/ipvs. Pure, so that the
// details below are table-tested without a kernel.
//
// Netmask: the kernel reads IPVS_SVC_ATTR_NETMASK as a __be32 for IPv4 (the mask's bytes in
// network order, as ipvsadm sends inet_aton's s_addr) and as a plain prefix length for IPv6.
// moby/ipvs writes and reads Service.Netmask with nl.Uint32Attr / native endianness, so the
// IPv4 value it must be given is the mask's network-order bytes read as a native uint32
// (255.255.255.0 is 0x00ffffff on little-endian machines). The kernel refuses an IPv6
// service whose prefix length is outside 1..128, so the default must be sent explicitly.

func afOf(f Family) uint16 {
	if f == IPv6 {
		return syscall.AF_INET6
	}
	return syscall.AF_INET
}

func familyOfAF(af uint16) Family {
	if af == syscall.AF_INET6 {
		return IPv6
	}
	return IPv4
}

// netmaskToKernel is the moby/ipvs Netmask value for a prefix length of the family.
func netmaskToKernel(f Family, plen uint8) uint32 {
	if f == IPv6 {
		return uint32(plen)
	}
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], ^uint32(0)<<(32-uint32(plen)))
	if plen == 0 {
		b = [4]byte{}
	}
	return binary.NativeEndian.Uint32(b[:])
}

// netmaskFromKernel is the prefix length of a moby/ipvs Netmask value (a non-contiguous
// IPv4 mask, which lvsd never sets, is read as its leading ones).
func netmaskFromKernel(f Family, v uint32) uint8 {
	if f == IPv6 {
		if v > 128 {
			return 128
		}
		return uint8(v)
	}
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], v)
	return uint8(bits.LeadingZeros32(^binary.BigEndian.Uint32(b[:])))
}

func ipOf(a netip.Addr) net.IP {
	a = a.Unmap()
	s := a.AsSlice()
	return net.IP(s)
}

func addrOf(ip net.IP) netip.Addr {
	if v4 := ip.To4(); v4 != nil {
		return netip.AddrFrom4([4]byte(v4))
	}
	a, _ := netip.AddrFromSlice(ip)
	return a.Unmap()
}

// ToIPVS converts a service (without its destinations) into the moby/ipvs request form.
func ToIPVS(s *Service) *ipvs.Service {
	k := s.Key.Normalize()
	out := &ipvs.Service{
		AddressFamily: afOf(k.Family),
		SchedName:     s.scheduler(),
		Flags:         s.Flags & userFlags,
		PEName:        s.PEName,
		Netmask:       netmaskToKernel(k.Family, fullBits(k.Family)),
	}
	if k.FWMark != 0 {
		out.FWMark = k.FWMark
	} else {
		out.Address = ipOf(k.Addr)
		out.Protocol = uint16(k.Protocol)
		out.Port = k.Port
	}
	if s.Persistence > 0 {
		out.Flags |= FlagPersistent
		out.Timeout = s.Persistence
		out.Netmask = netmaskToKernel(k.Family, s.netmaskBits())
	}
	return out
}

// ToIPVSDest converts a destination into the moby/ipvs form.
func ToIPVSDest(d *Destination) *ipvs.Destination {
	a := d.Addr.Unmap()
	return &ipvs.Destination{
		Address:         ipOf(a),
		Port:            d.Port,
		Weight:          d.Weight,
		ConnectionFlags: uint32(d.Forward) & ipvs.ConnectionFlagFwdMask,
		AddressFamily:   afOf(FamilyOf(a)),
		UpperThreshold:  d.UpperThreshold,
		LowerThreshold:  d.LowerThreshold,
	}
}

// FromIPVS converts a kernel service and its destinations into the model. Persistence
// settings of a service without the persistent flag are dropped: the kernel ignores them.
func FromIPVS(s *ipvs.Service, dests []*ipvs.Destination) Service {
	f := familyOfAF(s.AddressFamily)
	var out Service
	if s.FWMark != 0 {
		out.Key = FWMarkKey(f, s.FWMark)
	} else {
		out.Key = AddrKey(Protocol(s.Protocol), addrOf(s.Address), s.Port)
	}
	out.Scheduler = s.SchedName
	out.Flags = s.Flags & userFlags
	out.PEName = s.PEName
	if s.Flags&FlagPersistent != 0 {
		out.Persistence = s.Timeout
		if b := netmaskFromKernel(f, s.Netmask); b != fullBits(f) {
			out.NetmaskBits = b
		}
	}
	out.Stats = statsOf(ipvs.SvcStats(s.Stats))
	if len(dests) > 0 {
		out.Destinations = make([]Destination, len(dests))
		for i, d := range dests {
			out.Destinations[i] = FromIPVSDest(d)
		}
	}
	return out
}

// FromIPVSDest converts a kernel destination into the model.
func FromIPVSDest(d *ipvs.Destination) Destination {
	return Destination{
		Addr:           addrOf(d.Address),
		Port:           d.Port,
		Weight:         d.Weight,
		Forward:        Forward(d.ConnectionFlags & ipvs.ConnectionFlagFwdMask),
		UpperThreshold: d.UpperThreshold,
		LowerThreshold: d.LowerThreshold,
		ActiveConns:    uint32(d.ActiveConnections),
		InactiveConns:  uint32(d.InactiveConnections),
		Stats:          statsOf(ipvs.SvcStats(d.Stats)),
	}
}

func statsOf(s ipvs.SvcStats) Stats {
	return Stats{
		Conns: uint64(s.Connections), InPkts: uint64(s.PacketsIn), OutPkts: uint64(s.PacketsOut),
		InBytes: s.BytesIn, OutBytes: s.BytesOut,
		CPS: uint64(s.CPS), InPPS: uint64(s.PPSIn), OutPPS: uint64(s.PPSOut),
		InBPS: uint64(s.BPSIn), OutBPS: uint64(s.BPSOut),
	}
}
