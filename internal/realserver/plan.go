// Package realserver prepares a Linux host to be an LVS real server behind lvsd directors:
// the VIPs on lo (LVS-DR) or tunl0 (LVS-TUN), the ARP settings that keep the real server
// from answering ARP for a VIP the director owns, and rp_filter off for tunnelled packets.
// It also checks a host for what is missing, including the classic pitfall of a service
// that listens on the real IP only.
//
// The logic is pure (plan.go, check.go, listeners.go: facts in, changes or findings out);
// the kernel is reached through the Reader and Applier interfaces (linux.go).
package realserver

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Mode is the LVS forwarding method the real server serves.
type Mode string

const (
	ModeDR  Mode = "dr"  // direct routing: VIP on lo
	ModeTUN Mode = "tun" // IP-in-IP: VIP on tunl0
)

// TunnelDev is the catch-all IP-in-IP device the ipip module creates in every namespace.
const TunnelDev = "tunl0"

// Options is what the user asked for.
type Options struct {
	VIPs []netip.Addr
	Mode Mode
	// Interfaces carry the real IP; their ARP settings are set besides "all". Empty: every
	// interface that is up and has an IPv4 address (lo and tunl0 excepted).
	Interfaces []string
	Ports      []uint16 // TCP ports whose listeners check inspects
}

// Validate reports the first usage problem in o.
func (o Options) Validate() error {
	if len(o.VIPs) == 0 {
		return fmt.Errorf("at least one --vip is required")
	}
	if o.Mode != ModeDR && o.Mode != ModeTUN {
		return fmt.Errorf("--mode %q: use dr or tun", o.Mode)
	}
	seen := map[netip.Addr]bool{}
	for _, v := range o.VIPs {
		if !v.IsValid() || v.IsUnspecified() || v.IsLoopback() || v.IsMulticast() {
			return fmt.Errorf("--vip %v: not a unicast address", v)
		}
		if o.Mode == ModeTUN && !v.Is4() {
			return fmt.Errorf("--vip %v: LVS-TUN (IP-in-IP on tunl0) carries IPv4 only", v)
		}
		if seen[v] {
			return fmt.Errorf("--vip %v given twice", v)
		}
		seen[v] = true
	}
	return nil
}

// VIPDev is the device that holds the VIPs in mode m.
func (m Mode) VIPDev() string {
	if m == ModeTUN {
		return TunnelDev
	}
	return "lo"
}

// Link is one network interface as gathered from the kernel.
type Link struct {
	Name  string
	Up    bool
	Addrs []netip.Prefix
}

// Facts is the host's current state, as far as planning and checking need it.
type Facts struct {
	Links   []Link
	Sysctls map[string]string // key -> value; a key whose file is missing is absent
}

func (f Facts) link(name string) (Link, bool) {
	for _, l := range f.Links {
		if l.Name == name {
			return l, true
		}
	}
	return Link{}, false
}

func (f Facts) hasAddr(dev string, a netip.Addr) bool {
	l, ok := f.link(dev)
	if !ok {
		return false
	}
	return slices.ContainsFunc(l.Addrs, func(p netip.Prefix) bool { return p.Addr() == a })
}

// RIPInterfaces picks the interfaces whose ARP settings matter: the explicit ones, or every
// up interface with an IPv4 address other than lo and tunl0.
func RIPInterfaces(o Options, f Facts) []string {
	if len(o.Interfaces) > 0 {
		return o.Interfaces
	}
	var out []string
	for _, l := range f.Links {
		if l.Name == "lo" || l.Name == TunnelDev || !l.Up {
			continue
		}
		if slices.ContainsFunc(l.Addrs, func(p netip.Prefix) bool { return p.Addr().Is4() }) {
			out = append(out, l.Name)
		}
	}
	return out
}

// Setting is one kernel setting a real server needs, with the reason.
type Setting struct {
	Key   string // dotted sysctl key, e.g. net.ipv4.conf.all.arp_ignore
	Value string
	Why   string
}

// confKey is net.ipv4.conf.DEV.NAME (DEV may contain dots: lvs.SysctlPath copes).
func confKey(dev, name string) string { return "net.ipv4.conf." + dev + "." + name }

// Settings lists what the real server needs for o on interfaces ifaces. The kernel uses
// the larger of "all" and the interface's own value for arp_ignore, arp_announce and
// rp_filter, so both are set.
func Settings(o Options, ifaces []string) []Setting {
	var out []Setting
	hasV4 := slices.ContainsFunc(o.VIPs, netip.Addr.Is4)
	if hasV4 {
		for _, dev := range append([]string{"all"}, ifaces...) {
			out = append(out,
				Setting{confKey(dev, "arp_ignore"), "1", "answer ARP only for addresses on the asking interface, never for the VIP"},
				Setting{confKey(dev, "arp_announce"), "2", "never use the VIP as the source of ARP requests"})
		}
	}
	if o.Mode == ModeTUN {
		for _, dev := range []string{"all", TunnelDev} {
			out = append(out, Setting{confKey(dev, "rp_filter"), "0",
				"the unwrapped packet's source (the client) is not routed via tunl0; reverse-path filtering would drop it"})
		}
	}
	return out
}

