package realserver

import (
	"bytes"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvsd/lvsd/internal/netns"
)

// rsLab is one real server in a namespace of its own, with its RIP on an interface named
// after the lab (so that a bug acting in the wrong namespace finds no such device).
type rsLab struct {
	t     *testing.T
	h     *netns.Host
	state string
}

func newRSLab(t *testing.T) *rsLab {
	t.Helper()
	netns.RequireRoot(t, testing.Short())
	lab := netns.New(t)
	lab.IfName = lab.Prefix
	h := lab.MustAddHost(t, "rs", "198.51.100.11/24")
	return &rsLab{t: t, h: h, state: filepath.Join(t.TempDir(), "realserver.json")}
}

func (r *rsLab) sysctl(key string) string {
	r.t.Helper()
	out, err := r.h.Exec("sysctl", "-n", key)
	if err != nil {
		r.t.Fatalf("sysctl %s: %v", key, err)
	}
	return strings.TrimSpace(out)
}

func (r *rsLab) setSysctl(key, v string) {
	r.t.Helper()
	if _, err := r.h.Exec("sysctl", "-q", "-w", key+"="+v); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rsLab) addrs(dev string) string {
	r.t.Helper()
	out, err := r.h.IP("-o", "addr", "show", "dev", dev)
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

func (r *rsLab) do(f func() error) {
	r.t.Helper()
	if err := r.h.Do(f); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rsLab) check(o Options) []Finding {
	r.t.Helper()
	var f []Finding
	r.do(func() (err error) { f, err = CheckHost(Kernel{}, o); return err })
	return f
}

func TestKernelSetupCheckTeardownDR(t *testing.T) {
	r := newRSLab(t)
	dev := r.h.If
	keys := map[string]string{
		"net.ipv4.conf.all.arp_ignore":           "0",
		"net.ipv4.conf.all.arp_announce":         "0",
		"net.ipv4.conf." + dev + ".arp_ignore":   "0",
		"net.ipv4.conf." + dev + ".arp_announce": "1", // the admin's own value
	}
	r.setSysctl("net.ipv4.conf."+dev+".arp_announce", "1")
	o := Options{Mode: ModeDR, VIPs: []netip.Addr{netip.MustParseAddr("192.0.2.10")}}
	if f := r.check(o); len(f) != 3 { // VIP, arp_ignore, arp_announce
		t.Errorf("check before setup: %d findings, want 3: %v", len(f), f)
	}
	var out bytes.Buffer
	for range 2 { // idempotent
		r.do(func() error { return Setup(Kernel{}, o, r.state, false, &out) })
		if a := r.addrs("lo"); strings.Count(a, "192.0.2.10/32") != 1 {
			t.Errorf("lo after setup: %q", a)
		}
		for k := range keys {
			want := "1"
			if strings.HasSuffix(k, "announce") {
				want = "2"
			}
			if got := r.sysctl(k); got != want {
				t.Errorf("after setup: %s = %s, want %s", k, got, want)
			}
		}
		if f := r.check(o); len(f) != 0 {
			t.Errorf("check after setup: %v", f)
		}
	}
	t.Logf("setup output:\n%s", out.String())
	for range 2 {
		r.do(func() error { return Teardown(Kernel{}, nil, r.state, &out) })
		if a := r.addrs("lo"); strings.Contains(a, "192.0.2.10") {
			t.Errorf("lo after teardown: %q", a)
		}
		for k, want := range keys {
			if got := r.sysctl(k); got != want {
				t.Errorf("after teardown: %s = %s, want %s (the value before setup)", k, got, want)
			}
		}
	}
}

func TestKernelSetupTUN(t *testing.T) {
	r := newRSLab(t)
	o := Options{Mode: ModeTUN, VIPs: []netip.Addr{netip.MustParseAddr("192.0.2.10")}}
	var out bytes.Buffer
	// Without the ipip module (and module loading off: loading one would change the host
	// kernel), setup refuses and changes nothing.
	if _, err := r.h.IP("link", "show", "dev", TunnelDev); err != nil {
		err := r.h.Do(func() error { return Setup(Kernel{}, o, r.state, false, &out) })
		if err == nil || !strings.Contains(err.Error(), "nothing changed") {
			t.Fatalf("setup without tunl0: %v", err)
		}
		if got := r.sysctl("net.ipv4.conf.all.arp_ignore"); got != "0" {
			t.Errorf("arp_ignore changed by a refused setup: %s", got)
		}
		// A veth named tunl0 stands in for the ipip module's device: setup only needs a
		// link of that name with its own settings.
		if _, err := r.h.IP("link", "add", TunnelDev, "type", "veth", "peer", "name", "tunl0p"); err != nil {
			t.Fatal(err)
		}
	}
	r.setSysctl("net.ipv4.conf.all.rp_filter", "2")
	r.setSysctl("net.ipv4.conf.tunl0.rp_filter", "1")
	r.do(func() error { return Setup(Kernel{}, o, r.state, false, &out) })
	if a := r.addrs(TunnelDev); !strings.Contains(a, "192.0.2.10/32") {
		t.Errorf("tunl0 after setup: %q", a)
	}
	if got := r.sysctl("net.ipv4.conf.all.rp_filter") + r.sysctl("net.ipv4.conf.tunl0.rp_filter"); got != "00" {
		t.Errorf("rp_filter all+tunl0 after setup: %s, want 00", got)
	}
	if f := r.check(o); len(f) != 0 {
		t.Errorf("check after setup: %v", f)
	}
	r.do(func() error { return Teardown(Kernel{}, nil, r.state, &out) })
	if got := r.sysctl("net.ipv4.conf.all.rp_filter") + r.sysctl("net.ipv4.conf.tunl0.rp_filter"); got != "21" {
		t.Errorf("rp_filter all+tunl0 after teardown: %s, want 21", got)
	}
	if l, _ := r.h.IP("link", "show", "dev", TunnelDev); strings.Contains(strings.SplitN(l, ">", 2)[0], ",UP") {
		t.Errorf("tunl0 left up after teardown: %s", l)
	}
	if a := r.addrs(TunnelDev); strings.Contains(a, "192.0.2.10") {
		t.Errorf("tunl0 after teardown: %q", a)
	}
}

// TestKernelCheckListeners: a service bound to the real IP only is found; one listening on
// all addresses passes.
func TestKernelCheckListeners(t *testing.T) {
	r := newRSLab(t)
	o := Options{Mode: ModeDR, VIPs: []netip.Addr{netip.MustParseAddr("192.0.2.10")}}
	var out bytes.Buffer
	r.do(func() error { return Setup(Kernel{}, o, r.state, false, &out) })
	t.Cleanup(func() { _ = r.h.Do(func() error { return Teardown(Kernel{}, nil, r.state, &out) }) })
	var ripOnly, wildcard net.Listener
	r.do(func() (err error) {
		if ripOnly, err = net.Listen("tcp4", "198.51.100.11:0"); err != nil {
			return err
		}
		wildcard, err = net.Listen("tcp4", "0.0.0.0:0")
		return err
	})
	defer ripOnly.Close()
	defer wildcard.Close()
	ripPort := uint16(ripOnly.Addr().(*net.TCPAddr).Port)
	wildPort := uint16(wildcard.Addr().(*net.TCPAddr).Port)

	o.Ports = []uint16{ripPort}
	f := r.check(o)
	if len(f) != 1 || !strings.Contains(f[0].What, "listens on 198.51.100.11:") || !strings.Contains(f[0].What, "not on the VIP 192.0.2.10") {
		t.Errorf("RIP-only listener: findings %v", f)
	}
	o.Ports = []uint16{wildPort}
	if f := r.check(o); len(f) != 0 {
		t.Errorf("wildcard listener: findings %v, want none", f)
	}
	// A service bound to the VIP itself passes too.
	r.do(func() error {
		vipLn, err := net.Listen("tcp4", "192.0.2.10:0")
		if err != nil {
			return err
		}
		defer vipLn.Close()
		o.Ports = []uint16{uint16(vipLn.Addr().(*net.TCPAddr).Port)}
		f, err := CheckHost(Kernel{}, o)
		if err == nil && len(f) != 0 {
			t.Errorf("VIP-bound listener: findings %v, want none", f)
		}
		return err
	})
}
