package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/lvsd/lvsd/internal/netns"
)

// syncGroupConfig renders two instances, one per link, in one vrrp_sync_group.
func syncGroupConfig(name string, prio int) func(socket string) string {
	return func(socket string) string {
		inst := func(iname, dev string, vrid int, vip string) string {
			return fmt.Sprintf("vrrp_instance %q {\n  interface = %q\n  virtual_router_id = %d\n  priority = %d\n  virtual_ipaddress = [%q]\n}\n",
				iname, dev, vrid, prio, vip)
		}
		return fmt.Sprintf("global {\n  router_id = %q\n  control_socket = %q\n}\n", name, socket) +
			inst("VI_1", "eth0", 51, VIP) + inst("VI_2", "sg0", 52, "10.80.0.100") +
			"vrrp_sync_group \"G1\" {\n  group = [\"VI_1\", \"VI_2\"]\n}\n"
	}
}

// TestSyncGroupFailsOverTogether: two instances on two links in one sync group; the first
// link of the master loses its carrier, and both instances move to the backup together
// (without the group, the second would stay: its link is fine). Back up, both return.
func TestSyncGroupFailsOverTogether(t *testing.T) {
	l := newLab(t)
	// The second link: a veth pair straight from r1 to r2 (both ends in the lab's namespaces).
	if _, err := l.R1.IP("link", "add", "sg0", "type", "veth", "peer", "name", "sg0", "netns", l.R2.NS); err != nil {
		t.Fatal(err)
	}
	for _, h := range []struct {
		host *netns.Host
		addr string
	}{{l.R1, "10.80.0.1/24"}, {l.R2, "10.80.0.2/24"}} {
		if _, err := h.host.IP("addr", "add", h.addr, "dev", "sg0"); err != nil {
			t.Fatal(err)
		}
		if err := h.host.SetLink("sg0", true); err != nil {
			t.Fatal(err)
		}
	}
	start := func(h *netns.Host, prio int) *Lvsd {
		d, err := StartLvsdHCL(lvsdBin, h, fmt.Sprintf("%s/%s-sg", l.dir, h.Name), syncGroupConfig(h.Name, prio))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			d.Proc.Kill()
			if t.Failed() {
				t.Logf("lvsd on %s:\n%s", h.Name, d.Proc.Output())
			}
		})
		return d
	}
	d1 := start(l.R1, 150)
	d2 := start(l.R2, 100)
	want := func(d *Lvsd, state string, timeout time.Duration) {
		t.Helper()
		for _, in := range []string{"VI_1", "VI_2"} {
			if err := d.WaitState(in, state, timeout); err != nil {
				t.Fatal(err)
			}
		}
	}
	want(d1, "MASTER", electTimeout)
	want(d2, "BACKUP", electTimeout)

	// r1's first link loses its carrier: VI_1 FAULT, and the group takes VI_2 along.
	if err := l.R1.SetPort(false); err != nil {
		t.Fatal(err)
	}
	want(d1, "FAULT", 3*time.Second)
	want(d2, "MASTER", failoverTimeout)
	if !HasVIP(l.R2, "sg0", "10.80.0.100") || HasVIP(l.R1, "sg0", "10.80.0.100") {
		t.Fatal("the second link's VIP did not move with the group")
	}
	if err := l.R1.SetPort(true); err != nil {
		t.Fatal(err)
	}
	want(d1, "MASTER", electTimeout)
	want(d2, "BACKUP", 3*time.Second)
}
