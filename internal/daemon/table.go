package daemon

import (
	"net/netip"

	"github.com/lvsd/lvsd/healthcheck"
	"github.com/lvsd/lvsd/internal/config"
	"github.com/lvsd/lvsd/lvs"
)

// service is the IPVS virtual service of a virtual_server block, without destinations.
func service(vs *config.VirtualServer) lvs.Service {
	var s lvs.Service
	if vs.IsFWMark() {
		fam := lvs.IPv4
		if vs.IPv6 {
			fam = lvs.IPv6
		}
		s.Key = lvs.FWMarkKey(fam, vs.FWMark)
	} else {
		s.Key = lvs.AddrKey(protocol(vs.Protocol), vs.Addr.Addr(), vs.Addr.Port())
	}
	s.Scheduler = vs.LBAlgo
	if vs.OPS {
		s.Flags |= lvs.FlagOnePacket
	}
	if vs.SchedFallback {
		s.Flags |= lvs.FlagSched1
	}
	if vs.SchedPort {
		s.Flags |= lvs.FlagSched2
	}
	s.Persistence = uint32(vs.PersistenceTimeout.Seconds())
	if ones, bits := vs.PersistenceGranularity.Size(); bits > 0 && ones < bits {
		s.NetmaskBits = uint8(ones)
	}
	return s
}

func protocol(p config.Protocol) lvs.Protocol {
	switch p {
	case config.ProtoUDP:
		return lvs.UDP
	case config.ProtoSCTP:
		return lvs.SCTP
	}
	return lvs.TCP
}

func forward(k config.LBKind) lvs.Forward {
	switch k {
	case config.LBDR:
		return lvs.DR
	case config.LBTUN:
		return lvs.TUN
	}
	return lvs.NAT
}

// desiredTable is the IPVS table the config asks for, given the destinations the health
// checks currently want for each virtual server (by config.ServiceID).
func desiredTable(vss []config.VirtualServer, dests map[string][]healthcheck.Dest) lvs.Table {
	t := make(lvs.Table, 0, len(vss))
	for i := range vss {
		vs := &vss[i]
		s := service(vs)
		fwd := forward(vs.LBKind)
		thresholds := make(map[netip.AddrPort][2]uint32, len(vs.RealServers))
		for _, rs := range vs.RealServers {
			thresholds[rs.Addr] = [2]uint32{rs.UpperThreshold, rs.LowerThreshold}
		}
		for _, d := range dests[config.ServiceID(vs)] {
			th := thresholds[d.Address]
			s.Destinations = append(s.Destinations, lvs.Destination{
				Addr:           d.Address.Addr(),
				Port:           d.Address.Port(),
				Weight:         d.Weight,
				Forward:        fwd,
				UpperThreshold: th[0],
				LowerThreshold: th[1],
			})
		}
		t = append(t, s)
	}
	return t
}

// forwardingKinds and vsInterfaces feed lvs.DirectorSysctls.
func forwardingKinds(vss []config.VirtualServer) []lvs.Forward {
	var out []lvs.Forward
	for i := range vss {
		out = append(out, forward(vss[i].LBKind))
	}
	return out
}
