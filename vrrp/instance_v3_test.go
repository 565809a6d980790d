package vrrp

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

var (
	testVIP6 = VIP{Prefix: netip.MustParsePrefix("2001:db8::100/64")}
	vipKey6  = "2001:db8::100/64 eth0"
)

func v3Config(name string, prio uint8, ip string, interval time.Duration) InstanceConfig {
	return InstanceConfig{
		Name: name, Interface: "eth0", Version: Version3, VRID: 51, Priority: prio, AdvertInt: interval,
		Preempt: true, VIPs: []VIP{testVIP6, {Prefix: netip.MustParsePrefix("192.0.2.100/32"), Excluded: true}},
		PrimaryIP: netip.MustParseAddr(ip), GARPDelay: 5 * time.Second,
	}
}

func TestRunV3IPv6ElectsAndAnnounces(t *testing.T) {
	l := newLab(t)
	ca := v3Config("A", 150, "fe80::1", 100*time.Millisecond)
	ca.InitialState = StateMaster
	a := l.add(ca)
	b := l.add(v3Config("B", 100, "fe80::2", 100*time.Millisecond))
	l.start(a)
	l.start(b)
	l.run(2 * time.Second)
	wantState(t, a, StateMaster)
	wantState(t, b, StateBackup)
	if !a.addrs.holds(vipKey6) || b.addrs.holds(vipKey6) {
		t.Fatal("IPv6 VIP not on A only")
	}
	sent := a.conn.sentAdverts()
	if len(sent) < 10 {
		t.Fatalf("A sent %d adverts in 2 s at 0.1 s", len(sent))
	}
	last := sent[len(sent)-1]
	if last.dst != MulticastGroup6 || last.adv.Version != Version3 || last.adv.MaxAdvertInt != 10 {
		t.Fatalf("A's advert: %+v to %v", last.adv, last.dst)
	}
	// The excluded IPv4 address follows the state but is not advertised.
	if len(last.adv.Addrs) != 1 || last.adv.Addrs[0] != testVIP6.Prefix.Addr() {
		t.Fatalf("advertised %v, want the IPv6 VIP only", last.adv.Addrs)
	}
	if !a.addrs.holds("192.0.2.100/32 eth0") {
		t.Fatal("excluded VIP not added on MASTER")
	}
	// One burst of DefaultGARPRepeat announcements per VIP: NAs for the IPv6 one.
	a.ann.mu.Lock()
	na, garp := a.ann.na, a.ann.garp["eth0 2001:db8::100"]
	a.ann.mu.Unlock()
	if na != DefaultGARPRepeat || garp != DefaultGARPRepeat {
		t.Fatalf("A sent %d neighbour advertisements (%d for the VIP), want %d", na, garp, DefaultGARPRepeat)
	}
	if st := a.inst.Status(); st.Version != 3 || st.Family != "inet6" {
		t.Fatalf("status version %d family %q", st.Version, st.Family)
	}
}

// A backup configured with 1 s follows a master advertising every 0.1 s: it learns
// Master_Adver_Interval and takes over after 3 x 0.1 s + Skew_Time scaled to 0.1 s.
func TestRunV3BackupLearnsMasterInterval(t *testing.T) {
	l := newLab(t)
	ca := v3Config("A", 200, "fe80::1", 100*time.Millisecond)
	ca.InitialState = StateMaster
	a := l.add(ca)
	b := l.add(v3Config("B", 100, "fe80::2", time.Second))
	l.start(a)
	l.start(b)
	l.run(3 * time.Second)
	wantState(t, a, StateMaster)
	wantState(t, b, StateBackup)
	if st := b.inst.Status(); st.IntervalMismatches == 0 {
		t.Fatal("interval mismatch not counted")
	}
	a.conn.setCut(true)
	cutAt := l.clock.Now()
	l.runUntil(func() bool { return b.state() == StateMaster }, 5*time.Second, "B takes over")
	at, _ := b.addrs.lastAdd()
	mdi := 300*time.Millisecond + 156*100*time.Millisecond/256
	if gap := at.Sub(cutAt); gap > mdi+2*l.step {
		t.Fatalf("B took over %v after A went silent, want at most Master_Down_Interval %v", gap, mdi)
	}
}

func TestV3Validate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(c *InstanceConfig)
		want string
	}{
		{"interval too short", func(c *InstanceConfig) { c.AdvertInt = time.Millisecond }, "0.01-40.95"},
		{"interval too long", func(c *InstanceConfig) { c.AdvertInt = 41 * time.Second }, "0.01-40.95"},
		{"authentication", func(c *InstanceConfig) { c.AuthType = AuthPass }, "VRRPv3 has none"},
		{"IPv4 VIP in an IPv6 instance", func(c *InstanceConfig) {
			c.VIPs = append(c.VIPs, VIP{Prefix: netip.MustParsePrefix("192.0.2.1/32")})
		}, "virtual_ipaddress_excluded"},
		{"IPv4 peer of an IPv6 instance", func(c *InstanceConfig) {
			c.UnicastPeers = []netip.Addr{netip.MustParseAddr("192.0.2.2")}
		}, "not an IPv6 address"},
		{"version 4", func(c *InstanceConfig) { c.Version = 4 }, "must be 2 or 3"},
		{"IPv6 source in VRRPv2", func(c *InstanceConfig) { c.Version = Version2; c.AdvertInt = time.Second }, "IPv4 source"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := v3Config("A", 100, "fe80::1", time.Second)
			tc.mod(&c)
			err := validate(&c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("validate = %v, want %q", err, tc.want)
			}
		})
	}
	c := v3Config("A", 100, "fe80::1", 10*time.Millisecond)
	if err := validate(&c); err != nil {
		t.Fatalf("valid 0.01 s config: %v", err)
	}
}

func TestMachineV3Timers(t *testing.T) {
	x := newMT(t, func(c *MachineConfig) { c.Version3 = true; c.AdvertInt = 100 * time.Millisecond; c.Priority = 100 })
	if got, want := x.m.SkewTime(), 156*100*time.Millisecond/256; got != want {
		t.Fatalf("SkewTime = %v, want %v", got, want)
	}
	x.m.Start(t0)
	// A master at priority 200 advertising every 2 s: the backup follows its interval.
	x.m.AdvertV3(t0, highIP, 200, 2*time.Second)
	if got := x.m.MasterAdverInterval(); got != 2*time.Second {
		t.Fatalf("MasterAdverInterval = %v, want 2s", got)
	}
	if got, want := x.m.MasterDownInterval(), 6*time.Second+156*2*time.Second/256; got != want {
		t.Fatalf("MasterDownInterval = %v, want %v", got, want)
	}
	// A lower priority advert that we preempt is discarded: nothing is learned from it.
	x.m.AdvertV3(t0, lowIP, 50, 5*time.Second)
	if got := x.m.MasterAdverInterval(); got != 2*time.Second {
		t.Fatalf("MasterAdverInterval after a lower advert = %v, want 2s", got)
	}
	// VRRPv2 timers are unchanged.
	v2 := newMT(t, nil)
	if got, want := v2.m.SkewTime(), 156*time.Second/256; got != want {
		t.Fatalf("v2 SkewTime = %v, want %v", got, want)
	}
}
