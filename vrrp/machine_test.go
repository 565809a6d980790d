package vrrp

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

var (
	t0     = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ourIP  = netip.MustParseAddr("10.0.0.2")
	lowIP  = netip.MustParseAddr("10.0.0.1")
	highIP = netip.MustParseAddr("10.0.0.3")
)

// mt drives a Machine the way the runner does: it jumps from deadline to deadline.
type mt struct {
	t   *testing.T
	m   *Machine
	now time.Time
}

func newMT(t *testing.T, mod func(c *MachineConfig)) *mt {
	c := MachineConfig{
		Priority: 100, AdvertInt: time.Second, Preempt: true, PrimaryIP: ourIP,
		InitialState: StateBackup, GARPDelay: 5 * time.Second, Interface: "eth0", Track: []string{"eth1"},
	}
	if mod != nil {
		mod(&c)
	}
	return &mt{t: t, m: NewMachine(c), now: t0}
}

// at moves time to t0+d firing every deadline on the way; it returns the actions of the
// deadlines, stamped with their offset from t0.
func (x *mt) at(d time.Duration) []stamped {
	x.t.Helper()
	target := t0.Add(d)
	if target.Before(x.now) {
		x.t.Fatalf("time goes backwards: %v -> %v", x.now.Sub(t0), d)
	}
	var out []stamped
	for {
		dl, ok := x.m.NextDeadline()
		if !ok || dl.After(target) {
			break
		}
		if dl.Before(x.now) {
			x.t.Fatalf("deadline %v is in the past (now %v)", dl.Sub(t0), x.now.Sub(t0))
		}
		x.now = dl
		for _, a := range x.m.Tick(dl) {
			out = append(out, stamped{dl.Sub(t0), a})
		}
	}
	x.now = target
	return out
}

type stamped struct {
	at time.Duration
	a  Action
}

func (s stamped) String() string { return fmt.Sprintf("%v:%s", s.at, actString(s.a)) }

func actString(a Action) string {
	switch a := a.(type) {
	case SendAdvert:
		return fmt.Sprintf("advert(%d)", a.Priority)
	case AddVIPs:
		return "add"
	case RemoveVIPs:
		return "remove"
	case SendGARP:
		return "garp"
	case Transition:
		return fmt.Sprintf("%v->%v(%v)", a.From, a.To, a.Reason)
	}
	return fmt.Sprintf("%T", a)
}

func acts(as []Action) string {
	var s []string
	for _, a := range as {
		s = append(s, actString(a))
	}
	return strings.Join(s, " ")
}

func stamps(ss []stamped) string {
	var s []string
	for _, a := range ss {
		s = append(s, a.String())
	}
	return strings.Join(s, " ")
}

func (x *mt) wantActs(got []Action, want string) {
	x.t.Helper()
	if g := acts(got); g != want {
		x.t.Fatalf("actions\n got: %s\nwant: %s", g, want)
	}
}

func (x *mt) wantStamps(got []stamped, want string) {
	x.t.Helper()
	if g := stamps(got); g != want {
		x.t.Fatalf("timed actions\n got: %s\nwant: %s", g, want)
	}
}

func (x *mt) wantState(s State) {
	x.t.Helper()
	if x.m.State() != s {
		x.t.Fatalf("state %v, want %v", x.m.State(), s)
	}
}

func (x *mt) advert(src netip.Addr, prio uint8) []Action { return x.m.Advert(x.now, src, prio) }

// Master_Down_Interval for priority 100, advert_int 1: 3 s + 156/256 s.
const mdi100 = 3*time.Second + 156*time.Second/256

func TestSkewAndMasterDownInterval(t *testing.T) {
	for _, tc := range []struct {
		prio uint8
		adv  time.Duration
		skew time.Duration
		mdi  time.Duration
	}{
		{100, time.Second, 609375 * time.Microsecond, 3609375 * time.Microsecond},
		{50, time.Second, 804687500, 3804687500},
		{254, time.Second, 7812500, 3007812500},
		{1, 2 * time.Second, 996093750, 6996093750},
		{255, time.Second, 3906250, 3003906250},
	} {
		m := NewMachine(MachineConfig{Priority: tc.prio, AdvertInt: tc.adv})
		if m.SkewTime() != tc.skew || m.MasterDownInterval() != tc.mdi {
			t.Errorf("prio %d adv %v: skew %v mdi %v, want %v %v", tc.prio, tc.adv,
				m.SkewTime(), m.MasterDownInterval(), tc.skew, tc.mdi)
		}
	}
}

