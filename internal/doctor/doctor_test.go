package doctor

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/internal/config"
	"github.com/lvsd/lvsd/internal/daemon"
)

const natConfig = `
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  virtual_ipaddress = ["192.0.2.100/24"]
}
virtual_server "192.0.2.100:80" {
  lb_kind = "NAT"
  lb_algo = "wrr"
  real_server "198.51.100.11:80" {}
}
`

const drLoConfig = `
vrrp_instance "VI_1" {
  interface         = "eth0"
  virtual_router_id = 51
  unicast_src_ip    = "192.0.2.1"
  unicast_peer      = ["192.0.2.2"]
  virtual_ipaddress = ["203.0.113.100/32 dev lo"]
}
virtual_server "203.0.113.100:80" {
  lb_kind = "DR"
  lb_algo = "mh"
  real_server "192.0.2.11:80" {}
}
`

const v6Config = `
vrrp_instance "VI_6" {
  vrrp_version      = 3
  interface         = "eth0"
  virtual_router_id = 52
  virtual_ipaddress = ["2001:db8::100/64"]
}
`

func needsOf(t *testing.T, hcl string) Needs {
	t.Helper()
	p := filepath.Join(t.TempDir(), "d.hcl")
	if err := os.WriteFile(p, []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return NeedsOf(c)
}

// healthy is a host on which the NAT config has nothing to report.
func healthy() Facts {
	return Facts{
		Sysctls: map[string]string{
			"net.ipv4.ip_forward": "1", "net.ipv4.conf.all.send_redirects": "0",
			"net.ipv4.conf.default.send_redirects": "0", "net.ipv4.conf.eth0.send_redirects": "0",
			"net.ipv4.conf.all.arp_ignore": "0", "net.ipv4.conf.eth0.arp_ignore": "0",
			"net.ipv4.conf.all.rp_filter": "0", "net.ipv4.conf.eth0.rp_filter": "2",
		},
		Links: map[string]Link{"lo": {Up: true}, "eth0": {Up: true, Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}},
		IPVS:  IPVSFacts{Kernel: "6.1.0", Loaded: true, Module: true, Schedulers: map[string]bool{"wrr": true, "mh": true}},
		ARP:   map[netip.Addr]net.HardwareAddr{},
	}
}

func TestCheck(t *testing.T) {
	mac, _ := net.ParseMAC("02:00:00:00:00:09")
	for _, c := range []struct {
		name   string
		config string
		edit   func(*Facts)
		want   []string // one substring per finding, in order; none: clean
	}{
		{"clean", natConfig, func(*Facts) {}, nil},
		{"forwarding off", natConfig, func(f *Facts) { f.Sysctls["net.ipv4.ip_forward"] = "0" },
			[]string{"net.ipv4.ip_forward is 0"}},
		{"interface missing and down", natConfig, func(f *Facts) { delete(f.Links, "eth0") },
			[]string{"interface eth0 (interface of vrrp_instance \"VI_1\") does not exist"}},
		{"interface down", natConfig, func(f *Facts) { f.Links["eth0"] = Link{} }, []string{"interface eth0 (interface of vrrp_instance \"VI_1\") is down"}},
		{"no IPVS", natConfig, func(f *Facts) { f.IPVS = IPVSFacts{Kernel: "6.1.0"} }, []string{"IPVS is not available"}},
		{"no scheduler", natConfig, func(f *Facts) { f.IPVS.Schedulers = nil }, []string{"IPVS scheduler wrr"}},
		{"VRRP dropped by iptables", natConfig, func(f *Facts) {
			f.IPTablesSave = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -d 224.0.0.18/32 -j DROP\nCOMMIT\n"
		}, []string{"to 224.0.0.18 on eth0 (vrrp_instance \"VI_1\") is dropped by iptables rule `-A INPUT -d 224.0.0.18/32 -j DROP`"}},
		{"VRRP accepted first", natConfig, func(f *Facts) {
			f.IPTablesSave = "*filter\n:INPUT DROP [0:0]\n-A INPUT -i eth0 -p vrrp -m comment --comment \"vrrp in\" -j ACCEPT\n-A INPUT -p vrrp -j DROP\nCOMMIT\n"
		}, nil},
		{"policy drop", natConfig, func(f *Facts) {
			f.IPTablesSave = "*filter\n:INPUT DROP [0:0]\n-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT\n-A INPUT -p tcp -j ACCEPT\nCOMMIT\n"
		}, []string{"iptables INPUT policy DROP"}},
		{"rule on another interface", natConfig, func(f *Facts) {
			f.IPTablesSave = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -i eth1 -p vrrp -j DROP\nCOMMIT\n"
		}, nil},
		{"nft drop", natConfig, func(f *Facts) {
			f.NFTRuleset = "table inet fw {\n\tchain in {\n\t\ttype filter hook input priority filter; policy accept;\n\t\tct state established accept\n\t\tip protocol vrrp counter packets 3 bytes 120 drop\n\t}\n}\n"
		}, []string{"nft rule `ip protocol vrrp counter packets 3 bytes 120 drop` in chain inet fw in"}},
		{"nft policy drop", natConfig, func(f *Facts) {
			f.NFTRuleset = "table inet fw {\n\tchain in {\n\t\ttype filter hook input priority filter; policy drop;\n\t\ttcp dport 22 accept\n\t}\n}\n"
		}, []string{"policy drop"}},
		{"nft accepted", natConfig, func(f *Facts) {
			f.NFTRuleset = "table inet fw {\n\tchain in {\n\t\ttype filter hook input priority filter; policy drop;\n\t\tiifname \"eth0\" ip protocol vrrp accept\n\t}\n}\n"
		}, nil},
		{"iptables-nft chain left to iptables-save", natConfig, func(f *Facts) {
			f.NFTRuleset = "table ip filter {\n\tchain INPUT {\n\t\ttype filter hook input priority filter; policy drop;\n\t}\n}\n"
		}, nil},
		{"VIP held elsewhere", natConfig, func(f *Facts) { f.ARP[netip.MustParseAddr("192.0.2.100")] = mac },
			[]string{"VIP 192.0.2.100 (vrrp_instance \"VI_1\") is answered on eth0 by 02:00:00:00:00:09"}},
		{"VIP held by the master while we are backup", natConfig, func(f *Facts) {
			f.ARP[netip.MustParseAddr("192.0.2.100")] = mac
			f.Daemon = &DaemonFacts{Window: 3 * time.Second, Instances: []InstanceFacts{{Name: "VI_1", State: "BACKUP", AdvertsHeard: 3}}}
		}, nil},
		{"backup hears nothing, fault", natConfig, func(f *Facts) {
			f.Daemon = &DaemonFacts{Window: 3 * time.Second, Instances: []InstanceFacts{
				{Name: "VI_1", State: "BACKUP"}, {Name: "VI_2", State: "FAULT", Reason: "interface eth1 down"}}}
		}, []string{"\"VI_1\" is BACKUP and heard no advert from a MASTER in 3s", "\"VI_2\" is in FAULT (interface eth1 down)"}},
		{"DR redirects", drLoConfig, func(f *Facts) {
			f.Sysctls["net.ipv4.conf.all.send_redirects"] = "1"
			f.Sysctls["net.ipv4.conf.eth0.send_redirects"] = "1"
		}, []string{"net.ipv4.conf.all.send_redirects is 1", "net.ipv4.conf.eth0.send_redirects is 1"}},
		{"DR VIP on lo: arp_ignore and strict rp_filter", drLoConfig, func(f *Facts) {
			f.Sysctls["net.ipv4.conf.all.arp_ignore"] = "1"
			f.Sysctls["net.ipv4.conf.eth0.rp_filter"] = "1"
		}, []string{"arp_ignore is 1 on eth0", "rp_filter is strict (1) on eth0"}},
		{"unicast VRRP dropped by protocol", drLoConfig, func(f *Facts) {
			f.IPTablesSave = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p 112 -j REJECT\nCOMMIT\n"
		}, []string{"VRRP (IP protocol 112) on eth0"}},
		{"IPv6 VRRP dropped by ip6tables", v6Config, func(f *Facts) {
			f.IPTablesSave = "*filter\n:INPUT DROP [0:0]\nCOMMIT\n" // IPv4 only: not for this instance
			f.IP6TablesSave = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -d ff02::12/128 -j DROP\nCOMMIT\n"
		}, []string{"VRRP (IP protocol 112) to ff02::12 on eth0 (vrrp_instance \"VI_6\") is dropped by ip6tables rule"}},
		{"IPv6 VRRP and nft", v6Config, func(f *Facts) {
			f.NFTRuleset = "table inet fw {\n\tchain in {\n\t\ttype filter hook input priority filter; policy accept;\n\t\tip protocol vrrp drop\n\t\tip6 nexthdr vrrp drop\n\t}\n}\n"
		}, []string{"nft rule `ip6 nexthdr vrrp drop`"}},
		{"unicast VRRP not hit by a multicast rule", drLoConfig, func(f *Facts) {
			f.IPTablesSave = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -d 224.0.0.18/32 -j DROP\nCOMMIT\n"
		}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := healthy()
			c.edit(&f)
			got := Check(needsOf(t, c.config), f)
			if len(got) != len(c.want) {
				t.Fatalf("%d findings, want %d: %v", len(got), len(c.want), got)
			}
			for i, w := range c.want {
				if !strings.Contains(got[i].What, w) || got[i].Fix == "" {
					t.Errorf("finding %d: %q, want it to contain %q (with a fix)", i, got[i], w)
				}
			}
		})
	}
}

