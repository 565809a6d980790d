package e2e

import (
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/internal/netns"
)

// Fault tests: each ends by asserting exactly one master, the VIP on that router only,
// and the VIP reachable from the client (nothing lost). See docs/reliability.md.

// pair starts r1 (priority 150, the preferred master) and r2 (100) and waits for r1 to lead.
func (l *lab) pair() (d1, d2 *Lvsd) {
	l.t.Helper()
	d1 = l.lvsd(l.R1, Spec{Priority: 150})
	d2 = l.lvsd(l.R2, Spec{Priority: 100})
	l.wantState(d1, "MASTER", electTimeout)
	l.wantState(d2, "BACKUP", electTimeout)
	l.wantVIP(l.R1, true, 2*time.Second)
	return d1, d2
}

// settled polls until master is MASTER, the others BACKUP and the VIP is on master's host
// only, and returns how long that took; it fails the test after timeout.
func (l *lab) settled(master *Lvsd, timeout time.Duration, others ...*Lvsd) time.Duration {
	l.t.Helper()
	start := time.Now()
	var why string
	for {
		why = ""
		if st, err := master.Instance("VI_1"); err != nil || st.State != "MASTER" {
			why = fmt.Sprintf("%s is %s (%v)", master.Host.Name, st.State, err)
		}
		if !HasVIP(master.Host, "eth0", VIP) {
			why += "; " + master.Host.Name + " lacks the VIP"
		}
		for _, o := range others {
			if st, err := o.Instance("VI_1"); err != nil || st.State != "BACKUP" {
				why += fmt.Sprintf("; %s is %s (%v)", o.Host.Name, st.State, err)
			}
			if HasVIP(o.Host, "eth0", VIP) {
				why += "; " + o.Host.Name + " still holds the VIP"
			}
		}
		if why == "" {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			l.t.Fatalf("not settled on %s after %v: %s", master.Host.Name, timeout, strings.TrimPrefix(why, "; "))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// reachable: the client reaches the VIP (its kernel resolves it and the master answers).
func (l *lab) reachable() {
	l.t.Helper()
	if err := l.Client.Ping(netip.MustParseAddr(VIP), 3*time.Second); err != nil {
		l.t.Fatalf("client cannot reach the VIP: %v", err)
	}
}

// clientARP is the MAC the client's neighbour table has for the VIP ("" if none).
func (l *lab) clientARP() string {
	out, err := l.Client.IP("neigh", "show", VIP, "dev", "eth0")
	if err != nil {
		l.t.Fatal(err)
	}
	f := strings.Fields(out)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "lladdr" {
			return f[i+1]
		}
	}
	return ""
}

// TestFaultFrozenMaster: SIGSTOP of the master makes the backup take over; after SIGCONT the
// old master, which still has the VIP, resumes with its higher priority and the other
// yields: one master, the VIP on it only.
func TestFaultFrozenMaster(t *testing.T) {
	l := newLab(t)
	d1, d2 := l.pair()
	if err := d1.Proc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := true
	t.Cleanup(func() {
		if stopped {
			d1.Proc.Signal(syscall.SIGCONT)
		}
	})
	l.wantState(d2, "MASTER", failoverTimeout) // d1 is not asked: it cannot answer
	l.wantVIP(l.R2, true, time.Second)
	if !HasVIP(l.R1, "eth0", VIP) {
		t.Fatal("the frozen master lost its VIP (nothing could have removed it)")
	}
	time.Sleep(2 * time.Second) // both hold the VIP: the split brain to resolve
	if err := d1.Proc.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	stopped = false
	took := l.settled(d1, 5*time.Second, d2)
	t.Logf("one master %v after SIGCONT", took)
	l.reachable()
}

// TestFaultLinkFlapStorm: the master's link goes down and up 20 times in 10 s (carrier loss
// each time, seen from the switch); afterwards the cluster settles on the preferred master.
func TestFaultLinkFlapStorm(t *testing.T) {
	l := newLab(t)
	d1, d2 := l.pair()
	for i := 0; i < 20; i++ {
		if err := l.R1.SetPort(false); err != nil {
			t.Fatal(err)
		}
		time.Sleep(250 * time.Millisecond)
		if err := l.R1.SetPort(true); err != nil {
			t.Fatal(err)
		}
		time.Sleep(250 * time.Millisecond)
	}
	took := l.settled(d1, 10*time.Second, d2)
	t.Logf("settled on the preferred master %v after the last flap", took)
	l.reachable()
}

// TestFaultPartitionHeal: the master's port leaves the bridge (the link keeps its carrier:
// a partition, not a cable pull). Both routers become master; when the port
// forwards again one master must remain within 2.5 s, and the client's ARP entry for the
// VIP must point at it again.
func TestFaultPartitionHeal(t *testing.T) {
	l := newLab(t)
	d1, d2 := l.pair()
	l.reachable()
	if got := l.clientARP(); got != l.R1.MAC {
		t.Fatalf("client ARP for the VIP = %q before the partition, want r1's %s", got, l.R1.MAC)
	}
	// Detaching r1's port from the bridge cuts r1 off while its link keeps the carrier
	// (the veth pair stays up): a partition, not a cable pull.
	setForwarding := func(on bool) {
		t.Helper()
		args := []string{"-n", l.Lab.Switch, "link", "set", "dev", l.R1.Port, "nomaster"}
		if on {
			args = []string{"-n", l.Lab.Switch, "link", "set", "dev", l.R1.Port, "master", l.Lab.Bridge}
		}
		if _, err := netns.IP(args...); err != nil {
			t.Fatal(err)
		}
	}
	setForwarding(false)
	t.Cleanup(func() { setForwarding(true) })
	l.wantState(d2, "MASTER", failoverTimeout)
	if st, err := d1.Instance("VI_1"); err != nil || st.State != "MASTER" {
		t.Fatalf("partitioned r1 is %s (%v), want MASTER (it hears no one)", st.State, err)
	}
	// The client now reaches r2 (r2's gratuitous ARP repointed it).
	l.reachable()
	if got := l.clientARP(); got != l.R2.MAC {
		t.Fatalf("client ARP for the VIP = %q during the partition, want r2's %s", got, l.R2.MAC)
	}

	setForwarding(true)
	healed := time.Now()
	took := l.settled(d1, 2500*time.Millisecond, d2)
	t.Logf("one master %v after healing", took)
	arp := ""
	for time.Since(healed) < 3*time.Second {
		if arp = l.clientARP(); arp == l.R1.MAC {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	if arp != l.R1.MAC {
		// The master answers a lower-priority master with an advert and a gratuitous ARP
		// burst (vrrp: split brain healed); without it the client keeps r2's MAC until its
		// neighbour entry goes stale.
		t.Fatalf("client ARP for the VIP still %q 3 s after healing, want r1's %s", arp, l.R1.MAC)
	}
	t.Logf("client ARP repointed to r1 %v after healing", time.Since(healed).Round(time.Millisecond))
	l.reachable()
}