func TestStartBackupThenMasterDown(t *testing.T) {
	x := newMT(t, nil)
	x.wantActs(x.m.Start(x.now), "remove INIT->BACKUP(startup)")
	if dl, _ := x.m.NextDeadline(); dl.Sub(t0) != mdi100 {
		t.Fatalf("master down deadline %v, want %v", dl.Sub(t0), mdi100)
	}
	x.wantStamps(x.at(mdi100-time.Nanosecond), "")
	x.wantState(StateBackup)
	x.wantStamps(x.at(mdi100), "3.609375s:advert(100) 3.609375s:add 3.609375s:garp 3.609375s:BACKUP->MASTER(master down timer expired)")
	if x.m.MasterIP() != ourIP {
		t.Fatalf("master IP %v, want ours", x.m.MasterIP())
	}
	// As master: an advert every second, the second GARP burst 5 s after taking over.
	x.wantStamps(x.at(mdi100+6*time.Second),
		"4.609375s:advert(100) 5.609375s:advert(100) 6.609375s:advert(100) 7.609375s:advert(100) "+
			"8.609375s:garp 8.609375s:advert(100) 9.609375s:advert(100)")
	if x.m.Start(x.now) != nil {
		t.Fatal("second Start did something")
	}
}

func TestBackupStaysWhileMasterAdvertises(t *testing.T) {
	for _, prio := range []uint8{100, 150, 255} { // equal, higher, owner
		t.Run(fmt.Sprint(prio), func(t *testing.T) {
			x := newMT(t, nil)
			x.m.Start(x.now)
			for s := time.Duration(1); s <= 20; s++ {
				x.wantStamps(x.at(s*time.Second), "")
				x.wantActs(x.advert(highIP, prio), "")
			}
			x.wantState(StateBackup)
			if x.m.MasterIP() != highIP {
				t.Fatalf("master IP %v", x.m.MasterIP())
			}
			// Master dies after its advert at 20 s: takeover at 20 s + MDI.
			x.wantStamps(x.at(20*time.Second+mdi100-1), "")
			got := x.at(20*time.Second + mdi100)
			if len(got) == 0 || got[len(got)-1].String() != "23.609375s:BACKUP->MASTER(master down timer expired)" {
				t.Fatalf("takeover: %s", stamps(got))
			}
		})
	}
}

func TestBackupPriorityZeroTakeoverAfterSkew(t *testing.T) {
	x := newMT(t, nil)
	x.m.Start(x.now)
	x.at(time.Second)
	x.advert(highIP, 150)
	x.at(2 * time.Second)
	x.wantActs(x.advert(highIP, 0), "")
	skew := 156 * time.Second / 256
	x.wantStamps(x.at(2*time.Second+skew-1), "")
	x.wantStamps(x.at(2*time.Second+skew),
		"2.609375s:advert(100) 2.609375s:add 2.609375s:garp 2.609375s:BACKUP->MASTER(master resigned (priority 0 advert))")
}

func TestBackupPriorityZeroThenOtherBackupWins(t *testing.T) {
	// A better backup (higher priority => shorter skew) takes over first; its advert
	// resets our timer and we stay backup.
	x := newMT(t, nil)
	x.m.Start(x.now)
	x.advert(highIP, 0)
	x.at(100 * time.Millisecond)
	x.advert(highIP, 200)
	x.wantStamps(x.at(3*time.Second), "")
	x.wantState(StateBackup)
}

