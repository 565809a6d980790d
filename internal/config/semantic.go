package config

import (
	"fmt"
	"net/netip"
)

// Checks across blocks for mistakes keepalived users make, run once every block is built.
// Each names the place to fix. Whether a VIP is the interface's own address can only be
// known on the machine: `run` checks that (internal/daemon); here only what the config says.

func (s *sink) checkSemantics(top *rawBlock, cfg *Config) {
	byPos := map[Pos]*rawBlock{}
	for _, b := range top.Blocks {
		byPos[posOf(b.TypeRange)] = b
	}
	vips := map[netip.Addr]string{} // VIP -> instance
	for _, in := range cfg.VRRPInstances {
		for _, v := range in.VIPs {
			vips[v.Prefix.Addr()] = in.Name
		}
	}
	for _, in := range cfg.VRRPInstances {
		s.checkOwnAddresses(byPos[in.Pos], &in, vips)
	}
	marked := map[uint32]bool{}
	for _, ln := range cfg.Localnodes {
		if ln.Mode == ModeFWMark && ln.FWMark != 0 {
			marked[ln.FWMark] = true
		}
	}
	for i := range cfg.VirtualServers {
		vs := &cfg.VirtualServers[i]
		s.checkServers(byPos[vs.Pos], vs, vips)
		if vs.IsFWMark() && !marked[vs.FWMark] {
			s.warnPos(vs.Pos, "virtual_server %q: no localnode in this configuration marks packets with fwmark %d; "+
				"the service only sees traffic if a firewall rule of your own sets that mark", vs.Name, vs.FWMark)
		}
	}
}

// checkOwnAddresses: an instance's own addresses (unicast_src_ip, its peers') are not VIPs.
// lvsd removes a VIP when it gives the mastership up, and would take the interface's own
// address with it; a peer's address as a VIP would be answered by two machines.
func (s *sink) checkOwnAddresses(b *rawBlock, in *VRRPInstance, vips map[netip.Addr]string) {
	if b == nil {
		return
	}
	if owner, ok := vips[in.UnicastSrcIP]; ok && in.UnicastSrcIP.IsValid() {
		s.errAt(b.Attrs["unicast_src_ip"].Range, "unicast_src_ip %s is a VIP of vrrp_instance %q: the interface's own address cannot be a VIP "+
			"(it would be deleted when the VIP is released)", in.UnicastSrcIP, owner)
	}
	for _, p := range in.UnicastPeers {
		if owner, ok := vips[p]; ok {
			s.errAt(b.Attrs["unicast_peer"].Range, "unicast_peer %s is a VIP of vrrp_instance %q: a peer's own address cannot be a VIP", p, owner)
		}
	}
	for _, v := range in.VIPs {
		if p := v.Prefix; p.Addr().Is4() && p.Bits() < 31 && p.Masked().Addr() == p.Addr() {
			s.warnPos(in.Pos, "vrrp_instance %q: VIP %s is the network address of its prefix, not a host address", in.Name, p)
		}
	}
}

// checkServers: a real server is not the service's own address, and the sorry server is not
// also one of the real servers (it would be added and removed as both).
func (s *sink) checkServers(b *rawBlock, vs *VirtualServer, vips map[netip.Addr]string) {
	if b == nil {
		return
	}
	for _, rs := range vs.RealServers {
		if _, isVIP := vips[rs.Addr.Addr()]; !vs.IsFWMark() && rs.Addr.Addr() == vs.Addr.Addr() && !isVIP { // a VIP is reported already
			s.errPos(rs.Pos, "real server %s is the virtual server's own address: IPVS would send the traffic back to this service "+
				"(for a director that also serves, use 127.0.0.1: LVS's local node)", rs.Addr)
		}
		if vs.SorryServer != nil && *vs.SorryServer == rs.Addr {
			s.errAt(b.Attrs["sorry_server"].Range, "sorry_server %s is also a real_server of virtual_server %q (at %s): "+
				"use another address, or drop the sorry_server", rs.Addr, vs.Name, rs.Pos)
		}
	}
}

func (s *sink) errPos(p Pos, format string, args ...any) {
	s.errs = append(s.errs, Diagnostic{File: p.File, Line: p.Line, Col: p.Col, Message: fmt.Sprintf(format, args...)})
}

func (s *sink) warnPos(p Pos, format string, args ...any) {
	s.warns = append(s.warns, Diagnostic{File: p.File, Line: p.Line, Col: p.Col, Message: fmt.Sprintf(format, args...), Warning: true})
}
