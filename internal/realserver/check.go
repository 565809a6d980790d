package realserver

import (
	"fmt"
	"net/netip"
	"strconv"
)

// Finding is one thing check found missing, with the fix.
type Finding struct {
	What string
	Fix  string
}

func (f Finding) String() string { return f.What + "; fix: " + f.Fix }

// Check compares f with what o needs and returns what is missing. Settings are judged by
// their effective value: the kernel uses the larger of "all" and the interface's value.
func Check(o Options, f Facts, listeners []Listener) []Finding {
	var out []Finding
	dev := o.Mode.VIPDev()
	l, ok := f.link(dev)
	fixCmd := fmt.Sprintf("lvsd realserver setup%s", o.flags())
	switch {
	case !ok && o.Mode == ModeTUN:
		out = append(out, Finding{"no tunl0 interface (the ipip module is not loaded)", fixCmd + " (loads ipip)"})
	case !ok:
		out = append(out, Finding{"no " + dev + " interface", "check the kernel"})
	case !l.Up:
		out = append(out, Finding{dev + " is down", fixCmd})
	}
	for _, v := range o.VIPs {
		if !f.hasAddr(dev, v) {
			out = append(out, Finding{fmt.Sprintf("VIP %v is not on %s", v, dev), fixCmd})
		}
	}
	ifaces := RIPInterfaces(o, f)
	for _, s := range Settings(o, ifaces) {
		dev, name := splitConfKey(s.Key)
		if dev == "all" {
			continue // judged through each interface's effective value
		}
		eff, have := effective(f, dev, name)
		if !have {
			if _, ok := f.link(dev); ok || dev != TunnelDev {
				out = append(out, Finding{fmt.Sprintf("cannot read %s", s.Key), "check that interface " + dev + " exists"})
			}
			continue
		}
		want, _ := strconv.Atoi(s.Value)
		if !settingOK(name, eff, want) {
			out = append(out, Finding{
				fmt.Sprintf("%s is %d on %s (the larger of all and %s), want %s: %s", name, eff, dev, dev, s.Value, s.Why),
				fixCmd,
			})
		}
	}
	for _, v := range o.VIPs {
		for _, p := range o.Ports {
			if ok, why := ListenerVerdict(v, p, listeners); !ok {
				out = append(out, Finding{fmt.Sprintf("%v: %s", netip.AddrPortFrom(v, p), why), "reconfigure the service"})
			}
		}
	}
	return out
}

// settingOK: arp_ignore 1 or 2 both keep the VIP out of ARP replies; the others must match.
func settingOK(name string, eff, want int) bool {
	if name == "arp_ignore" {
		return eff == 1 || eff == 2
	}
	return eff == want
}

// effective is max(all, dev) for a conf setting, as the kernel computes it for
// arp_ignore, arp_announce and rp_filter.
func effective(f Facts, dev, name string) (int, bool) {
	d, ok1 := f.Sysctls[confKey(dev, name)]
	a, ok2 := f.Sysctls[confKey("all", name)]
	if !ok1 || !ok2 {
		return 0, false
	}
	dv, err1 := strconv.Atoi(d)
	av, err2 := strconv.Atoi(a)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return max(dv, av), true
}

func splitConfKey(key string) (dev, name string) {
	rest := key[len("net.ipv4.conf."):]
	for i := len(rest) - 1; i >= 0; i-- {
		if rest[i] == '.' {
			return rest[:i], rest[i+1:]
		}
	}
	return rest, ""
}

// flags renders o as command-line flags, for the fix lines.
func (o Options) flags() string {
	var s string
	for _, v := range o.VIPs {
		s += " --vip " + v.String()
	}
	if o.Mode != ModeDR {
		s += " --mode " + string(o.Mode)
	}
	for _, i := range o.Interfaces {
		s += " --interface " + i
	}
	return s
}