func TestPreemptWithoutDelay(t *testing.T) {
	x := newMT(t, func(c *MachineConfig) { c.Priority = 200 })
	x.m.Start(x.now)
	// A lower priority master advertises every second; the RFC says discard its adverts,
	// so our Master_Down_Timer (3 s + 56/256 s) runs out and we preempt.
	mdi := 3*time.Second + 56*time.Second/256
	var got []stamped
	for s := time.Duration(0); s <= 3; s++ {
		got = append(got, x.at(s*time.Second)...)
		x.wantActs(x.advert(lowIP, 100), "")
		if x.m.MasterIP() != lowIP {
			t.Fatalf("master IP %v, want the lower master", x.m.MasterIP())
		}
	}
	got = append(got, x.at(mdi)...)
	x.wantStamps(got, "3.21875s:advert(200) 3.21875s:add 3.21875s:garp 3.21875s:BACKUP->MASTER(preempting lower priority master)")
}

func TestPreemptDelay(t *testing.T) {
	x := newMT(t, func(c *MachineConfig) { c.Priority = 200; c.PreemptDelay = 10 * time.Second })
	x.m.Start(x.now)
	x.at(500 * time.Millisecond)
	x.advert(lowIP, 100) // first lower advert: the delay starts now
	var got []stamped
	for s := time.Duration(1); s <= 12; s++ {
		got = append(got, x.at(s*time.Second+500*time.Millisecond-1)...)
		x.wantState(StateBackup)
		got = append(got, x.at(s*time.Second+500*time.Millisecond)...)
		if x.m.State() != StateBackup {
			break
		}
		x.advert(lowIP, 100)
	}
	x.wantStamps(got, "10.5s:advert(200) 10.5s:add 10.5s:garp 10.5s:BACKUP->MASTER(preempting lower priority master)")
}

func TestPreemptDelayCancelledByBetterMaster(t *testing.T) {
	x := newMT(t, func(c *MachineConfig) { c.Priority = 200; c.PreemptDelay = 5 * time.Second })
	x.m.Start(x.now)
	x.advert(lowIP, 100)
	for s := time.Duration(1); s <= 10; s++ {
		x.wantStamps(x.at(s*time.Second), "")
		x.advert(highIP, 250) // a better master replaced the lower one
	}
	x.wantState(StateBackup)
}

func TestNoPreempt(t *testing.T) {
	x := newMT(t, func(c *MachineConfig) { c.Priority = 200; c.Preempt = false })
	x.m.Start(x.now)
	for s := time.Duration(0); s <= 30; s++ {
		x.wantStamps(x.at(s*time.Second), "")
		x.advert(lowIP, 100)
	}
	x.wantState(StateBackup)
	// Without adverts it still takes over after Master_Down_Interval.
	x.at(60 * time.Second)
	x.wantState(StateMaster)
}

func TestInitialStateMaster(t *testing.T) {
	// keepalived 2.x: `state MASTER` starts as BACKUP with a short timer
	// (advert_int + skew) so it listens before grabbing the addresses.
	x := newMT(t, func(c *MachineConfig) { c.InitialState = StateMaster })
	x.wantActs(x.m.Start(x.now), "remove INIT->BACKUP(startup)")
	short := time.Second + 156*time.Second/256
	x.wantStamps(x.at(short-1), "")
	x.wantStamps(x.at(short), "1.609375s:advert(100) 1.609375s:add 1.609375s:garp 1.609375s:BACKUP->MASTER(master down timer expired)")

	// When a better master speaks first it stays backup.
	y := newMT(t, func(c *MachineConfig) { c.InitialState = StateMaster })
	y.m.Start(y.now)
	y.at(time.Second)
	y.advert(highIP, 150)
	y.wantStamps(y.at(3*time.Second), "")
	y.wantState(StateBackup)
}

func TestOwnerGoesMasterAtOnce(t *testing.T) {
	x := newMT(t, func(c *MachineConfig) { c.Priority = 255 })
	x.wantActs(x.m.Start(x.now), "advert(255) add garp INIT->MASTER(address owner (priority 255))")
	x.wantStamps(x.at(time.Second), "1s:advert(255)")
}