// fakeSystem serves files, command output and links from maps.
type fakeSystem struct {
	files map[string]string
	cmds  map[string]string
	links map[string]Link
}

func (s fakeSystem) ReadFile(p string) ([]byte, error) {
	if v, ok := s.files[p]; ok {
		return []byte(v), nil
	}
	return nil, os.ErrNotExist
}
func (s fakeSystem) Output(_ context.Context, name string, args ...string) ([]byte, error) {
	if v, ok := s.cmds[strings.Join(append([]string{name}, args...), " ")]; ok {
		return []byte(v), nil
	}
	return nil, errors.New("not found")
}
func (s fakeSystem) Links() (map[string]Link, error) { return s.links, nil }

type fakeProber map[netip.Addr]net.HardwareAddr

func (p fakeProber) ProbeARP(_ context.Context, _ string, ip netip.Addr, _ time.Duration) (net.HardwareAddr, error) {
	return p[ip], nil
}

type fakeStatus []*daemon.Status // successive answers; none: no daemon

func (s *fakeStatus) Status(context.Context) (*daemon.Status, error) {
	if len(*s) == 0 {
		return nil, errors.New("no lvsd")
	}
	st := (*s)[0]
	if len(*s) > 1 {
		*s = (*s)[1:]
	}
	return st, nil
}

