package daemon

import (
	"net/netip"

	"github.com/lvsd/lvsd/lvs"
)

// KernelCounters are the kernel's IPVS counters of one real server (ipvsadm -Ln --stats).
type KernelCounters struct {
	ActiveConns   uint32 `json:"active_conns"`
	InactiveConns uint32 `json:"inactive_conns"`
	Conns         uint64 `json:"conns_total"`
	InPackets     uint64 `json:"in_packets_total"`
	OutPackets    uint64 `json:"out_packets_total"`
	InBytes       uint64 `json:"in_bytes_total"`
	OutBytes      uint64 `json:"out_bytes_total"`
}

// addKernelCounters reads the kernel's IPVS table and attaches each real server's
// counters. A failed read leaves them out: status and metrics still serve the rest, and the
// reconciler reports the failure in status.ipvs.error.
func (d *Daemon) addKernelCounters(s *lvsState, st *Status) {
	t, err := s.rec.Read()
	if err != nil {
		d.log.Debug("read IPVS counters", "err", err)
		return
	}
	attachKernelCounters(st.VirtualServers, t)
}

// attachKernelCounters matches the kernel's services and destinations to the status's
// virtual and real servers by address, port, protocol and fwmark.
func attachKernelCounters(vss []VirtualServerStatus, t lvs.Table) {
	type svcKey struct {
		addr   netip.Addr
		port   uint16
		proto  string
		fwmark uint32
	}
	byKey := make(map[svcKey]*lvs.Service, len(t))
	for i := range t {
		s := &t[i]
		k := svcKey{fwmark: s.FWMark}
		if s.FWMark == 0 {
			k = svcKey{addr: s.Addr.Unmap(), port: s.Port, proto: s.Protocol.String()}
		}
		byKey[k] = s
	}
	for i := range vss {
		vs := &vss[i]
		k := svcKey{fwmark: vs.FWMark}
		if vs.FWMark == 0 {
			a, err := netip.ParseAddr(vs.Address)
			if err != nil {
				continue
			}
			k = svcKey{addr: a.Unmap(), port: uint16(vs.Port), proto: vs.Protocol}
		}
		svc := byKey[k]
		if svc == nil {
			continue
		}
		for j := range vs.RealServers {
			rs := &vs.RealServers[j]
			ap, err := netip.ParseAddrPort(rs.Address)
			if err != nil {
				continue
			}
			for _, dst := range svc.Destinations {
				if dst.Addr.Unmap() == ap.Addr().Unmap() && dst.Port == ap.Port() {
					rs.Kernel = &KernelCounters{ActiveConns: dst.ActiveConns, InactiveConns: dst.InactiveConns,
						Conns: dst.Stats.Conns, InPackets: dst.Stats.InPkts, OutPackets: dst.Stats.OutPkts,
						InBytes: dst.Stats.InBytes, OutBytes: dst.Stats.OutBytes}
					break
				}
			}
		}
	}
}