func TestMasterTieBreakEqualPriority(t *testing.T) {
	master := func() *mt {
		x := newMT(t, nil)
		x.m.Start(x.now)
		x.at(mdi100)
		x.wantState(StateMaster)
		return x
	}
	// Equal priority, sender's address higher than ours: it wins, we become backup.
	x := master()
	x.wantActs(x.advert(highIP, 100), "remove MASTER->BACKUP(higher priority master seen)")
	if x.m.MasterIP() != highIP {
		t.Fatalf("master IP %v", x.m.MasterIP())
	}
	// Equal priority, sender's address lower: we win, answer at once and re-announce.
	y := master()
	y.wantActs(y.advert(lowIP, 100), "advert(100) garp")
	y.wantState(StateMaster)
	// Our next periodic advert is one interval after the answer.
	y.at(mdi100 + 100*time.Millisecond)
	y.advert(lowIP, 100)
	y.wantStamps(y.at(mdi100+1100*time.Millisecond-1), "")
	y.wantStamps(y.at(mdi100+1100*time.Millisecond), "4.709375s:advert(100)")
}

func TestBackupEqualPriorityAcceptsEitherAddress(t *testing.T) {
	// RFC 6.4.2: a backup accepts any advert with priority >= its own, whatever the address.
	for _, src := range []netip.Addr{lowIP, highIP} {
		x := newMT(t, nil)
		x.m.Start(x.now)
		for s := time.Duration(1); s <= 10; s++ {
			x.at(s * time.Second)
			x.advert(src, 100)
		}
		x.wantState(StateBackup)
	}
}

func TestMasterHigherPriorityThenTakeoverAgain(t *testing.T) {
	x := newMT(t, nil)
	x.m.Start(x.now)
	x.at(mdi100)
	x.wantActs(x.advert(lowIP, 101), "remove MASTER->BACKUP(higher priority master seen)")
	if dl, _ := x.m.NextDeadline(); dl.Sub(x.now) != mdi100 {
		t.Fatalf("master down timer %v after demotion, want %v", dl.Sub(x.now), mdi100)
	}
	got := x.at(2 * mdi100)
	x.wantStamps(got[len(got)-1:], "7.21875s:BACKUP->MASTER(master down timer expired)")
}

func TestMasterAnswersLowerPriority(t *testing.T) {
	x := newMT(t, nil)
	x.m.Start(x.now)
	x.at(mdi100)
	x.at(mdi100 + 300*time.Millisecond)
	x.wantActs(x.advert(highIP, 99), "advert(100) garp")
	x.wantState(StateMaster)
	// A lower master that keeps advertising (it cannot hear us): every advert is
	// answered, the GARP burst at most once per Master_Down_Interval.
	x.at(mdi100 + time.Second)
	x.wantActs(x.advert(highIP, 1), "advert(100)")
	x.at(mdi100 + 300*time.Millisecond + mdi100 - 1)
	x.wantActs(x.advert(highIP, 1), "advert(100)")
	x.at(mdi100 + 300*time.Millisecond + mdi100)
	x.wantActs(x.advert(highIP, 1), "advert(100) garp")
}

func TestMasterIgnoresItsOwnAddressAndPriority(t *testing.T) {
	x := newMT(t, nil)
	x.m.Start(x.now)
	x.at(mdi100)
	x.wantActs(x.advert(ourIP, 100), "")
	x.wantState(StateMaster)
}

func TestMasterAnswersPriorityZero(t *testing.T) {
	x := newMT(t, nil)
	x.m.Start(x.now)
	x.at(mdi100)
	x.at(mdi100 + 500*time.Millisecond)
	x.wantActs(x.advert(highIP, 0), "advert(100)")
	x.wantState(StateMaster)
	x.wantStamps(x.at(mdi100+1500*time.Millisecond), "5.109375s:advert(100)")
}

func TestGARPBursts(t *testing.T) {
	for _, tc := range []struct {
		delay time.Duration
		want  string
	}{
		{0, "0s:garp"},
		{2 * time.Second, "0s:garp 2s:garp"},
		{5 * time.Second, "0s:garp 5s:garp"},
	} {
		x := newMT(t, func(c *MachineConfig) { c.Priority = 255; c.GARPDelay = tc.delay })
		var got []stamped
		for _, a := range x.m.Start(x.now) {
			got = append(got, stamped{0, a})
		}
		got = append(got, x.at(20*time.Second)...)
		var garps []stamped
		for _, s := range got {
			if _, ok := s.a.(SendGARP); ok {
				garps = append(garps, s)
			}
		}
		x.wantStamps(garps, tc.want)
	}
}