func TestGather(t *testing.T) {
	sys := fakeSystem{
		files: map[string]string{
			"/proc/sys/kernel/osrelease":              "6.1.0-test\n",
			"/proc/sys/net/ipv4/ip_forward":           "0\n",
			"/proc/sys/net/ipv4/conf/eth0/arp_ignore": "1\n",
			"/lib/modules/6.1.0-test/modules.dep":     "kernel/net/netfilter/ipvs/ip_vs.ko.xz: kernel/net/netfilter/nf_conntrack.ko.xz\nkernel/net/netfilter/ipvs/ip_vs_wrr.ko.xz: kernel/net/netfilter/ipvs/ip_vs.ko.xz\n",
			"/lib/modules/6.1.0-test/modules.builtin": "kernel/net/ipv4/tcp_cubic.ko\n",
		},
		cmds:  map[string]string{"iptables-save": "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n"},
		links: map[string]Link{"eth0": {Up: true, Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}},
	}
	mac, _ := net.ParseMAC("02:00:00:00:00:09")
	st := fakeStatus{
		{VRRP: []daemon.VRRPStatus{{Name: "VI_1", State: "BACKUP", AdvertsReceived: 10}}},
		{VRRP: []daemon.VRRPStatus{{Name: "VI_1", State: "BACKUP", AdvertsReceived: 13}}},
	}
	var slept time.Duration
	n := needsOf(t, natConfig)
	f, err := Gather(context.Background(), sys, fakeProber{netip.MustParseAddr("192.0.2.100"): mac}, &st, n,
		Options{PeerWindow: 2 * time.Second, Sleep: func(_ context.Context, d time.Duration) error { slept = d; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if f.Sysctls["net.ipv4.ip_forward"] != "0" || f.Sysctls["net.ipv4.conf.eth0.arp_ignore"] != "1" {
		t.Errorf("sysctls: %v", f.Sysctls)
	}
	if f.IPVS.Loaded || !f.IPVS.Module || !f.IPVS.Schedulers["wrr"] || f.IPVS.Kernel != "6.1.0-test" {
		t.Errorf("IPVS: %+v", f.IPVS)
	}
	if f.IPTablesSave == "" || f.NFTRuleset != "" {
		t.Errorf("firewall dumps: %q %q", f.IPTablesSave, f.NFTRuleset)
	}
	if f.Daemon == nil || slept != 2*time.Second || len(f.Daemon.Instances) != 1 || f.Daemon.Instances[0].AdvertsHeard != 3 {
		t.Errorf("daemon: %+v (slept %v)", f.Daemon, slept)
	}
	if f.ARP[netip.MustParseAddr("192.0.2.100")].String() != mac.String() {
		t.Errorf("ARP: %v", f.ARP)
	}
	got := Check(n, f)
	if len(got) != 1 || !strings.Contains(got[0].What, "ip_forward is 0") {
		t.Errorf("findings: %v", got)
	}

	// No daemon, no modules: IPVS missing, peers not judged.
	none := fakeStatus{}
	sys.files = map[string]string{"/proc/sys/kernel/osrelease": "6.1.0-test\n", "/proc/sys/net/ipv4/ip_forward": "1\n"}
	f, err = Gather(context.Background(), sys, fakeProber{}, &none, n, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Daemon != nil || f.IPVS.Module {
		t.Errorf("facts without daemon and modules: %+v %+v", f.Daemon, f.IPVS)
	}
	if got := Check(n, f); len(got) != 1 || !strings.Contains(got[0].What, "IPVS is not available") {
		t.Errorf("findings: %v", got)
	}
}
