package e2e

import (
	"encoding/json"
	"net/netip"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/internal/netns"
)

// Timeouts: with advert_int 1 a backup of priority 100 declares the master down after
// 3 x 1 + (256-100)/256 = 3.61 s. The margins are for a loaded 2-core machine; they are
// functional bounds, not performance assertions.
const (
	electTimeout    = 8 * time.Second
	failoverTimeout = 8 * time.Second
)

// TestElectionKillAndGracefulStop: the higher priority wins; kill -9 of the master lets
// the backup take the VIP and answer ARP; a restarted master preempts; a graceful stop
// hands over via the priority-0 advert, faster than Master_Down_Interval.
func TestElectionKillAndGracefulStop(t *testing.T) {
	l := newLab(t)
	s1 := Spec{Priority: 150, AuthPass: "1111"}
	s2 := Spec{Priority: 100, AuthPass: "1111"}
	d1 := l.lvsd(l.R1, s1)
	d2 := l.lvsd(l.R2, s2)
	l.wantState(d1, "MASTER", electTimeout)
	l.wantState(d2, "BACKUP", electTimeout)
	l.wantVIP(l.R1, true, 2*time.Second)
	l.wantARP(l.R1, 3*time.Second)
	time.Sleep(1200 * time.Millisecond) // r2 hears at least one advert
	st, err := d2.Instance("VI_1")
	if err != nil {
		t.Fatal(err)
	}
	if st.MasterIP != R1IP || st.Priority != 100 || st.Interface != "eth0" || len(st.VIPs) != 1 || st.AdvertsReceived == 0 {
		t.Fatalf("r2 status %+v: want BACKUP following %s, priority 100, one VIP", st, R1IP)
	}
	if HasVIP(l.R2, "eth0", VIP) {
		t.Fatal("the backup holds the VIP")
	}
	// The CLI gives the same view (docs/contract.md JSON shape).
	out, err := exec.Command(lvsdBin, "status", "--socket", d1.Socket, "--json").Output()
	if err != nil {
		t.Fatalf("lvsd status --json: %v", err)
	}
	var cli Status
	if err := json.Unmarshal(out, &cli); err != nil || len(cli.VRRP) != 1 || cli.VRRP[0].State != "MASTER" || cli.VRRP[0].Name != "VI_1" {
		t.Fatalf("lvsd status --json = %s (%v), want VI_1 MASTER", out, err)
	}

	// kill -9: no goodbye; r2 takes over after Master_Down_Interval.
	if err := d1.Proc.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	l.wantState(d2, "MASTER", failoverTimeout)
	l.wantVIP(l.R2, true, time.Second)
	l.wantARP(l.R2, 3*time.Second)
	// The dead lvsd left its VIP behind (nobody removed it); clear it as a reboot would.
	if _, err := l.R1.IP("addr", "del", VIP+"/32", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}
	// The VIP works end to end: the client's kernel resolves it and r2 answers.
	if err := l.Client.Ping(netip.MustParseAddr(VIP), 3*time.Second); err != nil {
		t.Fatal(err)
	}

	// Restarted with the higher priority, r1 preempts.
	d1 = l.lvsd(l.R1, s1)
	l.wantState(d1, "MASTER", electTimeout)
	l.wantState(d2, "BACKUP", 3*time.Second)
	l.wantVIP(l.R2, false, 2*time.Second)
	l.wantVIP(l.R1, true, time.Second)

	// Graceful stop: priority 0, then r2 takes over after Skew_Time (0.61 s), well before
	// the 3.61 s Master_Down_Interval.
	start := time.Now()
	if err := d1.Proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The contract: exit status 0 within 2 s of SIGTERM.
	select {
	case <-d1.Proc.Exited():
	case <-time.After(2 * time.Second):
		t.Fatalf("lvsd on r1 still running 2 s after SIGTERM")
	}
	if done, err := d1.Proc.Wait(time.Second); !done || err != nil { // it has exited: Wait only reads the status
		t.Fatalf("lvsd on r1 after SIGTERM: exited=%v err=%v, want exit status 0", done, err)
	}
	l.wantState(d2, "MASTER", 3*time.Second)
	took := time.Since(start)
	l.wantVIP(l.R1, false, time.Second)
	l.wantVIP(l.R2, true, time.Second)
	t.Logf("graceful takeover after %v", took)
}

// TestNoPreempt: a higher-priority router with nopreempt does not take over a running
// master; it becomes master only when the master goes away.
func TestNoPreempt(t *testing.T) {
	l := newLab(t)
	d2 := l.lvsd(l.R2, Spec{Priority: 100})
	l.wantState(d2, "MASTER", electTimeout)
	d1 := l.lvsd(l.R1, Spec{Priority: 150, NoPreempt: true})
	l.wantState(d1, "BACKUP", 3*time.Second)
	l.stable(d1, "BACKUP", 5*time.Second) // past its Master_Down_Interval (3.4 s)
	l.wantVIP(l.R2, true, time.Second)
	if HasVIP(l.R1, "eth0", VIP) {
		t.Fatal("the nopreempt backup holds the VIP")
	}
	if err := d2.Proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	l.wantState(d1, "MASTER", 3*time.Second)
	l.wantVIP(l.R1, true, time.Second)
}

