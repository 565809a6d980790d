package doctor

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Facts is what was gathered from the host.
type Facts struct {
	Sysctls map[string]string // key -> value; missing keys are absent
	Links   map[string]Link   // by name
	IPVS    IPVSFacts
	// IPTablesSave, IP6TablesSave and NFTRuleset are the dumps of the current network
	// namespace's firewall; empty when the tool is missing (then it is not judged).
	IPTablesSave, IP6TablesSave, NFTRuleset string
	// ARP holds, for each probed VIP, the MAC that answered (nil: nobody did).
	ARP map[netip.Addr]net.HardwareAddr
	// Daemon is the running lvsd's view (nil: none answered on the control socket).
	Daemon *DaemonFacts
}

// Link is one interface.
type Link struct {
	Up    bool
	Addrs []netip.Addr
}

// IPVSFacts says whether IPVS and its schedulers can be had.
type IPVSFacts struct {
	Kernel     string          // uname -r
	Loaded     bool            // /proc/net/ip_vs exists
	Module     bool            // ip_vs is a module of this kernel, or built in
	Schedulers map[string]bool // lb_algo -> available (loaded, module or built in)
}

// DaemonFacts is what the running daemon reported.
type DaemonFacts struct {
	Instances []InstanceFacts
	Window    time.Duration // how long adverts were counted
}

// InstanceFacts is one VRRP instance of the running daemon.
type InstanceFacts struct {
	Name, State, MasterIP string
	AdvertsHeard          uint64 // adverts received during Window
	Reason                string // of the last transition
}

// Finding is one problem, with its fix.
type Finding struct {
	What string
	Fix  string
}

func (f Finding) String() string { return f.What + "; fix: " + f.Fix }

func confKey(dev, name string) string { return "net.ipv4.conf." + dev + "." + name }

