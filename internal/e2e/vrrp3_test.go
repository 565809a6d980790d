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

// VRRPv3 interop with keepalived 2.2.7 (`vrrp_version 3`), both families, both ways: each
// test runs keepalived as master with lvsd as backup, kills keepalived (-9), checks that
// lvsd takes over and that the client's neighbour entry for the VIP follows within 1 s
// (gratuitous ARP / unsolicited neighbour advertisement); then keepalived comes back as
// backup under lvsd, stays backup, and takes over when lvsd is killed (-9), the client's
// entry following again.

const (
	VIP6       = "2001:db8:79::100"
	r1IP6      = "2001:db8:79::1/64"
	r2IP6      = "2001:db8:79::2/64"
	clientIP6  = "2001:db8:79::10/64"
	neighLimit = time.Second
)

type v3Case struct {
	vip       string // address without prefix
	vipPrefix string
	advertInt float64
	family    string
}

func TestInteropV3IPv4(t *testing.T) {
	runV3Interop(t, v3Case{vip: VIP, vipPrefix: VIP + "/32", advertInt: 0.1, family: "inet"})
}

func TestInteropV3IPv6(t *testing.T) {
	runV3Interop(t, v3Case{vip: VIP6, vipPrefix: VIP6 + "/64", advertInt: 1, family: "inet6"})
}