// TestEqualPriority: two masters of equal priority (RFC 3768 6.4.3): the one with the
// higher primary address stays MASTER, the other becomes BACKUP. (An established master
// is not preempted by an equal priority, so the test first makes both master: a firewall
// rule in each router's namespace hides their adverts from each other until both are.)
func TestEqualPriority(t *testing.T) {
	l := newLab(t)
	for _, h := range []*netns.Host{l.R1, l.R2} {
		if out, err := h.Exec("iptables", "-A", "INPUT", "-p", "112", "-j", "DROP"); err != nil {
			t.Fatalf("iptables in %s: %v %s", h.Name, err, out)
		}
	}
	d1 := l.lvsd(l.R1, Spec{Priority: 100})
	d2 := l.lvsd(l.R2, Spec{Priority: 100})
	l.wantState(d1, "MASTER", electTimeout)
	l.wantState(d2, "MASTER", electTimeout)
	for _, h := range []*netns.Host{l.R1, l.R2} {
		if out, err := h.Exec("iptables", "-D", "INPUT", "-p", "112", "-j", "DROP"); err != nil {
			t.Fatalf("iptables in %s: %v %s", h.Name, err, out)
		}
	}
	l.wantState(d1, "BACKUP", 3*time.Second)
	l.stable(d2, "MASTER", 2*time.Second)
	l.wantVIP(l.R1, false, time.Second)
	l.wantVIP(l.R2, true, time.Second)
	st, err := d1.Instance("VI_1")
	if err != nil {
		t.Fatal(err)
	}
	if st.MasterIP != R2IP {
		t.Fatalf("r1 follows %q, want %s", st.MasterIP, R2IP)
	}
}

// TestUnicast: unicast_src_ip/unicast_peer instead of multicast: election and failover.
func TestUnicast(t *testing.T) {
	l := newLab(t)
	d1 := l.lvsd(l.R1, Spec{Priority: 150, SrcIP: R1IP, Peers: []string{R2IP}})
	d2 := l.lvsd(l.R2, Spec{Priority: 100, SrcIP: R2IP, Peers: []string{R1IP}})
	l.wantState(d1, "MASTER", electTimeout)
	l.wantState(d2, "BACKUP", electTimeout)
	l.stable(d2, "BACKUP", 4*time.Second) // adverts do arrive by unicast
	st, err := d2.Instance("VI_1")
	if err != nil {
		t.Fatal(err)
	}
	if st.MasterIP != R1IP || st.AdvertsReceived == 0 {
		t.Fatalf("r2 status %+v, want adverts from %s", st, R1IP)
	}
	// A valid advert with a higher priority from an address that is not a peer is
	// dropped and counted.
	x, err := l.Lab.AddHost("x", "10.79.0.66"+Prefix)
	if err != nil {
		t.Fatal(err)
	}
	in := newInjector(t, x)
	for i := 0; i < 3; i++ {
		in.sendTo(t, advert{versionType: 0x21, vrid: 51, prio: 200, advertInt: 1, addrs: []string{VIP}}.bytes(), R2IP)
	}
	l.stable(d2, "BACKUP", 500*time.Millisecond)
	st, err = d2.Instance("VI_1")
	if err != nil {
		t.Fatal(err)
	}
	if st.MasterIP != R1IP || st.Drops["not_peer"] < 3 {
		t.Fatalf("after adverts from a non-peer: master_ip %q, drops %v; want %s and not_peer >= 3", st.MasterIP, st.Drops, R1IP)
	}
	if err := d1.Proc.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	l.wantState(d2, "MASTER", failoverTimeout)
	l.wantARP(l.R2, 3*time.Second)
}

// TestTrackInterface: a tracked link going down puts the master in FAULT (the backup takes
// over); back up, the higher priority preempts again.
func TestTrackInterface(t *testing.T) {
	l := newLab(t)
	if err := l.R1.AddVethPair("trk0", "trk0p"); err != nil {
		t.Fatal(err)
	}
	d1 := l.lvsd(l.R1, Spec{Priority: 150, Track: []string{"trk0"}})
	d2 := l.lvsd(l.R2, Spec{Priority: 100})
	l.wantState(d1, "MASTER", electTimeout)
	l.wantState(d2, "BACKUP", electTimeout)
	// Taking the pair's other end down drops trk0's carrier, as a pulled cable would.
	if err := l.R1.SetLink("trk0p", false); err != nil {
		t.Fatal(err)
	}
	l.wantState(d1, "FAULT", 3*time.Second)
	l.wantVIP(l.R1, false, time.Second)
	l.wantState(d2, "MASTER", failoverTimeout)
	l.wantVIP(l.R2, true, time.Second)
	if err := l.R1.SetLink("trk0p", true); err != nil {
		t.Fatal(err)
	}
	l.wantState(d1, "MASTER", electTimeout)
	l.wantState(d2, "BACKUP", 3*time.Second)
}
