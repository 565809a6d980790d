package e2e

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lvsd/lvsd/internal/netns"
)

// Live reconfiguration (docs/contract.md: SIGHUP, `lvsd reload`, `lvsd plan`), seen from
// outside: instance states and transition counters in `lvsd status`, the addresses each
// namespace holds, and what a keepalived peer on the same VRID logs.

const (
	R3IP  = "10.79.0.3"   // a third router (keepalived)
	VIP2a = "10.79.0.101" // VIPs of a second, lvsd-only instance
	VIP2b = "10.79.0.102"
)

// web is the shared instance (VRID 51, the VIP) that keepalived also runs: its VIP list
// never changes in these tests, since keepalived 2.2.7 drops adverts whose VIP list differs
// from its own.
func web(name string, prio int) Spec {
	return Spec{Name: name, Priority: prio, AuthPass: "1111"}
}

// second is an lvsd-only instance (VRID 52): the one whose VIP list the tests change.
func second(prio int, vips ...string) Spec {
	s := Spec{Name: "VI_2", VRID: 52, Priority: prio, AuthPass: "2222"}
	for _, v := range vips {
		s.VIPs = append(s.VIPs, v+"/32")
	}
	return s
}

// reload runs `lvsd reload` and fails the test unless it exits 0.
func (l *lab) reload(d *Lvsd) CLIResult {
	l.t.Helper()
	res, err := d.Reload()
	if err != nil {
		l.t.Fatal(err)
	}
	if res.Code != 0 {
		l.t.Fatalf("lvsd reload on %s: %s", d.Host.Name, res)
	}
	l.t.Logf("lvsd reload on %s: %q", d.Host.Name, res.Lines())
	return res
}

// rewrite replaces d's config file; the next reload reads it.
func (l *lab) rewrite(d *Lvsd, specs ...Spec) {
	l.t.Helper()
	if err := d.WriteConfig(specs...); err != nil {
		l.t.Fatal(err)
	}
}

func (l *lab) transitions(d *Lvsd) map[string]uint64 {
	l.t.Helper()
	m, err := d.Transitions()
	if err != nil {
		l.t.Fatal(err)
	}
	return m
}

func (l *lab) waitInstance(d *Lvsd, name, state string, timeout time.Duration) {
	l.t.Helper()
	if err := d.WaitState(name, state, timeout); err != nil {
		l.t.Fatal(err)
	}
}

func (l *lab) waitAddr(h *netns.Host, ip string, present bool, timeout time.Duration) {
	l.t.Helper()
	if err := WaitVIP(h, ip, present, timeout); err != nil {
		l.t.Fatal(err)
	}
}

// addrWatch polls, until stopped, that each host holds (or does not hold) its address, and
// records every poll that found otherwise: a VIP removed and re-added by a reload, or taken
// by a peer for a moment, shows up here even when the end state is right.
type addrWatch struct {
	stop chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	bad  []string
}

type addrWant struct {
	h       *netns.Host
	ip      string
	present bool
}