func (f Facts) intSysctl(key string) (int, bool) {
	v, ok := f.Sysctls[key]
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// localAddr reports whether a is on any interface of this host.
func (f Facts) localAddr(a netip.Addr) bool {
	for _, l := range f.Links {
		for _, x := range l.Addrs {
			if x == a {
				return true
			}
		}
	}
	return false
}

// Check returns every finding for needs n on a host with facts f, in a stable order.
func Check(n Needs, f Facts) []Finding {
	var out []Finding
	add := func(what, fix string, a ...any) { out = append(out, Finding{fmt.Sprintf(what, a...), fix}) }

	for _, i := range n.Interfaces {
		l, ok := f.Links[i.Name]
		switch {
		case !ok:
			add("interface %s (%s) does not exist", "create it or correct the config", i.Name, i.Why)
		case !l.Up && i.Name != "lo":
			add("interface %s (%s) is down", "ip link set "+i.Name+" up", i.Name, i.Why)
		}
	}

	if n.NAT {
		if v, ok := f.intSysctl("net.ipv4.ip_forward"); ok && v != 1 {
			add("net.ipv4.ip_forward is %d: LVS-NAT replies from the real servers are routed back through the director",
				"sysctl -w net.ipv4.ip_forward=1 (lvsd run sets it when it starts; if lvsd runs, something reset it)", v)
		}
	}
	if n.DR {
		for _, dev := range append([]string{"all", "default"}, n.DRInterfaces...) {
			if _, ok := f.Links[dev]; !ok && dev != "all" && dev != "default" {
				continue // reported above
			}
			key := confKey(dev, "send_redirects")
			if v, ok := f.intSysctl(key); ok && v != 0 {
				add("%s is %d: an LVS-DR director would send ICMP redirects pointing clients at the real servers",
					"sysctl -w "+key+"=0 (lvsd run sets it when it starts)", key, v)
			}
		}
	}
	// A VIP on lo (LVS-DR across segments): the director answers ARP for it on the VRRP
	// interface only if arp_ignore is 0 there, and strict reverse-path filtering drops
	// clients that are not routed back through that interface.
	for _, v := range n.VRRP {
		if !hasVIPOn(v, "lo") {
			continue
		}
		if eff, ok := effective(f, v.Interface, "arp_ignore"); ok && eff != 0 {
			add("arp_ignore is %d on %s (the larger of all and %s) and vrrp_instance %q puts its VIP on lo: the director will not answer ARP for it",
				"sysctl -w "+confKey("all", "arp_ignore")+"=0 "+confKey(v.Interface, "arp_ignore")+"=0", eff, v.Interface, v.Interface, v.Name)
		}
		if eff, ok := effective(f, v.Interface, "rp_filter"); ok && eff == 1 {
			add("rp_filter is strict (1) on %s and vrrp_instance %q puts its VIP on lo: packets from clients not routed back via %s are dropped",
				"route the clients via "+v.Interface+", or sysctl -w "+confKey("all", "rp_filter")+"=2 "+confKey(v.Interface, "rp_filter")+"=2 (loose)", v.Interface, v.Name, v.Interface)
		}
	}

	if n.HasIPVS {
		switch {
		case !f.IPVS.Loaded && !f.IPVS.Module:
			add("IPVS is not available: no /proc/net/ip_vs and no ip_vs module for kernel %s",
				"use a kernel built with CONFIG_IP_VS (Debian's stock kernel has it as a module), or install its modules package", f.IPVS.Kernel)
		default:
			for _, s := range n.Schedulers {
				if !f.IPVS.Schedulers[s] {
					add("IPVS scheduler %s (lb_algo) is not available: no ip_vs_%s module for kernel %s", "use another lb_algo, or a kernel with CONFIG_IP_VS_"+strings.ToUpper(s), s, s, f.IPVS.Kernel)
				}
			}
		}
	}

	for _, v := range n.VRRP {
		p := vrrpPacket{iface: v.Interface, multicast: v.Multicast, ipv6: v.IPv6}
		what := "VRRP (IP protocol 112)"
		if v.Multicast {
			what += " to " + p.group().String()
		}
		save := f.IPTablesSave
		if v.IPv6 {
			save = f.IP6TablesSave
		}
		for _, vd := range []verdict{iptablesVerdict(save, p), nftVerdict(f.NFTRuleset, p)} {
			if vd.dropped {
				add("%s on %s (vrrp_instance %q) is dropped by %s: the directors cannot hear each other and both become MASTER", vd.fix, what, v.Interface, v.Name, vd.by)
			}
		}
	}

	for _, v := range n.VRRP {
		for _, vip := range v.VIPs {
			mac, probed := f.ARP[vip.Addr]
			if !probed || mac == nil {
				continue
			}
			if d := f.Daemon; d != nil && d.instance(v.Name) != nil && d.instance(v.Name).State == "BACKUP" {
				continue // the MASTER holds it: as it should
			}
			add("VIP %v (vrrp_instance %q) is answered on %s by %v, another host",
				"if that is not the other director while it is MASTER, remove the address there (or set arp_ignore=1 / arp_announce=2 if it is a real server: lvsd realserver setup)",
				vip.Addr, v.Name, v.Interface, mac)
		}
	}

	if d := f.Daemon; d != nil {
		for _, in := range d.Instances {
			switch {
			case in.State == "FAULT":
				add("vrrp_instance %q is in FAULT (%s)", "fix the cause (an interface down, a failed track)", in.Name, in.Reason)
			case in.State == "BACKUP" && in.AdvertsHeard == 0:
				add("vrrp_instance %q is BACKUP and heard no advert from a MASTER in %v", "check the other director and that VRRP passes between them (see the firewall lines)", in.Name, d.Window)
			}
		}
	}
	return out
}

func (d *DaemonFacts) instance(name string) *InstanceFacts {
	for i := range d.Instances {
		if d.Instances[i].Name == name {
			return &d.Instances[i]
		}
	}
	return nil
}

func hasVIPOn(v VRRPNeed, dev string) bool {
	for _, vip := range v.VIPs {
		if vip.Dev == dev {
			return true
		}
	}
	return false
}

// effective is max(all, dev), as the kernel computes arp_ignore and rp_filter.
func effective(f Facts, dev, name string) (int, bool) {
	a, ok1 := f.intSysctl(confKey("all", name))
	d, ok2 := f.intSysctl(confKey(dev, name))
	if !ok1 || !ok2 {
		return 0, false
	}
	return max(a, d), true
}

// Probes returns the VIPs worth an ARP probe: IPv4 and not on this host.
func Probes(n Needs, f Facts) []VIPNeed {
	var out []VIPNeed
	for _, v := range n.VRRP {
		for _, vip := range v.VIPs {
			if vip.Addr.Is4() && !f.localAddr(vip.Addr) {
				out = append(out, VIPNeed{vip.Addr, v.Interface})
			}
		}
	}
	return out
}
