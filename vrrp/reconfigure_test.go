package vrrp

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"
)

var testVIP2 = VIP{Prefix: netip.MustParsePrefix("192.0.2.101/32")}

func reconfigure(t *testing.T, l *lab, n *node, cfg InstanceConfig) {
	t.Helper()
	if err := n.inst.Reconfigure(context.Background(), cfg); err != nil {
		t.Fatalf("%s: Reconfigure: %v", n.name, err)
	}
	l.settle()
}

// TestReconfigureMasterStaysMaster: a reload changing the master's priority and VIPs keeps
// it MASTER, touches only the added and removed addresses, sends GARPs for the added one
// only, advertises at once, and runs no hook.
func TestReconfigureMasterStaysMaster(t *testing.T) {
	l, a, b := elect(t)
	notesA, notesB := a.notes.got(), b.notes.got()
	sent := len(a.conn.sentAdverts())
	ops := len(a.addrs.ops)
	garps := a.ann.countFor("eth0 192.0.2.100")

	ca := baseConfig("A", 160, "10.0.0.1")
	ca.InitialState = StateMaster
	ca.VIPs = []VIP{testVIP, testVIP2}
	reconfigure(t, l, a, ca) // no fake time passes

	wantState(t, a, StateMaster)
	adv := a.conn.sentAdverts()
	if len(adv) != sent+1 || adv[len(adv)-1].adv.Priority != 160 || len(adv[len(adv)-1].adv.Addrs) != 2 {
		t.Fatalf("adverts after reconfigure: %d new, last %+v; want one at once with priority 160 and both VIPs", len(adv)-sent, adv[len(adv)-1])
	}
	newOps := a.addrs.ops[ops:]
	if len(newOps) != 1 || !newOps[0].add || newOps[0].vip.Prefix != testVIP2.Prefix {
		t.Fatalf("address changes %+v, want only the new VIP added", newOps)
	}
	if !a.addrs.holds(vipKey) || !a.addrs.holds("192.0.2.101/32 eth0") {
		t.Fatal("A does not hold both VIPs")
	}
	if n := a.ann.countFor("eth0 192.0.2.101"); n != DefaultGARPRepeat {
		t.Errorf("GARPs for the added VIP: %d, want %d", n, DefaultGARPRepeat)
	}
	if n := a.ann.countFor("eth0 192.0.2.100"); n != garps {
		t.Errorf("GARPs for the unchanged VIP went from %d to %d", garps, n)
	}
	if st := a.inst.Status(); st.Priority != 160 || len(st.VIPs) != 2 {
		t.Errorf("status after reconfigure: %+v", st)
	}

	// B learns the new VIP list from the next adverts; a few seconds pass without any
	// transition anywhere.
	b.inst.Reconfigure(context.Background(), withVIPs(baseConfig("B", 100, "10.0.0.2"), testVIP, testVIP2))
	l.run(5 * time.Second)
	wantState(t, a, StateMaster)
	wantState(t, b, StateBackup)

	// Remove the first VIP: only it goes.
	ops = len(a.addrs.ops)
	ca.VIPs = []VIP{testVIP2}
	reconfigure(t, l, a, ca)
	newOps = a.addrs.ops[ops:]
	if len(newOps) != 1 || newOps[0].add || newOps[0].vip.Prefix != testVIP.Prefix {
		t.Fatalf("address changes %+v, want only the old VIP removed", newOps)
	}
	wantState(t, a, StateMaster)
	if got := a.notes.got(); !slices.Equal(got, notesA) {
		t.Errorf("A's hooks ran on reconfigure: %v -> %v", notesA, got)
	}
	if got := b.notes.got(); !slices.Equal(got, notesB) {
		t.Errorf("B's hooks ran: %v -> %v", notesB, got)
	}
}

func withVIPs(c InstanceConfig, vips ...VIP) InstanceConfig {
	c.VIPs = vips
	return c
}

// TestReconfigurePriorityPreempts: a backup whose priority a reload raises above the
// master's preempts it as the RFC says (the master's next adverts are lower: discarded).
func TestReconfigurePriorityPreempts(t *testing.T) {
	l, a, b := elect(t)
	reconfigure(t, l, b, baseConfig("B", 200, "10.0.0.2"))
	wantState(t, b, StateBackup) // not at once: on the adverts it hears
	l.runUntil(func() bool { return b.state() == StateMaster }, 5*time.Second, "B preempts")
	l.run(time.Second)
	wantState(t, a, StateBackup)
	if st := b.inst.Status(); st.LastTransition.Reason != ReasonPreempt {
		t.Errorf("B's takeover reason %v, want %v", st.LastTransition.Reason, ReasonPreempt)
	}
}

// TestReconfigureMasterLowersPriority: a master lowered below the backup says so at once
// and the backup preempts it.
func TestReconfigureMasterLowersPriority(t *testing.T) {
	l, a, b := elect(t)
	ca := baseConfig("A", 50, "10.0.0.1")
	reconfigure(t, l, a, ca)
	if adv := a.conn.sentAdverts(); adv[len(adv)-1].adv.Priority != 50 {
		t.Fatalf("last advert priority %d, want 50 at once", adv[len(adv)-1].adv.Priority)
	}
	l.runUntil(func() bool { return b.state() == StateMaster }, 5*time.Second, "B preempts")
	l.run(time.Second)
	wantState(t, a, StateBackup)
}

// TestReconfigureRenameAndRefusals: a rename is a relabel; identity fields are refused.
func TestReconfigureRenameAndRefusals(t *testing.T) {
	l, a, _ := elect(t)
	ca := baseConfig("A-renamed", 150, "10.0.0.1")
	ca.InitialState = StateMaster
	reconfigure(t, l, a, ca)
	if st := a.inst.Status(); st.Name != "A-renamed" || st.State != StateMaster {
		t.Errorf("after rename: %+v", st)
	}
	for name, edit := range map[string]func(*InstanceConfig){
		"interface":       func(c *InstanceConfig) { c.Interface = "eth1" },
		"vrid":            func(c *InstanceConfig) { c.VRID = 52 },
		"track_interface": func(c *InstanceConfig) { c.TrackInterfaces = []string{"eth1"} },
		"invalid":         func(c *InstanceConfig) { c.Priority = 0 },
	} {
		c := ca
		edit(&c)
		if err := a.inst.Reconfigure(context.Background(), c); err == nil {
			t.Errorf("%s: Reconfigure accepted it", name)
		}
	}
	if st := a.inst.Status(); st.Priority != 150 || st.State != StateMaster {
		t.Errorf("a refused reconfigure changed the instance: %+v", st)
	}
	l.stop(a)
	if err := a.inst.Reconfigure(context.Background(), ca); err == nil {
		t.Error("Reconfigure of a stopped instance succeeded")
	}
}

// TestMachineReconfigureOwner: a backup made the address owner takes over at once.
func TestMachineReconfigureOwner(t *testing.T) {
	now := time.Unix(1000, 0)
	m := NewMachine(MachineConfig{Priority: 100, AdvertInt: time.Second, Preempt: true, PrimaryIP: netip.MustParseAddr("10.0.0.1"), Interface: "eth0"})
	m.Start(now)
	cfg := m.cfg
	cfg.Priority = PriorityOwner
	acts := m.Reconfigure(now, cfg, false)
	if m.State() != StateMaster || len(acts) == 0 {
		t.Fatalf("state %v, actions %v: want MASTER at once", m.State(), acts)
	}
	// A master whose settings did not change sends nothing.
	if acts := m.Reconfigure(now, cfg, false); len(acts) != 0 {
		t.Errorf("no-op reconfigure: %v", acts)
	}
}