func watchAddrs(wants ...addrWant) *addrWatch {
	w := &addrWatch{stop: make(chan struct{})}
	w.wg.Add(1)
	go func() { // ends when Stop closes w.stop
		defer w.wg.Done()
		for {
			select {
			case <-w.stop:
				return
			default:
			}
			for _, a := range wants {
				if HasVIP(a.h, a.h.If, a.ip) != a.present {
					w.mu.Lock()
					w.bad = append(w.bad, fmt.Sprintf("%s %s: present=%v, want %v", time.Now().Format("15:04:05.000"), a.h.Name, !a.present, a.present))
					w.mu.Unlock()
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return w
}

// Stop ends the watch and returns what it saw go wrong.
func (w *addrWatch) Stop() []string {
	close(w.stop)
	w.wg.Wait()
	return w.bad
}

// TestReloadStormNoTransition: an lvsd master (r1), an lvsd backup (r2) and a keepalived
// backup (r3) share VRID 51; r1 and r2 also run an lvsd-only instance on VRID 52. A storm
// of reloads on both lvsd routers (VIPs added and removed, the shared instance renamed, a
// priority lowered, a broken config by `lvsd reload` and by SIGHUP, a no-op) causes no
// state transition anywhere, never takes the VIP off the master (nor puts it on a
// backup), applies VIP-list changes in place, and keepalived rejects none of the adverts.
func TestReloadStormNoTransition(t *testing.T) {
	l := newLab(t)
	r3 := l.Lab.MustAddHost(t, "r3", R3IP+Prefix)
	d1 := l.lvsdMulti(l.R1, web("VI_1", 150), second(150, VIP2a))
	l.waitInstance(d1, "VI_1", "MASTER", electTimeout)
	l.waitInstance(d1, "VI_2", "MASTER", electTimeout)
	d2 := l.lvsdMulti(l.R2, web("VI_1", 100), second(100, VIP2a))
	k := l.keepalived(r3, web("VI_1", 50))
	l.waitInstance(d2, "VI_1", "BACKUP", electTimeout)
	l.waitInstance(d2, "VI_2", "BACKUP", electTimeout)
	l.stable(d2, "BACKUP", 4*time.Second) // past Master_Down_Interval: adverts are accepted
	if n := len(k.StateChanges()); n == 0 || HasVIP(r3, "eth0", VIP) {
		t.Fatalf("keepalived on r3 is not a settled backup: %q", k.StateChanges())
	}
	before1, before2 := l.transitions(d1), l.transitions(d2)
	kaBefore := k.StateChanges()
	watch := watchAddrs(addrWant{l.R1, VIP, true}, addrWant{l.R2, VIP, false}, addrWant{r3, VIP, false},
		addrWant{l.R2, VIP2a, false}, addrWant{l.R2, VIP2b, false})

	// 1. A VIP added to the second instance, by `lvsd reload`: announced by gratuitous ARP.
	arp, err := l.Client.OpenARP(netip.MustParseAddr(ClientIP))
	if err != nil {
		t.Fatal(err)
	}
	defer arp.Close()
	l.rewrite(d1, web("VI_1", 150), second(150, VIP2a, VIP2b))
	if res := l.reload(d1); len(res.Lines()) != 1 {
		t.Errorf("lvsd reload that added a VIP printed %q, want one line (one change)", res.Lines())
	}
	l.waitAddr(l.R1, VIP2b, true, 2*time.Second)
	if err := WaitGARP(arp, VIP2b, l.R1.MAC, 3*time.Second); err != nil {
		t.Error(err)
	}

	// 2. The shared instance renamed, by SIGHUP: same interface and VRID, so the same
	// instance under a new name.
	l.rewrite(d1, web("web", 150), second(150, VIP2a, VIP2b))
	if err := d1.Proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	l.waitInstance(d1, "web", "MASTER", 5*time.Second)
	if _, err := d1.Instance("VI_1"); err == nil {
		t.Errorf("after renaming VI_1 to web, status still lists VI_1")
	}

	// 3. A broken config (an out-of-range priority in a new instance, and VIP2a dropped):
	// refused as a whole with FILE:LINE:COL diagnostics; nothing of it is applied.
	broken := LvsdConfigMulti(l.R1.Name, d1.Socket, web("web", 150), second(150, VIP2b)) +
		"\nvrrp_instance \"broken\" {\n  interface = \"eth0\"\n  virtual_router_id = 53\n  priority = 300\n  virtual_ipaddress = [\"10.79.0.103/32\"]\n}\n"
	if err := d1.WriteConfigText(broken); err != nil {
		t.Fatal(err)
	}
	res, err := d1.Reload()
	if err != nil {
		t.Fatal(err)
	}
	if res.Code != 1 || len(res.Diagnostics(d1.Config)) == 0 {
		t.Errorf("lvsd reload of a broken config: %s; want exit 1 and %s:LINE:COL: lines", res, d1.Config)
	}
	t.Logf("lvsd reload of a broken config: %q", res.Lines())
	// The same broken config by SIGHUP: logged at ERROR, the daemon keeps running.
	errorsBefore := strings.Count(d1.Proc.Output(), "level=ERROR")
	if err := d1.Proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(5 * time.Second); strings.Count(d1.Proc.Output(), "level=ERROR") == errorsBefore; {
		if time.Now().After(end) {
			t.Fatalf("a SIGHUP with a broken config logged no ERROR within 5 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	select {
	case <-d1.Proc.Exited():
		t.Fatalf("lvsd exited after a SIGHUP with a broken config")
	default:
	}
	if !HasVIP(l.R1, "eth0", VIP2a) || HasVIP(l.R1, "eth0", "10.79.0.103") {
		t.Errorf("a refused config was partly applied: VIP2a present=%v, the broken instance's VIP present=%v",
			HasVIP(l.R1, "eth0", VIP2a), HasVIP(l.R1, "eth0", "10.79.0.103"))
	}
	if st, err := d1.Status(); err != nil || len(st.VRRP) != 2 {
		t.Errorf("after refused reloads the status lists %+v (%v), want web and VI_2 only", st.VRRP, err)
	}

	// 4. A VIP removed from the second instance: only that address goes.
	l.rewrite(d1, web("web", 150), second(150, VIP2b))
	l.reload(d1)
	l.waitAddr(l.R1, VIP2a, false, 2*time.Second)
	if !HasVIP(l.R1, "eth0", VIP2b) {
		t.Errorf("removing %s from VI_2 also took %s", VIP2a, VIP2b)
	}

	// 5. The master's priority lowered (still above the backups'): it stays master.
	l.rewrite(d1, web("web", 140), second(150, VIP2b))
	l.reload(d1)
	if st, err := d1.Instance("web"); err != nil || st.Priority != 140 || st.State != "MASTER" {
		t.Errorf("after lowering the priority to 140: %+v (%v), want MASTER with priority 140", st, err)
	}

	// 6. The backup follows the same edits: rename and VIP list; it stays backup.
	l.rewrite(d2, web("web", 100), second(100, VIP2b))
	l.reload(d2)
	l.waitInstance(d2, "web", "BACKUP", 5*time.Second)

	// 7. A reload with nothing changed.
	l.reload(d1)

	// Longer than any backup's Master_Down_Interval (3.8 s for keepalived's priority 50):
	// a master that paused its adverts during a reload would have lost the VIP by now.
	time.Sleep(4500 * time.Millisecond)
	if bad := watch.Stop(); len(bad) > 0 {
		t.Errorf("addresses changed hands during the reloads (%d polls), first: %q", len(bad), bad[:min(len(bad), 5)])
	}
	after1, after2 := l.transitions(d1), l.transitions(d2)
	for _, c := range []struct {
		who           string
		before, after map[string]uint64
	}{{"r1", before1, after1}, {"r2", before2, after2}} {
		if c.before["VI_1"] != c.after["web"] || c.before["VI_2"] != c.after["VI_2"] || len(c.after) != 2 {
			t.Errorf("lvsd on %s: transitions before %v, after %v (VI_1 renamed web): want no transition", c.who, c.before, c.after)
		}
	}
	for d, want := range map[*Lvsd]string{d1: "MASTER", d2: "BACKUP"} {
		for _, name := range []string{"web", "VI_2"} {
			if st, err := d.Instance(name); err != nil || st.State != want {
				t.Errorf("lvsd on %s: %s is %q (%v), want %s", d.Host.Name, name, st.State, err, want)
			}
		}
	}
	if got := k.StateChanges(); len(got) != len(kaBefore) {
		t.Errorf("keepalived changed state during the reloads: %q", got[len(kaBefore):])
	}
	checkKeepalivedLog(t, k)
}

// TestReloadPreemptAndRemove: a backup whose priority a reload raises above the master's
// preempts it (preempt is on); an instance removed by reload resigns as on SIGTERM, with a
// priority-0 advert, so the backup takes the VIP after Skew_Time instead of
// Master_Down_Interval (the backup's status gives that cause). keepalived, a lower backup on the same VRID, stays backup.
func TestReloadPreemptAndRemove(t *testing.T) {
	l := newLab(t)
	r3 := l.Lab.MustAddHost(t, "r3", R3IP+Prefix)
	d1 := l.lvsdMulti(l.R1, web("VI_1", 150))
	l.waitInstance(d1, "VI_1", "MASTER", electTimeout)
	d2 := l.lvsdMulti(l.R2, web("VI_1", 100), second(100, VIP2a))
	k := l.keepalived(r3, web("VI_1", 50))
	l.waitInstance(d2, "VI_1", "BACKUP", electTimeout)
	l.waitInstance(d2, "VI_2", "MASTER", electTimeout) // alone on VRID 52
	l.stable(d2, "BACKUP", 4*time.Second)
	tr := l.transitions(d2)
	noKeepalivedVIP := watchAddrs(addrWant{r3, VIP, false})

	// Priority raised above the master's: r2 ignores r1's lower adverts and takes over
	// after its Master_Down_Interval; r1 yields to r2's higher adverts.
	l.rewrite(d2, web("VI_1", 200), second(100, VIP2a))
	l.reload(d2)
	l.waitInstance(d2, "VI_1", "MASTER", electTimeout)
	l.waitInstance(d1, "VI_1", "BACKUP", 3*time.Second)
	l.waitAddr(l.R2, VIP, true, time.Second)
	l.waitAddr(l.R1, VIP, false, time.Second)
	if got := l.transitions(d2); got["VI_1"] != tr["VI_1"]+1 || got["VI_2"] != tr["VI_2"] {
		t.Errorf("r2 transitions %v -> %v: want exactly one (BACKUP to MASTER) for VI_1, none for VI_2", tr, got)
	}

	// VI_1 removed from r2: priority-0 advert, VIP released at once, r1 takes over.
	l.rewrite(d2, second(100, VIP2a))
	start := time.Now()
	l.reload(d2)
	l.waitAddr(l.R2, VIP, false, time.Second)
	l.waitInstance(d1, "VI_1", "MASTER", failoverTimeout)
	took := time.Since(start)
	t.Logf("r1 took over %v after the reload that removed VI_1 from r2", took)
	// On a priority-0 advert r1 takes over after Skew_Time (0.41 s), not after
	// Master_Down_Interval (3.41 s); its status names the cause.
	if st, err := d1.Instance("VI_1"); err != nil || st.LastTransition == nil || !strings.Contains(st.LastTransition.Reason, "priority 0") {
		t.Errorf("r1's takeover: %+v (%v), want its last transition caused by a priority-0 advert", st.LastTransition, err)
	}
	l.waitAddr(l.R1, VIP, true, time.Second)
	st, err := d2.Status()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.VRRP) != 1 || st.VRRP[0].Name != "VI_2" || st.VRRP[0].State != "MASTER" || st.VRRP[0].Transitions != tr["VI_2"] {
		t.Errorf("r2 after removing VI_1: %+v, want VI_2 alone, still MASTER, no new transition", st.VRRP)
	}
	if !HasVIP(l.R2, "eth0", VIP2a) {
		t.Errorf("removing VI_1 also took VI_2's VIP %s off r2", VIP2a)
	}
	time.Sleep(time.Second)
	if bad := noKeepalivedVIP.Stop(); len(bad) > 0 {
		t.Errorf("keepalived (priority 50) took the VIP: %q", bad[:min(len(bad), 5)])
	}
	for _, line := range k.StateChanges() {
		if strings.Contains(line, "MASTER") {
			t.Errorf("keepalived became master: %s", line)
		}
	}
	checkKeepalivedLog(t, k)
}

// TestPlan: `lvsd plan` against a running daemon: exit 0 for its own config, 3 for a
// changed one (in text and JSON), 1 with FILE:LINE:COL diagnostics for an invalid one, and
// it applies nothing; a reload then applies what plan announced.
func TestPlan(t *testing.T) {
	l := newLab(t)
	d := l.lvsd(l.R1, web("VI_1", 150))
	l.wantState(d, "MASTER", electTimeout)
	plan := func(path string, asJSON bool, want int) CLIResult {
		t.Helper()
		res, err := d.Plan(path, asJSON)
		if err != nil {
			t.Fatal(err)
		}
		if res.Code != want {
			t.Fatalf("lvsd plan --config %s (json %v): %s, want exit %d", filepath.Base(path), asJSON, res, want)
		}
		t.Logf("lvsd plan --config %s (json %v): %q", filepath.Base(path), asJSON, res.Lines())
		return res
	}
	plan(d.Config, false, 0)
	before := l.transitions(d)

	changedSpec := web("VI_1", 120)
	changedSpec.VIPs = []string{VIP + "/32", VIP2a + "/32"}
	changed := filepath.Join(l.dir, "changed.hcl")
	if err := os.WriteFile(changed, []byte(LvsdConfig(l.R1.Name, d.Socket, changedSpec)), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := plan(changed, false, 3); len(res.Lines()) == 0 {
		t.Errorf("lvsd plan with changes pending printed nothing")
	}
	if res := plan(changed, true, 3); !json.Valid([]byte(res.Stdout)) || strings.TrimSpace(res.Stdout) == "" {
		t.Errorf("lvsd plan --json printed no valid JSON: %q", res.Stdout)
	}

	bad := filepath.Join(l.dir, "bad.hcl")
	if err := os.WriteFile(bad, []byte(strings.Replace(LvsdConfig(l.R1.Name, d.Socket, changedSpec), "priority = 120", "priority = 0", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := plan(bad, false, 1); len(res.Diagnostics(bad)) == 0 {
		t.Errorf("lvsd plan of an invalid config: %s, want %s:LINE:COL: lines", res, bad)
	}

	// Nothing was applied.
	time.Sleep(time.Second)
	st, err := d.Instance("VI_1")
	if err != nil {
		t.Fatal(err)
	}
	if st.Priority != 150 || len(st.VIPs) != 1 || HasVIP(l.R1, "eth0", VIP2a) || st.Transitions != before["VI_1"] {
		t.Fatalf("after lvsd plan: %+v, VIP2a present=%v; want priority 150, one VIP, no transition", st, HasVIP(l.R1, "eth0", VIP2a))
	}

	// The daemon's own file changed: plan says so, reload applies it, then plan is clean.
	l.rewrite(d, changedSpec)
	plan(d.Config, false, 3)
	l.reload(d)
	l.waitAddr(l.R1, VIP2a, true, 2*time.Second)
	plan(d.Config, false, 0)
	if st, err := d.Instance("VI_1"); err != nil || st.Priority != 120 || st.State != "MASTER" || st.Transitions != before["VI_1"] {
		t.Errorf("after the reload: %+v (%v), want MASTER with priority 120 and no transition", st, err)
	}
}
