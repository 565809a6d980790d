//go:build !vmtest

// The namespace tests of realserver.sh run on the host kernel (test-root); the VM suite
// (tag vmtest) does not repeat them.

package examples_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvsd/lvsd/internal/netns"
)

// The realserver.sh scripts are run for real, each in a namespace of its own (so the host's
// addresses, routes and sysctls are never touched): up, up, status, down, down, checking
// the state after every step. The sysctls the scripts change are per network namespace.

// rsHost is one namespace standing in for a real server.
type rsHost struct {
	t     *testing.T
	h     *netns.Host
	state string // STATE_DIR for the script
}

func newRSHost(t *testing.T, lab *netns.Lab, name, dev string, addrs ...string) *rsHost {
	t.Helper()
	lab.IfName = dev
	h := lab.MustAddHost(t, name, addrs...)
	return &rsHost{t: t, h: h, state: t.TempDir()}
}

// ip runs ip(8) inside the host's namespace.
func (r *rsHost) ip(args ...string) string {
	r.t.Helper()
	out, err := netns.IP(append([]string{"-n", r.h.NS}, args...)...)
	if err != nil {
		r.t.Fatalf("ip -n %s %s: %v\n%s", r.h.NS, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(out)
}

// sysctl reads a per-namespace sysctl; key uses "/" separators (net/ipv4/conf/eth0/...).
func (r *rsHost) sysctl(key string) string {
	r.t.Helper()
	out, err := netns.Exec(r.h.NS, "cat", "/proc/sys/"+key)
	if err != nil {
		r.t.Fatalf("read %s in %s: %v\n%s", key, r.h.NS, err, out)
	}
	return strings.TrimSpace(out)
}

func (r *rsHost) setSysctl(key, value string) {
	r.t.Helper()
	if out, err := netns.Exec(r.h.NS, "sysctl", "-q", "-w", key+"="+value); err != nil {
		r.t.Fatalf("sysctl %s=%s in %s: %v\n%s", key, value, r.h.NS, err, out)
	}
}

// script runs dir/realserver.sh ACTION in the namespace with env; it returns the output
// and whether it exited 0.
func (r *rsHost) script(dir, action string, env ...string) (string, bool) {
	r.t.Helper()
	path, err := filepath.Abs(filepath.Join(dir, "realserver.sh"))
	if err != nil {
		r.t.Fatal(err)
	}
	args := append([]string{"STATE_DIR=" + r.state}, env...)
	args = append(args, "bash", path, action)
	out, err := netns.Exec(r.h.NS, "env", args...)
	return out, err == nil
}

func (r *rsHost) mustScript(dir, action string, env ...string) {
	r.t.Helper()
	if out, ok := r.script(dir, action, env...); !ok {
		r.t.Fatalf("%s/realserver.sh %s failed:\n%s", dir, action, out)
	}
}

func (r *rsHost) wantSysctls(step string, want map[string]string) {
	r.t.Helper()
	for k, v := range want {
		if got := r.sysctl(k); got != v {
			r.t.Errorf("after %s: %s = %s, want %s", step, k, got, v)
		}
	}
}

// wantNoState checks that the script left no saved state behind after "down".
func (r *rsHost) wantNoState(step string) {
	r.t.Helper()
	left, _ := os.ReadDir(r.state)
	if len(left) != 0 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		r.t.Errorf("after %s: state files left in STATE_DIR: %v", step, names)
	}
}

// lvsDR covers the LVS-DR real-server scripts: VIP on lo with a label, ARP sysctls on all
// (unless devOnly) and on the NIC, and the host route (unless noRoute).
func TestRealserverDR(t *testing.T) {
	requireRoot(t)
	cases := []struct {
		dir, dev, vip, label string
		devOnly, noRoute     bool // two-box scripts: sysctls on the NIC only, no host route
	}{
		{"dr-one-segment", "enp0s3", "192.168.0.101", "lo:0", false, false},
		{"dr-across-segments", "ens33", "10.0.0.100", "lo:1", false, false},
		{"active-backup", "eth0", "10.10.10.213", "lo:0", false, false},
		{"two-box-fwmark", "enp0s3", "172.16.0.30", "lo:0", true, true},
		{"two-box-backup-only", "enp0s3", "172.16.0.30", "lo:0", true, true},
	}
	lab := netns.New(t)
	for i, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			r := newRSHost(t, lab, "rs"+string(rune('a'+i)), c.dev, "192.0.2.10/24")
			dev := "net/ipv4/conf/" + c.dev + "/"
			// A non-default value before "up", to prove "down" restores what it found.
			r.setSysctl(dev+"arp_announce", "1")
			before := map[string]string{
				"net/ipv4/conf/all/arp_ignore": "0", "net/ipv4/conf/all/arp_announce": "0",
				dev + "arp_ignore": "0", dev + "arp_announce": "1",
			}
			applied := map[string]string{dev + "arp_ignore": "1", dev + "arp_announce": "2"}
			if c.devOnly {
				applied["net/ipv4/conf/all/arp_ignore"] = "0"
				applied["net/ipv4/conf/all/arp_announce"] = "0"
			} else {
				applied["net/ipv4/conf/all/arp_ignore"] = "1"
				applied["net/ipv4/conf/all/arp_announce"] = "2"
			}
			checkUp := func(step string) {
				t.Helper()
				addrs := r.ip("-4", "-o", "addr", "show", "dev", "lo", "to", c.vip+"/32")
				if n := strings.Count(addrs, c.vip+"/32"); n != 1 || !strings.Contains(addrs, c.label) {
					t.Errorf("after %s: want %s/32 once on lo labelled %s, got %q", step, c.vip, c.label, addrs)
				}
				route := r.ip("-4", "route", "show", "table", "main", "exact", c.vip+"/32")
				if c.noRoute && route != "" {
					t.Errorf("after %s: unexpected host route %q", step, route)
				}
				if !c.noRoute && (strings.Count(route, c.vip) != 1 || !strings.Contains(route, "dev lo")) {
					t.Errorf("after %s: want one host route %s dev lo, got %q", step, c.vip, route)
				}
				r.wantSysctls(step, applied)
			}
			checkDown := func(step string) {
				t.Helper()
				if a := r.ip("-4", "-o", "addr", "show", "dev", "lo", "to", c.vip+"/32"); a != "" {
					t.Errorf("after %s: VIP still on lo: %q", step, a)
				}
				if rt := r.ip("-4", "route", "show", "table", "main", "exact", c.vip+"/32"); rt != "" {
					t.Errorf("after %s: host route left: %q", step, rt)
				}
				r.wantSysctls(step, before)
				r.wantNoState(step)
			}
			r.wantSysctls("setup", before)
			r.mustScript(c.dir, "up")
			checkUp("up")
			r.mustScript(c.dir, "up")
			checkUp("second up")
			r.mustScript(c.dir, "status")
			r.mustScript(c.dir, "down")
			checkDown("down")
			r.mustScript(c.dir, "down")
			checkDown("second down")
			if out, ok := r.script(c.dir, "bogus"); ok {
				t.Errorf("realserver.sh bogus exited 0:\n%s", out)
			}
		})
	}
}

