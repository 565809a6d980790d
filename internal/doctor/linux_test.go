package doctor

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/internal/netns"
)

// doctorIn gathers and checks in h's namespace, with no daemon.
func doctorIn(t *testing.T, h *netns.Host, n Needs) []Finding {
	t.Helper()
	var f Facts
	err := h.Do(func() (err error) {
		f, err = Gather(context.Background(), Host{}, Host{}, Socket(filepath.Join(t.TempDir(), "none.sock")), n,
			Options{ARPTimeout: 300 * time.Millisecond})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if f.Daemon != nil {
		t.Fatal("a daemon answered on a socket nobody listens on")
	}
	return Check(n, f)
}

func has(fs []Finding, s string) bool {
	for _, f := range fs {
		if strings.Contains(f.What, s) {
			return true
		}
	}
	return false
}

// TestDoctorInNamespace: forwarding off and VRRP dropped by iptables are found, and gone
// once fixed; a VIP answered by another host is found by the ARP probe. Everything happens
// in namespaces this test made.
func TestDoctorInNamespace(t *testing.T) {
	netns.RequireRoot(t, testing.Short())
	lab := netns.New(t)
	lab.IfName = lab.Prefix
	d := lab.MustAddHost(t, "dir", "192.0.2.1/24")
	other := lab.MustAddHost(t, "oth", "192.0.2.2/24")
	cfg := strings.ReplaceAll(natConfig, `"eth0"`, fmt.Sprintf("%q", d.If))
	n := needsOf(t, cfg)
	sh := func(h *netns.Host, name string, args ...string) {
		t.Helper()
		if out, err := h.Exec(name, args...); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}

	sh(d, "sysctl", "-q", "-w", "net.ipv4.ip_forward=0")
	sh(d, "iptables", "-A", "INPUT", "-p", "vrrp", "-j", "DROP")
	got := doctorIn(t, d, n)
	for _, want := range []string{"net.ipv4.ip_forward is 0", "to 224.0.0.18 on " + d.If + ` (vrrp_instance "VI_1") is dropped by iptables rule ` + "`-A INPUT -p vrrp -j DROP`"} {
		if !has(got, want) {
			t.Errorf("findings lack %q:\n%v", want, got)
		}
	}
	if has(got, "is answered on") {
		t.Errorf("VIP reported as held although nobody has it:\n%v", got)
	}

	sh(d, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
	sh(d, "iptables", "-D", "INPUT", "-p", "vrrp", "-j", "DROP")
	got = doctorIn(t, d, n)
	for _, gone := range []string{"ip_forward", "is dropped by"} {
		if has(got, gone) {
			t.Errorf("after the fix, still %q:\n%v", gone, got)
		}
	}

	// Another host holds the VIP: the ARP probe finds it, with its MAC.
	if _, err := other.IP("addr", "add", "192.0.2.100/24", "dev", other.If); err != nil {
		t.Fatal(err)
	}
	got = doctorIn(t, d, n)
	if want := "VIP 192.0.2.100 (vrrp_instance \"VI_1\") is answered on " + d.If + " by " + other.MAC; !has(got, want) {
		t.Errorf("findings lack %q:\n%v", want, got)
	}
}