// ChangeKind says what a Change does.
type ChangeKind string

const (
	SetSysctl  ChangeKind = "sysctl"
	AddAddr    ChangeKind = "add-address"
	DelAddr    ChangeKind = "del-address"
	LinkUp     ChangeKind = "link-up"
	LinkDown   ChangeKind = "link-down"
	LoadModule ChangeKind = "load-module"
)

// Change is one effect on the host.
type Change struct {
	Kind   ChangeKind
	Key    string       // SetSysctl: the key; LoadModule: the module
	Value  string       // SetSysctl: the new value
	Old    string       // SetSysctl: the value it replaces (for the message)
	Dev    string       // addresses and links
	Prefix netip.Prefix // addresses
}

func (c Change) String() string {
	switch c.Kind {
	case SetSysctl:
		return fmt.Sprintf("set %s = %s (was %s)", c.Key, c.Value, c.Old)
	case AddAddr:
		return fmt.Sprintf("add %s on %s", c.Prefix, c.Dev)
	case DelAddr:
		return fmt.Sprintf("remove %s from %s", c.Prefix, c.Dev)
	case LinkUp:
		return fmt.Sprintf("set %s up", c.Dev)
	case LinkDown:
		return fmt.Sprintf("set %s down", c.Dev)
	case LoadModule:
		return fmt.Sprintf("load module %s", c.Key)
	}
	return string(c.Kind)
}

// hostPrefix is the VIP as a host route: /32 or /128.
func hostPrefix(a netip.Addr) netip.Prefix { return netip.PrefixFrom(a, a.BitLen()) }

// PlanSetup returns the changes that bring f to what o needs, in a safe order (ARP
// settings before any VIP appears, so no ARP reply for it ever leaks), and the state to
// remember: prev plus what these changes replace. A setting already right is left alone
// and not remembered, so teardown will not touch it; a value remembered by an earlier
// setup is kept (it is the one from before lvsd).
func PlanSetup(o Options, f Facts, prev State) ([]Change, State, error) {
	next := prev.clone()
	next.Mode = o.Mode
	var out []Change
	dev := o.Mode.VIPDev()
	l, ok := f.link(dev)
	if !ok {
		return nil, prev, fmt.Errorf("no %s interface", dev)
	}
	ifaces := RIPInterfaces(o, f)
	for _, name := range ifaces {
		if _, ok := f.link(name); !ok {
			return nil, prev, fmt.Errorf("no such interface: %s", name)
		}
	}
	for _, s := range Settings(o, ifaces) {
		cur, ok := f.Sysctls[s.Key]
		if !ok {
			return nil, prev, fmt.Errorf("kernel setting %s does not exist here", s.Key)
		}
		if cur == s.Value {
			continue
		}
		if _, remembered := next.Sysctls[s.Key]; !remembered {
			next.Sysctls[s.Key] = cur
		}
		out = append(out, Change{Kind: SetSysctl, Key: s.Key, Value: s.Value, Old: cur})
	}
	if !l.Up {
		out = append(out, Change{Kind: LinkUp, Dev: dev})
		if !slices.Contains(next.LinksUp, dev) {
			next.LinksUp = append(next.LinksUp, dev)
		}
	}
	for _, v := range o.VIPs {
		if f.hasAddr(dev, v) {
			continue
		}
		p := hostPrefix(v)
		out = append(out, Change{Kind: AddAddr, Dev: dev, Prefix: p})
		next.Addresses = append(next.Addresses, Address{Dev: dev, Prefix: p})
	}
	return out, next, nil
}

// PlanTeardown returns the changes that undo what State says setup did, and the state
// left afterwards. With vips, only those VIPs are removed; the shared settings (sysctls,
// link state) are restored once no VIP that setup added remains. An address that is gone
// already is not removed again; nothing setup did not record is touched.
func PlanTeardown(vips []netip.Addr, f Facts, prev State) ([]Change, State) {
	next := prev.clone()
	next.Addresses = nil
	var out []Change
	for _, a := range prev.Addresses {
		if len(vips) > 0 && !slices.Contains(vips, a.Prefix.Addr()) {
			next.Addresses = append(next.Addresses, a)
			continue
		}
		if f.hasAddr(a.Dev, a.Prefix.Addr()) {
			out = append(out, Change{Kind: DelAddr, Dev: a.Dev, Prefix: a.Prefix})
		}
	}
	if len(next.Addresses) > 0 {
		return out, next
	}
	// Addresses first, links next, sysctls last: a VIP is never up with ARP unrestricted.
	for _, dev := range prev.LinksUp {
		if l, ok := f.link(dev); ok && l.Up {
			out = append(out, Change{Kind: LinkDown, Dev: dev})
		}
	}
	for _, key := range sortedKeys(prev.Sysctls) {
		want := prev.Sysctls[key]
		if cur, ok := f.Sysctls[key]; ok && cur != want {
			out = append(out, Change{Kind: SetSysctl, Key: key, Value: want, Old: cur})
		}
	}
	return out, State{}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ParseMode parses --mode.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(s)); m {
	case ModeDR, ModeTUN:
		return m, nil
	}
	return "", fmt.Errorf("--mode %q: use dr or tun", s)
}