// TestRealserverDRKeepsForeignVIP: a VIP already on lo before "up" (say from ifcfg-lo:0)
// is not the script's to remove.
func TestRealserverDRKeepsForeignVIP(t *testing.T) {
	requireRoot(t)
	lab := netns.New(t)
	r := newRSHost(t, lab, "rs", "enp0s3", "192.168.0.179/24")
	r.ip("addr", "add", "192.168.0.101/32", "dev", "lo", "label", "lo:0")
	r.mustScript("dr-one-segment", "up")
	r.mustScript("dr-one-segment", "down")
	if a := r.ip("-4", "-o", "addr", "show", "dev", "lo", "to", "192.168.0.101/32"); a == "" {
		t.Error("down removed a VIP that was on lo before up")
	}
	if rt := r.ip("-4", "route", "show", "table", "main", "exact", "192.168.0.101/32"); rt != "" {
		t.Errorf("down left the host route it added: %q", rt)
	}
	r.wantSysctls("down", map[string]string{"net/ipv4/conf/all/arp_ignore": "0", "net/ipv4/conf/enp0s3/arp_announce": "0"})
	r.wantNoState("down")
}

func TestRealserverDRMissingInterface(t *testing.T) {
	requireRoot(t)
	lab := netns.New(t)
	r := newRSHost(t, lab, "rs", "eth0", "192.0.2.10/24")
	// dr-one-segment defaults to enp0s3, which this namespace does not have.
	out, ok := r.script("dr-one-segment", "up")
	if ok || !strings.Contains(out, "no such interface: enp0s3") {
		t.Fatalf("up without enp0s3: ok=%v, output:\n%s", ok, out)
	}
	if a := r.ip("-4", "-o", "addr", "show", "dev", "lo", "to", "192.168.0.101/32"); a != "" {
		t.Errorf("VIP added although up failed: %q", a)
	}
	r.wantSysctls("failed up", map[string]string{"net/ipv4/conf/all/arp_ignore": "0", "net/ipv4/conf/all/arp_announce": "0"})
	r.wantNoState("failed up")
}

