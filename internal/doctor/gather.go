package doctor

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/lvsd/lvsd/internal/daemon"
	"github.com/lvsd/lvsd/lvs"
)

// System reads the host: files under /proc, /sys and /lib/modules, command output
// (iptables-save, nft) and the interfaces.
type System interface {
	ReadFile(path string) ([]byte, error)
	Output(ctx context.Context, name string, args ...string) ([]byte, error)
	Links() (map[string]Link, error)
}

// Prober asks, with an ARP probe on dev, who holds ip; nil when nobody answers in time.
type Prober interface {
	ProbeARP(ctx context.Context, dev string, ip netip.Addr, timeout time.Duration) (net.HardwareAddr, error)
}

// StatusSource is the running daemon; an error means none is running (or it does not answer).
type StatusSource interface {
	Status(ctx context.Context) (*daemon.Status, error)
}

// Options tune the gathering.
type Options struct {
	ARPTimeout time.Duration // per probe; default 500ms
	PeerWindow time.Duration // how long to count adverts; default 3s
	Sleep      func(context.Context, time.Duration) error
}

// Gather collects the facts Check needs for n. Missing tools and files are not errors:
// the facts they would give are left empty, and their checks say nothing.
func Gather(ctx context.Context, sys System, arp Prober, st StatusSource, n Needs, o Options) (Facts, error) {
	if o.ARPTimeout == 0 {
		o.ARPTimeout = 500 * time.Millisecond
	}
	if o.PeerWindow == 0 {
		o.PeerWindow = 3 * time.Second
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	f := Facts{Sysctls: map[string]string{}, ARP: map[netip.Addr]net.HardwareAddr{}}
	links, err := sys.Links()
	if err != nil {
		return f, err
	}
	f.Links = links
	keys := []string{"net.ipv4.ip_forward"}
	devs := []string{"all", "default"}
	for _, v := range n.VRRP {
		devs = append(devs, v.Interface)
	}
	devs = append(devs, n.DRInterfaces...)
	for _, d := range devs {
		for _, name := range []string{"send_redirects", "arp_ignore", "rp_filter"} {
			keys = append(keys, confKey(d, name))
		}
	}
	for _, k := range keys {
		if b, err := sys.ReadFile(lvs.SysctlPath("", k)); err == nil {
			f.Sysctls[k] = strings.TrimSpace(string(b))
		}
	}
	f.IPVS = gatherIPVS(sys, n.Schedulers)
	if b, err := sys.Output(ctx, "iptables-save"); err == nil {
		f.IPTablesSave = string(b)
	}
	if b, err := sys.Output(ctx, "ip6tables-save"); err == nil {
		f.IP6TablesSave = string(b)
	}
	if b, err := sys.Output(ctx, "nft", "list", "ruleset"); err == nil {
		f.NFTRuleset = string(b)
	}
	before, err := st.Status(ctx)
	if err == nil {
		f.Daemon = &DaemonFacts{}
		if hasBackup(before) {
			if err := o.Sleep(ctx, o.PeerWindow); err != nil {
				return f, err
			}
			f.Daemon.Window = o.PeerWindow
		}
		after, err := st.Status(ctx)
		if err != nil {
			after = before
		}
		f.Daemon.Instances = instanceFacts(before, after)
	}
	for _, p := range Probes(n, f) {
		if l, ok := f.Links[p.Dev]; !ok || !l.Up {
			continue
		}
		mac, err := arp.ProbeARP(ctx, p.Dev, p.Addr, o.ARPTimeout)
		if err != nil {
			return f, err
		}
		f.ARP[p.Addr] = mac
	}
	return f, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func hasBackup(s *daemon.Status) bool {
	for _, v := range s.VRRP {
		if v.State == "BACKUP" {
			return true
		}
	}
	return false
}

func instanceFacts(before, after *daemon.Status) []InstanceFacts {
	var out []InstanceFacts
	for _, a := range after.VRRP {
		in := InstanceFacts{Name: a.Name, State: a.State, MasterIP: a.MasterIP, AdvertsHeard: a.AdvertsReceived}
		for _, b := range before.VRRP {
			if b.Name == a.Name && a.AdvertsReceived >= b.AdvertsReceived {
				in.AdvertsHeard = a.AdvertsReceived - b.AdvertsReceived
			}
		}
		if a.LastTransition != nil {
			in.Reason = a.LastTransition.Reason
		}
		out = append(out, in)
	}
	return out
}

// gatherIPVS looks for IPVS and the schedulers: loaded (/proc/net/ip_vs, /sys/module),
// built in (modules.builtin) or available as a module (modules.dep).
func gatherIPVS(sys System, scheds []string) IPVSFacts {
	var f IPVSFacts
	if b, err := sys.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		f.Kernel = strings.TrimSpace(string(b))
	}
	_, err := sys.ReadFile("/proc/net/ip_vs")
	f.Loaded = err == nil
	mods := map[string]bool{}
	for _, name := range []string{"modules.dep", "modules.builtin"} {
		b, err := sys.ReadFile("/lib/modules/" + f.Kernel + "/" + name)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			path, _, _ := strings.Cut(sc.Text(), ":")
			base := path[strings.LastIndexByte(path, '/')+1:]
			if mod, _, ok := strings.Cut(base, ".ko"); ok {
				mods[strings.ReplaceAll(mod, "-", "_")] = true
			}
		}
	}
	f.Module = mods["ip_vs"] || f.Loaded
	f.Schedulers = map[string]bool{}
	for _, s := range scheds {
		mod := "ip_vs_" + s
		_, err := sys.ReadFile("/sys/module/" + mod + "/refcnt")
		f.Schedulers[s] = mods[mod] || err == nil // loaded, or can be
	}
	return f
}