func runV3Interop(t *testing.T, c v3Case) {
	l := newLab(t)
	if c.family == "inet6" {
		for _, x := range []struct {
			h    *netns.Host
			addr string
		}{{l.R1, r1IP6}, {l.R2, r2IP6}, {l.Client, clientIP6}} {
			if err := x.h.EnableIPv6(); err != nil {
				t.Fatal(err)
			}
			if _, err := x.h.IP("addr", "add", x.addr, "dev", x.h.If); err != nil {
				t.Fatal(err)
			}
		}
	}
	spec := func(prio int, state string) Spec {
		return Spec{Priority: prio, State: state, Version: 3, AdvertInt: c.advertInt, VIPs: []string{c.vipPrefix}}
	}
	interval := time.Duration(c.advertInt * float64(time.Second))
	// Master_Down_Interval of the backup (priority 100) plus room for a loaded machine.
	takeover := 3*interval + 156*interval/256 + 3*time.Second

	// 1. keepalived master, lvsd backup.
	k := l.keepalived(l.R1, spec(150, "MASTER"))
	if err := WaitVIP(l.R1, c.vip, true, electTimeout); err != nil {
		t.Fatal(err)
	}
	d := l.lvsd(l.R2, spec(100, "BACKUP"))
	l.wantState(d, "BACKUP", electTimeout)
	l.stable(d, "BACKUP", 10*interval+time.Second) // well past Master_Down_Interval
	st, err := d.Instance("VI_1")
	if err != nil {
		t.Fatal(err)
	}
	if st.Version != 3 || st.Family != c.family || st.AdvertsReceived == 0 || st.MasterIP == "" {
		t.Fatalf("lvsd status %+v: want VRRPv3 %s, keepalived's adverts accepted", st, c.family)
	}
	for reason, n := range st.Drops {
		if n != 0 {
			t.Errorf("lvsd dropped %d of keepalived's packets for %s", n, reason)
		}
	}
	if HasVIP(l.R2, "eth0", c.vip) {
		t.Fatal("lvsd backup holds the VIP")
	}
	setNeigh(t, l.Client, c.vip, l.R1.MAC)
	if err := k.KillHard(); err != nil {
		t.Fatal(err)
	}
	l.wantState(d, "MASTER", takeover)
	if err := WaitVIP(l.R2, c.vip, true, time.Second); err != nil {
		t.Fatal(err)
	}
	wantNeigh(t, l.Client, c.vip, l.R2.MAC, neighLimit)
	checkKeepalivedLog(t, k)
	// The killed keepalived left its VIP; clear it as a reboot would.
	if _, err := l.R1.IP("addr", "del", c.vipPrefix, "dev", "eth0"); err != nil {
		t.Fatal(err)
	}

	// 2. lvsd master, keepalived backup (lower priority): keepalived accepts lvsd's
	// adverts and never claims the VIP.
	k2 := l.keepalived(l.R1, spec(50, "BACKUP"))
	end := time.Now().Add(10*interval + 2*time.Second)
	for time.Now().Before(end) {
		if HasVIP(l.R1, "eth0", c.vip) {
			t.Fatalf("keepalived took the VIP from lvsd's master:\n%s", k2.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(k2.Log(), "Entering BACKUP STATE") {
		t.Fatalf("keepalived never logged 'Entering BACKUP STATE':\n%s", k2.Log())
	}
	checkKeepalivedLog(t, k2)
	setNeigh(t, l.Client, c.vip, l.R2.MAC)
	d.Proc.Kill() // -9: no priority-0 advert
	if err := WaitVIP(l.R1, c.vip, true, takeover); err != nil {
		t.Fatal(err)
	}
	wantNeigh(t, l.Client, c.vip, l.R1.MAC, neighLimit)
	checkKeepalivedLog(t, k2)
	if err := k2.Stop(); err != nil {
		t.Error(err)
	}
}

// setNeigh points the client's neighbour entry for ip at mac, as traffic to the current
// master would have.
func setNeigh(t *testing.T, h *netns.Host, ip, mac string) {
	t.Helper()
	if _, err := h.IP("neigh", "replace", ip, "lladdr", mac, "dev", h.If, "nud", "stale"); err != nil {
		t.Fatal(err)
	}
}

// wantNeigh waits until h's neighbour entry for ip has mac.
func wantNeigh(t *testing.T, h *netns.Host, ip, mac string, timeout time.Duration) {
	t.Helper()
	start := time.Now()
	var out string
	for time.Since(start) < timeout {
		var err error
		out, err = h.IP("neigh", "show", ip, "dev", h.If)
		if err == nil && strings.Contains(out, "lladdr "+mac) {
			t.Logf("client's neighbour entry for %s points at %s after %v", ip, mac, time.Since(start).Round(time.Millisecond))
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: neighbour entry for %s not %s within %v: %s", h.Name, ip, mac, timeout, strings.TrimSpace(fmt.Sprint(out)))
}

// TestAcceptModeOff: a non-owner MASTER with accept_mode = false answers ARP for its VIP
// but drops packets addressed to it, by an iptables rule of its own that goes on stop.
func TestAcceptModeOff(t *testing.T) {
	l := newLab(t)
	d := l.lvsd(l.R1, Spec{Priority: 100, State: "MASTER", Version: 3, AdvertInt: 0.1, NoAccept: true})
	l.wantState(d, "MASTER", electTimeout)
	l.wantVIP(l.R1, true, time.Second)
	l.wantARP(l.R1, 3*time.Second)
	rules, err := l.R1.Exec("iptables", "-S", "INPUT")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rules, "-d "+VIP+"/32") || !strings.Contains(rules, `"lvsd accept_mode VI_1"`) {
		t.Fatalf("no accept_mode rule on MASTER:\n%s", rules)
	}
	if err := l.Client.Ping(netip.MustParseAddr(R1IP), 2*time.Second); err != nil {
		t.Fatalf("r1's own address does not answer: %v", err)
	}
	if err := l.Client.Ping(netip.MustParseAddr(VIP), 2*time.Second); err == nil {
		t.Fatal("the VIP answered a ping with accept_mode = false")
	}
	if err := d.Proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if ok, err := d.Proc.Wait(10 * time.Second); !ok {
		t.Fatalf("lvsd did not stop: %v", err)
	}
	rules, err = l.R1.Exec("iptables", "-S", "INPUT")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(rules, "lvsd accept_mode") {
		t.Fatalf("accept_mode rule left after stop:\n%s", rules)
	}
}

// TestV3IPv6Unicast: two lvsd routers, IPv6 instance in unicast mode (unicast_src_ip and
// unicast_peer IPv6): the master's adverts reach the backup, which stays backup and takes
// over when the master is killed.
func TestV3IPv6Unicast(t *testing.T) {
	l := newLab(t)
	for _, x := range []struct {
		h    *netns.Host
		addr string
	}{{l.R1, r1IP6}, {l.R2, r2IP6}} {
		if err := x.h.EnableIPv6(); err != nil {
			t.Fatal(err)
		}
		if _, err := x.h.IP("addr", "add", x.addr, "dev", x.h.If); err != nil {
			t.Fatal(err)
		}
	}
	ip1, ip2 := strings.TrimSuffix(r1IP6, "/64"), strings.TrimSuffix(r2IP6, "/64")
	spec := func(prio int, state, src, peer string) Spec {
		return Spec{Priority: prio, State: state, Version: 3, AdvertInt: 0.5, VIPs: []string{VIP6 + "/64"},
			SrcIP: src, Peers: []string{peer}}
	}
	m := l.lvsd(l.R1, spec(150, "MASTER", ip1, ip2))
	l.wantState(m, "MASTER", electTimeout)
	b := l.lvsd(l.R2, spec(100, "BACKUP", ip2, ip1))
	l.wantState(b, "BACKUP", electTimeout)
	l.stable(b, "BACKUP", 3*time.Second)
	st, err := b.Instance("VI_1")
	if err != nil {
		t.Fatal(err)
	}
	if st.MasterIP != ip1 || st.AdvertsReceived == 0 || st.Family != "inet6" {
		t.Fatalf("backup status %+v: want the master's unicast adverts from %s", st, ip1)
	}
	m.Proc.Kill()
	l.wantState(b, "MASTER", 5*time.Second)
	if err := WaitVIP(l.R2, VIP6, true, time.Second); err != nil {
		t.Fatal(err)
	}
}