func TestFaultFromMasterAndBack(t *testing.T) {
	x := newMT(t, nil)
	x.m.Start(x.now)
	x.at(mdi100)
	x.wantActs(x.m.Link(x.now, "eth0", false), "advert(0) remove MASTER->FAULT(interface down)")
	if _, ok := x.m.NextDeadline(); ok {
		t.Fatal("timer armed in FAULT")
	}
	x.wantActs(x.advert(highIP, 1), "")
	x.wantActs(x.m.Tick(x.now.Add(time.Hour)), "")
	x.wantActs(x.m.Link(x.now, "eth0", false), "") // repeated down: nothing new
	x.at(10 * time.Second)
	x.wantActs(x.m.Link(x.now, "eth0", true), "remove FAULT->BACKUP(interfaces up)")
	if dl, _ := x.m.NextDeadline(); dl.Sub(x.now) != mdi100 {
		t.Fatalf("master down timer %v, want full interval", dl.Sub(x.now))
	}
	x.wantState(StateBackup)
}

func TestFaultTrackInterfaces(t *testing.T) {
	x := newMT(t, func(c *MachineConfig) { c.Track = []string{"eth1", "eth2"} })
	x.m.Start(x.now)
	x.wantActs(x.m.Link(x.now, "eth1", false), "BACKUP->FAULT(tracked interface down)")
	x.wantActs(x.m.Link(x.now, "eth2", false), "")
	x.wantActs(x.m.Link(x.now, "eth1", true), "") // eth2 still down
	x.wantState(StateFault)
	x.wantActs(x.m.Link(x.now, "eth9", false), "") // not watched
	x.wantActs(x.m.Link(x.now, "eth2", true), "remove FAULT->BACKUP(interfaces up)")
	x.wantActs(x.m.Link(x.now, "eth9", false), "")
	x.wantState(StateBackup)
}

func TestFaultOwnerBackUpGoesMaster(t *testing.T) {
	x := newMT(t, func(c *MachineConfig) { c.Priority = 255 })
	x.m.Start(x.now)
	x.wantActs(x.m.Link(x.now, "eth1", false), "advert(0) remove MASTER->FAULT(tracked interface down)")
	x.wantActs(x.m.Link(x.now, "eth1", true), "advert(255) add garp FAULT->MASTER(interfaces up)")
}

func TestLinkDownBeforeStart(t *testing.T) {
	x := newMT(t, nil)
	x.wantActs(x.m.Link(x.now, "eth0", false), "")
	x.wantActs(x.m.Start(x.now), "remove INIT->FAULT(interface down)")
	x.wantActs(x.m.Link(x.now, "eth0", true), "remove FAULT->BACKUP(interfaces up)")
}

func TestShutdown(t *testing.T) {
	x := newMT(t, nil)
	x.m.Start(x.now)
	x.at(mdi100)
	x.wantActs(x.m.Shutdown(x.now), "advert(0) remove MASTER->INIT(shutdown)")
	if _, ok := x.m.NextDeadline(); ok {
		t.Fatal("timer armed after shutdown")
	}
	// Everything after shutdown is ignored.
	x.wantActs(x.advert(highIP, 200), "")
	x.wantActs(x.m.Tick(x.now.Add(time.Hour)), "")
	x.wantActs(x.m.Link(x.now, "eth0", false), "")
	x.wantActs(x.m.Start(x.now), "")
	x.wantActs(x.m.Shutdown(x.now), "")

	y := newMT(t, nil)
	y.m.Start(y.now)
	y.wantActs(y.m.Shutdown(y.now), "remove BACKUP->INIT(shutdown)")
}

func TestEventsBeforeStartIgnored(t *testing.T) {
	x := newMT(t, nil)
	x.wantActs(x.advert(highIP, 200), "")
	x.wantActs(x.m.Tick(x.now), "")
	x.wantState(StateInit)
}

func TestReasonStrings(t *testing.T) {
	seen := map[string]bool{}
	for r := ReasonNone; r <= ReasonShutdown; r++ {
		s := r.String()
		if s == "" || s == "unknown" || seen[s] {
			t.Fatalf("reason %d: bad or duplicate name %q", int(r), s)
		}
		seen[s] = true
	}
	if Reason(99).String() != "unknown" {
		t.Fatal("out-of-range reason")
	}
}