func TestRealserverTUN(t *testing.T) {
	requireRoot(t)
	lab := netns.New(t)
	r := newRSHost(t, lab, "rs", "ens33", "192.168.59.131/24")
	const vip = "192.168.59.100"

	// No tunnel device: "up" must fail and change nothing. LOAD_IPIP=no because loading
	// a module would be a change to the host kernel.
	out, ok := r.script("tun", "up", "LOAD_IPIP=no", "TUN_DEV=lvsdnotun")
	if ok || !strings.Contains(out, "nothing changed") {
		t.Fatalf("up without a tunnel device: ok=%v, output:\n%s", ok, out)
	}
	r.wantSysctls("failed up", map[string]string{
		"net/ipv4/conf/all/arp_ignore": "0", "net/ipv4/conf/ens33/arp_ignore": "0",
	})
	r.wantNoState("failed up")

	// tunl0 exists in every namespace once the ipip module is loaded; without it (this
	// project's own kernel has no ipip) a veth named tunl0 stands in: the script only needs
	// a link of that name with its own sysctls.
	if _, err := netns.IP("-n", r.h.NS, "link", "show", "dev", "tunl0"); err != nil {
		r.ip("link", "add", "tunl0", "type", "veth", "peer", "name", "tunl0p")
	}
	r.setSysctl("net/ipv4/conf/all/rp_filter", "2")
	r.setSysctl("net/ipv4/conf/tunl0/rp_filter", "1")
	before := map[string]string{
		"net/ipv4/conf/all/rp_filter": "2", "net/ipv4/conf/tunl0/rp_filter": "1",
		"net/ipv4/conf/all/arp_ignore": "0", "net/ipv4/conf/ens33/arp_ignore": "0",
		"net/ipv4/conf/all/arp_announce": "0", "net/ipv4/conf/ens33/arp_announce": "0",
	}
	applied := map[string]string{
		"net/ipv4/conf/all/rp_filter": "0", "net/ipv4/conf/tunl0/rp_filter": "0",
		"net/ipv4/conf/all/arp_ignore": "1", "net/ipv4/conf/ens33/arp_ignore": "1",
		"net/ipv4/conf/all/arp_announce": "2", "net/ipv4/conf/ens33/arp_announce": "2",
	}
	isUp := func() bool {
		return strings.Contains(strings.SplitN(r.ip("link", "show", "dev", "tunl0"), ">", 2)[0], ",UP")
	}
	if isUp() {
		t.Fatal("setup: tunl0 should start down")
	}
	checkUp := func(step string) {
		t.Helper()
		a := r.ip("-4", "-o", "addr", "show", "dev", "tunl0")
		if strings.Count(a, vip+"/32") != 1 {
			t.Errorf("after %s: want %s/32 once on tunl0, got %q", step, vip, a)
		}
		if !isUp() {
			t.Errorf("after %s: tunl0 is not up", step)
		}
		r.wantSysctls(step, applied)
	}
	checkDown := func(step string) {
		t.Helper()
		if a := r.ip("-4", "-o", "addr", "show", "dev", "tunl0"); a != "" {
			t.Errorf("after %s: address left on tunl0: %q", step, a)
		}
		if isUp() {
			t.Errorf("after %s: tunl0 left up (it was down before)", step)
		}
		r.wantSysctls(step, before)
		r.wantNoState(step)
	}
	env := []string{"LOAD_IPIP=no"}
	r.mustScript("tun", "up", env...)
	checkUp("up")
	r.mustScript("tun", "up", env...)
	checkUp("second up")
	r.mustScript("tun", "status", env...)
	r.mustScript("tun", "down", env...)
	checkDown("down")
	r.mustScript("tun", "down", env...)
	checkDown("second down")
}

func TestRealserverNAT(t *testing.T) {
	requireRoot(t)
	lab := netns.New(t)
	r := newRSHost(t, lab, "rs", "ens33", "192.168.59.131/24")
	r.ip("route", "add", "default", "via", "192.168.59.2", "dev", "ens33", "proto", "static", "metric", "100")
	const original = "default via 192.168.59.2 dev ens33 proto static metric 100"
	defaults := func() string { return r.ip("-4", "route", "show", "default") }
	if got := defaults(); got != original {
		t.Fatalf("setup: default route %q, want %q", got, original)
	}

	// A gateway that is not on ens33's network must be refused before anything changes.
	for _, gw := range []string{"10.9.9.9", "203.0.113.1"} {
		out, ok := r.script("nat-wrr", "up", "GW="+gw)
		if ok || !strings.Contains(out, "nothing changed") {
			t.Errorf("up with off-link GW %s: ok=%v, output:\n%s", gw, ok, out)
		}
		if got := defaults(); got != original {
			t.Errorf("after refused up (GW %s): default route %q, want %q", gw, got, original)
		}
		r.wantNoState("refused up")
	}

	const ours = "default via 192.168.59.100 dev ens33"
	for _, step := range []string{"up", "second up"} {
		r.mustScript("nat-wrr", "up")
		if got := defaults(); got != ours {
			t.Errorf("after %s: default routes %q, want only %q", step, got, ours)
		}
	}
	r.mustScript("nat-wrr", "status")
	for _, step := range []string{"down", "second down"} {
		r.mustScript("nat-wrr", "down")
		if got := defaults(); got != original {
			t.Errorf("after %s: default routes %q, want %q back", step, got, original)
		}
		r.wantNoState(step)
	}
}
