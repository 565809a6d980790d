// Package doctor checks what a director's configuration needs of its host: kernel
// settings, IPVS and its schedulers, interfaces, a firewall letting VRRP through, VIPs not
// held by another host, and (when lvsd runs) VRRP peers heard. Each finding comes with its
// fix.
//
// Needs (what the config asks for) and Check (needs + gathered facts -> findings) are pure;
// gathering the facts from the kernel, iptables/nft and the running daemon is in
// gather_linux.go, behind the Gatherer interface.
package doctor

import (
	"net/netip"
	"slices"

	"github.com/lvsd/lvsd/internal/config"
)

// Needs is what a configuration asks of the host.
type Needs struct {
	NAT, DR, TUN bool
	// DRInterfaces carry VIPs or VRRP for a DR director: send_redirects must be 0 there.
	DRInterfaces []string
	Schedulers   []string // lb_algo values in use
	Interfaces   []IfaceNeed
	VRRP         []VRRPNeed
	HasIPVS      bool // at least one virtual_server
}

// IfaceNeed is an interface the config names, and where.
type IfaceNeed struct {
	Name string
	Why  string
}

// VRRPNeed is one vrrp_instance as doctor sees it.
type VRRPNeed struct {
	Name      string
	Interface string
	Multicast bool // adverts to the VRRP group (no unicast_peer)
	IPv6      bool // VRRPv3 over IPv6: adverts to ff02::12, judged by ip6tables
	VIPs      []VIPNeed
}

// VIPNeed is one VIP and the device it goes on.
type VIPNeed struct {
	Addr netip.Addr
	Dev  string
}

// NeedsOf derives Needs from a loaded config.
func NeedsOf(c *config.Config) Needs {
	var n Needs
	addIf := func(name, why string) {
		if name == "" || slices.ContainsFunc(n.Interfaces, func(i IfaceNeed) bool { return i.Name == name }) {
			return
		}
		n.Interfaces = append(n.Interfaces, IfaceNeed{name, why})
	}
	for _, in := range c.VRRPInstances {
		v := VRRPNeed{Name: in.Name, Interface: in.Interface, Multicast: len(in.UnicastPeers) == 0, IPv6: in.IPv6}
		addIf(in.Interface, `interface of vrrp_instance "`+in.Name+`"`)
		for _, t := range in.TrackInterfaces {
			addIf(t, `track_interface of vrrp_instance "`+in.Name+`"`)
		}
		for _, vip := range in.VIPs {
			v.VIPs = append(v.VIPs, VIPNeed{vip.Prefix.Addr(), vip.Dev})
			addIf(vip.Dev, "device of VIP "+vip.Prefix.Addr().String())
		}
		n.VRRP = append(n.VRRP, v)
	}
	if c.SyncDaemon != nil {
		addIf(c.SyncDaemon.Interface, "interface of lvs_sync_daemon")
	}
	for _, vs := range c.VirtualServers {
		n.HasIPVS = true
		switch vs.LBKind {
		case config.LBNAT:
			n.NAT = true
		case config.LBDR:
			n.DR = true
		case config.LBTUN:
			n.TUN = true
		}
		if !slices.Contains(n.Schedulers, vs.LBAlgo) {
			n.Schedulers = append(n.Schedulers, vs.LBAlgo)
		}
	}
	if n.DR {
		for _, v := range n.VRRP {
			for _, d := range append([]string{v.Interface}, vipDevs(v)...) {
				if d != "lo" && !slices.Contains(n.DRInterfaces, d) {
					n.DRInterfaces = append(n.DRInterfaces, d)
				}
			}
		}
	}
	return n
}

func vipDevs(v VRRPNeed) []string {
	var out []string
	for _, vip := range v.VIPs {
		out = append(out, vip.Dev)
	}
	return out
}
