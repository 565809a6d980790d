package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lvsd/lvsd/internal/netns"
)

// syncGroupConfig renders two instances, one per link, in one vrrp_sync_group; groupExtra
// is added inside the group block.
func syncGroupConfig(name string, prio int, groupExtra string) func(socket string) string {
	return func(socket string) string {
		inst := func(iname, dev string, vrid int, vip string) string {
			return fmt.Sprintf("vrrp_instance %q {\n  interface = %q\n  virtual_router_id = %d\n  priority = %d\n  virtual_ipaddress = [%q]\n}\n",
				iname, dev, vrid, prio, vip)
		}
		return fmt.Sprintf("global {\n  router_id = %q\n  control_socket = %q\n}\n", name, socket) +
			inst("VI_1", "eth0", 51, VIP) + inst("VI_2", "sg0", 52, "10.80.0.100") +
			"vrrp_sync_group \"G1\" {\n  group = [\"VI_1\", \"VI_2\"]\n" + groupExtra + "}\n"
	}
}

// syncLab is the lab plus a second link, sg0, a veth pair straight from r1 to r2.
type syncLab struct {
	*lab
}

func newSyncLab(t *testing.T) syncLab {
	l := newLab(t)
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
	return syncLab{l}
}

// start runs lvsd on h with both instances in group G1 at prio.
func (l syncLab) start(h *netns.Host, prio int, groupExtra string) *Lvsd {
	t := l.t
	d, err := StartLvsdHCL(lvsdBin, h, fmt.Sprintf("%s/%s-sg", l.dir, h.Name), syncGroupConfig(h.Name, prio, groupExtra))
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

// want waits until both instances of d are in state.
func (l syncLab) want(d *Lvsd, state string, timeout time.Duration) {
	l.t.Helper()
	for _, in := range []string{"VI_1", "VI_2"} {
		if err := d.WaitState(in, state, timeout); err != nil {
			l.t.Fatal(err)
		}
	}
}

// TestSyncGroupFailsOverTogether: two instances on two links in one sync group; the first
// link of the master loses its carrier, and both instances move to the backup together
// (without the group, the second would stay: its link is fine). Back up, both return.
func TestSyncGroupFailsOverTogether(t *testing.T) {
	l := newSyncLab(t)
	d1 := l.start(l.R1, 150, "")
	d2 := l.start(l.R2, 100, "")
	l.want(d1, "MASTER", electTimeout)
	l.want(d2, "BACKUP", electTimeout)

	// r1's first link loses its carrier: VI_1 FAULT, and the group takes VI_2 along.
	if err := l.R1.SetPort(false); err != nil {
		t.Fatal(err)
	}
	l.want(d1, "FAULT", 3*time.Second)
	l.want(d2, "MASTER", failoverTimeout)
	if !HasVIP(l.R2, "sg0", "10.80.0.100") || HasVIP(l.R1, "sg0", "10.80.0.100") {
		t.Fatal("the second link's VIP did not move with the group")
	}
	if err := l.R1.SetPort(true); err != nil {
		t.Fatal(err)
	}
	l.want(d1, "MASTER", electTimeout)
	l.want(d2, "BACKUP", 3*time.Second)
}

// groupNotifyScript writes a real notify script that appends its argument count and
// arguments ("3 GROUP G1 MASTER") to a log, and returns both paths.
func (l syncLab) groupNotifyScript(name string) (script, log string) {
	l.t.Helper()
	log = filepath.Join(l.dir, "scripts", name+"-notify.log")
	return l.writeScript(name+"-notify.sh", `echo "$# $*" >> `+log), log
}

// waitNotified waits until the notify log's lines end with want (earlier lines, such as
// the BACKUP every instance starts in, may precede it); every line must be a well-formed
// group call.
func (l syncLab) waitNotified(log string, want ...string) {
	l.t.Helper()
	end := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(log)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		for _, line := range lines {
			f := strings.Fields(line)
			if len(f) != 4 || f[0] != "3" || f[1] != "GROUP" || f[2] != "G1" || !slices.Contains([]string{"MASTER", "BACKUP", "FAULT"}, f[3]) {
				l.t.Fatalf("%s: line %q is not a group notify call (want \"3 GROUP G1 STATE\"); log:\n%s", filepath.Base(log), line, b)
			}
		}
		if len(lines) >= len(want) && slices.Equal(lines[len(lines)-len(want):], want) {
			return
		}
		if time.Now().After(end) {
			l.t.Fatalf("%s:\n%s\nwant it to end with %q", filepath.Base(log), b, want)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestSyncGroupNotify: the group's notify script runs with GROUP NAME STATE on each of the
// group's transitions, on both boxes: MASTER/BACKUP at election, FAULT/MASTER when the
// master's link fails, and when it is back BACKUP then MASTER (preemption) on the first box
// and BACKUP on the other.
func TestSyncGroupNotify(t *testing.T) {
	l := newSyncLab(t)
	s1, log1 := l.groupNotifyScript("r1")
	s2, log2 := l.groupNotifyScript("r2")
	d1 := l.start(l.R1, 150, fmt.Sprintf("  notify = %q\n", s1))
	d2 := l.start(l.R2, 100, fmt.Sprintf("  notify = %q\n", s2))
	l.want(d1, "MASTER", electTimeout)
	l.want(d2, "BACKUP", electTimeout)
	l.waitNotified(log1, "3 GROUP G1 MASTER")
	l.waitNotified(log2, "3 GROUP G1 BACKUP")

	if err := l.R1.SetPort(false); err != nil {
		t.Fatal(err)
	}
	l.want(d1, "FAULT", 3*time.Second)
	l.want(d2, "MASTER", failoverTimeout)
	l.waitNotified(log1, "3 GROUP G1 MASTER", "3 GROUP G1 FAULT")
	l.waitNotified(log2, "3 GROUP G1 BACKUP", "3 GROUP G1 MASTER")

	if err := l.R1.SetPort(true); err != nil {
		t.Fatal(err)
	}
	l.want(d1, "MASTER", electTimeout)
	l.want(d2, "BACKUP", 3*time.Second)
	l.waitNotified(log1, "3 GROUP G1 FAULT", "3 GROUP G1 BACKUP", "3 GROUP G1 MASTER")
	l.waitNotified(log2, "3 GROUP G1 MASTER", "3 GROUP G1 BACKUP")
}
